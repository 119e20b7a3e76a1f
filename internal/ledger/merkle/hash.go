package merkle

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/emmansun/gmsm/sm3"
)

// HashSize is the size of a hash in bytes. SHA-256 and SM3 are both 32.
const HashSize = 32

// Hash is a Merkle tree hash (leaf, interior node or root).
type Hash [HashSize]byte

// String returns the standard (padded) base64 encoding, the form used in
// C2SP checkpoints.
func (h Hash) String() string { return base64.StdEncoding.EncodeToString(h[:]) }

// Hex returns the lower-case hexadecimal encoding.
func (h Hash) Hex() string { return hex.EncodeToString(h[:]) }

// MarshalText encodes the hash as standard base64 (JSON strings too).
func (h Hash) MarshalText() ([]byte, error) {
	b := make([]byte, base64.StdEncoding.EncodedLen(HashSize))
	base64.StdEncoding.Encode(b, h[:])
	return b, nil
}

// UnmarshalText decodes canonical standard base64 (44 characters).
func (h *Hash) UnmarshalText(b []byte) error {
	x, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = x
	return nil
}

var errMalformedHash = errors.New("merkle: malformed hash")

// ParseHash decodes a hash from canonical standard base64 (as String
// produces it).
func ParseHash(s string) (Hash, error) {
	if len(s) != base64.StdEncoding.EncodedLen(HashSize) {
		return Hash{}, errMalformedHash
	}
	var buf [HashSize + 1]byte // DecodedLen(44) is 33
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(s))
	if err != nil || n != HashSize {
		return Hash{}, errMalformedHash
	}
	return Hash(buf[:HashSize]), nil
}

// ParseHexHash decodes a hash from 64 hexadecimal digits.
func ParseHexHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, errMalformedHash
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, errMalformedHash
	}
	return h, nil
}

// HashFromBytes copies a 32-byte slice (a database column, a tile entry)
// into a Hash.
func HashFromBytes(b []byte) (Hash, error) {
	var h Hash
	if len(b) != HashSize {
		return h, fmt.Errorf("merkle: hash is %d bytes, want %d", len(b), HashSize)
	}
	copy(h[:], b)
	return h, nil
}

// Hasher is the hash function of a tree, applied as in RFC 6962:
// LeafHash(d) = H(0x00 || d), NodeHash(l, r) = H(0x01 || l || r).
// Implementations are safe for concurrent use.
type Hasher interface {
	// Name is "sha256" or "sm3".
	Name() string
	// Size is the hash size in bytes (32).
	Size() int
	// LeafHash returns H(0x00 || data).
	LeafHash(data []byte) Hash
	// NodeHash returns H(0x01 || left || right).
	NodeHash(left, right Hash) Hash
	// EmptyHash returns H(""), the root of the empty tree (RFC 6962 MTH({})).
	EmptyHash() Hash
}

var (
	// SHA256 is the RFC 6962 hasher with SHA-256 (international profile);
	// it matches golang.org/x/mod/sumdb/tlog.
	SHA256 Hasher = newPoolHasher("sha256", sha256.New)
	// SM3 is the RFC 6962 hasher with SM3 (GB/T 32905, 国密 profile).
	SM3 Hasher = newPoolHasher("sm3", sm3.New)
)

// HasherByName returns SHA256 for "sha256" and SM3 for "sm3".
func HasherByName(name string) (Hasher, error) {
	switch name {
	case "sha256":
		return SHA256, nil
	case "sm3":
		return SM3, nil
	}
	return nil, fmt.Errorf("merkle: unknown hash %q", name)
}

// hashState is pooled so that hashing through the hash.Hash interface does
// not allocate: the input buffer and the output live with the digest.
type hashState struct {
	h   hash.Hash
	buf [1 + 2*HashSize]byte
	out [HashSize]byte
}

type poolHasher struct {
	name  string
	pool  sync.Pool
	empty Hash
	// sha256 selects crypto/sha256.Sum256 for short inputs: it does not
	// allocate when called directly (through a func value its argument
	// would escape).
	sha256 bool
}

var leafPrefix = []byte{0x00}

func newPoolHasher(name string, newHash func() hash.Hash) *poolHasher {
	p := &poolHasher{name: name, sha256: name == "sha256"}
	p.pool.New = func() any { return &hashState{h: newHash()} }
	if s := newHash(); s.Size() != HashSize {
		panic("merkle: " + name + " is not a 32-byte hash")
	}
	s := p.get()
	s.h.Sum(s.out[:0])
	p.empty = s.out
	p.pool.Put(s)
	return p
}

func (p *poolHasher) get() *hashState {
	s := p.pool.Get().(*hashState)
	s.h.Reset()
	return s
}

func (p *poolHasher) Name() string    { return p.name }
func (p *poolHasher) Size() int       { return HashSize }
func (p *poolHasher) EmptyHash() Hash { return p.empty }
func (p *poolHasher) String() string  { return p.name }

func (p *poolHasher) LeafHash(data []byte) Hash {
	if p.sha256 && len(data) <= 2*HashSize {
		var buf [1 + 2*HashSize]byte
		copy(buf[1:], data)
		return sha256.Sum256(buf[:1+len(data)])
	}
	s := p.get()
	s.h.Write(leafPrefix)
	s.h.Write(data)
	s.h.Sum(s.out[:0])
	h := Hash(s.out)
	p.pool.Put(s)
	return h
}

func (p *poolHasher) NodeHash(left, right Hash) Hash {
	if p.sha256 {
		var buf [1 + 2*HashSize]byte
		buf[0] = 0x01
		copy(buf[1:], left[:])
		copy(buf[1+HashSize:], right[:])
		return sha256.Sum256(buf[:])
	}
	s := p.get()
	s.buf[0] = 0x01
	copy(s.buf[1:], left[:])
	copy(s.buf[1+HashSize:], right[:])
	s.h.Write(s.buf[:])
	s.h.Sum(s.out[:0])
	h := Hash(s.out)
	p.pool.Put(s)
	return h
}

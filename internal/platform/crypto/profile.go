package crypto

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"hash"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// Profile names, as given in configuration.
const (
	ProfileIntl = "intl" // Ed25519, SHA-256, AES-256-GCM
	ProfileGM   = "gm"   // 国密: SM2, SM3, SM4-GCM
)

// Hash algorithm names, as returned by [Profile.HashAlgorithm].
const (
	HashSHA256 = "sha256"
	HashSM3    = "sm3"
)

// Profile bundles the algorithms and keys of one configured profile.
// It is immutable and safe for concurrent use.
type Profile struct {
	name     string
	hashName string
	newHash  func() hash.Hash
	signer   Signer
	ed       *ed25519Signer
	fields   *FieldCipher
}

// Name is ProfileIntl or ProfileGM.
func (p *Profile) Name() string { return p.name }

// HashAlgorithm is HashSHA256 or HashSM3.
func (p *Profile) HashAlgorithm() string { return p.hashName }

// NewHash returns a new hash.Hash of the profile's algorithm (32-byte output).
func (p *Profile) NewHash() hash.Hash { return p.newHash() }

// Hash returns the profile's digest of b (32 bytes).
func (p *Profile) Hash(b []byte) []byte {
	h := p.newHash()
	h.Write(b)
	return h.Sum(nil)
}

// Signer is the profile's signer: Ed25519 in intl, SM2 in gm.
func (p *Profile) Signer() Signer { return p.signer }

// Ed25519Signer is an Ed25519 signer in both profiles (the same key as
// Signer in intl, a separate key in gm).
func (p *Profile) Ed25519Signer() Signer { return p.ed }

// Fields is the profile's field cipher and blind index.
func (p *Profile) Fields() *FieldCipher { return p.fields }

// keys is the key material of a profile; sm2 is nil in intl.
type keys struct {
	ed    ed25519.PrivateKey
	sm2   *sm2.PrivateKey
	field []byte
}

func newProfile(name string, k keys) (*Profile, error) {
	p := &Profile{name: name}
	var err error
	if p.ed, err = newEd25519Signer(k.ed); err != nil {
		return nil, err
	}
	switch name {
	case ProfileIntl:
		p.hashName, p.newHash, p.signer = HashSHA256, sha256.New, p.ed
	case ProfileGM:
		p.hashName, p.newHash = HashSM3, sm3.New
		if k.sm2 == nil {
			return nil, fmt.Errorf("crypto: profile %q needs an SM2 key", name)
		}
		if p.signer, err = newSM2Signer(k.sm2); err != nil {
			return nil, err
		}
	default:
		return nil, unknownProfile(name)
	}
	if p.fields, err = newFieldCipher(name, k.field); err != nil {
		return nil, err
	}
	return p, nil
}

// NewEphemeral returns a profile with fresh in-memory keys, for tests and
// throw-away demos. Nothing it signs or encrypts can be verified or
// decrypted after the process exits.
func NewEphemeral(profile string) (*Profile, error) {
	if err := checkProfile(profile); err != nil {
		return nil, err
	}
	k, err := generateKeys(profile)
	if err != nil {
		return nil, err
	}
	return newProfile(profile, k)
}

func generateKeys(profile string) (keys, error) {
	var k keys
	var err error
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		return k, fmt.Errorf("crypto: generate ed25519 key: %w", err)
	}
	if profile == ProfileGM {
		if k.sm2, err = sm2.GenerateKey(rand.Reader); err != nil {
			return k, fmt.Errorf("crypto: generate sm2 key: %w", err)
		}
	}
	k.field = make([]byte, FieldKeySize)
	rand.Read(k.field)
	return k, nil
}

func checkProfile(name string) error {
	if name == ProfileIntl || name == ProfileGM {
		return nil
	}
	return unknownProfile(name)
}

func unknownProfile(name string) error {
	return fmt.Errorf("crypto: unknown profile %q (want %q or %q)", name, ProfileIntl, ProfileGM)
}

package checkpoint

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
)

// cosignatureSize is the size of a cosignature/v1 signature (after the key
// ID): 8-byte timestamp and 64-byte Ed25519 signature.
const cosignatureSize = 8 + ed25519.SignatureSize

// cosignedMessage returns "cosignature/v1\ntime <ts>\n" || body, the message
// a cosignature/v1 signs.
func cosignedMessage(ts uint64, body []byte) []byte {
	m := make([]byte, 0, 40+len(body))
	m = append(m, "cosignature/v1\ntime "...)
	m = strconv.AppendUint(m, ts, 10)
	m = append(m, '\n')
	return append(m, body...)
}

// Cosigner makes C2SP tlog-cosignature (cosignature/v1, signature type
// 0x04) signatures with a witness's Ed25519 key. It implements note.Signer:
// Sign receives the checkpoint body and returns timestamp || signature.
// Use one key per cosigner name: the signed message does not commit to the
// name.
type Cosigner struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
	key  crypto.Signer
	now  func() time.Time
}

var _ note.Signer = (*Cosigner)(nil)

// NewCosigner returns a cosigner named name (the witness's name, a
// schema-less URL such as "witness.example.gov.cn/w1") signing with key,
// which must be Ed25519. now gives the timestamp (time.Now if nil).
func NewCosigner(name string, key crypto.Signer, now func() time.Time) (*Cosigner, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("checkpoint: nil cosigner key")
	}
	pub, err := ed25519Key(key.Public())
	if err != nil {
		return nil, fmt.Errorf("checkpoint: cosigner %s: %w", name, err)
	}
	if now == nil {
		now = time.Now
	}
	return &Cosigner{name: name, hash: keyID(name, string([]byte{SigTypeCosignatureV1}), pub), pub: pub, key: key, now: now}, nil
}

// Name is the witness name used in signature lines.
func (c *Cosigner) Name() string { return c.name }

// KeyHash is the key ID: SHA-256(name || "\n" || 0x04 || public key)[:4].
func (c *Cosigner) KeyHash() uint32 { return c.hash }

// VerifierKey is the witness's verifier key,
// "<name>+<key ID>+<base64(0x04 || public key)>".
func (c *Cosigner) VerifierKey() string {
	return formatVerifierKey(c.name, c.hash, string([]byte{SigTypeCosignatureV1}), c.pub)
}

// Verifier returns the verifier for this cosigner's signatures.
func (c *Cosigner) Verifier() *CosignatureVerifier { return newCosignatureVerifier(c.name, c.pub) }

// Sign cosigns msg, which must be a checkpoint body, at the current time:
// it returns the 8-byte big-endian timestamp followed by the Ed25519
// signature of "cosignature/v1\ntime <timestamp>\n" || msg.
func (c *Cosigner) Sign(msg []byte) ([]byte, error) {
	if _, err := Parse(msg); err != nil {
		return nil, fmt.Errorf("checkpoint: cosign: %w", err)
	}
	ts := c.now().Unix()
	if ts < 0 {
		return nil, fmt.Errorf("checkpoint: cosign: time %d is before the Unix epoch", ts)
	}
	sig, err := c.key.Sign(cosignedMessage(uint64(ts), msg))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: cosign: %w", err)
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("checkpoint: cosign: signer returned %d bytes, want an Ed25519 signature", len(sig))
	}
	out := make([]byte, 8, cosignatureSize)
	binary.BigEndian.PutUint64(out, uint64(ts))
	return append(out, sig...), nil
}

// Cosign returns the cosignature line for cp, ready for [AddCosignatures].
// Call it only after [Witness.Check] accepted cp.
func (c *Cosigner) Cosign(cp Checkpoint) (note.Signature, error) {
	sig, err := c.Sign(cp.Marshal())
	if err != nil {
		return note.Signature{}, err
	}
	raw := make([]byte, 4, 4+len(sig))
	binary.BigEndian.PutUint32(raw, c.hash)
	raw = append(raw, sig...)
	return note.Signature{Name: c.name, Hash: c.hash, Base64: base64.StdEncoding.EncodeToString(raw)}, nil
}

// CosignatureVerifier verifies cosignature/v1 signatures of one witness. It
// implements note.Verifier; use [CosignatureTime] or [Open] for the
// timestamp of a verified signature.
type CosignatureVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

var _ note.Verifier = (*CosignatureVerifier)(nil)

// NewCosignatureVerifier returns the verifier for the witness named name
// with Ed25519 public key pub.
func NewCosignatureVerifier(name string, pub *crypto.PublicKey) (*CosignatureVerifier, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	ed, err := ed25519Key(pub)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: witness %s: %w", name, err)
	}
	return newCosignatureVerifier(name, ed), nil
}

func newCosignatureVerifier(name string, pub ed25519.PublicKey) *CosignatureVerifier {
	return &CosignatureVerifier{name: name, hash: keyID(name, string([]byte{SigTypeCosignatureV1}), pub), pub: pub}
}

// CosignerVerifierKey returns the verifier key of the witness named name
// with Ed25519 public key pub: "<name>+<key ID>+<base64(0x04 || key)>".
func CosignerVerifierKey(name string, pub *crypto.PublicKey) (string, error) {
	v, err := NewCosignatureVerifier(name, pub)
	if err != nil {
		return "", err
	}
	return v.VerifierKey(), nil
}

// Name is the witness name.
func (v *CosignatureVerifier) Name() string { return v.name }

// KeyHash is the witness key ID.
func (v *CosignatureVerifier) KeyHash() uint32 { return v.hash }

// VerifierKey is "<name>+<key ID>+<base64(0x04 || public key)>".
func (v *CosignatureVerifier) VerifierKey() string {
	return formatVerifierKey(v.name, v.hash, string([]byte{SigTypeCosignatureV1}), v.pub)
}

// Verify checks sig (timestamp || Ed25519 signature, without the key ID)
// over "cosignature/v1\ntime <timestamp>\n" || msg. Timestamps above
// 2^63-1 are refused.
func (v *CosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != cosignatureSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	if ts > math.MaxInt64 {
		return false
	}
	return ed25519.Verify(v.pub, cosignedMessage(ts, msg), sig[8:])
}

// CosignatureTime returns the timestamp of a cosignature/v1 signature line.
// It does not verify the signature.
func CosignatureTime(sig note.Signature) (time.Time, error) {
	raw, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(raw) != 4+cosignatureSize {
		return time.Time{}, fmt.Errorf("checkpoint: signature from %s is not a cosignature/v1", sig.Name)
	}
	ts := binary.BigEndian.Uint64(raw[4:])
	if ts > math.MaxInt64 {
		return time.Time{}, fmt.Errorf("checkpoint: cosignature from %s: timestamp %d out of range", sig.Name, ts)
	}
	return time.Unix(int64(ts), 0).UTC(), nil
}

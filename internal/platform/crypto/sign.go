package crypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Signature algorithm names, as returned by [Signer.Algorithm] and
// [PublicKey.Algorithm].
const (
	AlgEd25519 = "ed25519"
	AlgSM2     = "sm2"
)

// SM2UserID is the signer identity (GB/T 32918.2 ID_A) used in every SM2
// signature: the standard default user ID.
const SM2UserID = "1234567812345678"

var sm2UID = []byte(SM2UserID)

// ErrInvalidSignature is returned (wrapped) by [Verify] when a signature does
// not verify.
var ErrInvalidSignature = errors.New("crypto: invalid signature")

// Signer signs messages with a private key it never exposes.
type Signer interface {
	// Algorithm is AlgEd25519 or AlgSM2.
	Algorithm() string
	// Public returns the matching public key.
	Public() *PublicKey
	// Sign signs msg itself (not a digest). Ed25519 signatures are 64 bytes;
	// SM2 signatures are ASN.1 DER SEQUENCE{r, s} over SM3(Z_A || msg) with
	// the default user ID "1234567812345678".
	Sign(msg []byte) ([]byte, error)
}

// PublicKey is an Ed25519 or SM2 public key. It is immutable.
type PublicKey struct {
	alg string
	ed  ed25519.PublicKey
	sm2 *ecdsa.PublicKey
	der []byte
	id  string
}

// Algorithm is AlgEd25519 or AlgSM2.
func (k *PublicKey) Algorithm() string { return k.alg }

// Bytes returns the PKIX (SubjectPublicKeyInfo) DER encoding.
func (k *PublicKey) Bytes() []byte { return bytes.Clone(k.der) }

// PEM returns the key as a PEM "PUBLIC KEY" block.
func (k *PublicKey) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: k.der})
}

// ID is a stable key identifier: lowercase hex of the first 8 bytes of
// SHA-256 of the DER encoding (16 characters).
func (k *PublicKey) ID() string { return k.id }

// Equal reports whether k and o are the same key.
func (k *PublicKey) Equal(o *PublicKey) bool {
	return k != nil && o != nil && bytes.Equal(k.der, o.der)
}

// String returns "<algorithm>:<id>".
func (k *PublicKey) String() string { return k.alg + ":" + k.id }

// ParsePublicKey parses a PKIX DER Ed25519 or SM2 public key.
func ParsePublicKey(der []byte) (*PublicKey, error) {
	pub, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("crypto: parse public key: %w", err)
	}
	return newPublicKey(pub)
}

// ParsePublicKeyPEM parses a PEM "PUBLIC KEY" block holding an Ed25519 or
// SM2 key.
func ParsePublicKeyPEM(data []byte) (*PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New(`crypto: parse public key: no PEM "PUBLIC KEY" block`)
	}
	return ParsePublicKey(block.Bytes)
}

func newPublicKey(pub any) (*PublicKey, error) {
	k := &PublicKey{}
	switch p := pub.(type) {
	case ed25519.PublicKey:
		k.alg, k.ed = AlgEd25519, bytes.Clone(p)
	case *ecdsa.PublicKey:
		if !sm2.IsSM2PublicKey(p) {
			return nil, fmt.Errorf("crypto: unsupported public key: ECDSA on curve %s (want Ed25519 or SM2)", p.Curve.Params().Name)
		}
		k.alg, k.sm2 = AlgSM2, p
	default:
		return nil, fmt.Errorf("crypto: unsupported public key type %T (want Ed25519 or SM2)", pub)
	}
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("crypto: marshal public key: %w", err)
	}
	sum := sha256.Sum256(der)
	k.der, k.id = der, hex.EncodeToString(sum[:8])
	return k, nil
}

// Verify checks sig over msg with pub, for either algorithm. It returns nil
// on success and an error wrapping [ErrInvalidSignature] otherwise.
func Verify(pub *PublicKey, msg, sig []byte) error {
	if pub == nil {
		return errors.New("crypto: verify: nil public key")
	}
	ok := false
	switch pub.alg {
	case AlgEd25519:
		ok = ed25519.Verify(pub.ed, msg, sig)
	case AlgSM2:
		ok = sm2.VerifyASN1WithSM2(pub.sm2, sm2UID, msg, sig)
	}
	if !ok {
		return fmt.Errorf("%w (%s key %s)", ErrInvalidSignature, pub.alg, pub.id)
	}
	return nil
}

type ed25519Signer struct {
	key ed25519.PrivateKey
	pub *PublicKey
}

func newEd25519Signer(key ed25519.PrivateKey) (*ed25519Signer, error) {
	pub, err := newPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	return &ed25519Signer{key: key, pub: pub}, nil
}

func (s *ed25519Signer) Algorithm() string  { return AlgEd25519 }
func (s *ed25519Signer) Public() *PublicKey { return s.pub }
func (s *ed25519Signer) Sign(msg []byte) ([]byte, error) {
	return ed25519.Sign(s.key, msg), nil
}

type sm2Signer struct {
	key *sm2.PrivateKey
	pub *PublicKey
}

func newSM2Signer(key *sm2.PrivateKey) (*sm2Signer, error) {
	pub, err := newPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &sm2Signer{key: key, pub: pub}, nil
}

func (s *sm2Signer) Algorithm() string  { return AlgSM2 }
func (s *sm2Signer) Public() *PublicKey { return s.pub }

// Sign computes e = SM3(Z_A || msg) itself rather than passing msg with
// sm2.DefaultSM2SignerOpts, because gmsm refuses an empty input there.
func (s *sm2Signer) Sign(msg []byte) ([]byte, error) {
	e, err := sm2.CalculateSM2Hash(&s.key.PublicKey, msg, sm2UID)
	if err != nil {
		return nil, fmt.Errorf("crypto: sm2 sign: %w", err)
	}
	sig, err := sm2.SignASN1(rand.Reader, s.key, e, nil)
	if err != nil {
		return nil, fmt.Errorf("crypto: sm2 sign: %w", err)
	}
	return sig, nil
}

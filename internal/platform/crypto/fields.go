package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// Field-encryption algorithm names, as returned by [FieldCipher.Algorithm].
const (
	AlgAES256GCM = "aes-256-gcm"
	AlgSM4GCM    = "sm4-gcm"
)

// Ciphertext tags (first byte of every ciphertext).
const (
	tagAES256GCM byte = 0x01
	tagSM4GCM    byte = 0x02
)

// FieldKeySize is the size of the field master key in bytes.
const FieldKeySize = 32

const (
	nonceSize = 12
	gcmTag    = 16
	// HKDF labels; changing them changes every derived key.
	labelEncrypt = "shuzhi field-encryption v1"
	labelBlind   = "shuzhi blind-index v1"
)

// ErrDecrypt is returned (wrapped) by [FieldCipher.Decrypt] for any
// ciphertext that is malformed, tampered with, for another algorithm, or
// used with the wrong associated data.
var ErrDecrypt = errors.New("crypto: field decryption failed")

// FieldCipher encrypts individual database fields and computes blind
// indexes for equality lookups. It is safe for concurrent use.
type FieldCipher struct {
	alg      string
	tag      byte
	aead     cipher.AEAD
	newHash  func() hash.Hash
	blindKey []byte
	blinds   sync.Pool // keyed HMACs for Blind, reset after use
}

func newFieldCipher(profile string, master []byte) (*FieldCipher, error) {
	if len(master) != FieldKeySize {
		return nil, fmt.Errorf("crypto: field master key is %d bytes, want %d", len(master), FieldKeySize)
	}
	f := &FieldCipher{}
	var (
		encKeyLen int
		newBlock  func([]byte) (cipher.Block, error)
	)
	switch profile {
	case ProfileIntl:
		f.alg, f.tag, f.newHash = AlgAES256GCM, tagAES256GCM, sha256.New
		encKeyLen, newBlock = 32, aes.NewCipher
	case ProfileGM:
		f.alg, f.tag, f.newHash = AlgSM4GCM, tagSM4GCM, sm3.New
		encKeyLen, newBlock = 16, sm4.NewCipher
	default:
		return nil, unknownProfile(profile)
	}
	encKey, err := hkdf.Key(f.newHash, master, nil, labelEncrypt, encKeyLen)
	if err != nil {
		return nil, fmt.Errorf("crypto: derive field key: %w", err)
	}
	f.blindKey, err = hkdf.Key(f.newHash, master, nil, labelBlind, 32)
	if err != nil {
		return nil, fmt.Errorf("crypto: derive blind-index key: %w", err)
	}
	block, err := newBlock(encKey)
	if err != nil {
		return nil, fmt.Errorf("crypto: %s: %w", f.alg, err)
	}
	// For SM4, crypto/cipher.NewGCM uses gmsm's accelerated GCM when the
	// block offers one (gcmAble), and the generic implementation otherwise.
	if f.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("crypto: %s: %w", f.alg, err)
	}
	return f, nil
}

// Algorithm is AlgAES256GCM or AlgSM4GCM.
func (f *FieldCipher) Algorithm() string { return f.alg }

// Overhead is how many bytes Encrypt adds to the plaintext (29).
func (f *FieldCipher) Overhead() int { return 1 + nonceSize + gcmTag }

// Encrypt encrypts plaintext under a fresh random nonce, authenticating
// associatedData (which is not stored and must be given again to Decrypt).
// Output: tag || nonce || ciphertext || GCM tag.
func (f *FieldCipher) Encrypt(plaintext, associatedData []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+gcmTag)
	out[0] = f.tag
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("crypto: nonce: %w", err)
	}
	return f.aead.Seal(out, out[1:1+nonceSize], plaintext, f.ad(associatedData)), nil
}

// Decrypt reverses Encrypt. Any change to the ciphertext or the associated
// data yields an error wrapping [ErrDecrypt].
func (f *FieldCipher) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	if len(ciphertext) < f.Overhead() {
		return nil, fmt.Errorf("%w: ciphertext too short (%d bytes)", ErrDecrypt, len(ciphertext))
	}
	if ciphertext[0] != f.tag {
		return nil, fmt.Errorf("%w: algorithm tag 0x%02x, want 0x%02x (%s)", ErrDecrypt, ciphertext[0], f.tag, f.alg)
	}
	pt, err := f.aead.Open(nil, ciphertext[1:1+nonceSize], ciphertext[1+nonceSize:], f.ad(associatedData))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (tampered ciphertext, wrong key or wrong associated data)", ErrDecrypt)
	}
	return pt, nil
}

// ad is the GCM additional data: the tag byte, then the caller's data.
func (f *FieldCipher) ad(associatedData []byte) []byte {
	ad := make([]byte, 1+len(associatedData))
	ad[0] = f.tag
	copy(ad[1:], associatedData)
	return ad
}

// Blind returns a deterministic keyed digest of value (32 bytes: HMAC-SHA256
// in intl, HMAC-SM3 in gm, under a key derived separately from the
// encryption key). Store it next to the encrypted field and look records up
// by equality on it. Normalise value first; equal inputs give equal outputs.
func (f *FieldCipher) Blind(value []byte) []byte {
	return f.AppendBlind(nil, value)
}

// AppendBlind appends Blind(value) to dst. The keyed HMACs are pooled: a
// new one costs its allocations and, for each key, hashing the key's two
// pads, which its Reset does not repeat.
func (f *FieldCipher) AppendBlind(dst, value []byte) []byte {
	m, _ := f.blinds.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(f.newHash, f.blindKey)
	}
	m.Write(value)
	dst = m.Sum(dst)
	m.Reset()
	f.blinds.Put(m)
	return dst
}

package crypto

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// GenerateSigner makes a new key of the profile's signature algorithm
// (Ed25519 in intl, SM2 in gm), for example an organisation's ledger key.
func (p *Profile) GenerateSigner() (Signer, error) {
	if p.name == ProfileGM {
		k, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("crypto: generate sm2 key: %w", err)
		}
		return newSM2Signer(k)
	}
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("crypto: generate ed25519 key: %w", err)
	}
	return newEd25519Signer(k)
}

// MarshalSigner returns the signer's private key as PKCS#8 DER, for storing
// it encrypted (FieldCipher) in the database.
func MarshalSigner(s Signer) ([]byte, error) {
	switch k := s.(type) {
	case *ed25519Signer:
		return smx509.MarshalPKCS8PrivateKey(k.key)
	case *sm2Signer:
		return smx509.MarshalPKCS8PrivateKey(k.key)
	}
	return nil, fmt.Errorf("crypto: cannot marshal signer %T", s)
}

// ParseSigner reads a PKCS#8 DER private key (Ed25519 or SM2).
func ParseSigner(der []byte) (Signer, error) {
	key, err := smx509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("crypto: parse private key: %w", err)
	}
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return newEd25519Signer(k)
	case *sm2.PrivateKey:
		return newSM2Signer(k)
	}
	return nil, fmt.Errorf("crypto: unsupported private key %s", keyKind(key))
}

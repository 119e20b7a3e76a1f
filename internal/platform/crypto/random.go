package crypto

import (
	"crypto/rand"
	"encoding/base64"
)

// RandomToken returns nBytes random bytes as unpadded base64url (URL- and
// cookie-safe; 32 bytes give 43 characters). It panics if nBytes < 1.
// crypto/rand does not fail on supported platforms.
func RandomToken(nBytes int) string {
	if nBytes < 1 {
		panic("crypto: RandomToken needs nBytes >= 1")
	}
	b := make([]byte, nBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

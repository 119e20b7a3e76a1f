package crypto

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new password hashes (OWASP Password Storage Cheat
// Sheet minimum: 19 MiB, 2 passes, 1 lane). Raising them makes VerifyPassword
// report needsRehash for older hashes.
const (
	Argon2Memory  uint32 = 19456 // KiB
	Argon2Time    uint32 = 2
	Argon2Threads uint8  = 1
	argon2SaltLen        = 16
	argon2KeyLen         = 32
)

// Bounds on parameters accepted from stored hashes, so that a corrupted or
// planted hash cannot make a login consume unbounded memory or time.
const (
	maxArgon2Memory  = 1 << 20 // KiB (1 GiB)
	maxArgon2Time    = 16
	maxArgon2Threads = 64
)

// ErrPasswordHash is returned (wrapped) by VerifyPassword for an encoded
// hash it cannot parse.
var ErrPasswordHash = errors.New("crypto: malformed password hash")

var phcB64 = base64.RawStdEncoding

// HashPassword hashes pw with argon2id and a random salt, returning a PHC
// string such as $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("crypto: empty password")
	}
	salt := make([]byte, argon2SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("crypto: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, Argon2Time, Argon2Memory, Argon2Threads, argon2KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		Argon2Memory, Argon2Time, Argon2Threads, phcB64.EncodeToString(salt), phcB64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches encoded (a PHC argon2id string),
// comparing in constant time. needsRehash is true when pw matches but encoded
// was made with parameters other than the current ones; the caller should
// then store HashPassword(pw). err is non-nil only for a malformed encoded.
func VerifyPassword(encoded, pw string) (ok, needsRehash bool, err error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, false, fmt.Errorf("%w: want $argon2id$v=..$m=..,t=..,p=..$salt$hash", ErrPasswordHash)
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, false, fmt.Errorf("%w: unsupported version %q", ErrPasswordHash, parts[2])
	}
	var m, t uint32
	var p uint8
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", m, t, p) != parts[3] {
		return false, false, fmt.Errorf("%w: bad parameters %q", ErrPasswordHash, parts[3])
	}
	if m < 8*uint32(p) || m > maxArgon2Memory || t < 1 || t > maxArgon2Time || p < 1 || p > maxArgon2Threads {
		return false, false, fmt.Errorf("%w: parameters %q out of range", ErrPasswordHash, parts[3])
	}
	salt, err := phcB64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, false, fmt.Errorf("%w: bad salt", ErrPasswordHash)
	}
	want, err := phcB64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, false, fmt.Errorf("%w: bad hash", ErrPasswordHash)
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	needsRehash = m != Argon2Memory || t != Argon2Time || p != Argon2Threads ||
		len(salt) != argon2SaltLen || len(want) != argon2KeyLen
	return true, needsRehash, nil
}

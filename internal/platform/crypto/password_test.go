package crypto

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"testing"

	"golang.org/x/crypto/argon2"
)

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

// phc formats an argon2id hash of pw with explicit parameters.
func phc(pw string, m, t uint32, p uint8, saltLen, keyLen int) string {
	salt := make([]byte, saltLen)
	key := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(keyLen))
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func TestPassword(t *testing.T) {
	t.Parallel()
	const pw = "Shuzhi@2026"
	encoded, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !phcPattern.MatchString(encoded) {
		t.Errorf("HashPassword = %q, not the expected PHC form", encoded)
	}
	if again, _ := HashPassword(pw); again == encoded {
		t.Error("two hashes of one password are equal (salt not random)")
	}
	tests := []struct {
		name               string
		encoded, pw        string
		wantOK, wantRehash bool
		wantErr            error
	}{
		{"correct", encoded, pw, true, false, nil},
		{"wrong", encoded, "shuzhi@2026", false, false, nil},
		{"empty attempt", encoded, "", false, false, nil},
		{"prefix of password", encoded, pw[:len(pw)-1], false, false, nil},
		{"unicode", phc("密码 pässwörd", Argon2Memory, Argon2Time, Argon2Threads, 16, 32), "密码 pässwörd", true, false, nil},
		{"older stronger params", phc(pw, 65536, 3, 2, 16, 32), pw, true, true, nil},
		{"older weaker params", phc(pw, 4096, 1, 1, 16, 32), pw, true, true, nil},
		{"short key", phc(pw, Argon2Memory, Argon2Time, Argon2Threads, 16, 16), pw, true, true, nil},
		{"wrong with old params", phc(pw, 65536, 3, 2, 16, 32), "x", false, false, nil},
		{"empty", "", pw, false, false, ErrPasswordHash},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", pw, false, false, ErrPasswordHash},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pw, false, false, ErrPasswordHash},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pw, false, false, ErrPasswordHash},
		{"params reordered", "$argon2id$v=19$t=2,m=19456,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pw, false, false, ErrPasswordHash},
		{"params trailing junk", "$argon2id$v=19$m=19456,t=2,p=1x$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pw, false, false, ErrPasswordHash},
		{"memory too large", "$argon2id$v=19$m=4194304,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pw, false, false, ErrPasswordHash},
		{"time zero", "$argon2id$v=19$m=19456,t=0,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pw, false, false, ErrPasswordHash},
		{"threads 300", "$argon2id$v=19$m=19456,t=2,p=300$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pw, false, false, ErrPasswordHash},
		{"bad salt", "$argon2id$v=19$m=19456,t=2,p=1$!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pw, false, false, ErrPasswordHash},
		{"short hash", "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA", pw, false, false, ErrPasswordHash},
		{"extra field", encoded + "$x", pw, false, false, ErrPasswordHash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := VerifyPassword(tc.encoded, tc.pw)
			if ok != tc.wantOK || rehash != tc.wantRehash || !errors.Is(err, tc.wantErr) {
				t.Errorf("VerifyPassword = %v, %v, %v; want %v, %v, %v", ok, rehash, err, tc.wantOK, tc.wantRehash, tc.wantErr)
			}
		})
	}
	t.Run("empty password refused", func(t *testing.T) {
		t.Parallel()
		if _, err := HashPassword(""); err == nil {
			t.Error("HashPassword(\"\") succeeded")
		}
	})
}

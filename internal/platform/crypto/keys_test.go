package crypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Test-only keys written by OpenSSL 3.0 (see the package documentation for
// the commands), with the public keys OpenSSL derived from them.
const (
	// openssl genpkey -algorithm ed25519
	opensslEd25519 = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAx3xrq0TFxpdetAot0R7XYCXEMPU7+kA2ILVO98wiKA
-----END PRIVATE KEY-----
`
	opensslEd25519Pub = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAoFQKaUA/lMrqaHOnbE0ZymxbOiuZwXVplX58XQ3KHYU=
-----END PUBLIC KEY-----
`
	// openssl ecparam -name SM2 -genkey
	opensslSM2Ecparam = `-----BEGIN SM2 PARAMETERS-----
BggqgRzPVQGCLQ==
-----END SM2 PARAMETERS-----
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg5HKnzQZcw8uU0gil
hJhmiAfKGojTbzCliPlKM5Ia8+ahRANCAARWtz4HioLAiP8Lk3g4j6iTC5Bx0PlD
jbH21xlXZtEuTvLr79Q44nkC+d9pY4diFcmJz5iKG1+biDNcRKmFoJsd
-----END PRIVATE KEY-----
`
	opensslSM2EcparamPub = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEVrc+B4qCwIj/C5N4OI+okwuQcdD5
Q42x9tcZV2bRLk7y6+/UOOJ5AvnfaWOHYhXJic+Yihtfm4gzXESphaCbHQ==
-----END PUBLIC KEY-----
`
	// openssl genpkey -algorithm SM2 | openssl ec  (SEC 1)
	opensslSM2SEC1 = `-----BEGIN SM2 PRIVATE KEY-----
MHcCAQEEIFrjtvlhh15cKeufqtP8sqQNdOrAXoYSv9YtrUFXsfGdoAoGCCqBHM9V
AYItoUQDQgAEITX7EFTd9fYp6Oycd9ufyeljY2Rgwy34TqOQDf+3c9CnTSXCW8ES
aPbZx2r/QgRMCrxho6ex4cvU70uxHOTc1A==
-----END SM2 PRIVATE KEY-----
`
	opensslSM2SEC1Pub = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEITX7EFTd9fYp6Oycd9ufyeljY2Rg
wy34TqOQDf+3c9CnTSXCW8ESaPbZx2r/QgRMCrxho6ex4cvU70uxHOTc1A==
-----END PUBLIC KEY-----
`
)

func writeFile(t testing.TB, dir, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask-proof
		t.Fatal(err)
	}
	return path
}

// pkcs8PEM encodes key as PEM PKCS#8, with smx509 (gm) or crypto/x509.
func pkcs8PEM(t testing.TB, key any, gm bool) []byte {
	t.Helper()
	marshal := x509.MarshalPKCS8PrivateKey
	if gm {
		marshal = smx509.MarshalPKCS8PrivateKey
	}
	der, err := marshal(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func pubPEM(t testing.TB, pub any) string {
	t.Helper()
	k, err := newPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(k.PEM())
}

func mode(t testing.TB, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// sameKeys checks that a and b hold the same keys.
func sameKeys(t *testing.T, a, b *Profile) {
	t.Helper()
	if !a.Signer().Public().Equal(b.Signer().Public()) {
		t.Errorf("signing keys differ: %v vs %v", a.Signer().Public(), b.Signer().Public())
	}
	if !a.Ed25519Signer().Public().Equal(b.Ed25519Signer().Public()) {
		t.Errorf("Ed25519 keys differ")
	}
	ct, err := a.Fields().Encrypt([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Fields().Decrypt(ct, nil); err != nil {
		t.Errorf("field keys differ: %v", err)
	}
	if !bytes.Equal(a.Fields().Blind([]byte("x")), b.Fields().Blind([]byte("x"))) {
		t.Errorf("blind keys differ")
	}
}

func TestLoadOrCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		profile string
		files   []string
	}{
		{ProfileIntl, []string{FileEd25519, FileField}},
		{ProfileGM, []string{FileEd25519, FileField, FileSM2}},
	}
	for _, tc := range tests {
		t.Run(tc.profile, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "state", "keys")
			p1, err := LoadOrCreate(dir, tc.profile, KeyFiles{})
			if err != nil {
				t.Fatal(err)
			}
			if runtime.GOOS != "windows" {
				if m := mode(t, dir); m != 0o700 {
					t.Errorf("key directory mode %04o, want 0700", m)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
				if m := mode(t, filepath.Join(dir, e.Name())); runtime.GOOS != "windows" && m != 0o600 {
					t.Errorf("%s mode %04o, want 0600", e.Name(), m)
				}
			}
			slices.Sort(names)
			slices.Sort(tc.files)
			if !slices.Equal(names, tc.files) {
				t.Errorf("files %v, want %v", names, tc.files)
			}

			// Formats: PKCS#8 PEM signing keys, base64 field key.
			edPEM, _ := os.ReadFile(filepath.Join(dir, FileEd25519))
			block, _ := pem.Decode(edPEM)
			if block == nil || block.Type != "PRIVATE KEY" {
				t.Fatalf("%s is not a PEM PRIVATE KEY", FileEd25519)
			}
			edKey, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				t.Fatalf("crypto/x509 cannot read %s: %v", FileEd25519, err)
			}
			if pubPEM(t, edKey.(ed25519.PrivateKey).Public()) != string(p1.Ed25519Signer().Public().PEM()) {
				t.Errorf("%s does not hold the Ed25519 signer's key", FileEd25519)
			}
			if tc.profile == ProfileGM {
				smPEM, _ := os.ReadFile(filepath.Join(dir, FileSM2))
				block, _ := pem.Decode(smPEM)
				k, err := smx509.ParsePKCS8PrivateKey(block.Bytes)
				if err != nil {
					t.Fatalf("smx509 cannot read %s: %v", FileSM2, err)
				}
				if pubPEM(t, &k.(*sm2.PrivateKey).PublicKey) != string(p1.Signer().Public().PEM()) {
					t.Errorf("%s does not hold the SM2 signer's key", FileSM2)
				}
			}
			fk, _ := os.ReadFile(filepath.Join(dir, FileField))
			if raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(string(fk), "\n")); err != nil || len(raw) != 32 {
				t.Errorf("%s = %q: not base64 of 32 bytes", FileField, fk)
			}

			p2, err := LoadOrCreate(dir, tc.profile, KeyFiles{})
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			sameKeys(t, p1, p2)
		})
	}

	t.Run("intl-to-gm keeps ed25519 and field key", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		intl, err := LoadOrCreate(dir, ProfileIntl, KeyFiles{})
		if err != nil {
			t.Fatal(err)
		}
		gm, err := LoadOrCreate(dir, ProfileGM, KeyFiles{})
		if err != nil {
			t.Fatal(err)
		}
		if !intl.Ed25519Signer().Public().Equal(gm.Ed25519Signer().Public()) {
			t.Error("Ed25519 key changed")
		}
		if _, err := os.Stat(filepath.Join(dir, FileSM2)); err != nil {
			t.Error("sm2.pem not created")
		}
	})

	t.Run("missing field key refused", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if _, err := LoadOrCreate(dir, ProfileGM, KeyFiles{}); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, FileField)); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreate(dir, ProfileGM, KeyFiles{})
		if err == nil || !strings.Contains(err.Error(), "refusing to generate a new field key") {
			t.Errorf("err = %v, want refusal", err)
		}
		if _, err := os.Stat(filepath.Join(dir, FileField)); !errors.Is(err, fs.ErrNotExist) {
			t.Error("field.key was recreated")
		}
	})
}

func TestKeyFilePermissions(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("permission bits are not checked on Windows")
	}
	tests := []struct {
		name    string
		profile string
		file    string
		mode    os.FileMode
		wantErr bool
	}{
		{"field group-readable", ProfileIntl, FileField, 0o640, true},
		{"ed25519 world-readable", ProfileIntl, FileEd25519, 0o644, true},
		{"sm2 world-readable only", ProfileGM, FileSM2, 0o604, true},
		{"sm2 group-writable", ProfileGM, FileSM2, 0o620, true},
		{"field read-only owner", ProfileGM, FileField, 0o400, false},
		{"ed25519 owner rw", ProfileGM, FileEd25519, 0o600, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if _, err := LoadOrCreate(dir, tc.profile, KeyFiles{}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.file)
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreate(dir, tc.profile, KeyFiles{})
			if !tc.wantErr {
				if err != nil {
					t.Errorf("mode %04o refused: %v", tc.mode, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("mode %04o accepted", tc.mode)
			}
			for _, want := range []string{path, "must not be accessible by group or others", "chmod 600"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}

	t.Run("supplied world-readable", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		_, edKey, _ := ed25519.GenerateKey(rand.Reader)
		path := writeFile(t, dir, "signing.pem", pkcs8PEM(t, edKey, false), 0o644)
		_, err := LoadOrCreate(dir, ProfileIntl, KeyFiles{Signing: path})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("err = %v, want refusal naming %s", err, path)
		}
	})
}

func TestOperatorSuppliedKeys(t *testing.T) {
	t.Parallel()
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	smKey, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	smSEC1, err := smx509.MarshalSM2PrivateKey(smKey)
	if err != nil {
		t.Fatal(err)
	}
	field := bytes.Repeat([]byte{0x42}, 32)

	tests := []struct {
		name      string
		profile   string
		signing   string // PEM
		ed25519   string // PEM, gm only
		field     []byte
		wantSign  string // public key PEM of Signer
		wantField []byte
	}{
		{name: "intl x509 PKCS#8", profile: ProfileIntl,
			signing: string(pkcs8PEM(t, edKey, false)), wantSign: pubPEM(t, edKey.Public())},
		{name: "intl openssl genpkey", profile: ProfileIntl,
			signing: opensslEd25519, wantSign: opensslEd25519Pub},
		{name: "gm smx509 PKCS#8", profile: ProfileGM,
			signing: string(pkcs8PEM(t, smKey, true)), wantSign: pubPEM(t, &smKey.PublicKey)},
		{name: "gm smx509 SEC1 EC PRIVATE KEY", profile: ProfileGM,
			signing:  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: smSEC1})),
			wantSign: pubPEM(t, &smKey.PublicKey)},
		{name: "gm openssl ecparam", profile: ProfileGM,
			signing: opensslSM2Ecparam, wantSign: opensslSM2EcparamPub},
		{name: "gm openssl SEC1", profile: ProfileGM,
			signing: opensslSM2SEC1, wantSign: opensslSM2SEC1Pub},
		{name: "gm with ed25519 and field key base64", profile: ProfileGM,
			signing: string(pkcs8PEM(t, smKey, true)), ed25519: opensslEd25519,
			field:    []byte("  " + base64.StdEncoding.EncodeToString(field) + "\n\n"),
			wantSign: pubPEM(t, &smKey.PublicKey), wantField: field},
		{name: "intl field key raw", profile: ProfileIntl,
			signing: opensslEd25519, field: field, wantSign: opensslEd25519Pub, wantField: field},
		{name: "intl field key base64url unpadded", profile: ProfileIntl,
			signing: opensslEd25519, field: []byte(base64.RawURLEncoding.EncodeToString(field)),
			wantSign: opensslEd25519Pub, wantField: field},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secrets, keyDir := t.TempDir(), filepath.Join(t.TempDir(), "keys")
			files := KeyFiles{Signing: writeFile(t, secrets, "signing.pem", []byte(tc.signing), 0o600)}
			if tc.ed25519 != "" {
				files.Ed25519 = writeFile(t, secrets, "ed.pem", []byte(tc.ed25519), 0o400)
			}
			if tc.field != nil {
				files.Field = writeFile(t, secrets, "field", tc.field, 0o600)
			}
			p, err := LoadOrCreate(keyDir, tc.profile, files)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(p.Signer().Public().PEM()); got != tc.wantSign {
				t.Errorf("signing public key\n%s want\n%s", got, tc.wantSign)
			}
			if tc.ed25519 != "" && string(p.Ed25519Signer().Public().PEM()) != opensslEd25519Pub {
				t.Errorf("Ed25519 key not taken from %s", files.Ed25519)
			}
			if tc.wantField != nil {
				want, _ := newFieldCipher(tc.profile, tc.wantField)
				if !bytes.Equal(p.Fields().Blind([]byte("v")), want.Blind([]byte("v"))) {
					t.Error("field key not taken from the supplied file")
				}
			}
			// Supplied files are not copied into the key directory.
			for _, name := range []string{FileSM2, FileEd25519, FileField} {
				_, err := os.Stat(filepath.Join(keyDir, name))
				supplied := (name == FileSM2 && tc.profile == ProfileGM) ||
					(name == FileEd25519 && (tc.profile == ProfileIntl || tc.ed25519 != "")) ||
					(name == FileField && tc.field != nil)
				if supplied && err == nil {
					t.Errorf("%s written to the key directory although supplied", name)
				}
			}
			sig, _ := p.Signer().Sign([]byte("m"))
			if err := Verify(p.Signer().Public(), []byte("m"), sig); err != nil {
				t.Error(err)
			}
		})
	}

	t.Run("all supplied, no key directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		files := KeyFiles{
			Signing: writeFile(t, dir, "sm2.pem", []byte(opensslSM2SEC1), 0o600),
			Ed25519: writeFile(t, dir, "ed.pem", []byte(opensslEd25519), 0o600),
			Field:   writeFile(t, dir, "field", field, 0o600),
		}
		if _, err := LoadOrCreate("", ProfileGM, files); err != nil {
			t.Fatal(err)
		}
		files.Ed25519 = ""
		if _, err := LoadOrCreate("", ProfileGM, files); err == nil {
			t.Error("missing Ed25519 key and no key directory accepted")
		}
	})
}

func TestOperatorSuppliedKeyErrors(t *testing.T) {
	t.Parallel()
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name    string
		profile string
		signing string // file content; "" = no file at that path
		ed      string
		field   string
		want    string
	}{
		{"missing signing file", ProfileGM, "", "", "", "does not exist"},
		{"ed25519 key as sm2", ProfileGM, opensslEd25519, "", "", "want an SM2 private key, found an Ed25519 key"},
		{"sm2 key as ed25519", ProfileIntl, opensslSM2SEC1, "", "", "want an Ed25519 private key, found an SM2 key"},
		{"sm2 key as gm ed25519", ProfileGM, opensslSM2SEC1, opensslSM2SEC1, "", "want an Ed25519 private key"},
		{"P-256 key as sm2", ProfileGM, string(pkcs8PEM(t, p256, false)), "", "", "want an SM2 private key, found *ecdsa.PrivateKey"},
		{"encrypted PEM", ProfileIntl, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "", "", "encrypted private keys are not supported"},
		{"not PEM", ProfileIntl, "hello", "", "", "no PEM"},
		{"certificate", ProfileIntl, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "", "", `unexpected PEM block "CERTIFICATE"`},
		{"field key too short", ProfileIntl, opensslEd25519, "", base64.StdEncoding.EncodeToString(make([]byte, 16)), "decodes to 16 bytes"},
		{"field key garbage", ProfileIntl, opensslEd25519, "", "not a key!", "neither 32 raw bytes nor base64"},
		{"intl two ed25519 files", ProfileIntl, opensslEd25519, string(pkcs8PEM(t, edKey, false)), "", "not two different files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			files := KeyFiles{Signing: filepath.Join(dir, "absent.pem")}
			if tc.signing != "" {
				files.Signing = writeFile(t, dir, "signing.pem", []byte(tc.signing), 0o600)
			}
			if tc.ed != "" {
				files.Ed25519 = writeFile(t, dir, "ed.pem", []byte(tc.ed), 0o600)
			}
			if tc.field != "" {
				files.Field = writeFile(t, dir, "field.key", []byte(tc.field), 0o600)
			}
			_, err := LoadOrCreate(filepath.Join(dir, "keys"), tc.profile, files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
			if tc.signing == "" {
				if _, err := os.Stat(files.Signing); !errors.Is(err, fs.ErrNotExist) {
					t.Error("missing supplied key file was created")
				}
			}
		})
	}
}

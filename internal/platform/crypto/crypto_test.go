package crypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

var profiles = []string{ProfileIntl, ProfileGM}

func ephemeral(t testing.TB, profile string) *Profile {
	t.Helper()
	p, err := NewEphemeral(profile)
	if err != nil {
		t.Fatalf("NewEphemeral(%q): %v", profile, err)
	}
	return p
}

func TestProfileAlgorithms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		profile, sig, hash, fields string
	}{
		{ProfileIntl, AlgEd25519, HashSHA256, AlgAES256GCM},
		{ProfileGM, AlgSM2, HashSM3, AlgSM4GCM},
	}
	for _, tc := range tests {
		t.Run(tc.profile, func(t *testing.T) {
			t.Parallel()
			p := ephemeral(t, tc.profile)
			if p.Name() != tc.profile || p.Signer().Algorithm() != tc.sig || p.Signer().Public().Algorithm() != tc.sig ||
				p.HashAlgorithm() != tc.hash || p.Fields().Algorithm() != tc.fields {
				t.Errorf("got %s/%s/%s/%s, want %s/%s/%s/%s", p.Name(), p.Signer().Algorithm(), p.HashAlgorithm(),
					p.Fields().Algorithm(), tc.profile, tc.sig, tc.hash, tc.fields)
			}
			if got := p.Ed25519Signer().Algorithm(); got != AlgEd25519 {
				t.Errorf("Ed25519Signer().Algorithm() = %q", got)
			}
			same := p.Ed25519Signer().Public().Equal(p.Signer().Public())
			if same != (tc.profile == ProfileIntl) {
				t.Errorf("Ed25519Signer key equals Signer key: %v, want %v", same, tc.profile == ProfileIntl)
			}
		})
	}
}

func TestUnknownProfile(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "INTL", "sm", "fips"} {
		t.Run("name="+name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewEphemeral(name); err == nil || !strings.Contains(err.Error(), "unknown profile") {
				t.Errorf("NewEphemeral(%q) err = %v, want unknown profile", name, err)
			}
			if _, err := LoadOrCreate(t.TempDir(), name, KeyFiles{}); err == nil {
				t.Errorf("LoadOrCreate(%q) succeeded", name)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	msgs := map[string][]byte{
		"empty": {},
		"short": []byte("数治 checkpoint 42"),
		"64KiB": bytes.Repeat([]byte{0xa5}, 64<<10),
	}
	for _, profile := range profiles {
		p, other := ephemeral(t, profile), ephemeral(t, profile)
		signers := map[string]Signer{"signer": p.Signer(), "ed25519": p.Ed25519Signer()}
		for sname, s := range signers {
			for mname, msg := range msgs {
				t.Run(profile+"/"+sname+"/"+mname, func(t *testing.T) {
					t.Parallel()
					sig, err := s.Sign(msg)
					if err != nil {
						t.Fatalf("Sign: %v", err)
					}
					if err := Verify(s.Public(), msg, sig); err != nil {
						t.Fatalf("Verify of a good signature: %v", err)
					}
					reject := func(what string, pub *PublicKey, msg, sig []byte) {
						t.Helper()
						if err := Verify(pub, msg, sig); !errors.Is(err, ErrInvalidSignature) {
							t.Errorf("%s: Verify err = %v, want ErrInvalidSignature", what, err)
						}
					}
					tampered := append([]byte("x"), msg...)
					reject("message changed", s.Public(), tampered, sig)
					if len(msg) > 0 {
						m := bytes.Clone(msg)
						m[len(m)/2] ^= 1
						reject("message bit flipped", s.Public(), m, sig)
					}
					for _, i := range []int{0, len(sig) / 2, len(sig) - 1} {
						bad := bytes.Clone(sig)
						bad[i] ^= 0x10
						reject("signature byte flipped", s.Public(), msg, bad)
					}
					reject("signature truncated", s.Public(), msg, sig[:len(sig)-1])
					reject("empty signature", s.Public(), msg, nil)
					reject("other key", other.Signer().Public(), msg, sig)
				})
			}
		}
	}
	t.Run("cross-algorithm", func(t *testing.T) {
		t.Parallel()
		gm := ephemeral(t, ProfileGM)
		msg := []byte("m")
		sm2sig, _ := gm.Signer().Sign(msg)
		edsig, _ := gm.Ed25519Signer().Sign(msg)
		if err := Verify(gm.Ed25519Signer().Public(), msg, sm2sig); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("SM2 signature under Ed25519 key: %v", err)
		}
		if err := Verify(gm.Signer().Public(), msg, edsig); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("Ed25519 signature under SM2 key: %v", err)
		}
		if err := Verify(nil, msg, edsig); err == nil {
			t.Error("Verify with nil key succeeded")
		}
	})
}

// TestSM2CrossVerifyGmsm checks our SM2 signatures against gmsm used
// directly, in both directions, with the default user ID.
func TestSM2CrossVerifyGmsm(t *testing.T) {
	t.Parallel()
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	signing := writeFile(t, dir, "sm2.pem", pkcs8PEM(t, priv, true), 0o600)
	p, err := LoadOrCreate(dir, ProfileGM, KeyFiles{Signing: signing})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := smx509.ParsePKIXPublicKey(p.Signer().Public().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ecpub := pub.(*ecdsa.PublicKey)
	if !priv.PublicKey.Equal(ecpub) {
		t.Fatal("parsed public key differs from the generated one")
	}
	for _, msg := range [][]byte{[]byte("message digest"), {}, bytes.Repeat([]byte("国密"), 1000)} {
		t.Run("ours-to-gmsm/len="+strconv.Itoa(len(msg)), func(t *testing.T) {
			t.Parallel()
			sig, err := p.Signer().Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if !sm2.VerifyASN1WithSM2(ecpub, nil, msg, sig) {
				t.Error("gmsm rejects our signature with the default UID")
			}
			if !sm2.VerifyASN1WithSM2(ecpub, []byte("1234567812345678"), msg, sig) {
				t.Error("gmsm rejects our signature with UID 1234567812345678")
			}
			if sm2.VerifyASN1WithSM2(ecpub, []byte("another-uid"), msg, sig) {
				t.Error("gmsm accepts our signature under another UID")
			}
		})
		if len(msg) == 0 {
			continue // gmsm's Sign refuses empty input with forceGMSign
		}
		t.Run("gmsm-to-ours/len="+strconv.Itoa(len(msg)), func(t *testing.T) {
			t.Parallel()
			sig, err := priv.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(p.Signer().Public(), msg, sig); err != nil {
				t.Errorf("Verify rejects gmsm's signature: %v", err)
			}
		})
	}
}

// TestOpenSSLInterop verifies signatures both ways with the openssl command
// (OpenSSL 3 needs the SM2 distinguishing ID given explicitly).
func TestOpenSSLInterop(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	tests := []struct {
		profile string
		args    []string // extra pkeyutl arguments
	}{
		{ProfileIntl, nil},
		{ProfileGM, []string{"-digest", "sm3", "-pkeyopt", "distid:" + SM2UserID}},
	}
	for _, tc := range tests {
		t.Run(tc.profile, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p, err := LoadOrCreate(dir, tc.profile, KeyFiles{})
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("数治 interop")
			sig, err := p.Signer().Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			msgFile := writeFile(t, dir, "msg", msg, 0o600)
			pubFile := writeFile(t, dir, "pub.pem", p.Signer().Public().PEM(), 0o600)
			sigFile := writeFile(t, dir, "sig", sig, 0o600)
			args := append([]string{"pkeyutl", "-verify", "-pubin", "-inkey", pubFile, "-rawin", "-in", msgFile, "-sigfile", sigFile}, tc.args...)
			if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
				t.Errorf("openssl rejects our signature: %v\n%s", err, out)
			}

			keyFile := filepath.Join(dir, FileEd25519)
			if tc.profile == ProfileGM {
				keyFile = filepath.Join(dir, FileSM2)
			}
			osslSig := filepath.Join(dir, "ossl.sig")
			args = append([]string{"pkeyutl", "-sign", "-inkey", keyFile, "-rawin", "-in", msgFile, "-out", osslSig}, tc.args...)
			if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
				t.Fatalf("openssl sign: %v\n%s", err, out)
			}
			sig2, err := os.ReadFile(osslSig)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(p.Signer().Public(), msg, sig2); err != nil {
				t.Errorf("Verify rejects openssl's signature: %v", err)
			}
		})
	}
}

func TestPublicKeyEncoding(t *testing.T) {
	t.Parallel()
	for _, profile := range profiles {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			pub := ephemeral(t, profile).Signer().Public()
			der := pub.Bytes()
			sum := sha256.Sum256(der)
			if want := hex.EncodeToString(sum[:8]); pub.ID() != want || len(pub.ID()) != 16 {
				t.Errorf("ID() = %q, want %q", pub.ID(), want)
			}
			if pub.String() != pub.Algorithm()+":"+pub.ID() {
				t.Errorf("String() = %q", pub.String())
			}
			fromDER, err := ParsePublicKey(der)
			if err != nil {
				t.Fatal(err)
			}
			fromPEM, err := ParsePublicKeyPEM(pub.PEM())
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []*PublicKey{fromDER, fromPEM} {
				if !k.Equal(pub) || k.ID() != pub.ID() || k.Algorithm() != pub.Algorithm() {
					t.Errorf("round trip gave %v, want %v", k, pub)
				}
			}
			// The stdlib reads our DER too (Ed25519 only: it lacks the SM2 curve).
			if profile == ProfileIntl {
				if _, err := x509.ParsePKIXPublicKey(der); err != nil {
					t.Errorf("crypto/x509 cannot parse our Ed25519 DER: %v", err)
				}
			}
			der[0] ^= 0xff // Bytes returns a copy
			if pub.Bytes()[0] == der[0] {
				t.Error("Bytes() exposes internal state")
			}
		})
	}

	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256DER, err := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name  string
		parse func() (*PublicKey, error)
	}{
		{"garbage DER", func() (*PublicKey, error) { return ParsePublicKey([]byte("nope")) }},
		{"P-256 key", func() (*PublicKey, error) { return ParsePublicKey(p256DER) }},
		{"no PEM", func() (*PublicKey, error) { return ParsePublicKeyPEM([]byte("nope")) }},
		{"wrong PEM type", func() (*PublicKey, error) {
			return ParsePublicKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p256DER}))
		}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if k, err := tc.parse(); err == nil {
				t.Errorf("parsed %v, want error", k)
			}
		})
	}
}

func TestHashKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, profile, in, want string
	}{
		{"sha256/empty", ProfileIntl, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"sha256/abc", ProfileIntl, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"sha256/448bit", ProfileIntl, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
			"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		// GB/T 32905-2016 Appendix A, examples 1 and 2.
		{"sm3/abc", ProfileGM, "abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		{"sm3/abcd*16", ProfileGM, strings.Repeat("abcd", 16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
	}
	ps := map[string]*Profile{ProfileIntl: ephemeral(t, ProfileIntl), ProfileGM: ephemeral(t, ProfileGM)}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := ps[tc.profile]
			if got := hex.EncodeToString(p.Hash([]byte(tc.in))); got != tc.want {
				t.Errorf("Hash = %s, want %s", got, tc.want)
			}
			h := p.NewHash()
			for i := 0; i < len(tc.in); i += 3 { // streamed in pieces
				h.Write([]byte(tc.in[i:min(i+3, len(tc.in))]))
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != tc.want {
				t.Errorf("NewHash streamed = %s, want %s", got, tc.want)
			}
		})
	}
}

// fixedMaster is the field master key of the pinned vectors below.
var fixedMaster = func() []byte {
	b := make([]byte, FieldKeySize)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// TestFieldVectors pins the ciphertext format, key derivation and blind
// index: stored data depends on them, so they must never change silently.
func TestFieldVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		profile, ciphertext, blind string
	}{
		{ProfileIntl, intlCiphertext, intlBlind},
		{ProfileGM, gmCiphertext, gmBlind},
	}
	for _, tc := range tests {
		t.Run(tc.profile, func(t *testing.T) {
			t.Parallel()
			f, err := newFieldCipher(tc.profile, fixedMaster)
			if err != nil {
				t.Fatal(err)
			}
			ct, _ := hex.DecodeString(tc.ciphertext)
			pt, err := f.Decrypt(ct, []byte("users.id_number:42"))
			if err != nil || string(pt) != "11010119900307777X" {
				t.Errorf("Decrypt(pinned) = %q, %v", pt, err)
			}
			if got := hex.EncodeToString(f.Blind([]byte("11010119900307777X"))); got != tc.blind {
				t.Errorf("Blind = %s, want %s", got, tc.blind)
			}
		})
	}
}

// Checked independently with Python cryptography (OpenSSL): HKDF with no
// salt and the labels in fields.go, then AES-GCM / SM4-GCM with additional
// data tag||"users.id_number:42", and HMAC-SHA256 / HMAC-SM3.
const (
	intlCiphertext = "019f30012b5c1f618114fa863036db295c87fb46d22063c7f0a37eb67a5a32c02b43b41f8e6fe1a98a49c21a86e7bb"
	intlBlind      = "5493293cde74877048e1e34defc148510fb6bc0ecbbc3b7a01b76ec475a53c71"
	gmCiphertext   = "023e1ad58c78b9ba8a0efd81869df6d1d3f456ba6c26ba9b39ec34489437ea95872f2a50ed7f47b898611e2681d25b"
	gmBlind        = "9b4e6db947625572570408d03e6f1dcb881e61065fcecdd2d5f9e77711db336b"
)

func TestFieldRoundTrip(t *testing.T) {
	t.Parallel()
	plaintexts := map[string][]byte{
		"empty":   {},
		"id":      []byte("11010119900307777X"),
		"chinese": []byte("江苏省苏州市姑苏区"),
		"4KiB":    bytes.Repeat([]byte{7}, 4096),
	}
	ads := map[string][]byte{"no-ad": nil, "ad": []byte("users.id_number:42")}
	for _, profile := range profiles {
		f := ephemeral(t, profile).Fields()
		for pname, pt := range plaintexts {
			for aname, ad := range ads {
				t.Run(profile+"/"+pname+"/"+aname, func(t *testing.T) {
					t.Parallel()
					ct, err := f.Encrypt(pt, ad)
					if err != nil {
						t.Fatal(err)
					}
					if len(ct) != len(pt)+f.Overhead() || f.Overhead() != 29 {
						t.Errorf("len(ct) = %d, want %d+29", len(ct), len(pt))
					}
					if wantTag := map[string]byte{ProfileIntl: 0x01, ProfileGM: 0x02}[profile]; ct[0] != wantTag {
						t.Errorf("tag = 0x%02x, want 0x%02x", ct[0], wantTag)
					}
					if len(pt) >= 8 && bytes.Contains(ct, pt[:8]) {
						t.Error("ciphertext contains plaintext")
					}
					ct2, _ := f.Encrypt(pt, ad)
					if bytes.Equal(ct, ct2) {
						t.Error("two encryptions are equal (nonce reuse?)")
					}
					got, err := f.Decrypt(ct, ad)
					if err != nil || !bytes.Equal(got, pt) {
						t.Errorf("Decrypt = %q, %v; want %q", got, err, pt)
					}
				})
			}
		}
	}
}

func TestFieldTamper(t *testing.T) {
	t.Parallel()
	pt, ad := []byte("11010119900307777X"), []byte("users.id_number:42")
	for _, profile := range profiles {
		p := ephemeral(t, profile)
		f := p.Fields()
		ct, err := f.Encrypt(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		otherProfile := ProfileGM
		if profile == ProfileGM {
			otherProfile = ProfileIntl
		}
		sameKeyOtherAlg, err := newFieldCipher(otherProfile, fixedMaster)
		if err != nil {
			t.Fatal(err)
		}
		foreign, _ := sameKeyOtherAlg.Encrypt(pt, ad)
		flip := func(i int) []byte { c := bytes.Clone(ct); c[i] ^= 0x01; return c }
		tests := []struct {
			name   string
			f      *FieldCipher
			ct, ad []byte
		}{
			{"tag byte", f, flip(0), ad},
			{"nonce", f, flip(1), ad},
			{"body", f, flip(1 + nonceSize), ad},
			{"gcm tag", f, flip(len(ct) - 1), ad},
			{"truncated", f, ct[:len(ct)-1], ad},
			{"too short", f, ct[:f.Overhead()-1], ad},
			{"empty", f, nil, ad},
			{"appended", f, append(bytes.Clone(ct), 0), ad},
			{"wrong ad", f, ct, []byte("users.id_number:43")},
			{"missing ad", f, ct, nil},
			{"other key", ephemeral(t, profile).Fields(), ct, ad},
			{"other algorithm", f, foreign, ad},
		}
		for _, tc := range tests {
			t.Run(profile+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				got, err := tc.f.Decrypt(tc.ct, tc.ad)
				if !errors.Is(err, ErrDecrypt) || got != nil {
					t.Errorf("Decrypt = %q, %v; want ErrDecrypt", got, err)
				}
			})
		}
	}
}

func TestBlind(t *testing.T) {
	t.Parallel()
	for _, profile := range profiles {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			f, g := ephemeral(t, profile).Fields(), ephemeral(t, profile).Fields()
			a, b := []byte("11010119900307777X"), []byte("110101199003077771")
			if !bytes.Equal(f.Blind(a), f.Blind(a)) {
				t.Error("Blind is not deterministic")
			}
			if len(f.Blind(a)) != 32 {
				t.Errorf("len = %d, want 32", len(f.Blind(a)))
			}
			if bytes.Equal(f.Blind(a), f.Blind(b)) {
				t.Error("different values give equal indexes")
			}
			if bytes.Equal(f.Blind(a), g.Blind(a)) {
				t.Error("different keys give equal indexes")
			}
			if bytes.Equal(f.Blind(nil), f.Blind([]byte{0})) {
				t.Error("empty and NUL give equal indexes")
			}
		})
	}
}

// TestBlindPooled: the pooled HMACs give the pinned index however often
// they are reused, from many goroutines, interleaved with other values, and
// AppendBlind keeps what dst held.
func TestBlindPooled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ profile, blind string }{{ProfileIntl, intlBlind}, {ProfileGM, gmBlind}} {
		t.Run(tc.profile, func(t *testing.T) {
			t.Parallel()
			f, err := newFieldCipher(tc.profile, fixedMaster)
			if err != nil {
				t.Fatal(err)
			}
			other := hex.EncodeToString(f.Blind([]byte("110101199003077771")))
			var wg sync.WaitGroup
			errc := make(chan string, 8)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 300 {
						v, want := "11010119900307777X", tc.blind
						if i%3 == 1 {
							v, want = "110101199003077771", other
						}
						got := f.AppendBlind([]byte("p:"), []byte(v))
						if string(got[:2]) != "p:" || hex.EncodeToString(got[2:]) != want {
							errc <- fmt.Sprintf("AppendBlind(p:, %s) = %x, want p: then %s", v, got, want)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errc)
			for e := range errc {
				t.Error(e)
			}
		})
	}
}

func TestBadFieldKey(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31, 33, 64} {
		t.Run("len="+strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			if _, err := newFieldCipher(ProfileIntl, make([]byte, n)); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// TestConcurrentUse exercises one profile from many goroutines (run with
// -race to check for shared mutable state).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	for _, profile := range profiles {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			p := ephemeral(t, profile)
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					msg := []byte{byte(i)}
					sig, err := p.Signer().Sign(msg)
					if err == nil {
						err = Verify(p.Signer().Public(), msg, sig)
					}
					ct, err2 := p.Fields().Encrypt(msg, nil)
					if err2 == nil {
						_, err2 = p.Fields().Decrypt(ct, nil)
					}
					if err != nil || err2 != nil {
						t.Errorf("goroutine %d: %v, %v", i, err, err2)
					}
					p.Fields().Blind(msg)
					p.Hash(msg)
				})
			}
			wg.Wait()
		})
	}
}

func TestRandomToken(t *testing.T) {
	t.Parallel()
	tests := []struct{ n, wantLen int }{{1, 2}, {16, 22}, {32, 43}}
	for _, tc := range tests {
		t.Run("n="+strconv.Itoa(tc.n), func(t *testing.T) {
			t.Parallel()
			seen := map[string]bool{}
			for range 100 {
				tok := RandomToken(tc.n)
				if len(tok) != tc.wantLen || strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
					t.Fatalf("RandomToken(%d) = %q", tc.n, tok)
				}
				seen[tok] = true
			}
			if tc.n >= 16 && len(seen) != 100 {
				t.Errorf("duplicates among 100 tokens")
			}
		})
	}
	t.Run("zero panics", func(t *testing.T) {
		t.Parallel()
		defer func() {
			if recover() == nil {
				t.Error("RandomToken(0) did not panic")
			}
		}()
		RandomToken(0)
	})
}

package checkpoint

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
)

const testOrigin = "ledger.shuzhi.example.gov.cn/test"

func testCheckpoint() Checkpoint {
	return Checkpoint{Origin: testOrigin, Size: 1234, Root: root(3)}
}

func newProfile(t testing.TB, name string) *crypto.Profile {
	t.Helper()
	p, err := crypto.NewEphemeral(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// signWith signs the test checkpoint with the profile's log signers and
// returns the note and the standard Ed25519 verifier key.
func signWith(t testing.TB, p *crypto.Profile, cp Checkpoint) (signed []byte, vkey string) {
	t.Helper()
	signers, err := LogSigners(cp.Origin, p)
	if err != nil {
		t.Fatal(err)
	}
	signed, err = Sign(cp, signers...)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err = VerifierKey(cp.Origin, p.Ed25519Signer().Public())
	if err != nil {
		t.Fatal(err)
	}
	return signed, vkey
}

func rawEd25519(t testing.TB, pub *crypto.PublicKey) ed25519.PublicKey {
	t.Helper()
	k, err := x509.ParsePKIXPublicKey(pub.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PublicKey)
}

func sigLines(signed []byte) []string {
	_, sigs, _ := bytes.Cut(signed, []byte("\n\n"))
	return strings.Split(strings.TrimSuffix(string(sigs), "\n"), "\n")
}

// TestStandardClientVerifies checks that golang.org/x/mod/sumdb/note, given
// only the Ed25519 verifier key string, verifies our checkpoints in both
// profiles, and ignores the SM2 line in gm.
func TestStandardClientVerifies(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		profile   string
		wantLines int
	}{{crypto.ProfileIntl, 1}, {crypto.ProfileGM, 2}} {
		t.Run(tt.profile, func(t *testing.T) {
			t.Parallel()
			p := newProfile(t, tt.profile)
			cp := testCheckpoint()
			signed, vkey := signWith(t, p, cp)

			// The vkey is exactly what sumdb/note itself would produce.
			want, err := note.NewEd25519VerifierKey(testOrigin, rawEd25519(t, p.Ed25519Signer().Public()))
			if err != nil {
				t.Fatal(err)
			}
			if vkey != want {
				t.Fatalf("VerifierKey = %q, sumdb/note says %q", vkey, want)
			}
			if lines := sigLines(signed); len(lines) != tt.wantLines {
				t.Fatalf("%d signature lines, want %d:\n%s", len(lines), tt.wantLines, signed)
			}

			v, err := note.NewVerifier(vkey)
			if err != nil {
				t.Fatalf("note.NewVerifier(%q): %v", vkey, err)
			}
			n, err := note.Open(signed, note.VerifierList(v))
			if err != nil {
				t.Fatalf("note.Open: %v\n%s", err, signed)
			}
			if n.Text != string(cp.Marshal()) {
				t.Fatalf("note text %q, want %q", n.Text, cp.Marshal())
			}
			if len(n.Sigs) != 1 || n.Sigs[0].Name != testOrigin || n.Sigs[0].Hash != v.KeyHash() {
				t.Fatalf("verified sigs = %+v", n.Sigs)
			}
			if len(n.UnverifiedSigs) != tt.wantLines-1 {
				t.Fatalf("unverified sigs = %+v, want %d (the SM2 line)", n.UnverifiedSigs, tt.wantLines-1)
			}

			// The key ID follows the signed-note rule.
			edPub := rawEd25519(t, p.Ed25519Signer().Public())
			sum := sha256.Sum256(append([]byte(testOrigin+"\n\x01"), edPub...))
			if got := binary.BigEndian.Uint32(sum[:]); got != v.KeyHash() {
				t.Fatalf("key ID %08x, want %08x", v.KeyHash(), got)
			}
		})
	}
}

// TestVerifyBothSignatures checks that our Verify requires every log key,
// Ed25519 and SM2, in the gm profile.
func TestVerifyBothSignatures(t *testing.T) {
	t.Parallel()
	p := newProfile(t, crypto.ProfileGM)
	cp := testCheckpoint()
	signed, edKey := signWith(t, p, cp)
	smKey, err := VerifierKey(testOrigin, p.Signer().Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.NewVerifier(smKey); err == nil {
		t.Fatal("sumdb/note accepted the SM2 verifier key; expected it to refuse the unknown type")
	}
	edV, err := ParseVerifierKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	smV, err := ParseVerifierKey(smKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(signed, edV, smV)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !got.Equal(cp) {
		t.Fatalf("Verify = %+v, want %+v", got, cp)
	}
	// SM2 key ID: SHA-256(name || "\n" || 0xff || identifier "\n" || DER)[:4].
	sum := sha256.Sum256(append([]byte(testOrigin+"\n"+SM2SignatureType), p.Signer().Public().Bytes()...))
	if want := binary.BigEndian.Uint32(sum[:]); smV.KeyHash() != want {
		t.Fatalf("SM2 key ID %08x, want %08x", smV.KeyHash(), want)
	}
	// The SM2 line alone verifies with our verifier.
	n, err := note.Open(signed, note.VerifierList(smV))
	if err != nil || len(n.Sigs) != 1 || n.Sigs[0].Hash != smV.KeyHash() {
		t.Fatalf("note.Open with the SM2 verifier: %v %+v", err, n)
	}

	// A note signed with Ed25519 only does not satisfy both.
	edOnly, err := NewSigner(testOrigin, p.Ed25519Signer())
	if err != nil {
		t.Fatal(err)
	}
	partial, err := Sign(cp, edOnly)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(partial, edV); err != nil {
		t.Fatalf("Verify Ed25519 only: %v", err)
	}
	if _, err := Verify(partial, edV, smV); err == nil || !strings.Contains(err.Error(), "no signature from log key") {
		t.Fatalf("Verify without SM2 line: err = %v, want missing signature", err)
	}
}

// tamperSig flips a bit in the signature (after the key ID) of the line
// whose key ID is hash.
func tamperSig(t *testing.T, signed []byte, hash uint32) []byte {
	t.Helper()
	text, sigs, err := splitNote(signed)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(text + "\n")
	found := false
	for _, s := range sigs {
		if s.Hash == hash {
			raw, _ := base64.StdEncoding.DecodeString(s.Base64)
			raw[len(raw)-10] ^= 0x01
			s.Base64 = base64.StdEncoding.EncodeToString(raw)
			found = true
		}
		b.WriteString("— " + s.Name + " " + s.Base64 + "\n")
	}
	if !found {
		t.Fatalf("no signature line with key ID %08x", hash)
	}
	return []byte(b.String())
}

func TestTampered(t *testing.T) {
	t.Parallel()
	p := newProfile(t, crypto.ProfileGM)
	cp := testCheckpoint()
	signed, edKey := signWith(t, p, cp)
	edV, err := NewVerifier(testOrigin, p.Ed25519Signer().Public())
	if err != nil {
		t.Fatal(err)
	}
	smV, err := NewVerifier(testOrigin, p.Signer().Public())
	if err != nil {
		t.Fatal(err)
	}
	stdV, err := note.NewVerifier(edKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		note          []byte
		standardOK    bool // does an Ed25519-only sumdb/note client accept it?
		wantErrSubstr string
	}{
		{"body size", bytes.Replace(signed, []byte("\n1234\n"), []byte("\n1235\n"), 1), false, "invalid signature"},
		{"body root", bytes.Replace(signed, []byte(base64.StdEncoding.EncodeToString(cp.Root[:])), []byte(encodeRoot(root(4))), 1), false, "invalid signature"},
		{"extension added", bytes.Replace(signed, []byte("\n\n"), []byte("\nextra\n\n"), 1), false, "invalid signature"},
		{"ed25519 signature", tamperSig(t, signed, edV.KeyHash()), false, "invalid signature"},
		// Standard clients don't know the SM2 key and ignore its line.
		{"sm2 signature", tamperSig(t, signed, smV.KeyHash()), true, "invalid signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if bytes.Equal(tt.note, signed) {
				t.Fatal("tampering changed nothing")
			}
			_, err := note.Open(tt.note, note.VerifierList(stdV))
			if ok := err == nil; ok != tt.standardOK {
				t.Errorf("sumdb/note Open: err = %v, want ok=%v", err, tt.standardOK)
			}
			if _, err := Verify(tt.note, edV, smV); err == nil || !strings.Contains(err.Error(), tt.wantErrSubstr) {
				t.Errorf("Verify: err = %v, want %q", err, tt.wantErrSubstr)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	p := newProfile(t, crypto.ProfileIntl)
	other := newProfile(t, crypto.ProfileIntl)
	cp := testCheckpoint()
	signed, _ := signWith(t, p, cp)
	edV, _ := NewVerifier(testOrigin, p.Ed25519Signer().Public())
	otherV, _ := NewVerifier(testOrigin, other.Ed25519Signer().Public())

	// Another log's key signing a body that claims our origin.
	impostor, _ := NewSigner("impostor.example/log", other.Ed25519Signer())
	impostorNote, err := Sign(cp, impostor)
	if err != nil {
		t.Fatal(err)
	}
	impostorV, _ := NewVerifier("impostor.example/log", other.Ed25519Signer().Public())

	tests := []struct {
		name string
		note []byte
		vs   []note.Verifier
		want string
	}{
		{"wrong key", signed, []note.Verifier{otherV}, "no verifiable signatures"},
		{"no verifiers", signed, nil, "no log verifiers"},
		{"name is not origin", impostorNote, []note.Verifier{impostorV}, "does not match origin"},
		{"not a note", cp.Marshal(), []note.Verifier{edV}, "malformed"},
		{"not a checkpoint", mustSignText(t, "hello\n", p), []note.Verifier{edV}, "malformed checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Verify(tt.note, tt.vs...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify: err = %v, want %q", err, tt.want)
			}
		})
	}
}

func mustSignText(t *testing.T, text string, p *crypto.Profile) []byte {
	t.Helper()
	s, err := NewSigner(testOrigin, p.Ed25519Signer())
	if err != nil {
		t.Fatal(err)
	}
	b, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignRejects(t *testing.T) {
	t.Parallel()
	p := newProfile(t, crypto.ProfileIntl)
	s, err := NewSigner(testOrigin, p.Ed25519Signer())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cp      Checkpoint
		signers []note.Signer
	}{
		{"no signers", testCheckpoint(), nil},
		{"empty origin", Checkpoint{Size: 1}, []note.Signer{s}},
		{"newline in origin", Checkpoint{Origin: "a\nb", Size: 1}, []note.Signer{s}},
		{"empty extension", Checkpoint{Origin: testOrigin, Extensions: []string{""}}, []note.Signer{s}},
		{"newline in extension", Checkpoint{Origin: testOrigin, Extensions: []string{"a\n\nb"}}, []note.Signer{s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if b, err := Sign(tt.cp, tt.signers...); err == nil {
				t.Fatalf("Sign = %q, want error", b)
			}
		})
	}
	if _, err := NewSigner("has space", p.Ed25519Signer()); err == nil {
		t.Error("NewSigner accepted a name with a space")
	}
	if _, err := NewSigner("a+b", p.Ed25519Signer()); err == nil {
		t.Error("NewSigner accepted a name with a plus")
	}
}

func TestParseVerifierKey(t *testing.T) {
	t.Parallel()
	gm := newProfile(t, crypto.ProfileGM)
	edKey, _ := VerifierKey(testOrigin, gm.Ed25519Signer().Public())
	smKey, _ := VerifierKey(testOrigin, gm.Signer().Public())
	coKey, _ := CosignerVerifierKey("witness.example/w1", gm.Ed25519Signer().Public())

	replaceHash := func(vkey string) string {
		parts := strings.SplitN(vkey, "+", 3)
		return parts[0] + "+00000000+" + parts[2]
	}
	unknownType := func() string {
		material := append([]byte{0x99}, rawEd25519(t, gm.Ed25519Signer().Public())...)
		sum := sha256.Sum256(append([]byte("x\n"), material...))
		return fmt.Sprintf("x+%08x+%s", binary.BigEndian.Uint32(sum[:]), base64.StdEncoding.EncodeToString(material))
	}()

	good := []struct {
		name, vkey string
		cosig      bool
	}{
		{"ed25519", edKey, false},
		{"sm2", smKey, false},
		{"cosignature", coKey, true},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := ParseVerifierKey(tt.vkey)
			if err != nil {
				t.Fatal(err)
			}
			name, hash, _ := strings.Cut(tt.vkey, "+")
			if v.Name() != name || !strings.HasPrefix(hash, fmt.Sprintf("%08x+", v.KeyHash())) {
				t.Fatalf("verifier %s+%08x does not match %q", v.Name(), v.KeyHash(), tt.vkey)
			}
			if _, ok := v.(*CosignatureVerifier); ok != tt.cosig {
				t.Fatalf("verifier type %T", v)
			}
		})
	}
	bad := []struct{ name, vkey string }{
		{"empty", ""},
		{"no key", "name+01234567"},
		{"short hash", "name+0123+AQ=="},
		{"bad base64", "name+01234567+!!!"},
		{"ed25519 wrong hash", replaceHash(edKey)},
		{"sm2 wrong hash", replaceHash(smKey)},
		{"cosignature wrong hash", replaceHash(coKey)},
		{"unknown type", unknownType},
		{"bad name", "a b+" + strings.SplitN(edKey, "+", 2)[1]},
	}
	for _, tt := range bad {
		t.Run("reject/"+tt.name, func(t *testing.T) {
			t.Parallel()
			if v, err := ParseVerifierKey(tt.vkey); err == nil {
				t.Fatalf("ParseVerifierKey(%q) = %s+%08x, want error", tt.vkey, v.Name(), v.KeyHash())
			}
		})
	}
}

func TestNewSignerRejectsBadKeys(t *testing.T) {
	t.Parallel()
	if _, err := NewSigner(testOrigin, nil); err == nil {
		t.Error("NewSigner(nil) succeeded")
	}
	if _, err := NewVerifier(testOrigin, nil); err == nil {
		t.Error("NewVerifier(nil) succeeded")
	}
	if _, err := LogSigners(testOrigin, nil); err == nil {
		t.Error("LogSigners(nil) succeeded")
	}
}

func BenchmarkSign(b *testing.B) {
	for _, profile := range []string{crypto.ProfileIntl, crypto.ProfileGM} {
		b.Run(profile, func(b *testing.B) {
			p := newProfile(b, profile)
			signers, err := LogSigners(testOrigin, p)
			if err != nil {
				b.Fatal(err)
			}
			cp := testCheckpoint()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Sign(cp, signers...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, profile := range []string{crypto.ProfileIntl, crypto.ProfileGM} {
		b.Run(profile, func(b *testing.B) {
			p := newProfile(b, profile)
			signed, _ := signWith(b, p, testCheckpoint())
			vs := []note.Verifier{}
			for _, s := range []crypto.Signer{p.Ed25519Signer(), p.Signer()} {
				v, err := NewVerifier(testOrigin, s.Public())
				if err != nil {
					b.Fatal(err)
				}
				if len(vs) == 0 || v.KeyHash() != vs[0].KeyHash() {
					vs = append(vs, v)
				}
			}
			for b.Loop() {
				if _, err := Verify(signed, vs...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

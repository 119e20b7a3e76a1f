package checkpoint

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
)

var fixedTime = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return fixedTime }

type witnessKey struct {
	cosigner *Cosigner
	verifier *CosignatureVerifier
	pub      *crypto.PublicKey
}

func newWitnessKey(t testing.TB, name string, now func() time.Time) witnessKey {
	t.Helper()
	p := newProfile(t, crypto.ProfileIntl)
	c, err := NewCosigner(name, p.Ed25519Signer(), now)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewCosignatureVerifier(name, p.Ed25519Signer().Public())
	if err != nil {
		t.Fatal(err)
	}
	return witnessKey{c, v, p.Ed25519Signer().Public()}
}

func decodeSig(t testing.TB, s note.Signature) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(s.Base64)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func encodeSig(s note.Signature, raw []byte) note.Signature {
	s.Base64 = base64.StdEncoding.EncodeToString(raw)
	s.Hash = binary.BigEndian.Uint32(raw)
	return s
}

// TestCosignatureFormat checks the cosignature/v1 wire format independently
// of our verifier: key ID, timestamp and the signed message.
func TestCosignatureFormat(t *testing.T) {
	t.Parallel()
	w := newWitnessKey(t, "witness.example/w1", fixedNow)
	cp := testCheckpoint()
	line, err := w.cosigner.Cosign(cp)
	if err != nil {
		t.Fatal(err)
	}
	pub := rawEd25519(t, w.pub)
	sum := sha256.Sum256(append([]byte("witness.example/w1\n\x04"), pub...))
	if want := binary.BigEndian.Uint32(sum[:]); line.Hash != want || w.cosigner.KeyHash() != want || w.verifier.KeyHash() != want {
		t.Fatalf("key ID %08x/%08x/%08x, want %08x", line.Hash, w.cosigner.KeyHash(), w.verifier.KeyHash(), want)
	}
	raw := decodeSig(t, line)
	if len(raw) != 4+8+64 {
		t.Fatalf("signature is %d bytes, want 76", len(raw))
	}
	if ts := binary.BigEndian.Uint64(raw[4:]); ts != uint64(fixedTime.Unix()) {
		t.Fatalf("timestamp %d, want %d", ts, fixedTime.Unix())
	}
	msg := "cosignature/v1\ntime 1772352000\n" + string(cp.Marshal())
	if !ed25519.Verify(pub, []byte(msg), raw[12:]) {
		t.Fatalf("signature does not verify over %q", msg)
	}
	if got, want := w.cosigner.VerifierKey(), "witness.example/w1+"; !strings.HasPrefix(got, want) {
		t.Fatalf("VerifierKey = %q", got)
	}
	vk, err := CosignerVerifierKey("witness.example/w1", w.pub)
	if err != nil || vk != w.cosigner.VerifierKey() || vk != w.verifier.VerifierKey() {
		t.Fatalf("CosignerVerifierKey = %q, %v; want %q", vk, err, w.cosigner.VerifierKey())
	}
	material, _ := base64.StdEncoding.DecodeString(strings.SplitN(vk, "+", 3)[2])
	if !bytes.Equal(material, append([]byte{0x04}, pub...)) {
		t.Fatalf("verifier key material %x", material)
	}
	if tm, err := CosignatureTime(line); err != nil || !tm.Equal(fixedTime) {
		t.Fatalf("CosignatureTime = %v, %v", tm, err)
	}
}

// TestCosignatureRoundTrip: log signs, witness cosigns, log merges, client
// opens with the log key and witness keys.
func TestCosignatureRoundTrip(t *testing.T) {
	t.Parallel()
	for _, profile := range []string{crypto.ProfileIntl, crypto.ProfileGM} {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			p := newProfile(t, profile)
			cp := testCheckpoint()
			signed, vkey := signWith(t, p, cp)
			w1 := newWitnessKey(t, "witness.example/w1", fixedNow)
			w2 := newWitnessKey(t, "witness.example/w2", func() time.Time { return fixedTime.Add(time.Minute) })
			absent := newWitnessKey(t, "witness.example/absent", fixedNow)

			var lines []note.Signature
			for _, w := range []witnessKey{w2, w1} {
				// The witness verifies the log's signature first.
				logV, err := ParseVerifierKey(vkey)
				if err != nil {
					t.Fatal(err)
				}
				got, err := Verify(signed, logV)
				if err != nil {
					t.Fatal(err)
				}
				line, err := w.cosigner.Cosign(got)
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, line)
			}
			cosigned, err := AddCosignatures(signed, lines...)
			if err != nil {
				t.Fatal(err)
			}

			logV, _ := note.NewVerifier(vkey)
			// The witness key strings round-trip through ParseVerifierKey.
			w1V, err := ParseVerifierKey(w1.cosigner.VerifierKey())
			if err != nil {
				t.Fatal(err)
			}
			gotCP, cosigs, err := Open(cosigned, logV, []note.Verifier{w1V, w2.verifier, absent.verifier})
			if err != nil {
				t.Fatalf("Open: %v\n%s", err, cosigned)
			}
			if !gotCP.Equal(cp) {
				t.Fatalf("checkpoint %+v", gotCP)
			}
			want := []Cosignature{
				{Name: "witness.example/w1", KeyHash: w1.cosigner.KeyHash(), Time: fixedTime},
				{Name: "witness.example/w2", KeyHash: w2.cosigner.KeyHash(), Time: fixedTime.Add(time.Minute)},
			}
			if len(cosigs) != len(want) {
				t.Fatalf("cosignatures %+v, want %+v", cosigs, want)
			}
			for i := range want {
				if cosigs[i].Name != want[i].Name || cosigs[i].KeyHash != want[i].KeyHash || !cosigs[i].Time.Equal(want[i].Time) {
					t.Fatalf("cosignature %d = %+v, want %+v", i, cosigs[i], want[i])
				}
			}
			// A standard client with only the log key still accepts the
			// cosigned checkpoint.
			if _, err := note.Open(cosigned, note.VerifierList(logV)); err != nil {
				t.Fatalf("sumdb/note Open of cosigned checkpoint: %v", err)
			}
		})
	}
}

func TestCosignatureVerifyFailures(t *testing.T) {
	t.Parallel()
	p := newProfile(t, crypto.ProfileIntl)
	cp := testCheckpoint()
	signed, vkey := signWith(t, p, cp)
	logV, _ := note.NewVerifier(vkey)
	w := newWitnessKey(t, "witness.example/w1", fixedNow)
	impostor := newWitnessKey(t, "witness.example/w1", fixedNow) // same name, other key
	line, err := w.cosigner.Cosign(cp)
	if err != nil {
		t.Fatal(err)
	}
	raw := decodeSig(t, line)

	shiftedTime := bytes.Clone(raw)
	binary.BigEndian.PutUint64(shiftedTime[4:], uint64(fixedTime.Unix()+1))
	hugeTime := bytes.Clone(raw)
	binary.BigEndian.PutUint64(hugeTime[4:], math.MaxUint64)
	flipped := bytes.Clone(raw)
	flipped[len(flipped)-1] ^= 0x80
	short := bytes.Clone(raw[:len(raw)-1])
	// The impostor's signature relabelled with the genuine key ID.
	impLine, _ := impostor.cosigner.Cosign(cp)
	forged := decodeSig(t, impLine)
	binary.BigEndian.PutUint32(forged, w.cosigner.KeyHash())

	tests := []struct {
		name string
		line note.Signature
		// wantIgnored: Open succeeds without this cosignature (unknown key);
		// otherwise Open must fail (known key, bad signature).
		wantIgnored bool
	}{
		{"timestamp changed", encodeSig(line, shiftedTime), false},
		{"timestamp over 2^63-1", encodeSig(line, hugeTime), false},
		{"signature flipped", encodeSig(line, flipped), false},
		{"truncated", encodeSig(line, short), false},
		{"wrong key with genuine key ID", encodeSig(line, forged), false},
		{"wrong key, its own key ID", impLine, true},
		{"other name, genuine key ID", note.Signature{Name: "witness.example/w9", Hash: line.Hash, Base64: line.Base64}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := decodeSig(t, tt.line); binary.BigEndian.Uint32(got) == w.verifier.KeyHash() && tt.line.Name == w.verifier.Name() {
				if w.verifier.Verify(cp.Marshal(), got[4:]) {
					t.Fatal("CosignatureVerifier.Verify accepted a bad cosignature")
				}
			}
			cosigned, err := AddCosignatures(signed, tt.line)
			if err != nil {
				t.Fatal(err)
			}
			_, cosigs, err := Open(cosigned, logV, []note.Verifier{w.verifier})
			if tt.wantIgnored {
				if err != nil || len(cosigs) != 0 {
					t.Fatalf("Open = %+v, %v; want the line ignored", cosigs, err)
				}
				return
			}
			var invalid *note.InvalidSignatureError
			if !errors.As(err, &invalid) {
				t.Fatalf("Open = %+v, %v; want an InvalidSignatureError", cosigs, err)
			}
		})
	}
	// The genuine line still verifies.
	if !w.verifier.Verify(cp.Marshal(), raw[4:]) {
		t.Fatal("genuine cosignature does not verify")
	}
	// A cosignature over another checkpoint does not verify for this one.
	other := cp
	other.Size++
	if w.verifier.Verify(other.Marshal(), raw[4:]) {
		t.Fatal("cosignature verified for a different checkpoint")
	}
}

func TestCosignerRejects(t *testing.T) {
	t.Parallel()
	gm := newProfile(t, crypto.ProfileGM)
	if _, err := NewCosigner("w", gm.Signer(), nil); err == nil {
		t.Error("NewCosigner accepted an SM2 key")
	}
	if _, err := NewCosignatureVerifier("w", gm.Signer().Public()); err == nil {
		t.Error("NewCosignatureVerifier accepted an SM2 key")
	}
	if _, err := NewCosigner("bad name", gm.Ed25519Signer(), nil); err == nil {
		t.Error("NewCosigner accepted a name with a space")
	}
	c, err := NewCosigner("w", gm.Ed25519Signer(), func() time.Time { return time.Unix(-1, 0) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cosign(testCheckpoint()); err == nil {
		t.Error("Cosign accepted a time before the epoch")
	}
	c, _ = NewCosigner("w", gm.Ed25519Signer(), nil)
	if _, err := note.Sign(&note.Note{Text: "not a checkpoint\n"}, c); err == nil {
		t.Error("Cosigner signed text that is not a checkpoint")
	}
	// As a plain note.Signer it produces a line Open accepts.
	signers, _ := LogSigners(testOrigin, gm)
	signed, err := Sign(testCheckpoint(), append(signers, c)...)
	if err != nil {
		t.Fatal(err)
	}
	logV, _ := NewVerifier(testOrigin, gm.Ed25519Signer().Public())
	if _, cosigs, err := Open(signed, logV, []note.Verifier{c.Verifier()}); err != nil || len(cosigs) != 1 {
		t.Fatalf("Open = %+v, %v", cosigs, err)
	}
}

func TestAddCosignatures(t *testing.T) {
	t.Parallel()
	p := newProfile(t, crypto.ProfileGM)
	cp := testCheckpoint()
	signed, _ := signWith(t, p, cp)
	logLines := sigLines(signed)
	w1 := newWitnessKey(t, "witness.example/w1", fixedNow)
	w2 := newWitnessKey(t, "witness.example/w2", fixedNow)
	a, _ := w1.cosigner.Cosign(cp)
	b, _ := w2.cosigner.Cosign(cp)

	add := func(t *testing.T, n []byte, lines ...note.Signature) []byte {
		t.Helper()
		out, err := AddCosignatures(n, lines...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	t.Run("idempotent", func(t *testing.T) {
		t.Parallel()
		once := add(t, signed, a, b)
		if twice := add(t, once, a, b); !bytes.Equal(once, twice) {
			t.Fatalf("adding again changed the note:\n%s\n%s", once, twice)
		}
		if dup := add(t, signed, a, a, b, b); !bytes.Equal(once, dup) {
			t.Fatalf("duplicate lines kept:\n%s", dup)
		}
		if none := add(t, signed); !bytes.Equal(none, signed) {
			t.Fatalf("adding nothing changed the note:\n%s", none)
		}
	})
	t.Run("stable order", func(t *testing.T) {
		t.Parallel()
		ab := add(t, signed, a, b)
		ba := add(t, signed, b, a)
		stepwise := add(t, add(t, signed, b), a)
		if !bytes.Equal(ab, ba) || !bytes.Equal(ab, stepwise) {
			t.Fatalf("order depends on input:\n%s\n%s\n%s", ab, ba, stepwise)
		}
		lines := sigLines(ab)
		if len(lines) != len(logLines)+2 {
			t.Fatalf("lines %q", lines)
		}
		for i, l := range logLines {
			if lines[i] != l {
				t.Fatalf("log line %d moved: %q", i, lines)
			}
		}
		if !strings.HasPrefix(lines[len(logLines)], "— witness.example/w1 ") {
			t.Fatalf("witness lines not sorted by name: %q", lines)
		}
	})
	t.Run("existing line wins", func(t *testing.T) {
		t.Parallel()
		// A second cosignature by the same key at another time.
		again, err := w1.cosigner.Cosign(cp)
		if err != nil {
			t.Fatal(err)
		}
		raw := decodeSig(t, again)
		binary.BigEndian.PutUint64(raw[4:], 1) // differs; never verified here
		again = encodeSig(again, raw)
		first := add(t, signed, a)
		if got := add(t, first, again); !bytes.Equal(got, first) {
			t.Fatalf("second line from the same key was added:\n%s", got)
		}
	})
	t.Run("rejects", func(t *testing.T) {
		t.Parallel()
		logSig := note.Signature{Name: testOrigin, Hash: a.Hash, Base64: a.Base64}
		badHash := note.Signature{Name: a.Name, Hash: a.Hash + 1, Base64: a.Base64}
		badName := note.Signature{Name: "has space", Hash: a.Hash, Base64: a.Base64}
		badB64 := note.Signature{Name: a.Name, Hash: a.Hash, Base64: "%%%"}
		for _, tt := range []struct {
			name string
			note []byte
			line note.Signature
		}{
			{"line named after origin", signed, logSig},
			{"key ID mismatch", signed, badHash},
			{"bad name", signed, badName},
			{"bad base64", signed, badB64},
			{"unsigned text", cp.Marshal(), a},
			{"no log line", mustSignAs(t, cp, w1.cosigner), b},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				if out, err := AddCosignatures(tt.note, tt.line); err == nil {
					t.Fatalf("AddCosignatures = %q, want error", out)
				}
			})
		}
	})
}

func mustSignAs(t *testing.T, cp Checkpoint, s note.Signer) []byte {
	t.Helper()
	b, err := Sign(cp, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

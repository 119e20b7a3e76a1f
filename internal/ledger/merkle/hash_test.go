package merkle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/emmansun/gmsm/sm3"
)

func mustHex(t *testing.T, s string) Hash {
	t.Helper()
	h, err := ParseHexHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestKnownAnswers computes roots by hand with the raw hash functions.
func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	sums := map[string]func([]byte) [32]byte{"sha256": sha256.Sum256, "sm3": sm3.Sum}
	emptyRoots := map[string]string{
		"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"sm3":    "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b",
	}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	for _, h := range hashers {
		t.Run(h.Name(), func(t *testing.T) {
			t.Parallel()
			H := sums[h.Name()]
			if h.Size() != 32 {
				t.Fatalf("Size() = %d", h.Size())
			}
			if got := h.EmptyHash(); got != mustHex(t, emptyRoots[h.Name()]) {
				t.Fatalf("EmptyHash() = %s", got.Hex())
			}
			d := [][]byte{[]byte("L0"), []byte("L1"), []byte("L2"), make([]byte, 1000)}
			l0 := H(cat([]byte{0}, d[0]))
			l1 := H(cat([]byte{0}, d[1]))
			l2 := H(cat([]byte{0}, d[2]))
			l3 := H(cat([]byte{0}, d[3]))
			n01 := H(cat([]byte{1}, l0[:], l1[:]))
			n23 := H(cat([]byte{1}, l2[:], l3[:]))
			root3 := H(cat([]byte{1}, n01[:], l2[:]))
			root4 := H(cat([]byte{1}, n01[:], n23[:]))

			for i, want := range [][32]byte{l0, l1, l2, l3} {
				if got := h.LeafHash(d[i]); got != Hash(want) {
					t.Fatalf("LeafHash(%d) = %s, want %s", i, got.Hex(), hex.EncodeToString(want[:]))
				}
			}
			b, _ := NewBuilder(h, 0, nil)
			if b.Root() != h.EmptyHash() {
				t.Fatal("empty Builder root")
			}
			b.Append(h.LeafHash(d[0]))
			if b.Root() != Hash(l0) {
				t.Fatal("1-leaf root is not the leaf hash")
			}
			b.Append(h.LeafHash(d[1]))
			b.Append(h.LeafHash(d[2]))
			if got := b.Root(); got != Hash(root3) {
				t.Fatalf("3-leaf root = %s, want %s", got.Hex(), hex.EncodeToString(root3[:]))
			}
			// The stored hashes of a 3-leaf tree: L0, L1, N01, L2.
			stored := memStore{Hash(l0), Hash(l1), Hash(n01), Hash(l2)}
			if th, err := TreeHash(h, 3, stored); err != nil || th != Hash(root3) {
				t.Fatalf("TreeHash(3) = %s, %v", th.Hex(), err)
			}
			// Inclusion of L2 in the 3-leaf tree is [N01].
			p, err := ProveRecord(h, 3, 2, stored)
			if err != nil || len(p) != 1 || p[0] != Hash(n01) {
				t.Fatalf("ProveRecord(3, 2) = %v, %v", p, err)
			}
			b.Append(h.LeafHash(d[3]))
			if got := b.Root(); got != Hash(root4) {
				t.Fatalf("4-leaf root = %s, want %s", got.Hex(), hex.EncodeToString(root4[:]))
			}
			// Consistency 3 -> 4 is [L2, L3, N01] (RFC 9162 order).
			stored = append(stored, Hash(l3), Hash(n23), Hash(root4))
			tp, err := ProveTree(h, 4, 3, stored)
			if err != nil || !equalHashes(tp, []Hash{Hash(l2), Hash(l3), Hash(n01)}) {
				t.Fatalf("ProveTree(4, 3) = %v, %v", tp, err)
			}
			if err := CheckTree(h, tp, 4, Hash(root4), 3, Hash(root3)); err != nil {
				t.Fatal(err)
			}
		})
	}
	if SHA256.LeafHash([]byte("x")) == SM3.LeafHash([]byte("x")) {
		t.Fatal("SHA256 and SM3 agree")
	}
}

func TestHasherByName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want Hasher
	}{{"sha256", SHA256}, {"sm3", SM3}, {"SHA256", nil}, {"", nil}} {
		t.Run("name="+tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := HasherByName(tc.name)
			if h != tc.want || (err == nil) != (tc.want != nil) {
				t.Fatalf("HasherByName(%q) = %v, %v", tc.name, h, err)
			}
			if h != nil && h.Name() != tc.name {
				t.Fatalf("Name() = %q", h.Name())
			}
		})
	}
}

func TestHashEncoding(t *testing.T) {
	t.Parallel()
	h := SHA256.LeafHash([]byte("hello"))
	t.Run("base64", func(t *testing.T) {
		t.Parallel()
		got, err := ParseHash(h.String())
		if err != nil || got != h {
			t.Fatalf("ParseHash(String()) = %v, %v", got, err)
		}
	})
	t.Run("hex", func(t *testing.T) {
		t.Parallel()
		got, err := ParseHexHash(h.Hex())
		if err != nil || got != h {
			t.Fatalf("ParseHexHash(Hex()) = %v, %v", got, err)
		}
	})
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		b, err := json.Marshal(struct{ H Hash }{h})
		if err != nil || string(b) != `{"H":"`+h.String()+`"}` {
			t.Fatalf("json = %s, %v", b, err)
		}
		var v struct{ H Hash }
		if err := json.Unmarshal(b, &v); err != nil || v.H != h {
			t.Fatalf("json round trip: %v", err)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		t.Parallel()
		got, err := HashFromBytes(h[:])
		if err != nil || got != h {
			t.Fatal("HashFromBytes")
		}
		if _, err := HashFromBytes(h[:31]); err == nil {
			t.Fatal("HashFromBytes accepted 31 bytes")
		}
	})
	for _, bad := range []string{
		"", "AAAA", h.String()[:43], h.String() + "=", h.String()[:43] + "B", // last: nonzero padding bits
		"!" + h.String()[1:], "\n" + h.String()[1:],
	} {
		t.Run("reject="+bad, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseHash(bad); err == nil {
				t.Fatalf("ParseHash(%q) accepted", bad)
			}
		})
	}
	for _, bad := range []string{"", h.Hex()[:63], h.Hex() + "0", "zz" + h.Hex()[2:]} {
		t.Run("reject-hex="+bad, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseHexHash(bad); err == nil {
				t.Fatalf("ParseHexHash(%q) accepted", bad)
			}
		})
	}
}

package merkle

import (
	"errors"
	"fmt"
	"testing"
)

// TestProofs checks, for both hashers, that proofs verify and that changing
// anything makes them fail. (For SHA-256 the proofs are also compared with
// tlog's in tlog_test.go.)
func TestProofs(t *testing.T) {
	t.Parallel()
	for _, h := range hashers {
		tr := buildTree(h, 1100)
		sizes := append(sample(1, 1100, 3), 1, 2, 3, 7, 8, 9, 255, 256, 257, 1024, 1025, 1100)
		for _, n := range sizes {
			t.Run(fmt.Sprintf("%s/n=%d", h.Name(), n), func(t *testing.T) {
				t.Parallel()
				testProofsAt(t, h, tr, n)
			})
		}
	}
}

func testProofsAt(t *testing.T, h Hasher, tr *tree, n int64) {
	th, err := TreeHash(h, n, tr.stored)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(h, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range tr.leaves[:n] {
		b.Append(l)
	}
	if b.Root() != th {
		t.Fatalf("Builder root %v != TreeHash %v", b.Root(), th)
	}
	flip := func(x Hash) Hash { x[7] ^= 0x40; return x }
	for _, i := range sample(0, n, n) {
		leaf := tr.leaves[i]
		p, err := ProveRecord(h, n, i, tr.stored)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckRecord(h, p, n, th, i, leaf); err != nil {
			t.Fatalf("CheckRecord(%d in %d): %v", i, n, err)
		}
		fails := map[string]error{
			"wrong root": CheckRecord(h, p, n, flip(th), i, leaf),
			"wrong leaf": CheckRecord(h, p, n, th, i, flip(leaf)),
			"long proof": CheckRecord(h, append(p[:len(p):len(p)], th), n, th, i, leaf),
		}
		if i+1 < n {
			fails["wrong index"] = CheckRecord(h, p, n, th, i+1, leaf)
		}
		if n > 1 && h.LeafHash(recordData(i)) == leaf && i+1 < n {
			fails["other leaf"] = CheckRecord(h, p, n, th, i, tr.leaves[i+1])
		}
		if len(p) > 0 {
			fails["short proof"] = CheckRecord(h, p[:len(p)-1], n, th, i, leaf)
			for k := range p {
				q := append(RecordProof(nil), p...)
				q[k] = flip(q[k])
				fails[fmt.Sprintf("tampered proof[%d]", k)] = CheckRecord(h, q, n, th, i, leaf)
			}
		}
		for what, err := range fails {
			if !errors.Is(err, ErrProofFailed) {
				t.Fatalf("CheckRecord(%d in %d) with %s = %v, want ErrProofFailed", i, n, what, err)
			}
		}
	}
	for _, m := range sample(1, n+1, n+1) {
		mh, err := TreeHash(h, m, tr.stored)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ProveTree(h, n, m, tr.stored)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckTree(h, p, n, th, m, mh); err != nil {
			t.Fatalf("CheckTree(%d -> %d): %v", m, n, err)
		}
		fails := map[string]error{
			"wrong new root": CheckTree(h, p, n, flip(th), m, mh),
			"wrong old root": CheckTree(h, p, n, th, m, flip(mh)),
			"long proof":     CheckTree(h, append(p[:len(p):len(p)], th), n, th, m, mh),
		}
		if m < n {
			fails["wrong old size"] = CheckTree(h, p, n, th, m+1, mh)
		}
		if len(p) > 0 {
			fails["short proof"] = CheckTree(h, p[:len(p)-1], n, th, m, mh)
			for k := range p {
				q := append(TreeProof(nil), p...)
				q[k] = flip(q[k])
				fails[fmt.Sprintf("tampered proof[%d]", k)] = CheckTree(h, q, n, th, m, mh)
			}
		}
		for what, err := range fails {
			if err == nil {
				t.Fatalf("CheckTree(%d -> %d) with %s succeeded", m, n, what)
			}
		}
	}
}

func TestProofInputErrors(t *testing.T) {
	t.Parallel()
	h := SM3
	tr := buildTree(h, 10)
	th, _ := TreeHash(h, 10, tr.stored)
	cases := []struct {
		name string
		err  error
	}{
		{"ProveRecord n=t", func() error { _, err := ProveRecord(h, 10, 10, tr.stored); return err }()},
		{"ProveRecord n<0", func() error { _, err := ProveRecord(h, 10, -1, tr.stored); return err }()},
		{"ProveRecord beyond store", func() error { _, err := ProveRecord(h, 11, 0, tr.stored); return err }()},
		{"ProveTree n=0", func() error { _, err := ProveTree(h, 10, 0, tr.stored); return err }()},
		{"ProveTree n>t", func() error { _, err := ProveTree(h, 10, 11, tr.stored); return err }()},
		{"TreeHash n<0", func() error { _, err := TreeHash(h, -1, tr.stored); return err }()},
		{"TreeHash beyond store", func() error { _, err := TreeHash(h, 11, tr.stored); return err }()},
		{"StoredHashes n<0", func() error { _, err := StoredHashes(h, -1, Hash{}, tr.stored); return err }()},
		{"StoredHashes beyond store", func() error { _, err := StoredHashes(h, 15, Hash{}, tr.stored); return err }()},
		{"CheckRecord n=t", CheckRecord(h, nil, 10, th, 10, Hash{})},
		{"CheckTree n=0", CheckTree(h, nil, 10, th, 0, Hash{})},
		{"short reader", func() error {
			r := HashReaderFunc(func([]int64) ([]Hash, error) { return nil, nil })
			_, err := ProveRecord(h, 10, 3, r)
			return err
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.err == nil {
				t.Fatal("no error")
			}
		})
	}
	// A one-record tree needs no proof, and a tree is consistent with itself.
	t.Run("trivial", func(t *testing.T) {
		t.Parallel()
		one, _ := TreeHash(h, 1, tr.stored)
		if one != tr.leaves[0] {
			t.Fatal("root of one record is not its leaf hash")
		}
		if p, err := ProveRecord(h, 1, 0, tr.stored); err != nil || len(p) != 0 {
			t.Fatalf("ProveRecord(1, 0) = %v, %v", p, err)
		}
		if err := CheckRecord(h, nil, 1, one, 0, tr.leaves[0]); err != nil {
			t.Fatal(err)
		}
		if p, err := ProveTree(h, 10, 10, tr.stored); err != nil || len(p) != 0 {
			t.Fatalf("ProveTree(10, 10) = %v, %v", p, err)
		}
		if err := CheckTree(h, nil, 10, th, 10, th); err != nil {
			t.Fatal(err)
		}
	})
}

package checkpoint

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

const witnessOrigin = "ledger.example.gov.cn/l1"

func cpAt(size uint64, r byte) Checkpoint {
	return Checkpoint{Origin: witnessOrigin, Size: size, Root: root(r)}
}

func ptr(c Checkpoint) *Checkpoint { return &c }

var goodProof = [][HashSize]byte{root(0xaa), root(0xbb)}

// fakeVerify accepts exactly goodProof, and checks that the witness passes
// (old size, old root, new size, new root) in that order.
func fakeVerify(calls *atomic.Int32, wantOld, wantNew Checkpoint) ConsistencyVerifier {
	return func(proof [][HashSize]byte, oldSize int64, oldRoot [HashSize]byte, newSize int64, newRoot [HashSize]byte) error {
		calls.Add(1)
		if uint64(oldSize) != wantOld.Size || oldRoot != wantOld.Root || uint64(newSize) != wantNew.Size || newRoot != wantNew.Root {
			return fmt.Errorf("verify called with (%d, %x, %d, %x), want (%d, %x, %d, %x)",
				oldSize, oldRoot[:2], newSize, newRoot[:2], wantOld.Size, wantOld.Root[:2], wantNew.Size, wantNew.Root[:2])
		}
		if len(proof) != len(goodProof) || proof[0] != goodProof[0] || proof[1] != goodProof[1] {
			return errors.New("proof failed")
		}
		return nil
	}
}

func TestWitnessCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		last      *Checkpoint // witness state before
		prev      *Checkpoint // submitter's claim
		next      Checkpoint
		proof     [][HashSize]byte
		wantErr   any // pointer to the expected error type, nil for success
		wantMsg   string
		wantCalls int32
		wantLast  *Checkpoint // state after (nil: unchanged)
	}{
		{name: "first checkpoint accepted without proof", next: cpAt(10, 1), wantLast: ptr(cpAt(10, 1))},
		{name: "first checkpoint ignores a proof", next: cpAt(10, 1), proof: [][HashSize]byte{root(9)}, wantLast: ptr(cpAt(10, 1))},
		{name: "good proof", last: ptr(cpAt(10, 1)), prev: ptr(cpAt(10, 1)), next: cpAt(20, 2), proof: goodProof, wantCalls: 1, wantLast: ptr(cpAt(20, 2))},
		{name: "bad proof", last: ptr(cpAt(10, 1)), prev: ptr(cpAt(10, 1)), next: cpAt(20, 2), proof: [][HashSize]byte{root(0xaa)},
			wantErr: new(*InconsistentError), wantMsg: "inconsistent checkpoint: log " + witnessOrigin + " size 20", wantCalls: 1},
		{name: "missing proof", last: ptr(cpAt(10, 1)), prev: ptr(cpAt(10, 1)), next: cpAt(20, 2),
			wantErr: new(*InconsistentError), wantMsg: "proof failed", wantCalls: 1},
		{name: "rollback", last: ptr(cpAt(10, 1)), prev: ptr(cpAt(10, 1)), next: cpAt(9, 1), proof: goodProof,
			wantErr: new(*RollbackError), wantMsg: "rollback detected: log " + witnessOrigin + " showed size 10 root " + encodeRoot(root(1)) + " before and size 9 root " + encodeRoot(root(1)) + " now"},
		{name: "rollback to empty", last: ptr(cpAt(10, 1)), prev: ptr(cpAt(10, 1)), next: cpAt(0, 0), wantErr: new(*RollbackError)},
		{name: "split view at equal size", last: ptr(cpAt(10, 1)), prev: ptr(cpAt(10, 1)), next: cpAt(10, 2), proof: goodProof,
			wantErr: new(*SplitViewError), wantMsg: "split view detected: log " + witnessOrigin + " showed size 10 root " + encodeRoot(root(1)) + " before and root " + encodeRoot(root(2)) + " now"},
		{name: "same checkpoint again", last: ptr(cpAt(10, 1)), prev: ptr(cpAt(10, 1)), next: cpAt(10, 1)},
		{name: "origin mismatch", last: ptr(cpAt(10, 1)), prev: ptr(cpAt(10, 1)),
			next: Checkpoint{Origin: "other.example/log", Size: 20, Root: root(2)}, proof: goodProof,
			wantErr: new(*OriginMismatchError), wantMsg: `witness follows log "` + witnessOrigin + `", checkpoint is for "other.example/log"`},
		{name: "prev origin mismatch", last: ptr(cpAt(10, 1)), prev: &Checkpoint{Origin: "other.example/log", Size: 10, Root: root(1)},
			next: cpAt(20, 2), proof: goodProof, wantErr: new(*OriginMismatchError)},
		{name: "first checkpoint with origin mismatch", next: Checkpoint{Origin: "other.example/log", Size: 1}, wantErr: new(*OriginMismatchError)},
		{name: "prev is not the witness's size", last: ptr(cpAt(10, 1)), prev: ptr(cpAt(5, 1)), next: cpAt(20, 2), proof: goodProof,
			wantErr: new(*ConflictError), wantMsg: "witness holds size 10"},
		{name: "prev claims another root", last: ptr(cpAt(10, 1)), prev: ptr(cpAt(10, 3)), next: cpAt(20, 2), proof: goodProof,
			wantErr: new(*ConflictError)},
		{name: "prev missing but witness has state", last: ptr(cpAt(10, 1)), next: cpAt(20, 2), proof: goodProof, wantErr: new(*ConflictError)},
		{name: "prev given but witness has none", prev: ptr(cpAt(10, 1)), next: cpAt(20, 2), proof: goodProof,
			wantErr: new(*ConflictError), wantMsg: "witness holds no checkpoint"},
		{name: "growth from the empty tree", last: ptr(cpAt(0, 0)), prev: ptr(cpAt(0, 0)), next: cpAt(5, 5), wantLast: ptr(cpAt(5, 5))},
		{name: "non-empty proof from the empty tree", last: ptr(cpAt(0, 0)), prev: ptr(cpAt(0, 0)), next: cpAt(5, 5), proof: goodProof,
			wantErr: new(*InconsistentError)},
		{name: "size beyond int64", last: ptr(cpAt(10, 1)), prev: ptr(cpAt(10, 1)), next: cpAt(1<<63, 2), proof: goodProof,
			wantErr: new(*InconsistentError), wantMsg: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := NewWitness(witnessOrigin, tt.last)
			if err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			old := cpAt(0, 0)
			if tt.last != nil {
				old = *tt.last
			}
			err = w.Check(tt.prev, tt.next, tt.proof, fakeVerify(&calls, old, tt.next))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
			} else if !errors.As(err, tt.wantErr) {
				t.Fatalf("Check: err = %v (%T), want %T", err, err, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("verify called %d times, want %d", got, tt.wantCalls)
			}
			want := tt.wantLast
			if want == nil {
				want = tt.last
			}
			got := w.Last()
			if (got == nil) != (want == nil) || got != nil && !got.Equal(*want) {
				t.Errorf("state after = %v, want %v", got, want)
			}
		})
	}
}

func TestWitnessSequence(t *testing.T) {
	t.Parallel()
	w, err := NewWitness(witnessOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	steps := []struct {
		prev *Checkpoint
		next Checkpoint
	}{
		{nil, cpAt(3, 3)},
		{ptr(cpAt(3, 3)), cpAt(7, 7)},
		{ptr(cpAt(7, 7)), cpAt(7, 7)},
		{ptr(cpAt(7, 7)), cpAt(8, 8)},
	}
	for i, s := range steps {
		old := cpAt(0, 0)
		if s.prev != nil {
			old = *s.prev
		}
		if err := w.Check(s.prev, s.next, goodProof, fakeVerify(&calls, old, s.next)); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if got := w.Last(); got == nil || !got.Equal(cpAt(8, 8)) {
		t.Fatalf("Last = %v", got)
	}
	if calls.Load() != 2 {
		t.Fatalf("verify called %d times, want 2", calls.Load())
	}
	// Last is a copy.
	l := w.Last()
	l.Size = 1
	if w.Last().Size != 8 {
		t.Fatal("Last exposed the witness's state")
	}
}

func TestNewWitnessRejects(t *testing.T) {
	t.Parallel()
	if _, err := NewWitness("", nil); err == nil {
		t.Error("NewWitness accepted an empty origin")
	}
	var om *OriginMismatchError
	if _, err := NewWitness(witnessOrigin, &Checkpoint{Origin: "x"}); !errors.As(err, &om) {
		t.Errorf("NewWitness with a foreign checkpoint: %v", err)
	}
}

// TestWitnessWithTlog runs the witness with real RFC 6962 proofs from
// golang.org/x/mod/sumdb/tlog, using the adapter in the ConsistencyVerifier
// documentation, to pin down the argument order.
func TestWitnessWithTlog(t *testing.T) {
	t.Parallel()
	var stored []tlog.Hash
	hashes := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	roots := map[int64]tlog.Hash{}
	for n := int64(0); n < 13; n++ {
		h, err := tlog.StoredHashes(n, []byte(fmt.Sprintf("record %d", n)), hashes)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, h...)
		if roots[n+1], err = tlog.TreeHash(n+1, hashes); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(p [][32]byte, oldSize int64, oldRoot [32]byte, newSize int64, newRoot [32]byte) error {
		proof := make(tlog.TreeProof, len(p))
		for i := range p {
			proof[i] = tlog.Hash(p[i])
		}
		return tlog.CheckTree(proof, newSize, newRoot, oldSize, oldRoot)
	}
	cp := func(n int64) Checkpoint { return Checkpoint{Origin: witnessOrigin, Size: uint64(n), Root: roots[n]} }
	prove := func(oldSize, newSize int64) [][HashSize]byte {
		p, err := tlog.ProveTree(newSize, oldSize, hashes)
		if err != nil {
			t.Fatal(err)
		}
		out := make([][HashSize]byte, len(p))
		for i := range p {
			out[i] = p[i]
		}
		return out
	}

	tests := []struct {
		name    string
		old     int64
		new     int64
		proof   [][HashSize]byte
		wantErr bool
	}{
		{"7 to 13", 7, 13, prove(7, 13), false},
		{"1 to 2", 1, 2, prove(1, 2), false},
		{"8 to 12", 8, 12, prove(8, 12), false},
		{"proof for other sizes", 7, 13, prove(6, 13), true},
		{"empty proof", 7, 13, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := NewWitness(witnessOrigin, ptr(cp(tt.old)))
			if err != nil {
				t.Fatal(err)
			}
			err = w.Check(ptr(cp(tt.old)), cp(tt.new), tt.proof, verify)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Check: err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

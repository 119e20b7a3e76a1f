package ledger

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
	"golang.org/x/mod/sumdb/tlog"
)

// Two sequencers on one database (two replicas appending at once): each
// commit that finds the other's entries first is placed again at the new
// end, so every append from either succeeds, no index is given twice, each
// receipt's entry is where it says, and the log verifies.
func TestTwoSequencers(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, migrations(), func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		prof, _ := crypto.NewEphemeral(crypto.ProfileIntl)
		a, b := openLog(t, d, prof, ""), openLog(t, d, prof, "")
		var ra, rb []Receipt
		var ea, eb error
		var wg sync.WaitGroup
		wg.Go(func() { ra, ea = appendManyErr(a, 1200, 16) })
		wg.Go(func() { rb, eb = appendManyErr(b, 1200, 16) })
		wg.Wait()
		if ea != nil || eb != nil {
			t.Fatalf("appends failed: %v / %v", ea, eb)
		}
		if a.placedAgain.Load()+b.placedAgain.Load() == 0 {
			t.Fatal("the sequencers never met (no batch was placed again): the test tested nothing")
		}
		seen := map[int64]bool{}
		for _, r := range append(ra, rb...) {
			if seen[r.Index] {
				t.Fatalf("index %d given twice", r.Index)
			}
			seen[r.Index] = true
		}
		// a learns what b appends while a appends nothing.
		appendMany(t, b, 10, 1)
		for deadline := time.Now().Add(10 * time.Second); a.Size() != b.Size(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("a holds %d entries 10 s after b reached %d", a.Size(), b.Size())
			}
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		rep, err := Verify(ctx, d, prof, origin, "")
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("verify: %+v", rep.Problems[:min(5, len(rep.Problems))])
		}
		// Every receipt proves against the whole log's root.
		l, err := Open(ctx, d, prof, Options{Origin: origin, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		size := l.Size()
		if want := int64(len(seen)); size < want {
			t.Fatalf("log size %d, below the %d receipts", size, want)
		}
		for _, r := range append(ra[:100], rb[:100]...) {
			p, err := l.ProveInclusion(ctx, r.Index, size)
			if err != nil {
				t.Fatal(err)
			}
			if p.LeafHash != r.LeafHash {
				t.Fatalf("entry %d: leaf %s, the receipt says %s", r.Index, p.LeafHash, r.LeafHash)
			}
			var root tlog.Hash
			rb, _ := base64.StdEncoding.DecodeString(p.Root)
			copy(root[:], rb)
			proof := make(tlog.RecordProof, len(p.Proof))
			for k, s := range p.Proof {
				h, _ := base64.StdEncoding.DecodeString(s)
				copy(proof[k][:], h)
			}
			leaf, _ := hex.DecodeString(r.LeafHash)
			if err := tlog.CheckRecord(proof, size, root, r.Index, tlog.Hash(leaf)); err != nil {
				t.Fatalf("entry %d: %v", r.Index, err)
			}
		}
	})
}

// Verify on a live log: appends committed while it reads are not reported
// as problems (the bundles it reads may be newer than the size it read).
func TestVerifyWhileAppending(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, migrations(), func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		prof, _ := crypto.NewEphemeral(crypto.ProfileIntl)
		l := openLog(t, d, prof, "")
		appendMany(t, l, 600, 8)
		done := make(chan error, 1)
		go func() {
			_, err := appendManyErr(l, 3000, 8)
			done <- err
		}()
		runs, grew := 0, 0
		for running := true; running; runs++ {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				running = false
			default:
			}
			before := l.Size()
			rep, err := Verify(ctx, d, prof, origin, "")
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Fatalf("verify while appending (run %d): %+v", runs, rep.Problems[:min(5, len(rep.Problems))])
			}
			if rep.Size > before {
				grew++
			}
		}
		t.Logf("%d verifications, %d saw the log grow while reading", runs, grew)
	})
}

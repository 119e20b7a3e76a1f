package exchange

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// hashOnly is the part of the ledger the recorder uses (the leaf hashes of
// the access batches); nothing here reaches the ledger itself.
type hashOnly struct{}

func (hashOnly) AppendRecord(context.Context, LedgerRecord) (int64, string, error) {
	return 0, "", errors.New("not in this test")
}
func (hashOnly) Hasher() merkle.Hasher { return merkle.SHA256 }

// TestIngestGather: journaled accesses are moved into the access tables in
// gathered batches — at once for whoever reads them (FlushAccesses), and
// with no reader as soon as ingestEnough have gathered. The gather time is
// an hour here, so only those two rules can move anything; each access is
// the caller's own append, made by many callers at once, and every one is
// moved in exactly once.
func TestIngestGather(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, []db.Migrations{Migrations()}, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(Deps{DB: d, Ledger: hashOnly{}})
		s.rec.gather = time.Hour
		if err := s.OpenJournal(ctx, t.TempDir()); err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		count := func() int {
			t.Helper()
			var n int
			if err := d.QueryRow(ctx, `SELECT COUNT(DISTINCT id) FROM ex_access`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		record := func(n int) {
			t.Helper()
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := w; i < n; i += 8 {
						b := &accessBody{ID: newID(), At: s.nowMs(), ConsumerOrg: "org", Resource: "R-1", ResourceID: "r1",
							Outcome: "ok", Records: 1, Fields: []string{"name"}, Subjects: []string{fmt.Sprintf("person:%d", i)}}
						if _, err := s.rec.record(ctx, b); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		}

		record(100)
		if n := count(); n != 0 {
			t.Fatalf("%d of 100 accesses moved in with nobody waiting and fewer than %d gathered", n, ingestEnough)
		}
		wait, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := s.FlushAccesses(wait); err != nil {
			t.Fatalf("a reader waited for the gather: %v", err)
		}
		if n := count(); n != 100 {
			t.Fatalf("%d accesses in the table after FlushAccesses, want 100", n)
		}

		record(ingestEnough)
		deadline := time.Now().Add(time.Minute)
		for count() != 100+ingestEnough {
			if time.Now().After(deadline) {
				t.Fatalf("%d accesses in the table a minute after %d more gathered, want %d", count(), ingestEnough, 100+ingestEnough)
			}
			time.Sleep(10 * time.Millisecond)
		}
		var rows, mark int64
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM ex_access`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 100+ingestEnough {
			t.Fatalf("%d access rows, want %d (an access moved in twice)", rows, 100+ingestEnough)
		}
		j := s.rec.j.Load()
		if err := d.QueryRow(ctx, `SELECT off FROM ex_journals WHERE journal = ?`, j.id).Scan(&mark); err != nil {
			t.Fatal(err)
		}
		if j.mu.Lock(); mark != j.size {
			j.mu.Unlock()
			t.Fatalf("the journal mark is at %d, the journal ends at %d", mark, j.size)
		}
		j.mu.Unlock()
	})
}

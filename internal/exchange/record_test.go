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

// TestWriteBatchSizes: a batch of any size is written whole, the same way
// on both backends — on PostgreSQL a small one as one statement and a large
// one by COPY in a transaction: its batch row, each access row (numbered
// batch seq × maxBatch + leaf, with its leaf hash and canonical body) and,
// when given, the journal mark.
func TestWriteBatchSizes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, []db.Migrations{Migrations()}, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(Deps{DB: d, Ledger: hashOnly{}})
		defer s.Close()
		for round, n := range []int{1, 5, pgCopyRows - 1, pgCopyRows, 300} {
			bodies := make([]*accessBody, n)
			data := make([][]byte, n)
			for i := range n {
				bodies[i] = &accessBody{ID: newID(), At: int64(1000*round + i), ConsumerOrg: fmt.Sprint("org", i%3), Resource: "R-1", ResourceID: "r1",
					Grant: fmt.Sprint("g", i%2), Outcome: []string{"ok", "refused"}[i%2], Records: i % 4, Fields: []string{"name"}}
				data[i] = canonical(bodies[i])
			}
			var mark *journalMark
			if round%2 == 1 {
				mark = &journalMark{"j1", journalPos{gen: int64(round), off: int64(n)}}
			}
			id, err := s.rec.writeBatch(bodies, data, mark)
			if err != nil {
				t.Fatalf("%d rows: %v", n, err)
			}
			var seq int64
			var size int
			var root string
			if err := d.QueryRow(ctx, `SELECT seq, size, root FROM ex_batches WHERE id = ?`, id).Scan(&seq, &size, &root); err != nil {
				t.Fatalf("%d rows: batch: %v", n, err)
			}
			leaves := make([]merkle.Hash, n)
			for i := range data {
				leaves[i] = merkle.SHA256.LeafHash(data[i])
			}
			if want, _ := rootOf(merkle.SHA256, leaves); size != n || root != want.Hex() {
				t.Fatalf("%d rows: batch size %d, root %s; want %s", n, size, root, want.Hex())
			}
			rows, err := d.Query(ctx, `SELECT seq, id, at, leaf, leaf_hash, body, resource_id, grant_id, consumer_org, outcome, records FROM ex_access WHERE batch_id = ? ORDER BY seq`, id)
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			for rows.Next() {
				var aseq, at int64
				var leaf, recs int
				var aid, hash, body, res, grant, org, outcome string
				if err := rows.Scan(&aseq, &aid, &at, &leaf, &hash, &body, &res, &grant, &org, &outcome, &recs); err != nil {
					t.Fatal(err)
				}
				b := bodies[i]
				if aseq != seq*maxBatch+int64(i) || leaf != i || aid != b.ID || at != b.At || hash != leaves[i].Hex() || body != string(data[i]) ||
					res != b.ResourceID || grant != b.Grant || org != b.ConsumerOrg || outcome != b.Outcome || recs != b.Records {
					t.Fatalf("%d rows: row %d = %d %s %d %d %s %s %s %s %s %d", n, i, aseq, aid, at, leaf, hash, res, grant, org, outcome, recs)
				}
				i++
			}
			if err := rows.Err(); err != nil || i != n {
				t.Fatalf("%d rows: %d written, %v", n, i, err)
			}
			rows.Close()
			if mark != nil {
				var gen, off int64
				if err := d.QueryRow(ctx, `SELECT gen, off FROM ex_journals WHERE journal = 'j1'`).Scan(&gen, &off); err != nil || gen != mark.end.gen || off != mark.end.off {
					t.Fatalf("%d rows: mark %d:%d, %v; want %d:%d", n, gen, off, err, mark.end.gen, mark.end.off)
				}
			}
		}
	})
}

// okLedger accepts every record (the tests here check the epochs, not the
// ledger).
type okLedger struct{ hashOnly }

func (okLedger) AppendRecord(context.Context, LedgerRecord) (int64, string, error) { return 1, "", nil }

// TestEpochLeaves: the pump builds an epoch's root from the leaves this
// process kept of its own batches, and from the access table for a batch
// it did not write (another process's); either way the root is the one
// computed from the table, and nothing stays kept after the epoch.
func TestEpochLeaves(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, []db.Migrations{Migrations()}, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := New(Deps{DB: d, Ledger: okLedger{}})
		defer a.Close()
		other := New(Deps{DB: d, Ledger: okLedger{}})
		defer other.Close()
		batch := func(s *Service, n int) {
			t.Helper()
			bodies := make([]*accessBody, n)
			data := make([][]byte, n)
			for i := range n {
				bodies[i] = &accessBody{ID: newID(), At: int64(i), ConsumerOrg: "org", Resource: "R-1", ResourceID: "r1", Outcome: "ok", Records: 1, Fields: []string{"name"}}
				data[i] = canonical(bodies[i])
			}
			if _, err := s.rec.writeBatch(bodies, data, nil); err != nil {
				t.Fatal(err)
			}
		}
		check := func(want int) {
			t.Helper()
			n, err := a.PumpOnce(ctx)
			if err != nil || n != want {
				t.Fatalf("pumped %d leaves, %v; want %d", n, err, want)
			}
			var epoch int64
			var root string
			if err := d.QueryRow(ctx, `SELECT seq, root FROM ex_epochs ORDER BY seq DESC LIMIT 1`).Scan(&epoch, &root); err != nil {
				t.Fatal(err)
			}
			hs, err := a.epochLeaves(ctx, epoch)
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := rootOf(merkle.SHA256, hs); len(hs) != n || root != want.Hex() {
				t.Fatalf("epoch %d: root %s of %d leaves, the table gives %s of %d", epoch, root, n, want.Hex(), len(hs))
			}
		}
		batch(a, 3)
		batch(a, 200) // by COPY on PostgreSQL
		if a.leaves.mu.Lock(); len(a.leaves.m) != 2 || a.leaves.n != 203 {
			a.leaves.mu.Unlock()
			t.Fatalf("%d leaves of %d batches kept, want 203 of 2", a.leaves.n, len(a.leaves.m))
		}
		a.leaves.mu.Unlock()
		check(203)
		batch(a, 5)
		batch(other, 7) // not kept by a
		batch(a, 2)
		check(14)
		if a.leaves.n != 0 || len(a.leaves.m) != 0 {
			t.Fatalf("after the epochs: %d leaves of %d batches kept", a.leaves.n, len(a.leaves.m))
		}
	})
}

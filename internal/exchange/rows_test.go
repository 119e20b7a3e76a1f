package exchange

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// TestRowReader: hosted rows are read by key one at a time and in bulk on
// both backends; on PostgreSQL, single-key reads that find every slot
// taken wait and go together in one statement when a slot frees, each
// getting its own row (or none), and a reader that stops waiting does not
// stop the others.
func TestRowReader(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, []db.Migrations{Migrations()}, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const n = 2500
		for i := range n {
			if _, err := d.Exec(ctx, `INSERT INTO ex_rows (resource_id, rkey, subject, data, updated_at) VALUES (?, ?, ?, ?, 0)`,
				"r1", fmt.Sprint("k", i), fmt.Sprint("person:", i), fmt.Sprint("data", i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.Exec(ctx, `INSERT INTO ex_rows (resource_id, rkey, subject, data, updated_at) VALUES ('r2', 'k1', '', 'other', 0)`); err != nil {
			t.Fatal(err)
		}
		want := func(t *testing.T, row hostedRow, ok bool, err error, i int) {
			t.Helper()
			if err != nil || !ok || row.data != fmt.Sprint("data", i) || row.subject != fmt.Sprint("person:", i) {
				t.Fatalf("k%d: %+v %v %v", i, row, ok, err)
			}
		}

		rr := newRowReader(d, 2)
		row, ok, err := rr.one(ctx, "r1", "k7")
		want(t, row, ok, err, 7)
		if _, ok, err := rr.one(ctx, "r1", "nope"); ok || err != nil {
			t.Fatalf("missing key: %v %v", ok, err)
		}
		if row, ok, _ := rr.one(ctx, "r2", "k1"); !ok || row.data != "other" {
			t.Fatalf("r2/k1: %+v", row)
		}

		// Bulk: more keys than one statement takes, one missing.
		keys := []string{"nope"}
		for i := range n {
			keys = append(keys, fmt.Sprint("k", i))
		}
		got, err := rr.many(ctx, "r1", keys)
		if err != nil || len(got) != n {
			t.Fatalf("many: %d rows, %v", len(got), err)
		}
		for i := range n {
			r, ok := got[fmt.Sprint("k", i)]
			want(t, r, ok, nil, i)
		}

		if d.Dialect() != db.Postgres {
			return
		}
		// Every slot taken: reads queue in batches per resource.
		rr = newRowReader(d, 1)
		rr.busy = 1
		waiting := func(keys int) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for {
				rr.mu.Lock()
				k := 0
				for _, b := range rr.queue {
					k += len(b.keys)
				}
				rr.mu.Unlock()
				if k == keys {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d keys waiting, want %d", k, keys)
				}
				time.Sleep(time.Millisecond)
			}
		}
		type result struct {
			res string
			i   int
			row hostedRow
			ok  bool
			err error
		}
		var wg sync.WaitGroup
		results := make(chan result, keysPerRead+20)
		read := func(ctx context.Context, res string, i int) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				row, ok, err := rr.one(ctx, res, fmt.Sprint("k", i))
				results <- result{res, i, row, ok, err}
			}()
		}
		// The first two readers of the r1 batch stop waiting: the batch
		// still runs, for the others.
		gone, cancel := context.WithCancel(ctx)
		read(gone, "r1", 0)
		waiting(1)
		read(gone, "r1", 1)
		for i := 2; i < keysPerRead+5; i++ { // fills one batch; five go to a second
			read(ctx, "r1", i)
		}
		read(ctx, "r2", 1)
		waiting(keysPerRead + 6)
		rr.mu.Lock()
		var batches []string
		for _, b := range rr.queue {
			batches = append(batches, fmt.Sprint(b.res, ":", len(b.keys)))
		}
		// The order of the last two depends on which goroutine came first.
		if q := fmt.Sprint(batches); q != fmt.Sprintf("[r1:%d r1:5 r2:1]", keysPerRead) && q != fmt.Sprintf("[r1:%d r2:1 r1:5]", keysPerRead) {
			t.Fatalf("batches waiting: %s", q)
		}
		rr.mu.Unlock()
		cancel()
		rr.release()
		wg.Wait()
		close(results)
		seen := 0
		for r := range results {
			seen++
			switch {
			case r.res == "r2":
				if !r.ok || r.err != nil || r.row.data != "other" {
					t.Fatalf("r2/k1: %+v", r)
				}
			case r.i <= 1 && r.err != nil:
				// It stopped waiting before its batch ran.
				if !errors.Is(r.err, context.Canceled) {
					t.Fatalf("reader that stopped waiting: %v", r.err)
				}
			default:
				want(t, r.row, r.ok, r.err, r.i)
			}
		}
		if seen != keysPerRead+6 {
			t.Fatalf("%d results", seen)
		}
		deadline := time.Now().Add(10 * time.Second)
		rr.mu.Lock()
		defer rr.mu.Unlock()
		for rr.busy != 0 && time.Now().Before(deadline) { // the last batch's goroutine passes its slot on after its readers have their rows
			rr.mu.Unlock()
			time.Sleep(time.Millisecond)
			rr.mu.Lock()
		}
		if rr.busy != 0 || len(rr.queue) != 0 || len(rr.open) != 0 {
			t.Fatalf("after the batches: %d busy, %d queued, %d open", rr.busy, len(rr.queue), len(rr.open))
		}
	})
}

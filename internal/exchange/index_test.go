package exchange

import (
	"context"
	"testing"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// TestIndexFlush: the tracker index gets each (subject, access) of the
// pending batches once — a subject named twice by one access included —
// and the batches are marked indexed; a flush whose rows are partly there
// already (another process's sweep indexed the batch) still completes; and
// a flush that fails leaves its batches pending and unmarked.
func TestIndexFlush(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, []db.Migrations{Migrations()}, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(Deps{DB: d, Ledger: hashOnly{}})
		defer s.Close()
		// An indexer of the test's own, without the loop that would flush
		// on its timer: each flush below is called directly.
		x := &indexer{s: s, pending: map[string][]subjectEntry{}, kick: make(chan struct{}, 1), rows: s.index.rows}
		for i, id := range []string{"b1", "b2", "b3"} {
			if _, err := d.Exec(ctx, `INSERT INTO ex_batches (id, seq, size, root, created_at) VALUES (?, ?, 1, '', 0)`, id, i+1); err != nil {
				t.Fatal(err)
			}
		}
		rows := func(where string, args ...any) int {
			t.Helper()
			var n int
			if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM ex_access_subjects WHERE `+where, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		indexed := func(id string) bool {
			t.Helper()
			var n int
			if err := d.QueryRow(ctx, `SELECT indexed FROM ex_batches WHERE id = ?`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 1
		}
		x.add("b1", []subjectEntry{{"person:b", "a1", 1}, {"person:a", "a1", 1}, {"person:a", "a1", 1}})
		x.add("b2", []subjectEntry{{"person:a", "a2", 2}})
		if err := x.flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := rows(`subject = 'person:a'`); n != 2 || rows(`subject = 'person:b'`) != 1 || !indexed("b1") || !indexed("b2") || indexed("b3") {
			t.Fatalf("after the first flush: %d rows of person:a, b1 %v, b2 %v, b3 %v", n, indexed("b1"), indexed("b2"), indexed("b3"))
		}
		// b3's entries are partly in already.
		if _, err := d.Exec(ctx, `INSERT INTO ex_access_subjects (subject, access_id, at) VALUES ('person:c', 'a3', 3)`); err != nil {
			t.Fatal(err)
		}
		x.add("b3", []subjectEntry{{"person:c", "a3", 3}, {"person:d", "a3", 3}})
		if err := x.flush(ctx); err != nil {
			t.Fatalf("a flush of rows partly there: %v", err)
		}
		if rows(`access_id = 'a3'`) != 2 || !indexed("b3") {
			t.Fatalf("b3: %d rows, indexed %v", rows(`access_id = 'a3'`), indexed("b3"))
		}
		// A flush that fails (the database is closed) keeps its batch pending.
		x.add("b4", []subjectEntry{{"person:e", "a4", 4}})
		dead, cancel := context.WithCancel(ctx)
		cancel()
		if err := x.flush(dead); err == nil {
			t.Fatal("a flush with a cancelled context succeeded")
		}
		x.mu.Lock()
		_, pending := x.pending["b4"]
		x.mu.Unlock()
		if !pending || rows(`subject = 'person:e'`) != 0 {
			t.Fatalf("after a failed flush: pending %v, %d rows", pending, rows(`subject = 'person:e'`))
		}
	})
}

package exchange

import (
	"context"
	"testing"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// TestReplayGuard: a signature is accepted once while its date is in the
// window — by any process on the database — and forgotten once the date
// has left it.
func TestReplayGuard(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, []db.Migrations{Migrations()}, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		g, other := newReplayGuard(), newReplayGuard() // two processes
		const now = int64(1_800_000_000_000)
		first := func(g *replayGuard, sig string, date, now int64) bool {
			t.Helper()
			ok, err := g.first(ctx, d, []byte(sig), date, now)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !first(g, "a", now, now) {
			t.Fatal("a new signature was refused")
		}
		if first(g, "a", now, now+1000) {
			t.Fatal("the same signature was accepted twice")
		}
		if first(other, "a", now, now+1000) {
			t.Fatal("another process accepted the same signature")
		}
		if !first(other, "b", now, now+1000) {
			t.Fatal("a second, different signature was refused")
		}
		// Six minutes later both dates are outside the window: the sweep
		// drops them (the date check in verify refuses such requests anyway).
		later := now + replayWindow + 60_001
		if !first(g, "c", later, later) {
			t.Fatal("a new signature was refused after the sweep")
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM ex_node_signatures`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d signatures remembered after the sweep, want 1", n)
		}
	})
}

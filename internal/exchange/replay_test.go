package exchange

import "testing"

// TestReplayGuard: a signature is accepted once while its date is in the
// window, and forgotten (memory released) once the date has left it.
func TestReplayGuard(t *testing.T) {
	g := newReplayGuard()
	const now = int64(1_800_000_000_000)
	if !g.first("a", now, now) {
		t.Fatal("a new signature was refused")
	}
	if g.first("a", now, now+1000) {
		t.Fatal("the same signature was accepted twice")
	}
	if !g.first("b", now, now+1000) {
		t.Fatal("a second, different signature was refused")
	}
	// Six minutes later both dates are outside the window: the sweep drops
	// them (the date check in verify refuses such requests anyway).
	later := now + replayWindow + 60_001
	if !g.first("c", later, later) {
		t.Fatal("a new signature was refused after the sweep")
	}
	if len(g.seen) != 1 {
		t.Fatalf("%d signatures remembered after the sweep, want 1", len(g.seen))
	}
}

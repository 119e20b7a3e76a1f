package app

import (
	"runtime"
	"testing"
)

// TestSetProcs: GOMAXPROCS is the runtime's default plus the extra ones,
// however often Open runs, and the GOMAXPROCS variable wins.
func TestSetProcs(t *testing.T) {
	t.Setenv("GOMAXPROCS", "") // as if unset, whatever the environment says
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	def := defaultProcs()
	for _, extra := range []int{1, 1, 3, 0} {
		setProcs(extra)
		if got := runtime.GOMAXPROCS(0); got != def+extra {
			t.Fatalf("after setProcs(%d): GOMAXPROCS %d, want %d", extra, got, def+extra)
		}
	}
	t.Setenv("GOMAXPROCS", "1")
	setProcs(2)
	if got := runtime.GOMAXPROCS(0); got != def {
		t.Fatalf("with GOMAXPROCS set: %d, want it left at %d", got, def)
	}
}

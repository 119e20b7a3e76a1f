package exchange

import (
	"context"
	"testing"
	"time"
)

// TestGrantCacheShared: a cached grant is handed out as it is (no copy per
// query), and one that has expired since it was cached comes back as a copy
// marked expired, leaving the cached one alone.
func TestGrantCacheShared(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, cst)
	now := t0
	s := &Service{grants: newGrantCache(), now: func() time.Time { return now }}
	cached := &Grant{ID: "g1", Status: "active", ExpiresAt: t0.Add(300 * time.Millisecond).UnixMilli()}
	s.grants.m["g1"] = cachedGrant{g: cached, at: t0}

	g, err := s.grant(context.Background(), "g1")
	if err != nil {
		t.Fatal(err)
	}
	if g != cached || g.Status != "active" {
		t.Fatalf("before expiry: got %p %q, want the cached %p active", g, g.Status, cached)
	}
	now = t0.Add(500 * time.Millisecond) // still cached (cacheFor), past ExpiresAt
	if g, err = s.grant(context.Background(), "g1"); err != nil {
		t.Fatal(err)
	}
	if g == cached || g.Status != "expired" || g.ID != "g1" {
		t.Fatalf("after expiry: got %p %q, want a copy marked expired", g, g.Status)
	}
	if cached.Status != "active" {
		t.Fatalf("the cached grant was changed to %q", cached.Status)
	}
}

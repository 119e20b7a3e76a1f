package app_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/ledger"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
)

// TestReplicas runs two servers on one PostgreSQL database with the same
// keys, as replicas behind a load balancer. Governed queries on both at
// once all answer (each replica numbers its access batches from the
// database's sequence), a grant's daily quota holds across them, every
// access is in the log, and the ledger both append to (their sequencers
// taking turns) verifies.
func TestReplicas(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t, db.Postgres)
	dir := t.TempDir()
	// The same key files (README, "Deployment"), kept private.
	src := filepath.Join(a.Server.Cfg.DataDir, "keys")
	if err := os.CopyFS(filepath.Join(dir, "keys"), os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	keys, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := os.Chmod(filepath.Join(dir, "keys", k.Name()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b := apptest.Start(t, db.SQLite, "--db", a.Server.Cfg.DB, "--data-dir", dir)

	ctx := context.Background()
	const quota = 300
	as, grant := enterpriseGrant(t, a, "副本测试", quota, 100_000)
	answered, refused := queryUntilRefused(t, as, grant, 8, a.Server.Exchange, b.Server.Exchange)
	if answered != quota || refused != 8 {
		t.Fatalf("%d answered and %d refused, want %d and 8", answered, refused, quota)
	}
	for _, e := range []*apptest.Env{a, b} {
		if err := e.Server.Exchange.FlushAccesses(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var ok, no int
	if err := a.Server.DB.QueryRow(ctx, `SELECT COUNT(*) FILTER (WHERE outcome = 'ok'), COUNT(*) FILTER (WHERE outcome = 'refused') FROM ex_access WHERE grant_id = ?`, grant).Scan(&ok, &no); err != nil {
		t.Fatal(err)
	}
	if ok != quota || no != 8 {
		t.Fatalf("the access log holds %d answered and %d refused, want %d and 8", ok, no, quota)
	}
	// Every epoch is anchored on the ledger once, though both replicas'
	// pumps anchor what they find unanchored.
	waitAnchored(t, a)
	// Replica a learns the entries b appended within a second or so, though
	// it appends nothing itself meanwhile.
	var stored int64
	if err := a.Server.DB.QueryRow(ctx, `SELECT size FROM ledger_state WHERE id = 1`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); a.Server.Ledger.Size() < stored; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("replica a's ledger holds %d entries after 10 s, the database %d", a.Server.Ledger.Size(), stored)
		}
	}
	anchors := map[string]int{}
	for i := range a.Server.Ledger.Size() {
		en, err := a.Server.Ledger.Entry(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		var rec struct{ Subject, Action string }
		if json.Unmarshal(en.Data, &rec) == nil && rec.Action == "exchange.access.epoch" {
			anchors[rec.Subject]++
		}
	}
	var epochs int
	if err := a.Server.DB.QueryRow(ctx, `SELECT COUNT(*) FROM ex_epochs`).Scan(&epochs); err != nil {
		t.Fatal(err)
	}
	for subject, n := range anchors {
		if n > 1 {
			t.Errorf("%s anchored %d times", subject, n)
		}
	}
	if len(anchors) != epochs {
		t.Errorf("%d epochs, %d anchored", epochs, len(anchors))
	}
	// Both sequencers appended (each replica's audit and evidence); the
	// log verifies against every checkpoint either signed.
	rep, err := ledger.Verify(ctx, a.Server.DB, a.Server.Crypto, a.Server.Cfg.LedgerOrigin, "")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Size == 0 {
		t.Fatalf("ledger verify: size %d, problems %+v", rep.Size, rep.Problems[:min(5, len(rep.Problems))])
	}
}

// waitAnchored waits until every access batch is in an epoch and every
// epoch on the ledger (at most 30 s).
func waitAnchored(t *testing.T, e *apptest.Env) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left int
		if err := e.Server.DB.QueryRow(context.Background(), `SELECT (SELECT COUNT(*) FROM ex_batches WHERE epoch = -1) + (SELECT COUNT(*) FROM ex_epochs WHERE ledger_index < 0)`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d batches or epochs not anchored after 30 s", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

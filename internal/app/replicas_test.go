package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/exchange"
	"github.com/shuzhi-gov/shuzhi/internal/ledger"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
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
	var mz string
	if err := a.Server.DB.QueryRow(ctx, `SELECT id FROM orgs WHERE name = ?`, "姑苏区民政局").Scan(&mz); err != nil {
		t.Fatal(err)
	}
	as := authz.With(ctx, &authz.Principal{Kind: authz.KindSystem, ID: "replica-test", Name: "replica-test", OrgID: mz, Nationwide: true,
		Permissions: []authz.Permission{authz.ExchangeRequest, authz.ExchangeQuery, authz.ExchangeRead}})
	const quota = 300
	q, err := a.Server.Exchange.RequestAccess(as, exchange.NewRequest{Resource: "SCJG-QYDJ-001", Fields: []string{"name"}, Purpose: "副本测试",
		Basis: "《社会救助暂行办法》第十一条", DailyQuota: quota, RateLimit: 100_000})
	if err != nil || q.GrantID == "" {
		t.Fatalf("request: %+v %v", q, err)
	}
	answered, refused := queryUntilRefused(t, as, q.GrantID, 8, a.Server.Exchange, b.Server.Exchange)
	if answered != quota || refused != 8 {
		t.Fatalf("%d answered and %d refused, want %d and 8", answered, refused, quota)
	}
	for _, e := range []*apptest.Env{a, b} {
		if err := e.Server.Exchange.FlushAccesses(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var ok, no int
	if err := a.Server.DB.QueryRow(ctx, `SELECT COUNT(*) FILTER (WHERE outcome = 'ok'), COUNT(*) FILTER (WHERE outcome = 'refused') FROM ex_access WHERE grant_id = ?`, q.GrantID).Scan(&ok, &no); err != nil {
		t.Fatal(err)
	}
	if ok != quota || no != 8 {
		t.Fatalf("the access log holds %d answered and %d refused, want %d and 8", ok, no, quota)
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

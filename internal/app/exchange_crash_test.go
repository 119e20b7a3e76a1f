package app_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/app"
	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/exchange"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crashtest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// TestExchangeCrashHelper is not a test: TestExchangeKill9 runs the test
// binary with this test selected and SHUZHI_EXCRASH_DIR set, to answer
// governed queries until it is killed, printing each access id once its
// query has returned.
func TestExchangeCrashHelper(t *testing.T) {
	dir := os.Getenv("SHUZHI_EXCRASH_DIR")
	if dir == "" {
		return // run normally: nothing to do
	}
	e := apptest.Start(t, db.SQLite, crashServeFlags(dir, os.Getenv("SHUZHI_EXCRASH_DSN"))...)
	ctx := asOrg(e, "姑苏区民政局")
	p := authz.From(ctx)
	p.Nationwide = true
	p.Permissions = append(p.Permissions, authz.ExchangeQuery, authz.ExchangeRequest)
	// A hosted, unconditionally shared resource of one record, new in
	// every round (the round's number is in its code), and a grant for it.
	ex := e.Server.Exchange
	code := "CRASH-" + os.Getenv("SHUZHI_EXCRASH_ROUND")
	res, err := ex.CreateResource(ctx, exchange.NewResource{Code: code, Name: "崩溃测试人员信息", Class: "department", Format: "table",
		Sharing: exchange.Unconditional, UpdateCycle: "daily", Grading: "general", Backend: exchange.Hosted,
		Items: []exchange.Item{{Name: "idNumber", NameZh: "身份证号", Type: "idnumber", Key: true, Required: true, Personal: "sensitive", Mask: "id"},
			{Name: "name", NameZh: "姓名", Type: "string", Personal: "personal", Mask: "name"}}})
	if err != nil {
		fmt.Println("error resource:", err)
		os.Exit(2)
	}
	key := idcode.MakeCitizenID("320508", time.Date(1980, 5, 1, 0, 0, 0, 0, time.UTC), 7)
	if _, err := ex.Load(ctx, res.ID, exchange.LoadInput{Records: []map[string]any{{"idNumber": key, "name": "测试"}}}); err != nil {
		fmt.Println("error load:", err)
		os.Exit(2)
	}
	if _, err := ex.SetStatus(ctx, res.ID, exchange.Published); err != nil {
		fmt.Println("error publish:", err)
		os.Exit(2)
	}
	q, err := ex.RequestAccess(ctx, exchange.NewRequest{Resource: code, Fields: []string{"name"}, Purpose: "崩溃测试", Basis: "崩溃测试",
		DailyQuota: 10_000_000, RateLimit: 100_000})
	if err != nil || q.GrantID == "" {
		fmt.Println("error request:", err, q)
		os.Exit(2)
	}
	out := make(chan string, 1024)
	for range 32 {
		go func() {
			for {
				a, err := ex.Query(ctx, exchange.Query{Grant: q.GrantID, Key: key})
				if err != nil {
					out <- "error " + err.Error()
					return
				}
				out <- "access " + a.AccessID
			}
		}()
	}
	w := bufio.NewWriter(os.Stdout)
	for line := range out {
		fmt.Fprintln(w, line)
		w.Flush() // an id is printed only after its query returned
	}
}

// crashServeFlags are the serve flags of the crash test's server: SQLite in
// dir, or PostgreSQL at dsn with the access journal switched on.
func crashServeFlags(dir, dsn string) []string {
	flags := []string{"--data-dir", dir}
	if dsn != "" {
		flags = append(flags, "--db", dsn, "--exchange-journal", "on")
	}
	return flags
}

// TestExchangeKill9 kills a server with the access journal (SQLite; and
// PostgreSQL with --exchange-journal on) with SIGKILL while it answers
// governed queries, twice, restarts it on the same data directory, and
// finds every access whose query was answered in the access log, anchored
// on the ledger with a proof that verifies.
func TestExchangeKill9(t *testing.T) {
	t.Parallel()
	for _, backend := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(backend), func(t *testing.T) {
			t.Parallel()
			dsn := ""
			if backend == db.Postgres {
				dsn = dbtest.NewPGDatabase(t)
			}
			testExchangeKill9(t, dsn)
		})
	}
}

func testExchangeKill9(t *testing.T, dsn string) {
	dir := t.TempDir()
	answered := map[string]bool{}
	for round := range 2 {
		got := 0
		env := []string{"SHUZHI_EXCRASH_DIR=" + dir, fmt.Sprintf("SHUZHI_EXCRASH_ROUND=%d", round), "SHUZHI_EXCRASH_DSN=" + dsn}
		crashtest.KillDuring(t, "TestExchangeCrashHelper", env, 90*time.Second, func(line string) bool {
			if strings.HasPrefix(line, "error") {
				t.Fatalf("round %d: %s", round, line)
			}
			if id, ok := strings.CutPrefix(line, "access "); ok {
				answered[id] = true
				got++
			}
			return got < 3000
		})
		if got < 100 {
			t.Fatalf("round %d: only %d answers before the kill", round, got)
		}
	}

	// How many answered accesses only the journal held at the kill (it
	// varies with timing; logged, not asserted).
	ctx := context.Background()
	d, err := db.Open(ctx, db.Options{DSN: dsn, DataDir: dir, Side: &app.LogsSide})
	if err != nil {
		t.Fatal(err)
	}
	// With SQLite the access log is in its own file (app.LogsSide), not the
	// main one.
	for schema, want := range map[string]int{"main": 0, "logs": 1} {
		if dsn != "" {
			break
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM `+schema+`.sqlite_master WHERE type = 'table' AND name = 'ex_access'`).Scan(&n); err != nil || n != want {
			t.Fatalf("ex_access in %s: %d (%v), want %d", schema, n, err, want)
		}
	}
	onlyJournal := 0
	for id := range answered {
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM ex_access WHERE id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			onlyJournal++
		}
	}
	d.Close()

	e := apptest.Start(t, db.SQLite, crashServeFlags(dir, dsn)...)
	missing := 0
	for id := range answered {
		var n int
		if err := e.Server.DB.QueryRow(ctx, `SELECT COUNT(*) FROM ex_access WHERE id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d answered accesses are not in the access log after two kills", missing, len(answered))
	}
	for {
		n, err := e.Server.Exchange.PumpOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	auditor := e.Login(t, "auditor")
	checked := 0
	for id := range answered {
		verifyAccessProof(t, e, auditor, id)
		if checked++; checked == 3 {
			break
		}
	}
	t.Logf("%d answered accesses, all in the access log after two kills (%d of them only in the journal at the kill)", len(answered), onlyJournal)
}

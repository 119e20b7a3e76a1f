package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/demo"
	"github.com/shuzhi-gov/shuzhi/internal/exchange"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

type exRequest struct {
	ID, Status, GrantID, Reason string
	DueAt                       int64
	Fields                      []string
}

type exAnswer struct {
	AccessID string
	Fields   []string
	Masked   []string
	Records  []map[string]string
	Missing  int
	Node     string
}

type exProblem struct {
	Status int
	Detail string
	Errors []struct{ Field, Rule string }
}

// exchangeSetup is a backend and serve flags the exchange's tests and
// benchmark run on.
type exchangeSetup struct {
	name    string
	backend db.Dialect
	flags   []string
}

// exchangeSetups: SQLite journals by default, PostgreSQL commits each batch
// before the answer; postgres-journal is PostgreSQL with the access journal
// (--exchange-journal on).
var exchangeSetups = []exchangeSetup{{"sqlite", db.SQLite, nil}, {"postgres", db.Postgres, nil},
	{"postgres-journal", db.Postgres, []string{"--exchange-journal", "on"}}}

func TestExchange(t *testing.T) {
	t.Parallel()
	for _, su := range exchangeSetups {
		t.Run(su.name, func(t *testing.T) {
			t.Parallel()
			e := apptest.Start(t, su.backend, su.flags...)
			_, err := os.Stat(filepath.Join(e.Server.Cfg.DataDir, "exchange-journal", "ID"))
			if journaled := su.backend == db.SQLite || su.flags != nil; journaled != (err == nil) {
				t.Fatalf("access journal in use: %v, want %v", err == nil, journaled)
			}
			t.Run("民政 asks 公安 for household data; 公安 grants two fields; the person sees the use with a proof", func(t *testing.T) { testShareEndToEnd(t, e) })
			t.Run("queries without a grant, beyond it, after revocation or expiry, above quota, or of a not-shared resource are refused and recorded", func(t *testing.T) { testRefusals(t, e) })
			t.Run("a grant's daily quota holds for every process on the database", func(t *testing.T) { testQuotaAcrossProcesses(t, e) })
			t.Run("a resource's daily quality check runs once however many processes watch", func(t *testing.T) { testScheduledQualityOnce(t, e) })
			t.Run("an epoch claimed by a process that stopped is anchored by another", func(t *testing.T) { testStaleEpochClaim(t, e) })
			t.Run("a grant's rate limit refuses (and records) queries beyond it, for every process on the database", func(t *testing.T) { testRateLimit(t, e) })
			t.Run("the catalog is browsable, versioned and exportable", func(t *testing.T) { testCatalog(t, e) })
			t.Run("hosted data: loads, quality rules and the failing records", func(t *testing.T) { testQuality(t, e) })
			t.Run("a provider's own system answers through the platform", func(t *testing.T) { testHTTPProvider(t, e) })
			t.Run("subscribers receive changes by signed webhook, retried", func(t *testing.T) { testWebhook(t, e) })
			t.Run("objections and corrections reach the provider with a deadline", func(t *testing.T) { testDisputes(t, e) })
			t.Run("pending requests are reminded near their deadline and escalated after it, on the ledger", func(t *testing.T) { testRequestDeadlines(t, e) })
			t.Run("a burst of small batches is anchored in epochs of at most 256 batches, each access still proved", func(t *testing.T) { testEpochCap(t, e) })
		})
	}
}

func request(t *testing.T, c *apptest.Client, body map[string]any) exRequest {
	t.Helper()
	r := c.Do("POST", "/api/v1/exchange/requests", body)
	if r.Status != 200 {
		t.Fatalf("request: %d %s", r.Status, r.Body)
	}
	var q exRequest
	r.JSON(&q)
	return q
}

func query(t *testing.T, c *apptest.Client, body map[string]any) exAnswer {
	t.Helper()
	r := c.Do("POST", "/api/v1/exchange/query", body)
	if r.Status != 200 {
		t.Fatalf("query %v: %d %s", body, r.Status, r.Body)
	}
	var a exAnswer
	r.JSON(&a)
	return a
}

func refused(t *testing.T, c *apptest.Client, body map[string]any, status int, rule string) exProblem {
	t.Helper()
	r := c.Do("POST", "/api/v1/exchange/query", body)
	if r.Status != status {
		t.Fatalf("query %v: want %d, got %d %s", body, status, r.Status, r.Body)
	}
	var p exProblem
	r.JSON(&p)
	if rule != "" && (len(p.Errors) == 0 || p.Errors[0].Rule != rule) {
		t.Fatalf("query %v: want rule %q, got %s", body, rule, r.Body)
	}
	return p
}

func testShareEndToEnd(t *testing.T, e *apptest.Env) {
	mz, ga, citizen := e.Login(t, "mzstaff"), e.Login(t, "gahead"), e.Login(t, "citizen")
	q := request(t, mz, map[string]any{"resource": "GA-HJRK-001", "fields": []string{"name", "householdNumber", "address"},
		"purpose": "最低生活保障家庭经济状况核对", "basis": "《社会救助暂行办法》第十一条"})
	if q.Status != "pending" || q.DueAt == 0 {
		t.Fatalf("a conditional resource waits for the provider: %+v", q)
	}
	// The deadline is 10 working days on the official calendar.
	if days := time.Until(time.UnixMilli(q.DueAt)).Hours() / 24; days < 11 || days > 22 {
		t.Fatalf("decision due in %.1f days, want 10 working days", days)
	}
	// 民政 cannot decide its own request; 公安's head sees it in the queue.
	if r := mz.Do("POST", "/api/v1/exchange/requests/"+q.ID+"/decision", map[string]any{"approve": true}); r.Status != 403 {
		t.Fatalf("consumer decided its own request: %d %s", r.Status, r.Body)
	}
	var queue struct{ Items []exRequest }
	ga.Do("GET", "/api/v1/exchange/requests?role=provider&status=pending", nil).JSON(&queue)
	found := false
	for _, x := range queue.Items {
		found = found || x.ID == q.ID
	}
	if !found {
		t.Fatalf("公安 does not see the pending request: %+v", queue)
	}
	r := ga.Do("POST", "/api/v1/exchange/requests/"+q.ID+"/decision", map[string]any{"approve": true, "fields": []string{"name", "householdNumber"}})
	if r.Status != 200 {
		t.Fatalf("decide: %d %s", r.Status, r.Body)
	}
	r.JSON(&q)
	if q.Status != "approved" || q.GrantID == "" {
		t.Fatalf("approved request has no grant: %+v", q)
	}
	a := query(t, mz, map[string]any{"grant": q.GrantID, "key": demo.CitizenIDNumber})
	if len(a.Records) != 1 || len(a.Records[0]) != 2 {
		t.Fatalf("want one record of exactly two fields, got %+v", a.Records)
	}
	rec := a.Records[0]
	if rec["householdNumber"] != "32050800999999" || !strings.Contains(rec["name"], "*") || rec["name"] == demo.CitizenName {
		t.Fatalf("name must be masked, household number given: %+v", rec)
	}
	if strings.Join(a.Masked, ",") != "name" {
		t.Fatalf("masked = %v", a.Masked)
	}
	// The person sees the access in the data tracker, and its proof
	// verifies against the ledger's signed checkpoint.
	var uses struct {
		Items []struct {
			AccessID, Consumer, ResourceName, Purpose string
			Fields                                    []string
		}
	}
	citizen.Do("GET", "/api/v1/exchange/tracker?pageSize=100", nil).JSON(&uses)
	var mine bool
	for _, u := range uses.Items {
		if u.AccessID == a.AccessID {
			mine = true
			if u.Consumer != "姑苏区民政局" || u.ResourceName != "户籍人口信息" || u.Purpose != "最低生活保障家庭经济状况核对" || strings.Join(u.Fields, ",") != "name,householdNumber" {
				t.Fatalf("tracker row: %+v", u)
			}
		}
	}
	if !mine {
		t.Fatalf("the access %s is not in the person's tracker: %+v", a.AccessID, uses.Items)
	}
	verifyAccessProof(t, e, citizen, a.AccessID)
	// Someone else cannot see that proof.
	if r := e.Login(t, "staff2").Do("GET", "/api/v1/exchange/access/"+a.AccessID+"/proof", nil); r.Status != 404 && r.Status != 403 {
		t.Fatalf("another department read the proof: %d", r.Status)
	}
	// The request and the decision are on the ledger.
	acts := ledgerActions(t, e, "resource:GA-HJRK-001", 4)
	if !slicesContain(acts, "exchange.request.pending") || !slicesContain(acts, "exchange.request.approved") {
		t.Fatalf("ledger has %v", acts)
	}
}

func slicesContain(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// verifyAccessProof checks an access proof with the Go team's tlog and note
// packages: the record's leaf in its batch, the batch root in the ledger
// entry, the entry in the tree, the tree in the signed checkpoint.
func verifyAccessProof(t *testing.T, e *apptest.Env, c *apptest.Client, id string) {
	t.Helper()
	var pr struct {
		Record, LeafHash, Hasher, BatchRoot string
		LeafIndex, BatchSize                int64
		BatchPath                           []string
		OnLedger                            bool
		Ledger                              struct {
			Index, Size           int64
			LeafHash, Entry, Root string
			Proof                 []string
			Checkpoint            string
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := c.Do("GET", "/api/v1/exchange/access/"+id+"/proof", nil)
		if r.Status != 200 {
			t.Fatalf("proof: %d %s", r.Status, r.Body)
		}
		r.JSON(&pr)
		if pr.OnLedger || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !pr.OnLedger {
		t.Fatal("the access's batch did not reach the ledger in 30 s")
	}
	if pr.Hasher != "sha256" {
		t.Fatalf("hasher %q: the test server runs the intl profile, whose SHA-256 tree tlog checks", pr.Hasher)
	}
	leaf := tlog.RecordHash([]byte(pr.Record))
	if hex.EncodeToString(leaf[:]) != pr.LeafHash {
		t.Fatal("the record does not hash to its leaf")
	}
	var rec struct{ ID string }
	if json.Unmarshal([]byte(pr.Record), &rec) != nil || rec.ID != id {
		t.Fatalf("record is not this access: %s", pr.Record)
	}
	batchRoot, _ := hex.DecodeString(pr.BatchRoot)
	var th tlog.Hash
	copy(th[:], batchRoot)
	if err := tlog.CheckRecord(hashes(t, pr.BatchPath), pr.BatchSize, th, pr.LeafIndex, leaf); err != nil {
		t.Fatalf("batch path: %v", err)
	}
	if !strings.Contains(pr.Ledger.Entry, `"payloadHash":"`+pr.BatchRoot+`"`) {
		t.Fatalf("the ledger entry does not carry the batch root: %s", pr.Ledger.Entry)
	}
	entryLeaf := tlog.RecordHash([]byte(pr.Ledger.Entry))
	v, err := e.Server.Ledger.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(pr.Ledger.Checkpoint), note.VerifierList(v))
	if err != nil {
		t.Fatalf("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	rootB, _ := base64.StdEncoding.DecodeString(lines[2])
	var root tlog.Hash
	copy(root[:], rootB)
	if lines[1] != itoa64(pr.Ledger.Size) {
		t.Fatalf("proof size %d, checkpoint %s", pr.Ledger.Size, lines[1])
	}
	if err := tlog.CheckRecord(hashes(t, pr.Ledger.Proof), pr.Ledger.Size, root, pr.Ledger.Index, entryLeaf); err != nil {
		t.Fatalf("ledger inclusion: %v", err)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func hashes(t *testing.T, b64s []string) tlog.RecordProof {
	t.Helper()
	out := make(tlog.RecordProof, len(b64s))
	for i, s := range b64s {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != 32 {
			t.Fatalf("hash %q", s)
		}
		copy(out[i][:], b)
	}
	return out
}

// refusalCount is the number of refusals of a reason in the audit view.
func refusalCount(t *testing.T, auditor *apptest.Client, reason string) int {
	t.Helper()
	var page struct {
		Total int
		Items []struct{ Reason string }
	}
	auditor.Do("GET", "/api/v1/exchange/access?outcome=refused&pageSize=100", nil).JSON(&page)
	n := 0
	for _, it := range page.Items {
		if it.Reason == reason {
			n++
		}
	}
	return n
}

func testRefusals(t *testing.T, e *apptest.Env) {
	rs, auditor := e.Login(t, "mzstaff"), e.Login(t, "auditor")
	before := map[string]int{}
	for _, reason := range []string{"no-grant", "beyond-grant", "revoked", "expired", "quota", "not-shared"} {
		before[reason] = refusalCount(t, auditor, reason)
	}
	// No grant.
	refused(t, rs, map[string]any{"resource": "ZJ-FWJZ-001", "key": "x"}, 403, "no-grant")
	refused(t, rs, map[string]any{"grant": "00000000-0000-0000-0000-000000000000", "key": "x"}, 403, "no-grant")
	// An unconditional resource is granted at once, with a quota of 2 records a day.
	q := request(t, rs, map[string]any{"resource": "SCJG-QYDJ-001", "fields": []string{"name", "status"}, "purpose": "救助对象经营情况核查",
		"basis": "《社会救助暂行办法》第十一条", "dailyQuota": 2})
	if q.Status != "approved" || q.GrantID == "" {
		t.Fatalf("unconditional request: %+v", q)
	}
	a := query(t, rs, map[string]any{"grant": q.GrantID, "key": demo.EnterpriseCreditCode})
	if len(a.Records) != 1 || a.Records[0]["name"] != demo.EnterpriseName || len(a.Records[0]) != 2 {
		t.Fatalf("unconditional answer: %+v", a)
	}
	// Beyond the granted fields.
	p := refused(t, rs, map[string]any{"grant": q.GrantID, "key": demo.EnterpriseCreditCode, "fields": []string{"name", "legalRep"}}, 403, "beyond-grant")
	if p.Errors[0].Field != "fields[1]" {
		t.Fatalf("the refusal names the field: %+v", p)
	}
	// Bad key: 422 naming the key.
	if r := rs.Do("POST", "/api/v1/exchange/query", map[string]any{"grant": q.GrantID, "key": "9132050812345"}); r.Status != 422 || !strings.Contains(string(r.Body), `"key"`) {
		t.Fatalf("bad key: %d %s", r.Status, r.Body)
	}
	// Quota: one more record is fine, the third is refused.
	query(t, rs, map[string]any{"grant": q.GrantID, "key": demo.EnterpriseCreditCode})
	refused(t, rs, map[string]any{"grant": q.GrantID, "key": demo.EnterpriseCreditCode}, 429, "")
	// Not shared: the request is refused with the legal basis, and so is a query.
	nq := request(t, rs, map[string]any{"resource": "GA-ZDRY-001", "fields": []string{"category"}, "purpose": "核查", "basis": "无明确依据"})
	if nq.Status != "refused" || !strings.Contains(nq.Reason, "人民警察法") {
		t.Fatalf("not-shared request: %+v", nq)
	}
	if p := refused(t, rs, map[string]any{"resource": "GA-ZDRY-001", "key": demo.CitizenIDNumber}, 403, ""); !strings.Contains(p.Detail, "人民警察法") && !strings.Contains(p.Detail, "not shared") {
		t.Fatalf("not-shared query: %+v", p)
	}
	// Revocation takes effect at once.
	ga := e.Login(t, "gahead")
	q2 := request(t, rs, map[string]any{"resource": "GA-HJRK-001", "fields": []string{"sex"}, "purpose": "救助对象性别核对", "basis": "《社会救助暂行办法》第十一条"})
	ga.Do("POST", "/api/v1/exchange/requests/"+q2.ID+"/decision", map[string]any{"approve": true}).JSON(&q2)
	query(t, rs, map[string]any{"grant": q2.GrantID, "key": demo.CitizenIDNumber})
	if r := ga.Do("POST", "/api/v1/exchange/grants/"+q2.GrantID+"/revoke", map[string]any{"reason": "核对已完成"}); r.Status != 200 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	refused(t, rs, map[string]any{"grant": q2.GrantID, "key": demo.CitizenIDNumber}, 403, "")
	// Expiry: a grant whose end has passed is refused.
	q3 := request(t, rs, map[string]any{"resource": "ZJ-FWJZ-001", "fields": []string{"address"}, "purpose": "住房核查", "basis": "《社会救助暂行办法》第十一条"})
	ctx := context.Background()
	if _, err := e.Server.DB.Exec(ctx, `UPDATE ex_grants SET expires_at = ? WHERE id = ?`, time.Now().Add(-time.Minute).UnixMilli(), q3.GrantID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the grant cache keeps a grant for a second
	refused(t, rs, map[string]any{"grant": q3.GrantID, "key": "x"}, 403, "")
	// Every refusal is on record with its reason.
	time.Sleep(100 * time.Millisecond)
	for reason, want := range map[string]int{"no-grant": 2, "beyond-grant": 1, "quota": 1, "not-shared": 1, "revoked": 1, "expired": 1} {
		if got := refusalCount(t, auditor, reason) - before[reason]; got != want {
			t.Errorf("refusals %s: %d recorded, want %d", reason, got, want)
		}
	}
}

// Two services on one database (two processes, as PostgreSQL replicas
// are) query under one grant at once until both are refused: together they
// answer exactly the quota, and the grant shows it used.
func testQuotaAcrossProcesses(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	const quota = 400 // leases of 12 records while more than 48 are left
	as, grant := enterpriseGrant(t, e, "限额测试", quota, 100_000)
	if e.Server.DB.Dialect() == db.SQLite {
		// Leases are written while queries read hosted data: in the logs
		// file, so that those readers keep their page caches.
		var n int
		if err := e.Server.DB.QueryRow(ctx, `SELECT COUNT(*) FROM logs.sqlite_master WHERE name = 'ex_quota_use'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("ex_quota_use is not in the logs file: %d %v", n, err)
		}
	}
	replica := e.Server.NewExchangeReplica()
	answered, refused := queryUntilRefused(t, as, grant, 6, e.Server.Exchange, replica)
	if answered != quota || refused != 6 {
		t.Fatalf("%d answered and %d refused, want %d and 6", answered, refused, quota)
	}
	// The replica stops (reporting what it answered); the grant shows the
	// whole day's use.
	replica.Close()
	gs, _, err := e.Server.Exchange.Grants(as, "consumer", "active", 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.ID == grant {
			if g.UsedToday != quota {
				t.Fatalf("used today %d, want %d", g.UsedToday, quota)
			}
			return
		}
	}
	t.Fatalf("grant %s not listed", grant)
}

// Callers query under a grant of 20 queries a second for about two and a
// half seconds and the surplus is refused for the rate, and recorded so.
// PostgreSQL: two services on the database (replicas) answer together at
// most 20 in each one-second window they touched (each alone would answer
// its own 20). SQLite (one process): its bucket answers at most a second's
// worth at once and 20 a second after.
func testRateLimit(t *testing.T, e *apptest.Env) {
	const rate = 20
	as, grant := enterpriseGrant(t, e, "频率测试", 100_000, rate)
	auditor := e.Login(t, "auditor")
	services := []*exchange.Service{e.Server.Exchange}
	if e.Server.DB.Dialect() == db.Postgres {
		replica := e.Server.NewExchangeReplica()
		defer replica.Close()
		services = append(services, replica)
	}
	var answered, refused atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	until := start.Add(2500 * time.Millisecond)
	for k := range 8 {
		ex := services[k%len(services)]
		wg.Go(func() {
			for time.Now().Before(until) {
				ans, err := ex.Query(as, exchange.Query{Grant: grant, Key: demo.EnterpriseCreditCode})
				var pe *errs.Error
				switch {
				case err == nil && len(ans.Records) == 1:
					answered.Add(1)
				case errors.As(err, &pe) && pe.Code == errs.CodeTooMany:
					refused.Add(1)
				default:
					t.Errorf("query: %+v %v", ans, err)
					return
				}
			}
		})
	}
	wg.Wait()
	end := time.Now()
	most := int64(rate) * (end.Unix() - start.Unix() + 1) // PostgreSQL: the windows touched
	if e.Server.DB.Dialect() == db.SQLite {
		most = rate + int64(float64(rate)*end.Sub(start).Seconds()+1) // the bucket's burst and refill
	}
	if answered.Load() > most || answered.Load() == 0 || refused.Load() == 0 {
		t.Fatalf("%d answered (at most %d) and %d refused at %d a second", answered.Load(), most, refused.Load(), rate)
	}
	if err := e.Server.Exchange.FlushAccesses(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The refusals are on record: the newest page of refusals (100) is
	// theirs.
	if got := refusalCount(t, auditor, "rate"); got < min(int(refused.Load()), 100) {
		t.Fatalf("%d rate refusals on the newest page of refusals, %d made", got, refused.Load())
	}
}

// Two processes' watchers (replicas) find a resource's daily quality check
// due at once: one of them runs it.
func testScheduledQualityOnce(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	var id string
	if err := e.Server.DB.QueryRow(ctx, `SELECT id FROM ex_resources WHERE node = '' AND status = 'published' ORDER BY code LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	countRuns := func() int {
		var n int
		if err := e.Server.DB.QueryRow(ctx, `SELECT COUNT(*) FROM ex_quality_runs WHERE resource_id = ? AND trigger = 'schedule'`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := countRuns()
	if _, err := e.Server.DB.Exec(ctx, `UPDATE ex_resources SET quality_at = ? WHERE id = ?`, time.Now().Add(-48*time.Hour).UnixMilli(), id); err != nil {
		t.Fatal(err)
	}
	replica := e.Server.NewExchangeReplica()
	defer replica.Close()
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, ex := range []*exchange.Service{e.Server.Exchange, replica} {
		wg.Go(func() { ex.Watch(wctx, time.Hour) })
	}
	deadline := time.Now().Add(30 * time.Second)
	for countRuns() == before {
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("the due quality check did not run within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a second run, if any, has had time
	cancel()
	wg.Wait()
	if n := countRuns() - before; n != 1 {
		t.Fatalf("the due check ran %d times", n)
	}
}

// A pump claims an epoch before anchoring it. A fresh claim holds other
// pumps off; one a stopped process left (older than ten seconds) is given
// up and the epoch anchored. (Simulated on the newest epoch: it is anchored
// a second time, which is harmless.)
func testStaleEpochClaim(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	waitAnchored(t, e)
	var epoch int64
	if err := e.Server.DB.QueryRow(ctx, `SELECT MAX(seq) FROM ex_epochs`).Scan(&epoch); err != nil {
		t.Fatal(err)
	}
	claim := func(at time.Time) {
		if _, err := e.Server.DB.Exec(ctx, `UPDATE ex_epochs SET ledger_index = -2, claimed_at = ? WHERE seq = ?`, at.UnixMilli(), epoch); err != nil {
			t.Fatal(err)
		}
	}
	index := func() int64 {
		var i int64
		if err := e.Server.DB.QueryRow(ctx, `SELECT ledger_index FROM ex_epochs WHERE seq = ?`, epoch).Scan(&i); err != nil {
			t.Fatal(err)
		}
		return i
	}
	claim(time.Now())
	if _, err := e.Server.Exchange.PumpOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if i := index(); i != -2 {
		t.Fatalf("a fresh claim was overridden (ledger index %d)", i)
	}
	claim(time.Now().Add(-11 * time.Second))
	if _, err := e.Server.Exchange.PumpOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if i := index(); i < 0 {
		t.Fatalf("a stale claim held the epoch back (ledger index %d)", i)
	}
}

// enterpriseGrant has 姑苏区民政局 (a system caller of it) granted the
// enterprise register's names with the given daily quota and rate, and
// returns the caller's context and the grant.
func enterpriseGrant(t *testing.T, e *apptest.Env, purpose string, quota, rate int) (context.Context, string) {
	t.Helper()
	ctx := context.Background()
	var mz string
	if err := e.Server.DB.QueryRow(ctx, `SELECT id FROM orgs WHERE name = ?`, "姑苏区民政局").Scan(&mz); err != nil {
		t.Fatal(err)
	}
	as := authz.With(ctx, &authz.Principal{Kind: authz.KindSystem, ID: "test-caller", Name: "test-caller", OrgID: mz, Nationwide: true,
		Permissions: []authz.Permission{authz.ExchangeRequest, authz.ExchangeQuery, authz.ExchangeRead}})
	q, err := e.Server.Exchange.RequestAccess(as, exchange.NewRequest{Resource: "SCJG-QYDJ-001", Fields: []string{"name"}, Purpose: purpose,
		Basis: "《社会救助暂行办法》第十一条", DailyQuota: quota, RateLimit: rate})
	if err != nil || q.GrantID == "" {
		t.Fatalf("request: %+v %v", q, err)
	}
	return as, q.GrantID
}

// queryUntilRefused runs callers goroutines, spread over the services,
// each querying the enterprise under grant until the quota refuses it, and
// counts the answers and refusals.
func queryUntilRefused(t *testing.T, as context.Context, grant string, callers int, services ...*exchange.Service) (answered, refused int64) {
	t.Helper()
	var a, r atomic.Int64
	var wg sync.WaitGroup
	for k := range callers {
		ex := services[k%len(services)]
		wg.Go(func() {
			for {
				ans, err := ex.Query(as, exchange.Query{Grant: grant, Key: demo.EnterpriseCreditCode})
				var pe *errs.Error
				switch {
				case err == nil && len(ans.Records) == 1:
					a.Add(1)
				case errors.As(err, &pe) && pe.Code == errs.CodeTooMany:
					r.Add(1)
					return
				default:
					t.Errorf("query: %+v %v", ans, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return a.Load(), r.Load()
}

func testCatalog(t *testing.T, e *apptest.Env) {
	mz := e.Login(t, "mzstaff")
	var page struct {
		Total int
		Items []struct {
			Code, Sharing, ProviderName string
			Version                     int
		}
	}
	mz.Do("GET", "/api/v1/exchange/resources?sharing=conditional&pageSize=50", nil).JSON(&page)
	if page.Total < 2 {
		t.Fatalf("conditional resources: %+v", page)
	}
	for _, it := range page.Items {
		if it.Sharing != "conditional" {
			t.Fatalf("filter leaked %+v", it)
		}
	}
	mz.Do("GET", "/api/v1/exchange/resources?q="+urlq("低保"), nil).JSON(&page)
	if page.Total != 1 || page.Items[0].Code != "MZ-DBDX-001" {
		t.Fatalf("search 低保: %+v", page)
	}
	if r := mz.Do("GET", "/api/v1/exchange/resources/export?format=csv", nil); r.Status != 200 || !strings.Contains(string(r.Body), "户籍人口信息") {
		t.Fatalf("export: %d", r.Status)
	}
	// A new resource: drafts are validated, naming the field.
	bad := map[string]any{"code": "MZ-TEST-001", "name": "测试资源", "class": "department", "format": "table", "sharing": "none",
		"updateCycle": "monthly", "grading": "general", "backend": "hosted",
		"items": []map[string]any{{"name": "code", "nameZh": "编码", "type": "string", "key": true}}}
	if r := mz.Do("POST", "/api/v1/exchange/resources", bad); r.Status != 422 || !strings.Contains(string(r.Body), "legalBasis") {
		t.Fatalf("not-shared without basis: %d %s", r.Status, r.Body)
	}
	bad["sharing"] = "unconditional"
	var res struct {
		ID      string
		Version int
		Status  string
	}
	r := mz.Do("POST", "/api/v1/exchange/resources", bad)
	if r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	r.JSON(&res)
	bad["items"] = []map[string]any{{"name": "code", "nameZh": "编码", "type": "string", "key": true}, {"name": "note", "nameZh": "备注", "type": "string"}}
	r = mz.Do("PUT", "/api/v1/exchange/resources/"+res.ID+"?version=1", bad)
	if r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if r := mz.Do("PUT", "/api/v1/exchange/resources/"+res.ID+"?version=1", bad); r.Status != 409 {
		t.Fatalf("stale update: %d", r.Status)
	}
	var versions []struct {
		Version int
		Items   []struct{ Name string }
	}
	mz.Do("GET", "/api/v1/exchange/resources/"+res.ID+"/versions", nil).JSON(&versions)
	if len(versions) != 2 || versions[0].Version != 2 || len(versions[1].Items) != 1 {
		t.Fatalf("versions: %+v", versions)
	}
	// Another department cannot change it; drafts are hidden from others.
	if r := e.Login(t, "gahead").Do("PUT", "/api/v1/exchange/resources/"+res.ID+"?version=2", bad); r.Status != 403 {
		t.Fatalf("another department changed the resource: %d", r.Status)
	}
	if r := e.Login(t, "gahead").Do("GET", "/api/v1/exchange/resources/"+res.ID, nil); r.Status != 404 {
		t.Fatalf("a draft is visible to another department: %d", r.Status)
	}
}

func urlq(s string) string { return strings.NewReplacer(" ", "%20").Replace(escape(s)) }

func escape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c < 0x80 && c != '%' && c != '&' && c != '?' && c != '#' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}

func testQuality(t *testing.T, e *apptest.Env) {
	mz := e.Login(t, "mzstaff")
	var board struct {
		Resources []struct {
			Resource string
			Score    float64
			Failed   int
		}
		Providers []struct {
			ProviderName string
			Score        float64
		}
	}
	mz.Do("GET", "/api/v1/exchange/quality", nil).JSON(&board)
	var dibao float64 = -2
	for _, r := range board.Resources {
		if r.Resource == "MZ-DBDX-001" {
			dibao = r.Score
			if r.Failed < 1 {
				t.Fatalf("the demo's wrong date is not found: %+v", r)
			}
		}
	}
	if dibao < 0 || dibao >= 100 || len(board.Providers) == 0 {
		t.Fatalf("quality board: %+v", board)
	}
	var run struct {
		Result struct {
			Failures []struct{ Kind, Item, Problem string }
		}
	}
	mz.Do("GET", "/api/v1/exchange/resources/MZ-DBDX-001/quality", nil).JSON(&run)
	found, inconsistent := false, false
	for _, f := range run.Result.Failures {
		found = found || (f.Kind == "validity" && f.Item == "since")
		inconsistent = inconsistent || (f.Kind == "consistency" && f.Item == "name")
	}
	if !found || !inconsistent {
		t.Fatalf("the wrong date and the name that disagrees with the population register must both fail: %+v", run.Result.Failures)
	}
	// A correcting load raises the score.
	var res struct {
		Updated int
		Quality float64
	}
	var sample []map[string]string
	mz.Do("GET", "/api/v1/exchange/resources/MZ-DBDX-001/sample?n=50", nil).JSON(&sample)
	if len(sample) == 0 || !strings.Contains(sample[0]["idNumber"], "*") {
		t.Fatalf("sample must be masked: %v", sample)
	}
	csv := "idNumber,name,level,amount,since,status\n" + demo.CitizenIDNumber + ",王小明,城市低保,1035,2024-13-01,在保\n"
	r := mz.Upload("POST", "/api/v1/exchange/resources/MZ-DBDX-001/records.csv", "text/csv", []byte(csv))
	if r.Status != 200 {
		t.Fatalf("csv load: %d %s", r.Status, r.Body)
	}
	r.JSON(&res)
	if res.Quality < 0 || res.Quality >= 100 {
		t.Fatalf("quality after load: %+v", res)
	}
	// A provider's system loads over the bus with its API token.
	var org string
	if err := e.Server.DB.QueryRow(context.Background(), `SELECT id FROM orgs WHERE name = ?`, "姑苏区民政局").Scan(&org); err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	e.Login(t, "secadmin").Do("POST", "/api/v1/tokens", map[string]any{"name": "民政业务系统", "orgId": org, "scopes": []string{"exchange:publish"}, "expiresInDays": 1}).JSON(&tok)
	msg, _ := json.Marshal(map[string]any{"token": tok.Token, "records": []map[string]any{
		{"idNumber": "110101199003074573", "name": "赵六", "level": "农村低保", "amount": 800, "since": "2025-01-01", "status": "在保"}}})
	reply, err := e.Server.Bus.Conn().Request(exchange.LoadSubject+".MZ-DBDX-001", msg, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var lr struct {
		Inserted int
		Error    string
	}
	if err := json.Unmarshal(reply.Data, &lr); err != nil || lr.Inserted != 1 {
		t.Fatalf("bus load: %s", reply.Data)
	}
	bad, _ := json.Marshal(map[string]any{"token": "shz_not-a-token", "records": []map[string]any{}})
	if reply, err := e.Server.Bus.Conn().Request(exchange.LoadSubject+".MZ-DBDX-001", bad, 10*time.Second); err != nil || !strings.Contains(string(reply.Data), "error") {
		t.Fatalf("a load without a valid token: %v %s", err, reply.Data)
	}
	// Bad rows are refused naming the row and column.
	r = mz.Upload("POST", "/api/v1/exchange/resources/MZ-DBDX-001/records.csv", "text/csv", []byte("idNumber,name\n123,张三\n"))
	if r.Status != 422 || !strings.Contains(string(r.Body), "file[0].idNumber") {
		t.Fatalf("bad key: %d %s", r.Status, r.Body)
	}
}

func testHTTPProvider(t *testing.T, e *apptest.Env) {
	var mu sync.Mutex
	calls := 0
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		key := strings.TrimPrefix(r.URL.Path, "/insured/")
		if key != demo.CitizenIDNumber {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"idNumber": key, "name": "王小明", "insured": true, "months": 96})
	}))
	defer prov.Close()
	rsHead := e.Login(t, "gahead") // any department head can publish for their own organisation
	res := map[string]any{"code": "GA-TEST-HTTP", "name": "参保状态（接口）", "class": "department", "format": "api", "sharing": "unconditional",
		"updateCycle": "realtime", "grading": "general", "backend": "http", "backendRef": prov.URL + "/insured/{key}",
		"items": []map[string]any{{"name": "idNumber", "nameZh": "身份证号", "type": "idnumber", "key": true, "personal": "sensitive", "mask": "id"},
			{"name": "name", "nameZh": "姓名", "type": "string", "personal": "personal", "mask": "name"},
			{"name": "insured", "nameZh": "是否参保", "type": "bool"}, {"name": "months", "nameZh": "缴费月数", "type": "int"}}}
	var created struct{ ID string }
	r := rsHead.Do("POST", "/api/v1/exchange/resources", res)
	if r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	r.JSON(&created)
	if r := rsHead.Do("POST", "/api/v1/exchange/resources/"+created.ID+"/status", map[string]any{"status": "published"}); r.Status != 200 {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	mz := e.Login(t, "mzstaff")
	q := request(t, mz, map[string]any{"resource": "GA-TEST-HTTP", "fields": []string{"name", "insured", "months"}, "purpose": "低保核对", "basis": "《社会救助暂行办法》第十一条"})
	a := query(t, mz, map[string]any{"grant": q.GrantID, "keys": []string{demo.CitizenIDNumber, "110101199003074573"}})
	if len(a.Records) != 1 || a.Missing != 1 || a.Records[0]["insured"] != "true" || a.Records[0]["months"] != "96" || a.Records[0]["name"] == "王小明" {
		t.Fatalf("http provider answer: %+v", a)
	}
	if calls != 2 {
		t.Fatalf("provider called %d times, want 2", calls)
	}
}

func testWebhook(t *testing.T, e *apptest.Env) {
	type delivery struct {
		sig  string
		body []byte
	}
	got := make(chan delivery, 10)
	var mu sync.Mutex
	fails := 1 // the first attempt fails: the platform retries
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		got <- delivery{r.Header.Get("X-Shuzhi-Signature"), b}
		time.Sleep(100 * time.Millisecond) // a slow receiver: other processes see the delivery still pending meanwhile
	}))
	defer hook.Close()
	// 卫健 (here: 公安's head for its own organisation) subscribes to 民政's
	// 低保 resource under a grant.
	ga, mzc := e.Login(t, "gahead"), e.Login(t, "mzstaff")
	q := request(t, ga, map[string]any{"resource": "MZ-DBDX-001", "fields": []string{"name", "level", "amount"}, "purpose": "户籍变动与救助联动", "basis": "《社会救助暂行办法》第五十条"})
	if q.Status != "pending" {
		t.Fatalf("conditional: %+v", q)
	}
	if r := mzc.Do("POST", "/api/v1/exchange/requests/"+q.ID+"/decision", map[string]any{"approve": true}); r.Status != 403 {
		t.Fatalf("staff decided: %d", r.Status)
	}
	// 民政's head is not a demo account: its decision is made through the
	// service, as the provider's organisation.
	if _, err := e.Server.Exchange.Decide(asOrg(e, "姑苏区民政局"), q.ID, exchange.Decision{Approve: true}); err != nil {
		t.Fatal(err)
	}
	var g exRequest
	ga.Do("GET", "/api/v1/exchange/requests/"+q.ID, nil).JSON(&g)
	var sub struct{ ID, Secret string }
	r := ga.Do("POST", "/api/v1/exchange/subscriptions", map[string]any{"grant": g.GrantID, "kind": "webhook", "url": hook.URL})
	if r.Status != 200 {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	r.JSON(&sub)
	// Two more processes (replicas) deliver too, as often as they can: the
	// hook still gets each change once.
	rctx, stop := context.WithCancel(context.Background())
	defer stop()
	for range 2 {
		replica := e.Server.NewExchangeReplica()
		defer replica.Close()
		go func() {
			for rctx.Err() == nil {
				_, _ = replica.DeliverOnce(rctx)
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	r = mzc.Do("POST", "/api/v1/exchange/resources/MZ-DBDX-001/records", map[string]any{"records": []map[string]any{
		{"idNumber": demo.CitizenIDNumber, "name": "王小明", "level": "城市低保", "amount": 1100, "since": "2024-05-01", "status": "在保"}}})
	if r.Status != 200 {
		t.Fatalf("load: %d %s", r.Status, r.Body)
	}
	// A bulk query answers in the keys' order, a key given twice twice,
	// an unknown one counted as missing.
	unknown := idcode.MakeCitizenID("320508", time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC), 517)
	bulk := query(t, ga, map[string]any{"grant": g.GrantID, "keys": []string{demo.CitizenIDNumber, unknown, demo.CitizenIDNumber}})
	if len(bulk.Records) != 2 || bulk.Missing != 1 || bulk.Records[0]["amount"] != "1100" || bulk.Records[1]["amount"] != "1100" ||
		bulk.Records[0]["name"] == "王小明" || !strings.HasPrefix(bulk.Records[0]["name"], "王") {
		t.Fatalf("bulk query: %+v", bulk)
	}
	defer func() {
		select {
		case <-got:
			t.Error("the change was delivered twice")
		case <-time.After(time.Second):
		}
	}()
	select {
	case d := <-got:
		m := hmac.New(sha256.New, []byte(sub.Secret))
		m.Write(d.body)
		if d.sig != "sha256="+hex.EncodeToString(m.Sum(nil)) {
			t.Fatal("bad webhook signature")
		}
		var ch struct {
			Records []map[string]string
		}
		if err := json.Unmarshal(d.body, &ch); err != nil || len(ch.Records) != 1 || ch.Records[0]["amount"] != "1100" || ch.Records[0]["name"] == "王小明" || len(ch.Records[0]) != 3 {
			t.Fatalf("change: %s", d.body)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook delivery in 20 s")
	}
}

// asOrg is a context acting for an organisation (the decisions of
// departments whose heads are not demo accounts).
func asOrg(e *apptest.Env, name string) context.Context {
	var id string
	_ = e.Server.DB.QueryRow(context.Background(), `SELECT id FROM orgs WHERE name = ?`, name).Scan(&id)
	return authz.With(context.Background(), &authz.Principal{Kind: authz.KindSystem, ID: "test", Name: "test", OrgID: id,
		Permissions: []authz.Permission{authz.ExchangeRead, authz.ExchangeDecide, authz.ExchangePublish}})
}

func testDisputes(t *testing.T, e *apptest.Env) {
	citizen, ga := e.Login(t, "citizen"), e.Login(t, "gahead")
	var uses struct {
		Items []struct{ AccessID, Resource string }
	}
	citizen.Do("GET", "/api/v1/exchange/tracker", nil).JSON(&uses)
	var access string
	for _, u := range uses.Items {
		if u.Resource == "GA-HJRK-001" {
			access = u.AccessID
		}
	}
	if access == "" {
		t.Fatalf("no access of GA-HJRK-001 in the tracker: %+v", uses)
	}
	var d struct {
		ID, Status string
		DueAt      int64
	}
	r := citizen.Do("POST", "/api/v1/exchange/tracker/disputes", map[string]any{"kind": "objection", "accessId": access, "text": "我没有申请低保，为何查询我的户籍？"})
	if r.Status != 200 {
		t.Fatalf("objection: %d %s", r.Status, r.Body)
	}
	r.JSON(&d)
	r = citizen.Do("POST", "/api/v1/exchange/tracker/disputes", map[string]any{"kind": "correction", "resource": "GA-HJRK-001", "field": "phone", "claimed": "13900000000", "text": "手机号已变更"})
	if r.Status != 200 {
		t.Fatalf("correction: %d %s", r.Status, r.Body)
	}
	if r := citizen.Do("POST", "/api/v1/exchange/tracker/disputes", map[string]any{"kind": "correction", "resource": "GA-HJRK-001", "field": "nope", "claimed": "x", "text": "错了"}); r.Status != 422 {
		t.Fatalf("unknown field: %d", r.Status)
	}
	var queue struct {
		Items []struct{ ID, Kind, Claimed string }
	}
	ga.Do("GET", "/api/v1/exchange/disputes?status=open", nil).JSON(&queue)
	if len(queue.Items) < 2 {
		t.Fatalf("公安 sees %+v", queue)
	}
	r = ga.Do("POST", "/api/v1/exchange/disputes/"+d.ID+"/answer", map[string]any{"accept": false, "answer": "民政局依申请核对低保家庭成员户籍，依据《社会救助暂行办法》第十一条"})
	if r.Status != 200 {
		t.Fatalf("answer: %d %s", r.Status, r.Body)
	}
	var mine struct {
		Items []struct{ ID, Status, Answer string }
	}
	citizen.Do("GET", "/api/v1/exchange/tracker/disputes", nil).JSON(&mine)
	for _, m := range mine.Items {
		if m.ID == d.ID && (m.Status != "rejected" || m.Answer == "") {
			t.Fatalf("answered dispute: %+v", m)
		}
	}
	// Another citizen's account has no link and no tracker rows.
	if r := e.Login(t, "enterprise").Do("POST", "/api/v1/exchange/tracker/disputes", map[string]any{"kind": "objection", "accessId": access, "text": "异议"}); r.Status != 422 {
		t.Fatalf("objection to someone else's access: %d %s", r.Status, r.Body)
	}
}

func testRequestDeadlines(t *testing.T, e *apptest.Env) {
	mz := e.Login(t, "mzstaff")
	q := request(t, mz, map[string]any{"resource": "GA-HJRK-001", "fields": []string{"status"}, "purpose": "救助对象人口状态核对", "basis": "《社会救助暂行办法》第十一条"})
	ctx := context.Background()
	setDue := func(d time.Duration) {
		if _, err := e.Server.DB.Exec(ctx, `UPDATE ex_requests SET due_at = ? WHERE id = ?`, time.Now().Add(d).UnixMilli(), q.ID); err != nil {
			t.Fatal(err)
		}
	}
	var got struct {
		Reminded, Escalated, Overdue bool
	}
	// Two processes' watchers (replicas) tick at once: each step is taken,
	// and recorded, once.
	replica := e.Server.NewExchangeReplica()
	defer replica.Close()
	tickBoth := func() (reminded, escalated int) {
		t.Helper()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, ex := range []*exchange.Service{e.Server.Exchange, replica} {
			wg.Go(func() {
				r, es, err := ex.Tick(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				reminded, escalated = reminded+r, escalated+es
				mu.Unlock()
			})
		}
		wg.Wait()
		return reminded, escalated
	}
	// Ten working days away: nothing to do.
	if _, _, err := e.Server.Exchange.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	mz.Do("GET", "/api/v1/exchange/requests/"+q.ID, nil).JSON(&got)
	if got.Reminded || got.Escalated {
		t.Fatalf("a fresh request was reminded or escalated: %+v", got)
	}
	setDue(time.Hour) // less than three working days left
	if r, es := tickBoth(); r != 1 || es != 0 {
		t.Fatalf("near the deadline two watchers reminded %d times and escalated %d times, want 1 and 0", r, es)
	}
	mz.Do("GET", "/api/v1/exchange/requests/"+q.ID, nil).JSON(&got)
	if !got.Reminded || got.Escalated {
		t.Fatalf("near the deadline: %+v", got)
	}
	setDue(-time.Hour)
	if r, es := tickBoth(); r != 0 || es != 1 {
		t.Fatalf("after the deadline two watchers reminded %d times and escalated %d times, want 0 and 1", r, es)
	}
	mz.Do("GET", "/api/v1/exchange/requests/"+q.ID, nil).JSON(&got)
	if !got.Escalated || !got.Overdue {
		t.Fatalf("after the deadline: %+v", got)
	}
	acts := ledgerActions(t, e, "request:"+q.ID, 2)
	if !slicesContain(acts, "exchange.request.remind") || !slicesContain(acts, "exchange.request.escalate") {
		t.Fatalf("ledger: %v", acts)
	}
}

// testEpochCap records 600 accesses one after another (on PostgreSQL each
// its own batch: the recorder writes as soon as one is queued), so that the
// pump finds hundreds of batches at once and must split them; every batch
// ends up in an epoch on the ledger, none larger than 256 batches, and the
// first and the last access prove against the signed checkpoint. (With
// SQLite the access journal's ingester moves the 600 in as a few larger
// batches, so the cap is reached on PostgreSQL only.)
func testEpochCap(t *testing.T, e *apptest.Env) {
	ctx := asOrg(e, "姑苏区民政局")
	p := authz.From(ctx)
	p.Permissions = append(p.Permissions, authz.ExchangeQuery)
	var first, last int64
	if err := e.Server.Exchange.FlushAccesses(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = e.Server.DB.QueryRow(context.Background(), `SELECT COALESCE(MAX(seq), -1) FROM ex_access`).Scan(&first)
	for range 600 {
		// No grant: refused, and the refusal recorded before the answer.
		if _, err := e.Server.Exchange.Query(ctx, exchange.Query{Resource: "ZJ-FWJZ-001", Key: "x"}); err == nil {
			t.Fatal("a query without a grant was answered")
		}
	}
	if err := e.Server.Exchange.FlushAccesses(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.Server.DB.QueryRow(context.Background(), `SELECT MAX(seq) FROM ex_access`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left int
		if err := e.Server.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM ex_batches WHERE epoch = -1`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d batches not in an epoch after 30 s", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var most int
	if err := e.Server.DB.QueryRow(context.Background(), `SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM ex_batches GROUP BY epoch) AS x`).Scan(&most); err != nil {
		t.Fatal(err)
	}
	if most > 256 {
		t.Fatalf("an epoch holds %d batches", most)
	}
	t.Logf("largest epoch: %d batches", most)
	auditor := e.Login(t, "auditor")
	for _, seq := range []int64{first + 1, last} {
		var id string
		if err := e.Server.DB.QueryRow(context.Background(), `SELECT id FROM ex_access WHERE seq >= ? ORDER BY seq LIMIT 1`, seq).Scan(&id); err != nil {
			t.Fatal(err)
		}
		verifyAccessProof(t, e, auditor, id)
	}
}

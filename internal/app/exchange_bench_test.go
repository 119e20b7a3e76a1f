package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/exchange"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// BenchmarkExchangeLookup measures single-key lookups of a hosted resource
// of 10,000 people keyed by ID number, with 64 concurrent callers in this
// process, three ways in the same run:
//
//   - plain: the primary-key read of the encrypted record (a prepared
//     statement) and its decryption, nothing else (what a lookup costs
//     without governance);
//   - governed: exchange.Query — the grant check, rate limit and daily
//     quota, the blind index of the ID number, the same read, projection to
//     the granted fields, masking, the canonical access record, and the
//     wait until it is recorded: appended to the access journal (SQLite;
//     moved into the access tables behind, and the run's time includes
//     that) or committed with its batch (PostgreSQL); the batches reach
//     the ledger right after, in the background;
//   - governed-http: the same through POST /api/v1/exchange/query with an
//     API token (HTTP, JSON and the API layer on top).
//
// It reports lookups/s and p50/p99 latency with conc callers as fast as
// they can (closed loop: the latency then includes waiting for a core), and
// again at a fixed offered rate (open loop, SHUZHI_BENCH_RATE, default
// 20,000/s; 0 skips it): requests start on schedule whether or not earlier
// ones finished, and latency counts from the scheduled start, so a stall
// shows in the percentiles instead of slowing the generator down. Run with
// a fixed count:
//
//	go test ./internal/app/ -run '^$' -bench ExchangeLookup -benchtime 50000x
//
// SHUZHI_BENCH_CONC sets the number of callers (default 64). Each path runs
// on SQLite, on PostgreSQL, and on PostgreSQL with the access journal
// (postgres-journal: --exchange-journal on).
func BenchmarkExchangeLookup(b *testing.B) {
	conc := 64
	if v, err := strconv.Atoi(os.Getenv("SHUZHI_BENCH_CONC")); err == nil && v > 0 {
		conc = v
	}
	rate := 20000
	if v, err := strconv.Atoi(os.Getenv("SHUZHI_BENCH_RATE")); err == nil && v >= 0 {
		rate = v
	}
	for _, su := range exchangeSetups {
		b.Run(su.name, func(b *testing.B) {
			e := apptest.Start(b, su.backend, su.flags...)
			procs := runtime.GOMAXPROCS(0) // as the server set it (extra-procs)
			ctx := context.Background()
			var mz string
			if err := e.Server.DB.QueryRow(ctx, `SELECT id FROM orgs WHERE name = ?`, "姑苏区民政局").Scan(&mz); err != nil {
				b.Fatal(err)
			}
			as := authz.With(ctx, &authz.Principal{Kind: authz.KindSystem, ID: "bench", Name: "bench", OrgID: mz, Nationwide: true,
				Permissions: []authz.Permission{authz.ExchangeRead, authz.ExchangePublish, authz.ExchangeRequest, authz.ExchangeQuery, authz.ExchangeDecide}})
			ex := e.Server.Exchange
			res, err := ex.CreateResource(as, exchange.NewResource{Code: "BENCH-001", Name: "基准测试人员信息", Class: "department", Format: "table",
				Sharing: exchange.Unconditional, UpdateCycle: "daily", Grading: "general", Backend: exchange.Hosted,
				Items: []exchange.Item{{Name: "idNumber", NameZh: "身份证号", Type: "idnumber", Key: true, Required: true, Personal: "sensitive", Mask: "id"},
					{Name: "name", NameZh: "姓名", Type: "string", Personal: "personal", Mask: "name"},
					{Name: "level", NameZh: "类别", Type: "string"}, {Name: "amount", NameZh: "金额", Type: "number"}}})
			if err != nil {
				b.Fatal(err)
			}
			const n = 10000
			keys := make([]string, n)
			recs := make([]map[string]any, n)
			for i := range n {
				keys[i] = idcode.MakeCitizenID("320508", time.Date(1950+i%50, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC), i%1000)
				recs[i] = map[string]any{"idNumber": keys[i], "name": fmt.Sprintf("测试%d", i), "level": "城市低保", "amount": 1035}
			}
			if _, err := ex.Load(as, res.ID, exchange.LoadInput{Records: recs}); err != nil {
				b.Fatal(err)
			}
			if _, err := ex.SetStatus(as, res.ID, exchange.Published); err != nil {
				b.Fatal(err)
			}
			q, err := ex.RequestAccess(as, exchange.NewRequest{Resource: "BENCH-001", Fields: []string{"name", "level", "amount"}, Purpose: "基准测试",
				Basis: "基准测试", DailyQuota: 10_000_000, RateLimit: 100_000})
			if err != nil {
				b.Fatal(err)
			}
			// Plain reads use the stored keys directly (no blind index to compute).
			rkeys := make([]string, 0, n)
			rows, err := e.Server.DB.Query(ctx, `SELECT rkey FROM ex_rows WHERE resource_id = ?`, res.ID)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var k string
				_ = rows.Scan(&k)
				rkeys = append(rkeys, k)
			}
			rows.Close()
			fields := e.Server.Crypto.Fields()
			read, err := e.Server.DB.SQL().PrepareContext(ctx, e.Server.DB.Rebind(`SELECT data FROM ex_rows WHERE resource_id = ? AND rkey = ?`))
			if err != nil {
				b.Fatal(err)
			}
			defer read.Close()
			plain := func(i int) error {
				rk := rkeys[i%len(rkeys)]
				var data string
				if err := read.QueryRowContext(ctx, res.ID, rk).Scan(&data); err != nil {
					return err
				}
				ct, err := base64.StdEncoding.DecodeString(data)
				if err != nil {
					return err
				}
				pt, err := fields.Decrypt(ct, []byte("exrow:"+res.ID+":"+rk))
				if err != nil {
					return err
				}
				var m map[string]string
				return json.Unmarshal(pt, &m)
			}
			governed := func(i int) error {
				a, err := ex.Query(as, exchange.Query{Grant: q.GrantID, Key: keys[i%n]})
				if err == nil && len(a.Records) != 1 {
					err = fmt.Errorf("answer has %d records", len(a.Records))
				}
				return err
			}
			sec := e.Login(b, "secadmin")
			r := sec.Do("POST", "/api/v1/tokens", map[string]any{"name": "民政业务系统", "orgId": mz, "scopes": []string{"exchange:query"}, "expiresInDays": 1})
			if r.Status != 200 {
				b.Fatalf("token: %d %s", r.Status, r.Body)
			}
			var tok struct{ Token string }
			r.JSON(&tok)
			client := &http.Client{Transport: &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc}, Timeout: time.Minute}
			target := e.URL + "/api/v1/exchange/query"
			bodies := make([]string, n)
			for i := range bodies {
				bodies[i] = `{"grant":"` + q.GrantID + `","key":"` + keys[i] + `"}`
			}
			overHTTP := func(i int) error {
				req, _ := http.NewRequest("POST", target, strings.NewReader(bodies[i%n]))
				req.Header.Set("Authorization", "Bearer "+tok.Token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			}
			// The timed run ends when the access records of its lookups are
			// in the access tables: with SQLite they are answered from the
			// access journal and moved in behind, and that work counts.
			drain := func() error { return ex.FlushAccesses(ctx) }
			// Let the demo's own evidence reach the ledger first: it is
			// background work of the start, not of the lookups.
			settle(b, e)
			for _, m := range []struct {
				name string
				fn   func(int) error
			}{{"plain", plain}, {"governed", governed}, {"governed-http", overHTTP}} {
				b.Run(m.name, func(b *testing.B) { serverProcs(b, procs); drive(b, conc, m.fn, drain) })
				if rate > 0 {
					b.Run(m.name+"-at-rate", func(b *testing.B) { serverProcs(b, procs); driveAt(b, rate, m.fn, drain) })
				}
			}
		})
	}
}

// drive calls fn b.N times from conc goroutines, then drain, and reports
// throughput (including drain) and latency percentiles.
func drive(b *testing.B, conc int, fn func(int) error, drain func() error) {
	lat := make([]time.Duration, b.N)
	var next, failed atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0, w0 := cpuTime(), written()
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				t0 := time.Now()
				err := fn(i)
				lat[i] = time.Since(t0)
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { b.Errorf("lookup: %v", err) })
				}
			}
		}()
	}
	wg.Wait()
	if err := drain(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "lookups/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(failed.Load()), "failed")
	// The process's CPU time (user and system, every goroutine, the
	// deferred work included) per lookup: the cost, steadier than the
	// rate when other work shares the machine.
	b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(b.N), "cpu-us/op")
	// What this process wrote to files per lookup (the database's pages,
	// its WAL, the journal), in KiB.
	b.ReportMetric(float64(written()-w0)/1024/float64(b.N), "written-kb/op")
	// What ran (serverProcs), which the name's -N suffix need not say.
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}

// serverProcs runs a leaf benchmark with the server's GOMAXPROCS: the
// testing package sets it from -cpu before each leaf, over what the server
// chose at its start.
func serverProcs(b *testing.B, procs int) {
	prev := runtime.GOMAXPROCS(procs)
	b.Cleanup(func() { runtime.GOMAXPROCS(prev) })
}

// driveAt offers b.N calls at rate per second (open loop) from a pool of
// goroutines, then drains, and reports the achieved rate and latency from
// each call's scheduled start. SHUZHI_BENCH_TRACE=file writes every call's
// scheduled start and latency (ms) to file, to see when stalls happen.
func driveAt(b *testing.B, rate int, fn func(int) error, drain func() error) {
	sched := schedLatencies()
	lat := make([]time.Duration, b.N)
	late := make([]time.Duration, b.N) // how late each call started
	var failed atomic.Int64
	var firstErr sync.Once
	jobs := make(chan int, 4096)
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0, w0 := cpuTime(), written()
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for range 512 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				due := start.Add(time.Duration(i) * interval)
				late[i] = time.Since(due)
				err := fn(i)
				lat[i] = time.Since(due)
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { b.Errorf("lookup: %v", err) })
				}
			}
		}()
	}
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := drain(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if f := os.Getenv("SHUZHI_BENCH_TRACE"); f != "" {
		var sb strings.Builder
		for i, l := range lat {
			fmt.Fprintf(&sb, "%d %.3f %.3f\n", i, float64(time.Duration(i)*interval)/1e6, float64(l)/1e6)
		}
		_ = os.WriteFile(f, []byte(sb.String()), 0o644)
	}
	slices.Sort(lat)
	slices.Sort(late)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "lookups/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	// The part of that which passed before the call began: the feeder
	// sleeps between calls, and Go's timers wake it up to ~1 ms late
	// (calls then start in bunches), later still when the cores are busy.
	// Counted in p99-ms all the same, as a client's request that came on
	// time would have to wait for it.
	b.ReportMetric(float64(late[len(late)/2].Microseconds())/1000, "start-late-p50-ms")
	b.ReportMetric(float64(late[len(late)*99/100].Microseconds())/1000, "start-late-p99-ms")
	b.ReportMetric(float64(failed.Load()), "failed")
	b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(b.N), "cpu-us/op")
	// What this process wrote to files per lookup (the database's pages,
	// its WAL, the journal), in KiB.
	b.ReportMetric(float64(written()-w0)/1024/float64(b.N), "written-kb/op")
	// What ran (serverProcs), which the name's -N suffix need not say.
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
	// How long goroutines of this process stood runnable before they got a
	// core during the run (the runtime's histogram; bucket upper bounds).
	b.ReportMetric(sched(0.999)*1000, "sched-p999-ms")
	b.ReportMetric(sched(1)*1000, "sched-max-ms")
}

// schedLatencies snapshots the runtime's scheduling-latency histogram and
// returns a function giving the q-quantile (seconds, a bucket's upper
// bound) of the latencies recorded since.
func schedLatencies() func(q float64) float64 {
	const name = "/sched/latencies:seconds"
	read := func() *metrics.Float64Histogram {
		s := []metrics.Sample{{Name: name}}
		metrics.Read(s)
		return s[0].Value.Float64Histogram()
	}
	before := read()
	return func(q float64) float64 {
		after := read()
		var total uint64
		for i := range after.Counts {
			total += after.Counts[i] - before.Counts[i]
		}
		var acc uint64
		for i := range after.Counts {
			acc += after.Counts[i] - before.Counts[i]
			if total > 0 && float64(acc) >= q*float64(total) {
				return after.Buckets[i+1]
			}
		}
		return 0
	}
}

// settle waits until the outbox and the cases' evidence are drained and
// the ledger stops growing (the demo's start-up work), at most a minute.
func settle(b *testing.B, e *apptest.Env) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	last := int64(-1)
	for time.Now().Before(deadline) {
		size := e.Server.Ledger.Size()
		if countRows(b, e, `SELECT COUNT(*) FROM outbox`) == 0 && countRows(b, e, `SELECT COUNT(*) FROM case_evidence`) == 0 && size == last {
			return
		}
		last = size
		time.Sleep(500 * time.Millisecond)
	}
}

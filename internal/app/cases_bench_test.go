package app_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/cases/classify"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// BenchmarkOpen311Post drives the Open311 GeoReport v2 POST path — form
// decoding, API key, geocoding, classification, duplicate check, smart
// dispatch with its working-time clock, the grouped commit of case,
// timeline and outbox — with many concurrent HTTP clients in this process
// (they share the 2 cores with the server), one held-out description and a
// random grid point per request. It reports cases/s and p50/p99 latency,
// then how long the ledger took to take every step's evidence after the
// last response. Run with a fixed count, e.g.
//
//	go test ./internal/app/ -run '^$' -bench Open311Post -benchtime 20000x
//
// SHUZHI_BENCH_CONC sets the number of clients (default 64).
func BenchmarkOpen311Post(b *testing.B) {
	conc := 64
	if v, err := strconv.Atoi(os.Getenv("SHUZHI_BENCH_CONC")); err == nil && v > 0 {
		conc = v
	}
	for _, backend := range dbtest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			e := apptest.Start(b, backend)
			ctx := context.Background()
			sec := e.Login(b, "secadmin")
			var org string
			if err := e.Server.DB.QueryRow(ctx, `SELECT id FROM orgs WHERE name = ?`, "姑苏区城市运行管理中心").Scan(&org); err != nil {
				b.Fatal(err)
			}
			r := sec.Do("POST", "/api/v1/tokens", map[string]any{"name": "12345 热线平台", "orgId": org, "scopes": []string{"cases:report"}, "expiresInDays": 1})
			if r.Status != 200 {
				b.Fatalf("token: %d %s", r.Status, r.Body)
			}
			var tok struct{ Token string }
			r.JSON(&tok)
			rows, err := e.Server.DB.Query(ctx, `SELECT centroid_lon, centroid_lat FROM grids`)
			if err != nil {
				b.Fatal(err)
			}
			var pts [][2]float64
			for rows.Next() {
				var p [2]float64
				if err := rows.Scan(&p[0], &p[1]); err != nil {
					b.Fatal(err)
				}
				pts = append(pts, p)
			}
			rows.Close()
			ex := classify.HeldOut()
			rng := rand.New(rand.NewPCG(1, 2))
			bodies := make([]string, 4096)
			for i := range bodies {
				x, p := ex[rng.IntN(len(ex))], pts[rng.IntN(len(pts))]
				bodies[i] = url.Values{"api_key": {tok.Token}, "service_code": {x.Label}, "description": {x.Text},
					"lat": {strconv.FormatFloat(p[1]+rng.Float64()*8e-4-4e-4, 'f', 6, 64)}, "long": {strconv.FormatFloat(p[0]+rng.Float64()*8e-4-4e-4, 'f', 6, 64)},
					"phone": {fmt.Sprintf("139%08d", rng.IntN(1e8))}, "first_name": {"小明"}, "last_name": {"王"}}.Encode()
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc}, Timeout: time.Minute}
			target := e.URL + "/open311/v2/requests.json"
			events0 := countRows(b, e, `SELECT COUNT(*) FROM case_events`)
			lat := make([]time.Duration, b.N)
			var next atomic.Int64
			var failed atomic.Int64
			var firstErr sync.Once
			var wg sync.WaitGroup
			b.ResetTimer()
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
						resp, err := client.Post(target, "application/x-www-form-urlencoded", strings.NewReader(bodies[i%len(bodies)]))
						if err == nil {
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != 200 && resp.StatusCode != 201 {
								err = fmt.Errorf("status %d", resp.StatusCode)
							}
						}
						lat[i] = time.Since(t0)
						if err != nil {
							failed.Add(1)
							firstErr.Do(func() { b.Errorf("POST: %v", err) })
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cases/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(failed.Load()), "failed")
			// The ledger's share: every step of every new case.
			steps := countRows(b, e, `SELECT COUNT(*) FROM case_events`) - events0
			deadline := time.Now().Add(10 * time.Minute)
			for countRows(b, e, `SELECT COUNT(*) FROM case_evidence`) > 0 {
				if time.Now().After(deadline) {
					b.Fatalf("the ledger did not take %d steps within 10 minutes", steps)
				}
				time.Sleep(50 * time.Millisecond)
			}
			total := time.Since(start)
			b.ReportMetric(float64(steps)/float64(b.N), "steps/case")
			b.ReportMetric(total.Seconds()-elapsed.Seconds(), "ledger-lag-s")
			b.ReportMetric(float64(b.N)/total.Seconds(), "cases-on-ledger/s")
		})
	}
}

func countRows(b *testing.B, e *apptest.Env, q string) int {
	b.Helper()
	var n int
	if err := e.Server.DB.QueryRow(context.Background(), q).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

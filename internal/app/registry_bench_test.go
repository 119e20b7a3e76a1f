package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
	"github.com/shuzhi-gov/shuzhi/internal/registry"
)

// benchRows is the size of the import benchmark (SHUZHI_BENCH_IMPORT_ROWS,
// default one million).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("SHUZHI_BENCH_IMPORT_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// BenchmarkImportPeople imports a CSV of people (default 1,000,000 rows:
// ID number, name, both populations, household number and relation,
// address, grid, phone, tags on a third) into SQLite in all-or-nothing
// mode: every row checked, then all written in one transaction. It reports
// rows/s and the wall time of one import.
//
// households: people live in households of 1, 2, 3, 3 and 4 (2.6 on
// average, about the national mean), each with its own address and
// household number. address-per-person: every person at an address of
// their own and no household — the registry's worst case (an address row
// per person).
func BenchmarkImportPeople(b *testing.B) {
	b.Run("households", func(b *testing.B) { benchImport(b, true) })
	b.Run("address-per-person", func(b *testing.B) { benchImport(b, false) })
}

func benchImport(b *testing.B, households bool) {
	rows := benchRows()
	e := apptest.Start(b, db.SQLite)
	var grids []string
	r, err := e.Server.DB.Query(context.Background(), `SELECT code FROM grids ORDER BY code`)
	if err != nil {
		b.Fatal(err)
	}
	for r.Next() {
		var g string
		_ = r.Scan(&g)
		grids = append(grids, g)
	}
	r.Close()
	ctx := authz.With(context.Background(), identity.System("bench"))
	b.StopTimer()
	for i := range b.N {
		var sb strings.Builder
		sb.Grow(rows * 110)
		sb.WriteString("idNumber,name,registered,resident,householdNumber,relation,address,gridCode,phone,tags\n")
		base := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC)
		sizes := []int{1, 2, 3, 3, 4}
		hh, member := 0, 0
		for n := range rows {
			k := i*rows + n
			// Divisions the demo population does not use (泰兴, 姜堰).
			id := idcode.MakeCitizenID("321283", base.AddDate(0, 0, k/1000%25000), k%1000)
			if k/1000 >= 25000 {
				id = idcode.MakeCitizenID("321284", base.AddDate(0, 0, k/1000%25000), k%1000)
			}
			tag := ""
			if n%3 == 0 {
				tag = "elderly-alone"
			}
			if !households {
				fmt.Fprintf(&sb, "%s,压测%d,true,true,,,压测路%d号%d室,%s,139%08d,%s\n", id, n, n/4, n%4, grids[n%len(grids)], n, tag)
				continue
			}
			rel := "户主"
			if member > 0 {
				rel = "家庭成员"
			}
			fmt.Fprintf(&sb, "%s,压测%d,true,true,H%d-%08d,%s,压测路%d号%d室,%s,139%08d,%s\n", id, n, i, hh, rel, hh/4, hh%4, grids[hh%len(grids)], n, tag)
			if member++; member == sizes[hh%len(sizes)] {
				hh, member = hh+1, 0
			}
		}
		data := []byte(sb.String())
		b.StartTimer()
		start := time.Now()
		job, err := e.Server.Registry.StartImport(ctx, "people", fmt.Sprintf("bench-%d.csv", i), registry.ModeAllOrNone, data)
		if err != nil {
			b.Fatal(err)
		}
		job, err = e.Server.Registry.WaitImport(ctx, job.ID)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		b.StopTimer()
		if job.Status != registry.ImportDone || job.Written != rows {
			b.Fatalf("import: %s, %d written of %d; %s %+v", job.Status, job.Written, rows, job.Message, job.Errors[:min(3, len(job.Errors))])
		}
		b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
		b.ReportMetric(took.Seconds(), "s/import")
		b.Logf("%d rows (%d MiB) imported in %s", rows, len(data)>>20, took.Round(time.Millisecond))
	}
}

// BenchmarkMaskedLookup looks people up by ID number through the HTTP API
// as a street's staff (masked: no purpose), from parallel clients.
func BenchmarkMaskedLookup(b *testing.B) {
	e := apptest.Start(b, db.SQLite, "--demo-size", "100000")
	ctx := authz.With(context.Background(), identity.System("bench"))
	list, _, err := e.Server.Registry.ListPeople(ctx, registry.PersonFilter{Within: "320508018", Purpose: "public-security"}, 5000, 0)
	if err != nil || len(list) == 0 {
		b.Fatalf("people of 平江: %d, %v", len(list), err)
	}
	c := e.Login(b, "staff")
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
		for pb.Next() {
			p := list[rng.IntN(len(list))]
			r := c.Do("GET", "/api/v1/people/lookup?idNumber="+p.IDNumber, nil)
			if r.Status != 200 {
				b.Errorf("lookup: %d %s", r.Status, r.Body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
}

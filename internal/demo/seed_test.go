package demo_test

import (
	"context"
	"flag"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/shuzhi-gov/shuzhi/internal/app"
	"github.com/shuzhi-gov/shuzhi/internal/demo"
	"github.com/shuzhi-gov/shuzhi/internal/platform/config"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/obs"
)

// BenchmarkSeed seeds the demo district with its default population
// (100,000 people; SHUZHI_BENCH_DEMO_SIZE for another size) on SQLite.
func BenchmarkSeed(b *testing.B) {
	for range b.N {
		b.StopTimer()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		args := []string{"--data-dir", b.TempDir(), "--log-level", "warn"}
		if n := os.Getenv("SHUZHI_BENCH_DEMO_SIZE"); n != "" {
			args = append(args, "--demo-size", n)
		}
		cfg, err := config.Load(fs, args, func(string) string { return "" })
		if err != nil {
			b.Fatal(err)
		}
		core, err := app.Open(context.Background(), cfg, obs.NewLogger(io.Discard, "text", "warn"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := demo.Seed(context.Background(), demo.Services{DB: core.DB, Identity: core.Identity, Geo: core.Geo, Registry: core.Registry, Cases: core.Cases, HashPassword: crypto.HashPassword}, cfg.DemoSeed, cfg.DemoSize)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if want := cfg.DemoSize + demo.NamedPeople; res.People != want {
			b.Fatalf("seeded %d people, want %d (--demo-size and the named citizen)", res.People, want)
		}
		b.ReportMetric(float64(res.People)/b.Elapsed().Seconds(), "people/s")
		b.ReportMetric(float64(res.Cases), "cases")
		b.ReportMetric(float64(res.CasesTook.Milliseconds()), "cases-ms")
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.Sys)/(1<<20), "MiB-sys")
		core.Close()
	}
}

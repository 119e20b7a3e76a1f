// Package tesserabench appends the ledger benchmark's workload to a Tessera
// POSIX log (github.com/transparency-dev/tessera v1.0.4, storage/posix), so
// that docs/PERFORMANCE.md can compare it side by side with
// internal/ledger's BenchmarkAppend. scripts/bench-ledger.sh runs both.
//
//	go test -run '^$' -bench TesseraPOSIX -benchtime 20000x ./bench/tessera/
//
// Each writer goroutine calls Appender.Add with the same ~300-byte canonical
// record the ledger benchmark appends (ledger.Record.Encode), and counts the
// append as done when the returned IndexFuture resolves. In storage/posix
// v1.0.4 the future resolves when the queue's flush (sequenceBatch) has
// returned, i.e. after the entry bundle(s), the new hash tiles and the
// private tree state (.state/treeState) have been written to temp files
// opened O_SYNC, renamed into place and their directories fsynced: the entry
// is sequenced AND integrated durably. Publishing the signed checkpoint
// happens asynchronously (WithCheckpointInterval) and is not waited for, as
// the ledger's Append does not wait for its checkpoint either.
//
// Batching: WithBatching(maxSize, maxAge) with maxSize from
// SHUZHI_BENCH_TESSERA_MAX_SIZE (default 4096, the ledger's default
// MaxBatch) and maxAge from SHUZHI_BENCH_TESSERA_MAX_AGE (default 10ms). The ledger has no age bound (its sequencer commits whatever is
// queued as soon as the previous commit ends); Tessera's queue needs one, and
// with one writer every append waits for it.
package tesserabench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"
	"k8s.io/klog/v2"

	"github.com/shuzhi-gov/shuzhi/internal/ledger"
)

const benchOrgs = 16

// benchRecord is internal/ledger's benchmark record (bench_test.go), kept
// identical so that both logs store the same bytes per entry.
func benchRecord(i int, org string) ledger.Record {
	return ledger.Record{
		ActorKind:   "user",
		ActorID:     fmt.Sprintf("0193a4f2-7c1e-7b3a-9f4e-%012x", i%5000),
		ActorName:   "王晓明",
		OrgID:       org,
		Module:      "identity",
		Action:      "user.roles",
		Subject:     fmt.Sprintf("user:%08x", i),
		PayloadHash: fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15),
		Time:        time.UnixMilli(1_790_000_000_000 + int64(i)),
	}
}

func benchOrg(g int) string { return fmt.Sprintf("0193a4f2-0000-7000-8000-%012d", g%benchOrgs) }

func maxSize(b *testing.B) uint {
	v := os.Getenv("SHUZHI_BENCH_TESSERA_MAX_SIZE")
	if v == "" {
		return 4096
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 0 {
		b.Fatalf("SHUZHI_BENCH_TESSERA_MAX_SIZE=%q: want a positive integer", v)
	}
	return uint(n)
}

func maxAge(b *testing.B) time.Duration {
	v := os.Getenv("SHUZHI_BENCH_TESSERA_MAX_AGE")
	if v == "" {
		return 10 * time.Millisecond
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("SHUZHI_BENCH_TESSERA_MAX_AGE=%q: want a positive duration", v)
	}
	return d
}

func BenchmarkTesseraPOSIX(b *testing.B) {
	// Tessera logs through klog to stderr; keep the benchmark output clean.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	r := benchRecord(123456, benchOrg(3))
	enc, err := r.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("record encodes to %d bytes; batching maxSize %d, maxAge %v", len(enc), maxSize(b), maxAge(b))
	for _, w := range []int{1, 64, 1024} {
		b.Run(fmt.Sprintf("writers=%d", w), func(b *testing.B) { benchTessera(b, w) })
	}
}

func benchTessera(b *testing.B, w int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := b.TempDir()
	skey, _, err := note.GenerateKey(rand.Reader, "shuzhi.bench/tessera")
	if err != nil {
		b.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		b.Fatal(err)
	}
	drv, err := posix.New(ctx, posix.Config{Path: dir})
	if err != nil {
		b.Fatal(err)
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithBatching(maxSize(b), maxAge(b)).
		WithCheckpointInterval(500 * time.Millisecond)
	app, shutdown, reader, err := tessera.NewAppender(ctx, drv, opts)
	if err != nil {
		b.Fatal(err)
	}
	// The ledger benchmark encodes each record inside Append; encode here
	// inside the loop as well.
	if w > b.N {
		w = b.N
	}
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	b.ResetTimer()
	t0 := time.Now()
	for g := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			org := benchOrg(g)
			for {
				i := int(next.Add(1))
				if i > b.N {
					return
				}
				r := benchRecord(i, org)
				data, err := r.Encode()
				if err == nil {
					_, err = app.Add(ctx, tessera.NewEntry(data))()
				}
				if err != nil {
					failed.Store(&err)
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	b.StopTimer()
	if p := failed.Load(); p != nil {
		b.Fatal(*p)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "appends/s")
	size, err := reader.IntegratedSize(ctx)
	if err != nil || size != uint64(b.N) {
		b.Fatalf("integrated size %d (%v), want %d", size, err, b.N)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if err := shutdown(sctx); err != nil {
		b.Fatalf("shutdown: %v", err)
	}
}

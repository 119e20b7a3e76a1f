package ledger

// Benchmarks for issue 3 (tamper-evident ledger): durable appends per second
// with 1, 64 and 1024 concurrent writers on SQLite and PostgreSQL, in the
// international and the 国密 profile, and server-side inclusion-proof time on
// large logs. scripts/bench-ledger.sh runs them with the settings reported in
// docs/PERFORMANCE.md ("Ledger (issue 3)").
//
// Sub-benchmarks:
//
//	BenchmarkAppend/{sqlite,sqlite-syncfull,postgres}/writers={1,64,1024}[/profile=gm]
//	BenchmarkProveInclusion/size={N}/{fresh,cold,disk,warm}
//
// sqlite is the platform's setting (WAL, synchronous=NORMAL); sqlite-syncfull
// is the same database with PRAGMA synchronous=FULL applied to every
// connection by a driver connection hook (db.go is not changed), so that
// every commit is fsynced.
//
// The proof benchmark builds a log of each size once (through the real
// Append path) and keeps it for the run. Sizes come from
// SHUZHI_BENCH_PROOF_SIZES (comma-separated, e.g. "1000000,10000000"); by
// default only 65,536, so that the `-benchtime 1x ./...` smoke run stays
// fast. SHUZHI_BENCH_PROOF_DIR, when set, is where those SQLite files are
// built (default: a temp dir removed at the end); with
// SHUZHI_BENCH_PROOF_REUSE=1 a log of the right size already there is used
// as it is instead of being rebuilt.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	"modernc.org/sqlite"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// benchOrgs is the number of acting organisations the writers are spread
// over (writer g acts for organisation g mod benchOrgs). Each commit signs one
// attestation per organisation present in it.
const benchOrgs = 16

// benchRecord is an audit record of about 300 bytes (logged by
// BenchmarkAppend): UUIDs for actor and organisation, a Chinese actor name, a
// subject and a SHA-256 payload hash. (The platform's own audit
// records, with purpose, legal basis and reference, encode to ~500 bytes.)
func benchRecord(i int, org string) Record {
	return Record{
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

// syncFullDirs holds the data directories whose SQLite connections get
// PRAGMA synchronous=FULL (see the connection hook below).
var (
	syncFullDirs     sync.Map // dir -> true
	syncFullHookOnce sync.Once
)

func registerSyncFullHook() {
	syncFullHookOnce.Do(func() {
		sqlite.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, dsn string) error {
			match := false
			syncFullDirs.Range(func(k, _ any) bool {
				if strings.Contains(dsn, k.(string)) {
					match = true
					return false
				}
				return true
			})
			if !match {
				return nil
			}
			_, err := c.ExecContext(context.Background(), "PRAGMA synchronous=FULL", []driver.NamedValue{})
			return err
		})
	})
}

// openBenchDB opens a fresh, migrated database for backend ("sqlite",
// "sqlite-syncfull" or "postgres").
func openBenchDB(b *testing.B, backend string) *db.DB {
	b.Helper()
	ctx := context.Background()
	var d *db.DB
	switch backend {
	case "sqlite":
		d = dbtest.Open(b, db.SQLite)
	case "postgres":
		d = dbtest.Open(b, db.Postgres)
	case "sqlite-syncfull":
		registerSyncFullHook()
		dir := b.TempDir()
		syncFullDirs.Store(dir, true)
		b.Cleanup(func() { syncFullDirs.Delete(dir) })
		var err error
		d, err = db.Open(ctx, db.Options{DataDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { d.Close() })
	default:
		b.Fatalf("unknown backend %q", backend)
	}
	if _, err := d.Migrate(ctx, []db.Migrations{Migrations()}); err != nil {
		b.Fatal(err)
	}
	if d.Dialect() == db.SQLite {
		// Check the synchronous setting on every pooled connection: hold all
		// of them (up to 8) at once and read it on each.
		want := map[string]int{"sqlite": 1, "sqlite-syncfull": 2}[backend]
		var conns []*sql.Conn
		for range 8 {
			c, err := d.SQL().Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			var v int
			if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&v); err != nil {
				b.Fatal(err)
			}
			if v != want {
				b.Fatalf("PRAGMA synchronous = %d on a connection of %s, want %d", v, backend, want)
			}
		}
		for _, c := range conns {
			c.Close()
		}
	}
	return d
}

func BenchmarkAppend(b *testing.B) {
	enc, _ := func() ([]byte, error) { r := benchRecord(123456, benchOrg(3)); return r.Encode() }()
	b.Logf("record encodes to %d bytes", len(enc))
	for _, backend := range []string{"sqlite", "sqlite-syncfull", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			for _, w := range []int{1, 64, 1024} {
				b.Run(fmt.Sprintf("writers=%d", w), func(b *testing.B) {
					benchAppend(b, backend, crypto.ProfileIntl, w)
				})
				b.Run(fmt.Sprintf("writers=%d/profile=gm", w), func(b *testing.B) {
					benchAppend(b, backend, crypto.ProfileGM, w)
				})
			}
		})
	}
}

// benchAppend runs b.N appends from w goroutines against a fresh log and
// reports appends/s (records committed per second, the attestations the
// ledger adds not counted), entries/s (with them) and the mean group-commit
// size.
func benchAppend(b *testing.B, backend, profile string, w int) {
	ctx := context.Background()
	d := openBenchDB(b, backend)
	prof, err := crypto.NewEphemeral(profile)
	if err != nil {
		b.Fatal(err)
	}
	l, err := Open(ctx, d, prof, Options{Origin: "shuzhi.bench/ledger"})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	// Warm up: create every organisation's key (a one-off DB write each).
	for g := range benchOrgs {
		if _, err := l.Append(ctx, benchRecord(-1-g, benchOrg(g))); err != nil {
			b.Fatal(err)
		}
	}
	start := l.Size()
	if w > b.N {
		w = b.N
	}
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	w0 := procWriteBytes()
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
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
				if _, err := l.Append(ctx, benchRecord(i, org)); err != nil {
					failed.Store(&err)
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	if p := failed.Load(); p != nil {
		b.Fatal(*p)
	}
	wrote := procWriteBytes() - w0
	entries := l.Size() - start
	atts := entries - int64(b.N)
	groups := min(w, benchOrgs) // organisations present in a full commit
	b.ReportMetric(float64(b.N)/el.Seconds(), "appends/s")
	b.ReportMetric(float64(entries)/el.Seconds(), "entries/s")
	// CPU time (user + system) the whole process spent per append: with 2
	// cores, 1e6/(cpuµs/append) x 2 bounds appends/s.
	cpuUs := func(ru *syscall.Rusage) float64 {
		return float64(ru.Utime.Sec+ru.Stime.Sec)*1e6 + float64(ru.Utime.Usec+ru.Stime.Usec)
	}
	b.ReportMetric((cpuUs(&ru1)-cpuUs(&ru0))/float64(b.N), "cpuµs/append")
	// Bytes this process handed to write(2)/pwrite(2) (WAL, database and
	// checkpoint writes; for PostgreSQL only the client's socket writes).
	if backend != "postgres" {
		b.ReportMetric(float64(wrote)/float64(b.N), "wbytes/append")
	}
	// Each commit holds one attestation per organisation in it; with
	// min(w,16) organisations per commit this estimates the records per commit.
	if atts > 0 {
		b.ReportMetric(float64(b.N)/(float64(atts)/float64(groups)), "records/commit")
	}
}

// proofSizes are the log sizes of BenchmarkProveInclusion.
func proofSizes(b *testing.B) []int64 {
	v := os.Getenv("SHUZHI_BENCH_PROOF_SIZES")
	if v == "" {
		return []int64{65536}
	}
	var out []int64
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n < 1 {
			b.Fatalf("SHUZHI_BENCH_PROOF_SIZES: bad size %q", s)
		}
		out = append(out, n)
	}
	return out
}

// proofLogs caches the built logs across the benchmark's repeated calls.
var proofLogs = map[int64]string{} // size -> SQLite data dir

var proofRoot struct {
	once sync.Once
	dir  string
	tmp  bool
}

// buildProofLog builds (once per test binary) a SQLite log of n records
// through the real Append path and returns its data directory. It uses 1024
// writers, MaxBatch 16384 and a single organisation (the platform, org ""),
// so that each group commit is as large as the API allows.
func buildProofLog(b *testing.B, n int64) string {
	if dir, ok := proofLogs[n]; ok {
		return dir
	}
	proofRoot.once.Do(func() {
		proofRoot.dir = os.Getenv("SHUZHI_BENCH_PROOF_DIR")
		if proofRoot.dir == "" {
			d, err := os.MkdirTemp("", "shuzhi-ledger-proof-")
			if err != nil {
				b.Fatal(err)
			}
			proofRoot.dir, proofRoot.tmp = d, true
		}
	})
	dir := filepath.Join(proofRoot.dir, fmt.Sprintf("size-%d", n))
	ctx := context.Background()
	if os.Getenv("SHUZHI_BENCH_PROOF_REUSE") == "1" && reuseProofLog(ctx, dir, n) {
		b.Logf("reusing the log of %d entries in %s (SHUZHI_BENCH_PROOF_REUSE=1)", n, dir)
		proofLogs[n] = dir
		return dir
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	d, err := db.Open(ctx, db.Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx, []db.Migrations{Migrations()}); err != nil {
		b.Fatal(err)
	}
	prof, err := crypto.NewEphemeral(crypto.ProfileIntl)
	if err != nil {
		b.Fatal(err)
	}
	l, err := Open(ctx, d, prof, Options{Origin: "shuzhi.bench/proofs", MaxBatch: 16384})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	mode := os.Getenv("SHUZHI_BENCH_PROOF_BUILD")
	switch mode {
	case "append":
		// The real Append path: 1024 writers, one organisation (the
		// platform), MaxBatch 16384.
		const writers = 1024
		var next atomic.Int64
		var wg sync.WaitGroup
		var failed atomic.Pointer[error]
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					// Stop once the log (records plus attestations) has n entries.
					if i > n || l.Size() >= n {
						return
					}
					if _, err := l.Append(ctx, benchRecord(int(i), "")); err != nil {
						failed.Store(&err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if p := failed.Load(); p != nil {
			b.Fatal(*p)
		}
	case "", "write":
		// The shortcut: the records are encoded (Record.Encode) and leaf
		// hashed as Append does, and handed in chunks of 65,536 to
		// Log.write, the function the sequencer commits every batch with
		// (same tree builder, bundle and tile encoding, SQL statements and
		// transaction). Bundles and full tiles do not depend on where batches
		// end, so the stored bytes are those the sequencer would store for
		// the same entries; the log only lacks the per-batch attestation
		// entries. This skips the request channel, the receipts and the
		// signing, which bound the real path (see the append mode).
		mode = "write"
		const chunk = 65536
		for done := int64(0); done < n; {
			k := min(chunk, n-done)
			datas := make([][]byte, k)
			leaves := make([]merkle.Hash, k)
			var wg sync.WaitGroup
			var failed atomic.Pointer[error]
			for part := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := int64(part); j < k; j += 2 {
						r := benchRecord(int(done+j), "")
						data, err := r.Encode()
						if err != nil {
							failed.Store(&err)
							return
						}
						datas[j], leaves[j] = data, l.hasher.LeafHash(data)
					}
				}()
			}
			wg.Wait()
			if p := failed.Load(); p != nil {
				b.Fatal(*p)
			}
			if err := l.write(ctx, datas, leaves); err != nil {
				b.Fatal(err)
			}
			done += k
		}
	default:
		b.Fatalf("SHUZHI_BENCH_PROOF_BUILD=%q: want write or append", mode)
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	var fileSize int64
	if fi, err := os.Stat(filepath.Join(dir, "shuzhi.db")); err == nil {
		fileSize = fi.Size()
	}
	b.Logf("built a log of %d entries (build mode %s) in %v (%.0f entries/s), shuzhi.db %d MiB",
		l.Size(), mode, time.Since(t0).Round(time.Millisecond), float64(l.Size())/time.Since(t0).Seconds(), fileSize>>20)
	proofLogs[n] = dir
	return dir
}

// reuseProofLog reports whether dir already holds a built log of n entries
// (a previous run with SHUZHI_BENCH_PROOF_DIR and SHUZHI_BENCH_PROOF_REUSE=1),
// so that a log of 10M entries is not rebuilt for every benchmark run.
func reuseProofLog(ctx context.Context, dir string, n int64) bool {
	if _, err := os.Stat(filepath.Join(dir, "shuzhi.db")); err != nil {
		return false
	}
	d, err := db.Open(ctx, db.Options{DataDir: dir})
	if err != nil {
		return false
	}
	defer d.Close()
	var size int64
	if err := d.QueryRow(ctx, `SELECT size FROM ledger_state WHERE id = 1`).Scan(&size); err != nil {
		return false
	}
	return size == n
}

func BenchmarkProveInclusion(b *testing.B) {
	for _, n := range proofSizes(b) {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			dir := buildProofLog(b, n)
			// Every mode opens the log afresh (read-only), so its tile cache
			// holds only the upper tiles Open preloads, and proves random
			// indexes.
			//
			// fresh: each timed proof in a level-0 tile not proved before
			// in the process (so every proof reads its leaf tile from the
			// database), starting right after Open: the process's caches
			// (the leaf-tile cache, SQLite's page cache) grow into new
			// memory as it goes. The OS page cache holds the database file
			// (read through once before timing).
			b.Run("fresh", func(b *testing.B) { benchProve(b, dir, proveFresh) })
			// cold: the same, after up to 5,000 proofs of other leaf tiles,
			// so that those caches are full and recycle memory as in a
			// server that has run for a while.
			b.Run("cold", func(b *testing.B) { benchProve(b, dir, proveCold) })
			// disk: cold, with the database file and its WAL dropped from
			// the OS page cache (posix_fadvise DONTNEED) before timing: each
			// leaf tile comes from the disk.
			b.Run("disk", func(b *testing.B) { benchProve(b, dir, proveDisk) })
			// warm: 1,000 random indexes proved once before timing, then
			// proved again in turn.
			b.Run("warm", func(b *testing.B) { benchProve(b, dir, proveWarm) })
		})
	}
	if proofRoot.tmp {
		os.RemoveAll(proofRoot.dir)
		clear(proofLogs)
		proofRoot.once = sync.Once{}
	}
}

type proveMode int

const (
	proveFresh proveMode = iota
	proveCold
	proveDisk
	proveWarm
)

// proofWarmup is how many proofs of other leaf tiles the cold and disk modes
// make before timing: more than the leaf-tile cache (4,096 tiles) and
// SQLite's page cache (64 MiB, about 4,000 tiles) hold.
const proofWarmup = 5000

func benchProve(b *testing.B, dir string, mode proveMode) {
	ctx := context.Background()
	dbFile := filepath.Join(dir, "shuzhi.db")
	if mode != proveWarm {
		// Into the OS page cache, whatever the machine evicted since the
		// log was built.
		for _, f := range []string{dbFile, dbFile + "-wal"} {
			if err := readThrough(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				b.Fatal(err)
			}
		}
	}
	d, err := db.Open(ctx, db.Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	prof, err := crypto.NewEphemeral(crypto.ProfileIntl)
	if err != nil {
		b.Fatal(err)
	}
	l, err := Open(ctx, d, prof, Options{Origin: "shuzhi.bench/proofs", ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	size := l.Size()
	if cp := l.checkpointSize(); cp != size {
		b.Fatalf("latest checkpoint %d, size %d", cp, size)
	}
	rng := rand.New(rand.NewPCG(uint64(size), uint64(time.Now().UnixNano())))
	var idx []int64
	var probe int64
	if mode == proveWarm {
		for range 1000 {
			idx = append(idx, rng.Int64N(size))
		}
		for _, i := range idx {
			if _, err := l.ProveInclusion(ctx, i, size); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		tiles := int((size + 255) / 256)
		if b.N+1 > tiles {
			b.Fatalf("at most %d proofs (one per level-0 tile, and one to count reads) at size %d; use a smaller -benchtime", tiles-1, size)
		}
		warmup := 0
		if mode != proveFresh {
			warmup = min(proofWarmup, tiles-b.N-1)
		}
		for k, t := range rng.Perm(tiles)[:warmup+b.N+1] {
			i := min(int64(t)*256+rng.Int64N(256), size-1)
			if k < warmup {
				if _, err := l.ProveInclusion(ctx, i, size); err != nil {
					b.Fatal(err)
				}
				continue
			}
			idx = append(idx, i)
		}
		// idx[0] is for countProofReads (which leaves its tile cached), not
		// timed.
		probe = idx[0]
		idx = idx[1:]
		if warmup > 0 {
			b.ReportMetric(float64(warmup), "warmupProofs")
		}
		if mode == proveDisk {
			// The WAL too: on a small, freshly built log the tiles may
			// still be there.
			for _, f := range []string{dbFile, dbFile + "-wal"} {
				if err := dropFromPageCache(f); err != nil && !errors.Is(err, os.ErrNotExist) {
					b.Fatal(err)
				}
			}
		}
	}
	if mode == proveWarm {
		probe = idx[0]
	}
	hashes, dbReads := countProofReads(b, l, probe, size)
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for k := range b.N {
		p, err := l.ProveInclusion(ctx, idx[k%len(idx)], size)
		if err != nil {
			b.Fatal(err)
		}
		if k == 0 && p.Size != size {
			b.Fatal("wrong size")
		}
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/proof")
	// CPU time of the whole process (user, system) and minor page faults
	// per proof while timing: on a shared machine, µs/proof above CPU µs
	// means the benchmark waited for a core.
	cpu := func(tv syscall.Timeval) float64 { return float64(tv.Sec)*1e6 + float64(tv.Usec) }
	b.ReportMetric((cpu(ru1.Utime)-cpu(ru0.Utime))/float64(b.N), "userµs/proof")
	b.ReportMetric((cpu(ru1.Stime)-cpu(ru0.Stime))/float64(b.N), "sysµs/proof")
	b.ReportMetric(float64(ru1.Minflt-ru0.Minflt)/float64(b.N), "minflt/proof")
	b.ReportMetric(float64(hashes), "hashes/proof")
	b.ReportMetric(float64(dbReads), "tileSELECTs/proof")
}

// readThrough reads a file to its end (into the OS page cache).
func readThrough(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Read(buf); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// countProofReads makes the reads ProveInclusion makes for (index, size)
// through a counting hash reader: the stored hashes requested, and the tile
// SELECTs they cost (per ReadHashes call, each distinct tile that is neither
// the in-memory right edge nor in the full-tile cache), mirroring
// Log.hashReader and Log.rootAt. Measured on the first index, before timing.
func countProofReads(b *testing.B, l *Log, index, size int64) (hashes, dbReads int) {
	ctx := context.Background()
	r := l.hashReader(ctx)
	c := merkle.HashReaderFunc(func(indexes []int64) ([]merkle.Hash, error) {
		seen := map[[2]int64]bool{}
		for _, idx := range indexes {
			level, n := tlog.SplitStoredHashIndex(idx)
			L, sub := level/8, level%8
			tn := (n << sub) >> 8
			pos := n - tn*int64(256>>sub)
			hashes++
			if _, ok := l.edgeHash(L, tn, sub, pos); ok {
				continue
			}
			if k := [2]int64{int64(L), tn}; !seen[k] && !l.tiles.has(L, tn) {
				seen[k] = true
				dbReads++
			}
		}
		return r.ReadHashes(indexes)
	})
	if _, err := merkle.ProveRecord(l.hasher, size, index, c); err != nil {
		b.Fatal(err)
	}
	if _, err := l.rootAt(size, c); err != nil {
		b.Fatal(err)
	}
	if _, err := c.ReadHashes([]int64{merkle.StoredHashIndex(0, index)}); err != nil {
		b.Fatal(err)
	}
	return hashes, dbReads
}

// procWriteBytes is this process's wchar from /proc/self/io (bytes passed
// to write-like system calls), or 0 where it cannot be read.
func procWriteBytes() int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

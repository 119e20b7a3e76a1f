package ledger

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/crashtest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// TestCrashHelper is not a test: TestKill9 runs the test binary with this
// test selected and SHUZHI_CRASH_DIR set, to append until it is killed.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("SHUZHI_CRASH_DIR")
	if dir == "" {
		return // run normally: nothing to do
	}
	ctx := context.Background()
	d, err := db.Open(ctx, db.Options{DSN: os.Getenv("SHUZHI_CRASH_DSN"), DataDir: dir})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	if _, err := d.Migrate(ctx, migrations()); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	prof, err := crypto.LoadOrCreate(dir+"/keys", crypto.ProfileIntl, crypto.KeyFiles{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	l, err := Open(ctx, d, prof, Options{Origin: origin, CheckpointFile: dir + "/checkpoint"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	out := make(chan string, 1024)
	for g := range 64 {
		go func() {
			for i := 0; ; i++ {
				r, err := l.Append(ctx, record(g*1_000_000+i, fmt.Sprintf("org%d", g%4)))
				if err != nil {
					out <- "error " + err.Error()
					return
				}
				out <- fmt.Sprintf("%d %s", r.Index, r.LeafHash)
			}
		}()
	}
	w := bufio.NewWriter(os.Stdout)
	for line := range out {
		fmt.Fprintln(w, line)
		w.Flush() // a receipt is printed only after Append returned it
	}
}

func TestKill9DuringAppends(t *testing.T) {
	t.Parallel()
	for _, backend := range dbtest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			dsn := ""
			if backend == db.Postgres {
				dsn = dbtest.NewPGDatabase(t)
			}
			receipts := map[int64]string{}
			for round := range 2 { // crash, restart and crash again
				got := 0
				crashtest.KillDuring(t, "TestCrashHelper", []string{"SHUZHI_CRASH_DIR=" + dir, "SHUZHI_CRASH_DSN=" + dsn}, 60*time.Second, func(line string) bool {
					f := strings.Fields(line)
					if len(f) > 0 && f[0] == "error" {
						t.Fatalf("round %d: appender failed: %s", round, line)
					}
					if len(f) != 2 {
						return true // not a receipt
					}
					i, _ := strconv.ParseInt(f[0], 10, 64)
					receipts[i] = f[1]
					got++
					return got < 3000
				})
				if got < 100 {
					t.Fatalf("round %d: only %d receipts before the kill", round, got)
				}
			}
			ctx := context.Background()
			d, err := db.Open(ctx, db.Options{DSN: dsn, DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			prof, err := crypto.LoadOrCreate(dir+"/keys", crypto.ProfileIntl, crypto.KeyFiles{})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Verify(ctx, d, prof, origin, dir+"/checkpoint")
			if err != nil || !rep.OK() {
				t.Fatalf("verify after kill -9: %+v %v", rep, err)
			}
			l, err := Open(ctx, d, prof, Options{Origin: origin, ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			for i, leaf := range receipts {
				e, err := l.Entry(ctx, i)
				if err != nil || e.LeafHash != leaf {
					t.Fatalf("receipt %d (%s) is not in the log after the crash: %+v %v", i, leaf, e, err)
				}
			}
			t.Logf("%d receipts, log size %d after two kills", len(receipts), rep.Size)
		})
	}
}

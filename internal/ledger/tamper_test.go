package ledger

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// tamperedLog builds a log of 700 entries, closes it, applies tamper to the
// database, and returns Verify's report.
func tamperedLog(t *testing.T, backend db.Dialect, tamper func(ctx context.Context, d *db.DB)) *Report {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, backend)
	if _, err := d.Migrate(ctx, migrations()); err != nil {
		t.Fatal(err)
	}
	prof, _ := crypto.NewEphemeral(crypto.ProfileIntl)
	l, err := Open(ctx, d, prof, Options{Origin: origin, CheckpointEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	appendMany(t, l, 350, 4)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(ctx, d, prof, origin, ""); err != nil || !rep.OK() {
		t.Fatalf("the untouched log does not verify: %+v %v", rep, err)
	}
	tamper(ctx, d)
	rep, err := Verify(ctx, d, prof, origin, "")
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func bundle(t *testing.T, ctx context.Context, d *db.DB, n int64) [][]byte {
	t.Helper()
	var data []byte
	if err := d.QueryRow(ctx, `SELECT data FROM ledger_bundles WHERE n = ?`, n).Scan(&data); err != nil {
		t.Fatal(err)
	}
	es, err := merkle.ParseBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(es))
	for i, e := range es {
		out[i] = append([]byte(nil), e...)
	}
	return out
}

func putBundle(t *testing.T, ctx context.Context, d *db.DB, n int64, es [][]byte, width int) {
	t.Helper()
	data, err := merkle.MarshalBundle(es)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(ctx, `UPDATE ledger_bundles SET data = ?, width = ? WHERE n = ?`, data, width, n); err != nil {
		t.Fatal(err)
	}
}

func wantProblem(t *testing.T, rep *Report, index int64, words string) {
	t.Helper()
	if rep.OK() {
		t.Fatal("tampering went undetected")
	}
	for _, p := range rep.Problems {
		if p.Index == index && strings.Contains(p.What, words) {
			return
		}
	}
	t.Fatalf("no problem at entry %d mentioning %q; got %+v", index, words, rep.Problems)
}

func TestTamperingIsDetected(t *testing.T) {
	t.Parallel()
	for _, backend := range dbtest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			t.Parallel()
			t.Run("one byte of an entry changed", func(t *testing.T) {
				t.Parallel()
				rep := tamperedLog(t, backend, func(ctx context.Context, d *db.DB) {
					es := bundle(t, ctx, d, 1)
					es[10][len(es[10])/2] ^= 0x01
					putBundle(t, ctx, d, 1, es, len(es))
				})
				wantProblem(t, rep, 256+10, "does not match its stored leaf hash")
			})
			t.Run("an entry deleted", func(t *testing.T) {
				t.Parallel()
				rep := tamperedLog(t, backend, func(ctx context.Context, d *db.DB) {
					es := bundle(t, ctx, d, 0)
					es = append(es[:100], es[101:]...)
					putBundle(t, ctx, d, 0, es, len(es))
				})
				wantProblem(t, rep, 100, "does not match its stored leaf hash")
				wantProblem(t, rep, 255, "entry bundle 0 holds 255 entries")
			})
			t.Run("two entries swapped", func(t *testing.T) {
				t.Parallel()
				rep := tamperedLog(t, backend, func(ctx context.Context, d *db.DB) {
					es := bundle(t, ctx, d, 0)
					es[3], es[200] = es[200], es[3]
					putBundle(t, ctx, d, 0, es, len(es))
				})
				wantProblem(t, rep, 3, "does not match")
				wantProblem(t, rep, 200, "does not match")
				var entries []int64
				for _, p := range rep.Problems {
					if p.Index >= 0 {
						entries = append(entries, p.Index)
					}
				}
				if len(entries) != 2 {
					t.Fatalf("a swap concerns two entries, got %+v", rep.Problems)
				}
				wantProblem(t, rep, -1, "signed checkpoints")
			})
			t.Run("a stored hash edited", func(t *testing.T) {
				t.Parallel()
				rep := tamperedLog(t, backend, func(ctx context.Context, d *db.DB) {
					var interior []byte
					if err := d.QueryRow(ctx, `SELECT interior FROM ledger_tiles WHERE level = 0 AND n = 0`).Scan(&interior); err != nil {
						t.Fatal(err)
					}
					interior[32*5] ^= 0xff // level 1, index 5: covers entries 10 and 11
					if _, err := d.Exec(ctx, `UPDATE ledger_tiles SET interior = ? WHERE level = 0 AND n = 0`, interior); err != nil {
						t.Fatal(err)
					}
				})
				wantProblem(t, rep, 10, "stored hash at level 1 index 5")
			})
			t.Run("a checkpoint's root replaced", func(t *testing.T) {
				t.Parallel()
				rep := tamperedLog(t, backend, func(ctx context.Context, d *db.DB) {
					if _, err := d.Exec(ctx, `UPDATE ledger_checkpoints SET note = REPLACE(note, '`+origin+`', 'other.log/x')`); err != nil {
						t.Fatal(err)
					}
				})
				wantProblem(t, rep, -1, "signature does not verify")
			})
		})
	}
}

// Rolling the database back to an older copy leaves an internally
// consistent log; the checkpoint kept outside the database exposes it.
func TestRollbackIsDetected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cpFile := filepath.Join(dir, "ledger", "checkpoint")
	prof, _ := crypto.NewEphemeral(crypto.ProfileIntl)
	open := func() *db.DB {
		d, err := db.Open(ctx, db.Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := open()
	if _, err := d.Migrate(ctx, migrations()); err != nil {
		t.Fatal(err)
	}
	l, err := Open(ctx, d, prof, Options{Origin: origin, CheckpointEvery: 5 * time.Millisecond, CheckpointFile: cpFile})
	if err != nil {
		t.Fatal(err)
	}
	appendMany(t, l, 300, 4)
	l.Close()
	d.Close()
	copyFile(t, filepath.Join(dir, "shuzhi.db"), filepath.Join(dir, "old.db"))
	d = open()
	l, err = Open(ctx, d, prof, Options{Origin: origin, CheckpointEvery: 5 * time.Millisecond, CheckpointFile: cpFile})
	if err != nil {
		t.Fatal(err)
	}
	appendMany(t, l, 300, 4)
	l.Close()
	d.Close()
	// Roll back: the older copy replaces the database (WAL files too).
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(filepath.Join(dir, "shuzhi.db"+suffix))
	}
	copyFile(t, filepath.Join(dir, "old.db"), filepath.Join(dir, "shuzhi.db"))
	d = open()
	defer d.Close()
	if rep, err := Verify(ctx, d, prof, origin, ""); err != nil || !rep.OK() {
		t.Fatalf("the older copy is consistent in itself, so without the file it verifies: %+v %v", rep, err)
	}
	rep, err := Verify(ctx, d, prof, origin, cpFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		if strings.Contains(p.What, "rolled back") {
			return
		}
	}
	t.Fatalf("rollback not reported: %+v", rep)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
}

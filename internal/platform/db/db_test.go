package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

var testMigrations = []db.Migrations{
	db.PlatformMigrations(),
	{Module: "widgets", FS: fstest.MapFS{
		"0001_init.sql": {Data: []byte("CREATE TABLE widgets (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, n BIGINT NOT NULL);\nCREATE INDEX widgets_n ON widgets (n);\n")},
		"0002_more.sql": {Data: []byte("ALTER TABLE widgets ADD COLUMN note TEXT;")},
	}},
}

func TestStore(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, testMigrations, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t.Run("migrations are recorded and idempotent", func(t *testing.T) {
			v, err := d.AppliedVersions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := d.Plan([]db.Migrations{db.PlatformMigrations()})
			if err != nil {
				t.Fatal(err)
			}
			if v["widgets"] != 2 || v["platform"] != len(plan) {
				t.Fatalf("applied versions = %v, want widgets 2 platform %d", v, len(plan))
			}
			again, err := d.Migrate(ctx, testMigrations)
			if err != nil || len(again) != 0 {
				t.Fatalf("second migrate applied %d steps, err %v", len(again), err)
			}
		})
		t.Run("transaction commits and placeholders rebind", func(t *testing.T) {
			err := d.InTx(ctx, func(ctx context.Context) error {
				if _, err := d.Exec(ctx, `INSERT INTO widgets (id, name, n, note) VALUES (?, ?, ?, ?)`, "a", "alpha", 1, "what?"); err != nil {
					return err
				}
				_, err := d.Exec(ctx, `INSERT INTO widgets (id, name, n) VALUES (?, ?, ?)`, "b", "beta", 2)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var note string
			if err := d.QueryRow(ctx, `SELECT note FROM widgets WHERE name = ? AND note <> '?'`, "alpha").Scan(&note); err != nil || note != "what?" {
				t.Fatalf("note = %q, err %v", note, err)
			}
		})
		t.Run("failed transaction leaves nothing", func(t *testing.T) {
			boom := errors.New("boom")
			err := d.InTx(ctx, func(ctx context.Context) error {
				if _, err := d.Exec(ctx, `INSERT INTO widgets (id, name, n) VALUES (?, ?, ?)`, "c", "gamma", 3); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v", err)
			}
			var n int
			_ = d.QueryRow(ctx, `SELECT COUNT(*) FROM widgets WHERE id = ?`, "c").Scan(&n)
			if n != 0 {
				t.Fatalf("rolled-back row is present")
			}
		})
		t.Run("unique violation is recognised", func(t *testing.T) {
			_, err := d.Exec(ctx, `INSERT INTO widgets (id, name, n) VALUES (?, ?, ?)`, "d", "alpha", 4)
			if !db.IsUniqueViolation(err) {
				t.Fatalf("err = %v, want unique violation", err)
			}
		})
		t.Run("dedup marks once", func(t *testing.T) {
			dd := db.Dedup{DB: d}
			seen, err := dd.Seen(ctx, "c1", "e1")
			if err != nil || seen {
				t.Fatalf("seen before mark: %v %v", seen, err)
			}
			for range 2 {
				if err := dd.Mark(ctx, "c1", "e1"); err != nil {
					t.Fatal(err)
				}
			}
			if seen, _ := dd.Seen(ctx, "c1", "e1"); !seen {
				t.Fatal("not seen after mark")
			}
			if seen, _ := dd.Seen(ctx, "c2", "e1"); seen {
				t.Fatal("another consumer sees the mark")
			}
		})
		t.Run("row inserter writes every row once, in and out of transactions", func(t *testing.T) {
			in := d.RowInserter(`INSERT INTO widgets (id, name, n) VALUES`, 3, 100, `ON CONFLICT DO NOTHING`)
			rows := func(prefix string, from, to int) []any {
				var args []any
				for i := from; i < to; i++ {
					args = append(args, fmt.Sprintf("%s%03d", prefix, i), fmt.Sprintf("%s-name-%03d", prefix, i), i)
				}
				return args
			}
			// 77 rows in a transaction (maxRows 100 rounds down to 64:
			// statements of 64, 8, 4 and 1 rows on SQLite, 64 and 13 on
			// PostgreSQL), twice in a row (the second transaction reuses
			// the prepared statements).
			for range 2 {
				if err := d.InTx(ctx, func(ctx context.Context) error { return in.Insert(ctx, rows("r", 0, 77)) }); err != nil {
					t.Fatal(err)
				}
			}
			// 130 more without a transaction, overlapping 7.
			if err := in.Insert(ctx, rows("r", 70, 200)); err != nil {
				t.Fatal(err)
			}
			var n, sum int
			if err := d.QueryRow(ctx, `SELECT COUNT(*), SUM(n) FROM widgets WHERE id LIKE 'r%'`).Scan(&n, &sum); err != nil {
				t.Fatal(err)
			}
			if n != 200 || sum != 199*200/2 {
				t.Fatalf("rows = %d (sum %d), want 200 (sum %d)", n, sum, 199*200/2)
			}
			var name string
			if err := d.QueryRow(ctx, `SELECT name FROM widgets WHERE id = ?`, "r150").Scan(&name); err != nil || name != "r-name-150" {
				t.Fatalf("row r150: %q %v", name, err)
			}
			// A rolled-back transaction leaves none of its rows.
			boom := errors.New("boom")
			err := d.InTx(ctx, func(ctx context.Context) error {
				if err := in.Insert(ctx, rows("x", 0, 5)); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v", err)
			}
			if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM widgets WHERE id LIKE 'x%'`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("rolled-back rows = %d %v", n, err)
			}
			if err := in.Insert(ctx, []any{"y", "y"}); err == nil || !strings.Contains(err.Error(), "rows of 3 columns") {
				t.Fatalf("ragged values: err = %v", err)
			}
		})
	})
}

func TestPlanRejectsGaps(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite)
	_, err := d.Plan([]db.Migrations{{Module: "m", FS: fstest.MapFS{"0002_x.sql": {Data: []byte("SELECT 1;")}}}})
	if err == nil {
		t.Fatal("a plan starting at version 2 was accepted")
	}
	_, err = d.Plan([]db.Migrations{{Module: "m", FS: fstest.MapFS{"first.sql": {Data: []byte("SELECT 1;")}}}})
	if err == nil {
		t.Fatal("a badly named migration was accepted")
	}
}

func TestDialectOverride(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite)
	plan, err := d.Plan([]db.Migrations{{Module: "m", FS: fstest.MapFS{
		"0001_x.sql":          {Data: []byte("generic")},
		"0001_x.sqlite.sql":   {Data: []byte("sqlite")},
		"0001_x.postgres.sql": {Data: []byte("postgres")},
	}}})
	if err != nil || len(plan) != 1 || plan[0].SQL != "sqlite" {
		t.Fatalf("plan = %+v, err %v", plan, err)
	}
}

// A new SQLite database gets 8 KiB pages in WAL mode; an existing file keeps
// the page size it was created with.
func TestSQLitePageSize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pragmas := func(d *db.DB) (size int, mode string) {
		t.Helper()
		if err := d.QueryRow(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRow(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		return size, mode
	}
	dir := t.TempDir()
	d, err := db.Open(ctx, db.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if size, mode := pragmas(d); size != 8192 || mode != "wal" {
		t.Fatalf("new database: page_size %d, journal_mode %q; want 8192, wal", size, mode)
	}
	d.Close()

	// A 4 KiB database made by an earlier version stays as it is.
	old := filepath.Join(t.TempDir(), "old.db")
	c, err := sql.Open("sqlite", "file:"+old+"?_pragma=page_size(4096)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	c.Close()
	d, err = db.Open(ctx, db.Options{DSN: "file:" + old})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if size, _ := pragmas(d); size != 4096 {
		t.Fatalf("existing database: page_size %d, want 4096 kept", size)
	}
}

// TestSQLiteWriterConnection: every write of the process — InTx, Exec and
// RowInserter outside a transaction, BeginWrite under LockWrites — goes to
// one connection, however many readers use the pool meanwhile: SQLite's
// total_changes() (rows written by this connection) counts all of them.
func TestSQLiteWriterConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.Open(t, db.SQLite)
	if _, err := d.Exec(ctx, `CREATE TABLE w (x INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	defer func() { close(stop); readers.Wait() }()
	for range 32 { // more than the pool's connections: they change hands
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var n int
				if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM w`).Scan(&n); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	ins := d.RowInserter(`INSERT INTO w (x) VALUES`, 1, 8, "")
	const rounds = 50
	for i := range rounds {
		if err := d.InTx(ctx, func(ctx context.Context) error {
			_, err := d.Exec(ctx, `INSERT INTO w (x) VALUES (?)`, i)
			return err
		}); err != nil {
			t.Fatalf("InTx, round %d: %v", i, err)
		}
		if _, err := d.Exec(ctx, `INSERT INTO w (x) VALUES (?)`, i); err != nil {
			t.Fatalf("Exec, round %d: %v", i, err)
		}
		if err := ins.Insert(ctx, []any{i, i}); err != nil {
			t.Fatalf("RowInserter, round %d: %v", i, err)
		}
		unlock, err := d.LockWrites(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := d.BeginWrite(ctx)
		if err == nil {
			if _, err = tx.ExecContext(ctx, `INSERT INTO w (x) VALUES (?)`, i); err == nil {
				err = tx.Commit()
			} else {
				_ = tx.Rollback()
			}
		}
		unlock()
		if err != nil {
			t.Fatalf("BeginWrite, round %d: %v", i, err)
		}
	}
	var rows, mine int
	if err := d.InTx(ctx, func(ctx context.Context) error {
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM w`).Scan(&rows); err != nil {
			return err
		}
		return d.QueryRow(ctx, `SELECT total_changes()`).Scan(&mine)
	}); err != nil {
		t.Fatal(err)
	}
	if rows != 5*rounds || mine != rows {
		t.Fatalf("%d rows written, %d of them on the writer connection; want %d, all", rows, mine, 5*rounds)
	}
}

// TestCopyInto: on PostgreSQL an inserter with CopyInto writes batches of
// rows inside InTx by COPY (a rule on INSERT, which COPY does not fire,
// tells which way rows went), small batches and rows outside a
// transaction by INSERT; a duplicate key in a COPY is a unique violation
// and nothing of its transaction stays. SQLite writes them all by INSERT.
func TestCopyInto(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		pg := d.Dialect() == db.Postgres
		for _, q := range []string{`CREATE TABLE t (k BIGINT PRIMARY KEY, v TEXT NOT NULL, n INTEGER NOT NULL)`, `CREATE TABLE t_log (k BIGINT NOT NULL)`} {
			if _, err := d.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if pg {
			if _, err := d.Exec(ctx, `CREATE RULE t_inserted AS ON INSERT TO t DO ALSO INSERT INTO t_log VALUES (NEW.k)`); err != nil {
				t.Fatal(err)
			}
		}
		ins := d.RowInserter(`INSERT INTO t (k, v, n) VALUES`, 3, 64, "").CopyInto("t", "k", "v", "n")
		rows := func(from, n int) []any {
			var a []any
			for k := from; k < from+n; k++ {
				a = append(a, int64(k), fmt.Sprintf("值%d", k), k%7)
			}
			return a
		}
		counts := func() (rows, logged int) {
			t.Helper()
			if err := d.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM t), (SELECT COUNT(*) FROM t_log)`).Scan(&rows, &logged); err != nil {
				t.Fatal(err)
			}
			return rows, logged
		}
		inTx := func(a []any) error {
			return d.InTx(ctx, func(ctx context.Context) error { return ins.Insert(ctx, a) })
		}
		if err := inTx(rows(0, 100)); err != nil {
			t.Fatal(err)
		}
		wantLog := 0 // COPY does not fire the rule (and SQLite has none)
		if n, logged := counts(); n != 100 || logged != wantLog {
			t.Fatalf("after 100 rows in a transaction: %d rows, %d by INSERT; want 100, %d", n, logged, wantLog)
		}
		var v string
		var m int
		if err := d.QueryRow(ctx, `SELECT v, n FROM t WHERE k = 99`).Scan(&v, &m); err != nil || v != "值99" || m != 99%7 {
			t.Fatalf("row 99 = %q, %d, %v", v, m, err)
		}
		if err := inTx(rows(100, 5)); err != nil { // fewer than COPY is worth
			t.Fatal(err)
		}
		if err := ins.Insert(ctx, rows(105, 40)); err != nil { // outside a transaction
			t.Fatal(err)
		}
		if pg {
			wantLog = 45
		}
		if n, logged := counts(); n != 145 || logged != wantLog {
			t.Fatalf("after 5 more in a transaction and 40 outside: %d rows, %d by INSERT; want 145, %d", n, logged, wantLog)
		}
		err := inTx(rows(140, 40)) // 140..144 exist
		if !db.IsUniqueViolation(err) {
			t.Fatalf("a duplicate key: %v, want a unique violation", err)
		}
		if n, _ := counts(); n != 145 {
			t.Fatalf("%d rows after the failed transaction, want 145", n)
		}
	})
}

// TestSQLiteWriterAfterCancel: a write transaction whose context is
// cancelled while one of its statements runs leaves the writer connection
// outside any transaction, so that the writes after it commit. (database/sql
// marks such a transaction done even when SQLite refused its ROLLBACK, and
// the writer connection, unlike a pooled one, is kept.)
func TestSQLiteWriterAfterCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.Open(t, db.SQLite)
	if _, err := d.Exec(ctx, `CREATE TABLE c (x INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM c`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 20 {
		cctx, cancel := context.WithCancel(ctx)
		err := d.InTx(cctx, func(ctx context.Context) error {
			if _, err := d.Exec(ctx, `INSERT INTO c (x) VALUES (-1)`); err != nil {
				return err
			}
			// A long statement, cancelled while it runs; its rows are
			// read on as a caller that has not seen the cancel yet would.
			rows, err := d.Query(ctx, `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000000) SELECT x FROM n`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for k := 0; rows.Next(); k++ {
				if k == 1000+i*37 {
					cancel()
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
			return ctx.Err()
		})
		cancel()
		if err == nil {
			t.Fatalf("round %d: the cancelled transaction committed", i)
		}
		if _, err := d.Exec(ctx, `INSERT INTO c (x) VALUES (?)`, i); err != nil {
			t.Fatalf("round %d: the write after the cancelled transaction: %v", i, err)
		}
		if n := count(); n != i+1 {
			t.Fatalf("round %d: %d rows visible to other connections, want %d (the writer connection still in a transaction?)", i, n, i+1)
		}
	}
}

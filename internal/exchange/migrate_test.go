package exchange

import (
	"context"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
)

// TestSubjectsWithoutRowid: on SQLite the tracker index becomes a WITHOUT
// ROWID table in the logs file, both in a new database and in one that
// held rows before the migration (its rows kept).
func TestSubjectsWithoutRowid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	before := fstest.MapFS{} // the exchange's migrations before 0009
	files, err := fs.ReadDir(migrationsFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if v, _ := strconv.Atoi(strings.SplitN(f.Name(), "_", 2)[0]); v < 9 {
			data, err := fs.ReadFile(migrationsFS, "migrations/"+f.Name())
			if err != nil {
				t.Fatal(err)
			}
			before[f.Name()] = &fstest.MapFile{Data: data}
		}
	}
	open := func(dir string, ms db.Migrations) *db.DB {
		t.Helper()
		d, err := db.Open(ctx, db.Options{DataDir: dir, Side: &db.Side{Schema: "logs", Tables: LogTables}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Migrate(ctx, []db.Migrations{db.PlatformMigrations(), ms}); err != nil {
			d.Close()
			t.Fatal(err)
		}
		return d
	}
	check := func(d *db.DB, rows int) {
		t.Helper()
		var def string
		if err := d.QueryRow(ctx, `SELECT sql FROM logs.sqlite_master WHERE type = 'table' AND name = 'ex_access_subjects'`).Scan(&def); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(strings.TrimSpace(def), "WITHOUT ROWID") {
			t.Fatalf("ex_access_subjects in the logs file: %s", def)
		}
		var n, inMain int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM ex_access_subjects WHERE subject = 'person:a'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != rows {
			t.Fatalf("%d rows of person:a, want %d", n, rows)
		}
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM main.sqlite_master WHERE name LIKE 'ex_access_subjects%'`).Scan(&inMain); err != nil || inMain != 0 {
			t.Fatalf("%d ex_access_subjects tables left in the main file (%v)", inMain, err)
		}
	}

	d := open(t.TempDir(), Migrations())
	check(d, 0)
	d.Close()

	dir := t.TempDir()
	d = open(dir, db.Migrations{Module: "exchange", FS: before})
	for i, id := range []string{"a1", "a2", "a3"} {
		if _, err := d.Exec(ctx, `INSERT INTO ex_access_subjects (subject, access_id, at) VALUES ('person:a', ?, ?), ('person:b', ?, ?)`, id, i, id, i); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	d = open(dir, Migrations())
	defer d.Close()
	check(d, 3)
	if _, err := d.Exec(ctx, `INSERT INTO ex_access_subjects (subject, access_id, at) VALUES ('person:a', 'a1', 9) ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
	check(d, 3)
}

package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
)

var sideMigrations = []db.Migrations{
	db.PlatformMigrations(),
	{Module: "log", FS: fstest.MapFS{
		"0001_init.sql": {Data: []byte(`CREATE TABLE things (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, thing TEXT NOT NULL, n BIGINT NOT NULL);
CREATE INDEX events_thing ON events (thing, seq);
CREATE TABLE owners (name TEXT PRIMARY KEY);
CREATE TABLE marks (owner TEXT NOT NULL REFERENCES owners (name), n INTEGER NOT NULL);
`)},
	}},
}

func openSide(t *testing.T, dir string, side *db.Side) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Options{DataDir: dir, Side: side})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Migrate(context.Background(), sideMigrations); err != nil {
		d.Close()
		t.Fatal(err)
	}
	return d
}

func objects(t *testing.T, d *db.DB, schema string) map[string]bool {
	t.Helper()
	rows, err := d.Query(context.Background(), `SELECT name FROM `+schema+`.sqlite_master WHERE name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		out[n] = true
	}
	return out
}

// TestSide checks that side tables live in their own file, keep their rows
// and indexes when moved there from an existing database, and that a
// commit to them leaves the main file's version (and so its readers' page
// caches) alone.
func TestSide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()

	// A database from before: the events table in the main file, with rows.
	d := openSide(t, dir, nil)
	for i := range 300 {
		if _, err := d.Exec(ctx, `INSERT INTO events (seq, id, thing, n) VALUES (?, ?, ?, ?)`, i, fmt.Sprintf("e%d", i), fmt.Sprintf("t%d", i%7), i); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{`INSERT INTO things (id, name) VALUES ('t1', 'one')`, `INSERT INTO owners (name) VALUES ('o1')`,
		`INSERT INTO marks (owner, n) VALUES ('o1', 1)`} {
		if _, err := d.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()

	// A referenced table goes before the table referring to it.
	side := &db.Side{Schema: "logside", Tables: []string{"events", "owners", "marks"}}
	d = openSide(t, dir, side)
	if _, err := os.Stat(filepath.Join(dir, "shuzhi-logside.db")); err != nil {
		t.Fatalf("side file: %v", err)
	}
	if main := objects(t, d, "main"); main["events"] || main["events_thing"] || !main["things"] {
		t.Fatalf("main file holds %v", main)
	}
	if s := objects(t, d, "logside"); !s["events"] || !s["events_thing"] || !s["owners"] || !s["marks"] || s["things"] {
		t.Fatalf("side file holds %v", s)
	}
	// The foreign key holds in the side file.
	if _, err := d.Exec(ctx, `INSERT INTO marks (owner, n) VALUES ('nobody', 2)`); !db.IsForeignKeyViolation(err) {
		t.Fatalf("mark of an unknown owner: %v", err)
	}
	if _, err := d.Exec(ctx, `INSERT INTO marks (owner, n) VALUES ('o1', 2)`); err != nil {
		t.Fatal(err)
	}
	var n, sum int
	if err := d.QueryRow(ctx, `SELECT COUNT(*), SUM(n) FROM events`).Scan(&n, &sum); err != nil || n != 300 || sum != 299*300/2 {
		t.Fatalf("moved rows: %d (sum %d) %v", n, sum, err)
	}
	// The unique constraint came along; joins across the files work.
	if _, err := d.Exec(ctx, `INSERT INTO events (seq, id, thing, n) VALUES (1000, (SELECT id FROM events WHERE seq = 5), 't1', 0)`); !db.IsUniqueViolation(err) {
		t.Fatalf("duplicate id in the side table: %v", err)
	}
	var name string
	if err := d.QueryRow(ctx, `SELECT t.name FROM events e JOIN things t ON t.id = e.thing WHERE e.seq = 1`).Scan(&name); err != nil || name != "one" {
		t.Fatalf("join across files: %q %v", name, err)
	}

	// A reader's connection sees the main file's version move only with
	// commits to main tables.
	conn, err := d.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	version := func(schema string) int64 {
		var v int64
		if err := conn.QueryRowContext(ctx, `PRAGMA `+schema+`.data_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	m0, s0 := version("main"), version("logside")
	if err := d.InTx(ctx, func(ctx context.Context) error {
		_, err := d.Exec(ctx, `INSERT INTO events (seq, id, thing, n) VALUES (2000, 'new', 't1', 1)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if m1, s1 := version("main"), version("logside"); m1 != m0 || s1 == s0 {
		t.Fatalf("after a side commit: main %d -> %d, side %d -> %d", m0, m1, s0, s1)
	}
	if _, err := d.Exec(ctx, `INSERT INTO things (id, name) VALUES ('t2', 'two')`); err != nil {
		t.Fatal(err)
	}
	if m2 := version("main"); m2 == m0 {
		t.Fatal("a main commit did not move the main file's version")
	}
	conn.Close()
	d.Close()

	// Reopening leaves everything where it is.
	d = openSide(t, dir, side)
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil || n != 301 {
		t.Fatalf("after reopening: %d rows %v", n, err)
	}
	d.Close()
}

// TestSideInterruptedMove: a crash after the copy but before the drop
// leaves the table in both files; the next start keeps the side copy.
func TestSideInterruptedMove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	d := openSide(t, dir, nil)
	if _, err := d.Exec(ctx, `INSERT INTO events (seq, id, thing, n) VALUES (1, 'a', 't', 7)`); err != nil {
		t.Fatal(err)
	}
	// The copy, as moveToSide makes it, without the drop.
	side := filepath.Join(dir, "shuzhi-logside.db")
	conn, err := d.SQL().Conn(ctx) // ATTACH holds for this connection only
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`ATTACH DATABASE '` + side + `' AS logside`,
		`CREATE TABLE logside.events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, thing TEXT NOT NULL, n BIGINT NOT NULL)`,
		`CREATE INDEX logside.events_thing ON events (thing, seq)`,
		`INSERT INTO logside.events SELECT * FROM main.events`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	d.Close()
	d = openSide(t, dir, &db.Side{Schema: "logside", Tables: []string{"events"}})
	defer d.Close()
	if objects(t, d, "main")["events"] {
		t.Fatal("the main copy was not dropped")
	}
	var n int64
	if err := d.QueryRow(ctx, `SELECT n FROM events WHERE id = 'a'`).Scan(&n); err != nil || n != 7 {
		t.Fatalf("side row: %d %v", n, err)
	}
}

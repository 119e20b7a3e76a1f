// Package dbtest gives tests a fresh database on every backend: a SQLite file
// in a temporary directory, and a new PostgreSQL database on the server named
// by SHUZHI_TEST_PG (default postgres://postgres@127.0.0.1:5432/test), dropped
// when the test ends. `make test` makes sure such a server answers, starting a
// throwaway cluster when none does; PostgreSQL is never silently skipped.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
)

// DefaultPG is the PostgreSQL server the test suite uses unless
// SHUZHI_TEST_PG names another.
const DefaultPG = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PGAdminDSN returns the DSN of the server tests create databases on.
func PGAdminDSN() string {
	if v := os.Getenv("SHUZHI_TEST_PG"); v != "" {
		return v
	}
	return DefaultPG
}

// Backends are the names ForEach runs under.
var Backends = []db.Dialect{db.SQLite, db.Postgres}

// ForEach runs fn as a subtest once per backend, each with a fresh,
// migrated database.
func ForEach(t *testing.T, migrations []db.Migrations, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			d := Open(t, b)
			if _, err := d.Migrate(context.Background(), migrations); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			fn(t, d)
		})
	}
}

// Open returns a fresh, empty database of the given backend.
func Open(t testing.TB, backend db.Dialect) *db.DB {
	t.Helper()
	ctx := context.Background()
	var dsn string
	switch backend {
	case db.SQLite:
		dsn = ""
	case db.Postgres:
		dsn = NewPGDatabase(t)
	}
	d, err := db.Open(ctx, db.Options{DSN: dsn, DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open %s: %v", backend, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// NewPGDatabase creates a uniquely named database on the test server and
// returns its DSN; the database is dropped when the test ends.
func NewPGDatabase(t testing.TB) string {
	t.Helper()
	admin := PGAdminDSN()
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := adb.PingContext(ctx); err != nil {
		adb.Close()
		t.Fatalf("PostgreSQL is not reachable at %s (%v): run the suite with `make test`, which starts one, or set SHUZHI_TEST_PG", admin, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "shz_t_" + hex.EncodeToString(b[:])
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adb.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, _ = adb.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		adb.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("bad SHUZHI_TEST_PG: %v", err)
	}
	u.Path = "/" + name
	return strings.Replace(u.String(), "postgresql://", "postgres://", 1)
}

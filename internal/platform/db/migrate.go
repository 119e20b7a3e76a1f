package db

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations are one module's versioned schema changes: files named
// NNNN_description.sql in FS. A file NNNN_description.postgres.sql or
// NNNN_description.sqlite.sql replaces the plain one for that dialect.
type Migrations struct {
	Module string
	FS     fs.FS
}

// Migration is one parsed step.
type Migration struct {
	Module  string
	Version int
	Name    string
	SQL     string
}

// Plan lists the steps of all sources for this database's dialect, in
// module order then version order.
func (d *DB) Plan(sources []Migrations) ([]Migration, error) {
	var out []Migration
	for _, src := range sources {
		files, err := fs.Glob(src.FS, "*.sql")
		if err != nil {
			return nil, err
		}
		byVersion := map[int]Migration{}
		for _, f := range files {
			base := strings.TrimSuffix(path.Base(f), ".sql")
			dialect := ""
			for _, dl := range []Dialect{SQLite, Postgres} {
				if strings.HasSuffix(base, "."+string(dl)) {
					dialect, base = string(dl), strings.TrimSuffix(base, "."+string(dl))
				}
			}
			if dialect != "" && dialect != string(d.dialect) {
				continue
			}
			num, name, ok := strings.Cut(base, "_")
			v, err := strconv.Atoi(num)
			if !ok || err != nil || v <= 0 {
				return nil, fmt.Errorf("migrations %s: file %q must be named NNNN_description.sql", src.Module, f)
			}
			body, err := fs.ReadFile(src.FS, f)
			if err != nil {
				return nil, err
			}
			m := Migration{Module: src.Module, Version: v, Name: name, SQL: string(body)}
			if prev, dup := byVersion[v]; dup && dialect == "" {
				_ = prev // a dialect-specific file wins over the plain one
				continue
			}
			byVersion[v] = m
		}
		versions := make([]int, 0, len(byVersion))
		for v := range byVersion {
			versions = append(versions, v)
		}
		sort.Ints(versions)
		for i, v := range versions {
			if v != i+1 {
				return nil, fmt.Errorf("migrations %s: versions must be 1..n without gaps, found %d at position %d", src.Module, v, i+1)
			}
			out = append(out, byVersion[v])
		}
	}
	return out, nil
}

// Migrate applies every step not yet applied, each in its own transaction
// together with its bookkeeping row, and returns the steps it applied.
func (d *DB) Migrate(ctx context.Context, sources []Migrations) ([]Migration, error) {
	if _, err := d.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		module TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL,
		PRIMARY KEY (module, version))`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	plan, err := d.Plan(sources)
	if err != nil {
		return nil, err
	}
	applied, err := d.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	var done []Migration
	for _, m := range plan {
		if applied[m.Module] >= m.Version {
			continue
		}
		err := d.InTx(ctx, func(ctx context.Context) error {
			if _, err := d.Exec(ctx, `INSERT INTO schema_migrations (module, version, name, applied_at) VALUES (?, ?, ?, ?)`,
				m.Module, m.Version, m.Name, time.Now().UnixMilli()); err != nil {
				return err
			}
			for _, stmt := range splitStatements(m.SQL) {
				if _, err := d.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("%w\n--- statement ---\n%s", err, stmt)
				}
			}
			return nil
		})
		if err != nil {
			if IsUniqueViolation(err) {
				continue // another replica applied it first
			}
			return done, fmt.Errorf("migration %s %04d_%s: %w", m.Module, m.Version, m.Name, err)
		}
		done = append(done, m)
	}
	if d.side != nil {
		if err := d.moveToSide(ctx); err != nil {
			return done, err
		}
	}
	return done, nil
}

// Status lists the applied version of every module.
func (d *DB) appliedVersions(ctx context.Context) (map[string]int, error) {
	rows, err := d.Query(ctx, `SELECT module, MAX(version) FROM schema_migrations GROUP BY module`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var m string
		var v int
		if err := rows.Scan(&m, &v); err != nil {
			return nil, err
		}
		out[m] = v
	}
	return out, rows.Err()
}

// AppliedVersions reports, per module, the highest applied version.
func (d *DB) AppliedVersions(ctx context.Context) (map[string]int, error) {
	return d.appliedVersions(ctx)
}

// splitStatements splits a migration on semicolons at line ends. Migrations
// hold DDL only, so no statement contains a semicolon inside a literal.
func splitStatements(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") || t == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
)

// sideConnector opens SQLite connections with the side file attached.
type sideConnector struct {
	drv   driver.Driver
	dsn   string
	setup []string
}

func (c *sideConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("db: the sqlite driver cannot execute statements on a connection")
	}
	for _, q := range c.setup {
		if _, err := ex.ExecContext(ctx, q, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("db: %s: %w", q, err)
		}
	}
	return conn, nil
}

func (c *sideConnector) Driver() driver.Driver { return c.drv }

// moveToSide moves each side table still in the main file into the side
// file: first a copy with its indexes, in a transaction that writes only
// the side file (so it is there whole or not at all), then the main file's
// table is dropped in a transaction of its own. A crash in between leaves
// both; the next start finds the side copy complete and drops the other.
// (SQLite resolves an unqualified name to main first, so nothing reads the
// side copy before the drop.)
//
// Tables are copied in the order given (a table referenced by a foreign key
// before the tables referring to it) and dropped in the reverse order.
func (d *DB) moveToSide(ctx context.Context) error {
	s := d.side.Schema
	var moving []string
	for _, t := range d.side.Tables {
		inMain, err := d.hasTable(ctx, "main", t)
		if err != nil {
			return err
		}
		if !inMain {
			continue
		}
		moving = append(moving, t)
		inSide, err := d.hasTable(ctx, s, t)
		if err != nil {
			return err
		}
		if !inSide {
			if err := d.copyToSide(ctx, t); err != nil {
				return fmt.Errorf("db: moving %s to %s: %w", t, s, err)
			}
		}
	}
	for i := len(moving) - 1; i >= 0; i-- {
		t := moving[i]
		if err := d.InTx(ctx, func(ctx context.Context) error {
			_, err := d.Exec(ctx, `DROP TABLE main.`+t)
			return err
		}); err != nil {
			return fmt.Errorf("db: moving %s to %s: %w", t, s, err)
		}
	}
	return nil
}

func (d *DB) hasTable(ctx context.Context, schema, table string) (bool, error) {
	var n int
	err := d.QueryRow(ctx, `SELECT COUNT(*) FROM `+schema+`.sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&n)
	return n > 0, err
}

// copyToSide creates table t and its indexes in the side schema from the
// main file's definitions and copies the rows.
func (d *DB) copyToSide(ctx context.Context, t string) error {
	s := d.side.Schema
	rows, err := d.Query(ctx, `SELECT type, name, sql FROM main.sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'index', name`, t)
	if err != nil {
		return err
	}
	var ddl []string
	for rows.Next() {
		var typ, name string
		var def sql.NullString
		if err := rows.Scan(&typ, &name, &def); err != nil {
			rows.Close()
			return err
		}
		q, ok := qualify(def.String, typ, name, s)
		if !ok {
			rows.Close()
			return fmt.Errorf("cannot place %s %s in %s: %q", typ, name, s, def.String)
		}
		ddl = append(ddl, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return d.InTx(ctx, func(ctx context.Context) error {
		for _, q := range ddl {
			if _, err := d.Exec(ctx, q); err != nil {
				return fmt.Errorf("%w: %s", err, q)
			}
		}
		_, err := d.Exec(ctx, `INSERT INTO `+s+`.`+t+` SELECT * FROM main.`+t)
		return err
	})
}

// qualify puts a CREATE TABLE or CREATE [UNIQUE] INDEX statement of the
// object name in schema.
func qualify(def, typ, name, schema string) (string, bool) {
	var heads []string
	switch typ {
	case "table":
		heads = []string{"CREATE TABLE "}
	case "index":
		heads = []string{"CREATE INDEX ", "CREATE UNIQUE INDEX "}
	default:
		return "", false
	}
	for _, h := range heads {
		for _, n := range []string{name, `"` + name + `"`} {
			if strings.HasPrefix(def, h+n) {
				return h + schema + "." + strings.TrimPrefix(def, h), true
			}
		}
	}
	return "", false
}

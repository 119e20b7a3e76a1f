package db

import (
	"context"
	"database/sql"
)

// Prepared returns the statement for query (written with ? placeholders),
// prepared on the pool the first time and kept until the DB closes. Use it
// for statements that run all the time (parsing one costs as much as
// running it on SQLite); in a transaction, run it through
// Tx.StmtContext, which prepares it at most once per pooled connection.
func (d *DB) Prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	d.prepMu.Lock()
	defer d.prepMu.Unlock()
	if st, ok := d.prepared[query]; ok {
		return st, nil
	}
	st, err := d.sql.PrepareContext(ctx, d.Rebind(query))
	if err != nil {
		return nil, err
	}
	if d.prepared == nil {
		d.prepared = map[string]*sql.Stmt{}
	}
	d.prepared[query] = st
	return st, nil
}

// Stmts caches prepared statements for a bulk load: the same few
// statements run thousands of times in one transaction, and parsing them
// each time costs as much as running them on SQLite. Use it inside InTx
// (the statements belong to the context's transaction) and Close it before
// the transaction ends.
type Stmts struct {
	d   *DB
	ctx context.Context
	m   map[string]*sql.Stmt
}

// Stmts returns an empty cache bound to ctx's transaction (or the pool).
func (d *DB) Stmts(ctx context.Context) *Stmts {
	return &Stmts{d: d, ctx: ctx, m: map[string]*sql.Stmt{}}
}

func (s *Stmts) stmt(query string) (*sql.Stmt, error) {
	if st, ok := s.m[query]; ok {
		return st, nil
	}
	var st *sql.Stmt
	var err error
	if tx, ok := s.ctx.Value(txKey{}).(*sql.Tx); ok {
		st, err = tx.PrepareContext(s.ctx, s.d.Rebind(query))
	} else {
		st, err = s.d.sql.PrepareContext(s.ctx, s.d.Rebind(query))
	}
	if err != nil {
		return nil, err
	}
	s.m[query] = st
	return st, nil
}

// Exec runs a cached statement written with ? placeholders.
func (s *Stmts) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryRow runs a cached single-row query. An error preparing it is
// returned by Scan.
func (s *Stmts) QueryRow(ctx context.Context, query string, args ...any) *Row {
	st, err := s.stmt(query)
	if err != nil {
		return &Row{err: err}
	}
	return &Row{row: st.QueryRowContext(ctx, args...)}
}

// Close releases the statements.
func (s *Stmts) Close() {
	for _, st := range s.m {
		_ = st.Close()
	}
	clear(s.m)
}

// Row is a single-row result of a cached statement.
type Row struct {
	row *sql.Row
	err error
}

// Scan copies the row's columns, as sql.Row.Scan does.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.row.Scan(dest...)
}

type stmtsKey struct{}

// WithStmts makes every Exec on the returned context (inside the same
// transaction) run through the cache: a hot transaction that writes many
// rows with the same few statements — including statements issued by
// other packages on its context, such as the outbox — parses each once.
func WithStmts(ctx context.Context, s *Stmts) context.Context {
	return context.WithValue(ctx, stmtsKey{}, s)
}

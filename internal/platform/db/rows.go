package db

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"strings"
	"sync"
)

// RowInserter writes many rows of one shape with multi-row INSERTs that are
// prepared once on the pool (DB.Prepared) and reused in every transaction,
// so a hot writer never parses SQL: with SQLite, parsing a 256-row INSERT
// cost as much as running it. With SQLite n rows go as statements of
// power-of-two sizes (256 + 64 + 4 + 1 for 325 rows, say: at most nine
// statements kept per connection); with PostgreSQL, where each statement is
// a round trip, as full statements and one of the exact remainder.
type RowInserter struct {
	d       *DB
	head    string // INSERT INTO t (a, b) VALUES
	tail    string // e.g. ON CONFLICT DO NOTHING
	cols    int
	maxRows int // a power of two

	mu      sync.Mutex
	queries map[int]string // rows -> statement text, built once
}

// RowInserter returns an inserter for statements "head (?,..),(?,..) tail"
// of cols columns and at most maxRows rows (rounded down to a power of two;
// keep maxRows*cols under SQLite's and PostgreSQL's parameter limits).
func (d *DB) RowInserter(head string, cols, maxRows int, tail string) *RowInserter {
	if cols <= 0 || maxRows <= 0 {
		panic("db: RowInserter needs columns and rows")
	}
	return &RowInserter{d: d, head: head, tail: tail, cols: cols, maxRows: 1 << (bits.Len(uint(maxRows)) - 1), queries: map[int]string{}}
}

// query is the statement text for rows rows.
func (in *RowInserter) query(rows int) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if q, ok := in.queries[rows]; ok {
		return q
	}
	var q strings.Builder
	q.WriteString(in.head)
	q.WriteByte(' ')
	row := "(" + strings.Repeat(",?", in.cols)[1:] + ")"
	for i := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(row)
	}
	if in.tail != "" {
		q.WriteByte(' ')
		q.WriteString(in.tail)
	}
	in.queries[rows] = q.String()
	return in.queries[rows]
}

// Insert writes the rows whose values are args (cols values per row, row
// after row) in the context's transaction, or in a transaction of their
// own when there is none.
func (in *RowInserter) Insert(ctx context.Context, args []any) error {
	if len(args)%in.cols != 0 {
		return fmt.Errorf("db: %d values are not rows of %d columns", len(args), in.cols)
	}
	tx, _ := ctx.Value(txKey{}).(*sql.Tx)
	if tx == nil && in.d.wsem != nil {
		// SQLite: the rows go in on the writer connection, in a
		// transaction of their own.
		return in.d.InTx(ctx, func(ctx context.Context) error { return in.Insert(ctx, args) })
	}
	for n := len(args) / in.cols; n > 0; {
		rows := min(in.maxRows, n)
		if in.d.dialect == SQLite {
			rows = min(in.maxRows, 1<<(bits.Len(uint(n))-1))
		}
		st, err := in.d.Prepared(ctx, in.query(rows))
		if err != nil {
			return err
		}
		vals := args[:rows*in.cols]
		if tx != nil {
			// The transaction's copy is closed when the transaction ends;
			// it reuses the statement prepared on its connection.
			_, err = tx.StmtContext(ctx, st).ExecContext(ctx, vals...)
		} else {
			_, err = st.ExecContext(ctx, vals...)
		}
		if err != nil {
			return err
		}
		args = args[rows*in.cols:]
		n -= rows
	}
	return nil
}

package exchange

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
)

// hostedRow is one stored record of a hosted resource, still sealed.
type hostedRow struct{ data, subject string }

// rowReader reads hosted records by row key.
//
// On PostgreSQL every read is a round trip to the server, and on a busy
// machine the round trips themselves (a system call each way and a wake-up
// of a server process) cost more than the index lookup. So at most `slots`
// single-key reads run at once; one that arrives while all slots are taken
// joins a batch of its resource and waits, and when a read ends, the oldest
// waiting batch takes its slot and reads all its keys in one statement
// (rkey = ANY($2)). Nothing waits on a timer: a read that finds a slot free
// runs at once, alone, and batches form only while the database is busy, as
// large as it is slow. Bulk queries read their keys in one statement per
// keysPerRead keys. SQLite reads in process: one prepared read per key.
type rowReader struct {
	d     *db.DB
	slots int

	mu    sync.Mutex
	busy  int                  // slots taken
	queue []*rowBatch          // waiting for a slot, oldest first
	open  map[string]*rowBatch // resource id → the batch still taking keys
}

// rowBatch is single-key reads of one resource waiting to go together.
type rowBatch struct {
	res  string
	keys []string
	done chan struct{} // closed when rows and err are set
	rows map[string]hostedRow
	err  error
}

// readSlots is how many single-key reads run at once on PostgreSQL: the
// process's Ps (one or two reads per core keep the server busy; more only
// queue there, each costing its own round trip). Measured against no limit
// and against 1 and 2: docs/PERFORMANCE.md, "Exchange", session 11.
func readSlots() int { return runtime.GOMAXPROCS(0) }

// keysPerRead bounds the keys of one statement (bulk queries, batches).
const keysPerRead = 1000

// batchReadTimeout bounds a batch's statement: it runs for every reader in
// it, so no single reader's context cancels it.
const batchReadTimeout = 30 * time.Second

func newRowReader(d *db.DB, slots int) *rowReader {
	return &rowReader{d: d, slots: max(slots, 1), open: map[string]*rowBatch{}}
}

const (
	readOneSQL  = `SELECT data, subject FROM ex_rows WHERE resource_id = ? AND rkey = ?`
	readManySQL = `SELECT rkey, data, subject FROM ex_rows WHERE resource_id = ? AND rkey = ANY(?)`
)

// one reads the row of key rk of resource res.
func (rr *rowReader) one(ctx context.Context, res, rk string) (hostedRow, bool, error) {
	if rr.d.Dialect() != db.Postgres {
		return rr.readOne(ctx, res, rk)
	}
	rr.mu.Lock()
	b := rr.open[res]
	if b == nil && rr.busy < rr.slots {
		rr.busy++
		rr.mu.Unlock()
		row, ok, err := rr.readOne(ctx, res, rk)
		rr.release()
		return row, ok, err
	}
	if b == nil {
		b = &rowBatch{res: res, done: make(chan struct{})}
		rr.open[res] = b
		rr.queue = append(rr.queue, b)
	}
	b.keys = append(b.keys, rk)
	if len(b.keys) == keysPerRead {
		delete(rr.open, res) // full: later keys start another batch
	}
	rr.mu.Unlock()
	select {
	case <-b.done:
	case <-ctx.Done():
		return hostedRow{}, false, ctx.Err()
	}
	if b.err != nil {
		return hostedRow{}, false, b.err
	}
	row, ok := b.rows[rk]
	return row, ok, nil
}

// release ends a read: its slot goes to the oldest waiting batch, which
// stops taking keys and is read on a goroutine of its own (no reader of it
// has to stay for the others), or is freed.
func (rr *rowReader) release() {
	rr.mu.Lock()
	if len(rr.queue) == 0 {
		rr.busy--
		rr.mu.Unlock()
		return
	}
	b := rr.queue[0]
	rr.queue[0] = nil
	rr.queue = rr.queue[1:]
	if rr.open[b.res] == b {
		delete(rr.open, b.res)
	}
	rr.mu.Unlock()
	go rr.run(b)
}

// run reads a batch's keys and passes its slot on.
func (rr *rowReader) run(b *rowBatch) {
	ctx, cancel := context.WithTimeout(context.Background(), batchReadTimeout)
	b.rows, b.err = rr.readMany(ctx, b.res, b.keys)
	cancel()
	close(b.done)
	rr.release()
}

// many reads the rows of keys rks of resource res (those that exist).
func (rr *rowReader) many(ctx context.Context, res string, rks []string) (map[string]hostedRow, error) {
	out := make(map[string]hostedRow, len(rks))
	if rr.d.Dialect() != db.Postgres {
		for _, rk := range rks {
			row, ok, err := rr.readOne(ctx, res, rk)
			if err != nil {
				return nil, err
			}
			if ok {
				out[rk] = row
			}
		}
		return out, nil
	}
	for len(rks) > 0 {
		n := min(len(rks), keysPerRead)
		m, err := rr.readMany(ctx, res, rks[:n])
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			out[k] = v
		}
		rks = rks[n:]
	}
	return out, nil
}

func (rr *rowReader) readOne(ctx context.Context, res, rk string) (hostedRow, bool, error) {
	st, err := rr.d.Prepared(ctx, readOneSQL)
	if err != nil {
		return hostedRow{}, false, err
	}
	var row hostedRow
	err = st.QueryRowContext(ctx, res, rk).Scan(&row.data, &row.subject)
	if errors.Is(err, sql.ErrNoRows) {
		return hostedRow{}, false, nil
	}
	return row, err == nil, err
}

// readMany is one statement on PostgreSQL.
func (rr *rowReader) readMany(ctx context.Context, res string, rks []string) (map[string]hostedRow, error) {
	if len(rks) == 1 {
		row, ok, err := rr.readOne(ctx, res, rks[0])
		if err != nil || !ok {
			return map[string]hostedRow{}, err
		}
		return map[string]hostedRow{rks[0]: row}, nil
	}
	st, err := rr.d.Prepared(ctx, readManySQL)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, res, rks)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]hostedRow, len(rks))
	for rows.Next() {
		var rk string
		var row hostedRow
		if err := rows.Scan(&rk, &row.data, &row.subject); err != nil {
			return nil, err
		}
		out[rk] = row
	}
	return out, rows.Err()
}

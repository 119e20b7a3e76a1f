package exchange

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
)

// The data tracker's index (ex_access_subjects: subject → access) is
// written after the access rows, many batches at a time and sorted by
// subject, so that a query's commit writes only append-ordered pages. A
// batch is marked indexed in the same transaction as its index rows; a
// sweep indexes batches a crashed process left unindexed. The tracker
// flushes what is pending before it reads, so a person sees an access as
// soon as the query returned.

type subjectEntry struct {
	subject, access string
	at              int64
}

type indexer struct {
	s       *Service
	mu      sync.Mutex
	pending map[string][]subjectEntry // batch id -> its entries
	rows    *db.RowInserter
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newIndexer(s *Service) *indexer {
	x := &indexer{s: s, pending: map[string][]subjectEntry{}, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		rows: s.db.RowInserter(`INSERT INTO ex_access_subjects (subject, access_id, at) VALUES`, 3, 128, `ON CONFLICT DO NOTHING`)}
	go x.loop()
	return x
}

// add queues a committed batch's entries.
func (x *indexer) add(batch string, es []subjectEntry) {
	x.mu.Lock()
	x.pending[batch] = es
	x.mu.Unlock()
	select {
	case x.kick <- struct{}{}:
	default:
	}
}

func (x *indexer) close() {
	close(x.stop)
	<-x.done
}

// indexEvery is how long the indexer gathers batches before it writes.
const indexEvery = 200 * time.Millisecond

func (x *indexer) loop() {
	defer close(x.done)
	sweep := time.NewTicker(5 * time.Second)
	defer sweep.Stop()
	for {
		select {
		case <-x.stop:
			_ = x.flush(context.Background())
			return
		case <-x.kick:
			select {
			case <-time.After(indexEvery):
			case <-x.stop:
			}
		case <-sweep.C:
			if err := x.sweep(context.Background()); err != nil {
				x.s.log.Warn("exchange: indexing left batches", "err", err)
			}
		}
		if err := x.flush(context.Background()); err != nil {
			x.s.log.Warn("exchange: tracker index", "err", err)
		}
	}
}

// flush writes every pending batch's entries in one transaction.
func (x *indexer) flush(ctx context.Context) error {
	x.mu.Lock()
	taken := x.pending
	x.pending = map[string][]subjectEntry{}
	x.mu.Unlock()
	if len(taken) == 0 {
		return nil
	}
	var all []subjectEntry
	ids := make([]string, 0, len(taken))
	for id, es := range taken {
		ids = append(ids, id)
		all = append(all, es...)
	}
	// By subject (the index's order), and once each: a bulk query may name
	// a subject twice.
	slices.SortFunc(all, func(a, b subjectEntry) int {
		return cmp.Or(strings.Compare(a.subject, b.subject), strings.Compare(a.access, b.access))
	})
	all = slices.CompactFunc(all, func(a, b subjectEntry) bool { return a.subject == b.subject && a.access == b.access })
	var err error
	if x.s.db.Dialect() == db.Postgres {
		err = x.flushPG(ctx, all, ids)
	} else {
		err = x.flushSQLite(ctx, all, ids)
	}
	if err != nil {
		x.mu.Lock()
		for id, es := range taken {
			if _, again := x.pending[id]; !again {
				x.pending[id] = es
			}
		}
		x.mu.Unlock()
	}
	return err
}

// flushSQLite writes the entries and marks their batches in small
// transactions: queries waiting for the one writer (SQLite) are never held
// up for long (each well under a millisecond). The batches are marked after
// all their rows are in (a failure in between leaves rows that a retry
// skips).
func (x *indexer) flushSQLite(ctx context.Context, all []subjectEntry, ids []string) error {
	const per = 128
	var err error
	args := make([]any, 0, per*3)
	for lo := 0; lo < len(all) && err == nil; lo += per {
		args = args[:0]
		for _, e := range all[lo:min(lo+per, len(all))] {
			args = append(args, e.subject, e.access, e.at)
		}
		err = x.rows.Insert(ctx, args)
	}
	if err == nil {
		const marks = 64
		for lo := 0; lo < len(ids) && err == nil; lo += marks {
			hi := min(lo+marks, len(ids))
			args := make([]any, 0, hi-lo)
			for _, id := range ids[lo:hi] {
				args = append(args, id)
			}
			_, err = x.s.db.Exec(ctx, `UPDATE ex_batches SET indexed = 1 WHERE id IN (`+strings.Repeat(",?", hi-lo)[1:]+`)`, args...)
		}
	}
	return err
}

// pgIndexSQL writes a flush on PostgreSQL in one statement, which commits by
// itself: the entries from one array per column and the batches' marks. So
// nothing of a failed flush stays, and its rows need no ON CONFLICT check
// (on PostgreSQL a second probe of the index per row, 7 % of the server's
// time at 20,000 lookups/s); pgIndexAgainSQL has it, for the one case
// where rows can already be there: another process's sweep indexed a batch
// that this process then flushes too.
const (
	pgIndexSQL = `WITH s AS (INSERT INTO ex_access_subjects (subject, access_id, at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]))
UPDATE ex_batches SET indexed = 1 WHERE id = ANY($4)`
	pgIndexAgainSQL = `WITH s AS (INSERT INTO ex_access_subjects (subject, access_id, at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING)
UPDATE ex_batches SET indexed = 1 WHERE id = ANY($4)`
)

func (x *indexer) flushPG(ctx context.Context, all []subjectEntry, ids []string) error {
	subjects, access, at := make([]string, len(all)), make([]string, len(all)), make([]int64, len(all))
	for i, e := range all {
		subjects[i], access[i], at[i] = e.subject, e.access, e.at
	}
	_, err := x.s.db.Exec(ctx, pgIndexSQL, subjects, access, at, ids)
	if db.IsUniqueViolation(err) {
		_, err = x.s.db.Exec(ctx, pgIndexAgainSQL, subjects, access, at, ids)
	}
	return err
}

// sweep queues batches that stayed unindexed for a while (their process
// died between the commit and the index).
func (x *indexer) sweep(ctx context.Context) error {
	brows, err := x.s.db.Query(ctx, `SELECT id, seq FROM ex_batches WHERE indexed = 0 AND created_at < ? LIMIT 100`, x.s.now().Add(-10*time.Second).UnixMilli())
	if err != nil {
		return err
	}
	type batch struct {
		id  string
		seq int64
	}
	var bs []batch
	for brows.Next() {
		var b batch
		if err := brows.Scan(&b.id, &b.seq); err != nil {
			brows.Close()
			return err
		}
		bs = append(bs, b)
	}
	brows.Close()
	for _, b := range bs {
		rows, err := x.s.db.Query(ctx, `SELECT id, at, body FROM ex_access WHERE seq >= ? AND seq < ?`, b.seq*maxBatch, (b.seq+1)*maxBatch)
		if err != nil {
			return err
		}
		var es []subjectEntry
		for rows.Next() {
			var id, body string
			var at int64
			if err := rows.Scan(&id, &at, &body); err != nil {
				rows.Close()
				return err
			}
			var ab struct {
				Subjects []string `json:"subjects"`
			}
			if err := json.Unmarshal([]byte(body), &ab); err != nil {
				rows.Close()
				return err
			}
			for _, sub := range ab.Subjects {
				es = append(es, subjectEntry{sub, id, at})
			}
		}
		rows.Close()
		x.add(b.id, es)
	}
	return nil
}

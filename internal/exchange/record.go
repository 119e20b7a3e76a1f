package exchange

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Accesses are recorded in batches, and a query returns only after its
// record is written, so an answered query is always on record. Without a
// journal (PostgreSQL by default) every query's record (granted or refused)
// is queued to one recorder goroutine, which writes all queued records at
// once in one transaction of the access rows with their leaf hashes and a
// batch row. With the access journal (SQLite by default, PostgreSQL with
// --exchange-journal on; see journal.go) the query appends its own record
// to the journal file, and an ingester moves the journaled records into
// the same rows in the background, gathered into batches of up to maxBatch
// per transaction; whatever reads the access tables first waits for the
// records appended before it (sync). A pump
// then gathers the batches committed in the last quarter of a second or so
// into an epoch and appends one ledger entry per epoch whose payload hash
// is the RFC 6962 Merkle root (the ledger's hash) over the epoch's access
// leaves, in access order. An access is proved by its audit path in its
// epoch plus the ledger's inclusion proof of the epoch's entry.

// maxBatch bounds one batch.
const maxBatch = 4096

type pendingAccess struct {
	body *accessBody
	done chan error
}

type recorder struct {
	s     *Service
	queue chan pendingAccess
	stop  chan struct{}
	done  chan struct{}
	seqMu sync.Mutex
	seq   int64 // last batch seq; 0 = not loaded
	ins   inserters

	// The journal and its ingester (nil: rows are written directly).
	j        atomic.Pointer[journal]
	imu      sync.Mutex
	inq      []journaled   // appended, not yet moved in, in journal order
	progress chan struct{} // closed (and replaced) when records are moved in
	appended int64         // records appended (or replayed) so far
	ingested int64         // records moved in so far
	released int64         // journal files before this generation are removed
	ikick    chan struct{} // records were appended
	iurgent  chan struct{} // someone waits for records to be moved in
	gather   time.Duration // ingestGather (tests lengthen it)
	istop    chan struct{}
	idone    chan struct{}
}

// journaled is an appended record waiting to be moved in.
type journaled struct {
	body *accessBody
	data []byte
	end  journalPos
}

func newRecorder(s *Service) *recorder {
	r := &recorder{s: s, queue: make(chan pendingAccess, 8192), stop: make(chan struct{}), done: make(chan struct{}),
		progress: make(chan struct{}), ins: newInserters(s.db), gather: ingestGather}
	go r.loop()
	return r
}

func (r *recorder) close() {
	close(r.stop)
	<-r.done
	if j := r.j.Load(); j != nil {
		close(r.istop)
		<-r.idone
		_ = j.close()
	}
}

// OpenJournal makes the service record accesses through the access
// journal in dir (one process per directory): records a previous process
// appended but did not move in are moved in first. Call it once, before
// the service takes queries.
func (s *Service) OpenJournal(ctx context.Context, dir string) error {
	j, err := openJournal(dir)
	if err != nil {
		return err
	}
	var from journalPos
	err = s.db.QueryRow(ctx, `SELECT gen, off FROM ex_journals WHERE journal = ?`, j.id).Scan(&from.gen, &from.off)
	if errors.Is(err, sql.ErrNoRows) && j.fresh {
		// A journal from before journals had ids (one per database, SQLite):
		// its position is the single row of ex_journal.
		err = s.db.QueryRow(ctx, `SELECT gen, off FROM ex_journal WHERE id = 1`).Scan(&from.gen, &from.off)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		j.close()
		return err
	}
	r := s.rec
	var replayed []journaled
	cut, err := j.replay(from, func(data []byte, end journalPos) error {
		var b accessBody
		if err := json.Unmarshal(data, &b); err != nil {
			return fmt.Errorf("access journal: record before %d/%d: %w", end.gen, end.off, err)
		}
		replayed = append(replayed, journaled{body: &b, data: data, end: end})
		return nil
	})
	if err != nil {
		j.close()
		return err
	}
	if cut > 0 {
		// A write cut short by a crash: never acknowledged to a caller.
		s.log.Warn("exchange: access journal ended in an incomplete record, cut off", "bytes", cut, "dir", dir)
	}
	r.imu.Lock()
	r.inq = replayed
	r.appended = int64(len(replayed))
	r.imu.Unlock()
	r.released = from.gen
	r.ikick, r.iurgent, r.istop, r.idone = make(chan struct{}, 1), make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	r.j.Store(j)
	go r.ingestLoop()
	if len(replayed) > 0 {
		s.log.Info("exchange: moving in journaled accesses left by the last run", "records", len(replayed))
		r.kickIngest()
		if err := r.sync(ctx); err != nil {
			return err
		}
	}
	return nil
}

// FlushAccesses waits until every access recorded so far is in the access
// tables (with the journal, it may still be on its way there).
func (s *Service) FlushAccesses(ctx context.Context) error { return s.rec.sync(ctx) }

func (r *recorder) sync(ctx context.Context) error {
	if r.j.Load() == nil {
		return nil
	}
	r.imu.Lock()
	target := r.appended
	r.imu.Unlock()
	if !r.waitIngested(func(appended int64) int64 { return target }, ctx.Done()) {
		return errs.Unavailable("access log", fmt.Errorf("waiting for journaled accesses: %w", ctx.Err()))
	}
	return nil
}

// maxBacklog bounds the journaled records not yet moved in: past it the
// recorder waits for the ingester (and queries wait for the recorder), so
// that a database slower than the queries cannot make the backlog, and the
// memory it takes, grow without end.
const maxBacklog = 16 * maxBatch

func (r *recorder) throttle() {
	r.waitIngested(func(appended int64) int64 { return appended - maxBacklog + 1 }, r.idone)
}

// waitIngested waits, prodding the ingester, until the records moved in
// reach target(records appended so far); false if quit closed first.
func (r *recorder) waitIngested(target func(appended int64) int64, quit <-chan struct{}) bool {
	for {
		r.imu.Lock()
		done, ch := r.ingested >= target(r.appended), r.progress
		r.imu.Unlock()
		if done {
			return true
		}
		select {
		case r.iurgent <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-quit:
			return false
		}
	}
}

func (r *recorder) kickIngest() {
	select {
	case r.ikick <- struct{}{}:
	default:
	}
}

// ingestGather is how long the ingester lets appended records gather
// before it moves them in, unless ingestEnough have gathered or someone
// waits for them. Each move is one write transaction with a fixed cost
// (the writer's turn, the commit's WAL frames, shared-memory locks); moving
// records in as they were appended, a few dozen at a time, cost ~4 µs more
// CPU per governed lookup than gathering them (docs/PERFORMANCE.md).
const (
	ingestGather = 20 * time.Millisecond
	ingestEnough = maxBatch / 4
)

// ingestLoop moves journaled records into the access tables until the
// recorder closes, then moves in what is left.
func (r *recorder) ingestLoop() {
	defer close(r.idone)
	gather := time.NewTimer(r.gather)
	gather.Stop()
	for {
		select {
		case <-r.ikick:
			gather.Reset(r.gather)
		wait:
			for r.queued() < ingestEnough {
				select {
				case <-gather.C:
					break wait
				case <-r.ikick:
				case <-r.iurgent:
					break wait
				case <-r.istop:
					break wait
				}
			}
			gather.Stop()
		case <-r.iurgent:
		case <-r.istop:
			for r.ingestOnce() > 0 {
			}
			return
		}
		for {
			n := r.ingestOnce()
			if n < 0 {
				// The database refused; try again shortly (the records
				// stay queued and in the journal).
				select {
				case <-time.After(100 * time.Millisecond):
				case <-r.istop:
				}
				break
			}
			if n == 0 {
				break
			}
		}
	}
}

func (r *recorder) queued() int {
	r.imu.Lock()
	defer r.imu.Unlock()
	return len(r.inq)
}

// ingestOnce moves in up to maxBatch queued records as one batch; it
// returns how many (-1 after an error).
func (r *recorder) ingestOnce() int {
	r.imu.Lock()
	take := r.inq[:min(len(r.inq), maxBatch)]
	r.imu.Unlock()
	if len(take) == 0 {
		return 0
	}
	bodies := make([]*accessBody, len(take))
	data := make([][]byte, len(take))
	for i, x := range take {
		bodies[i], data[i] = x.body, x.data
	}
	end := take[len(take)-1].end
	id, err := r.writeBatch(bodies, data, &journalMark{r.j.Load().id, end})
	if err != nil {
		r.s.log.Error("exchange: moving journaled accesses in", "records", len(take), "err", err)
		return -1
	}
	r.imu.Lock()
	r.inq = r.inq[len(take):]
	if len(r.inq) == 0 {
		r.inq = nil // let the backing array go
	}
	r.ingested += int64(len(take))
	close(r.progress)
	r.progress = make(chan struct{})
	r.imu.Unlock()
	r.written(id, bodies)
	if end.gen > r.released {
		r.j.Load().release(end.gen)
		r.released = end.gen
	}
	return len(take)
}

// record writes an access (appends it to the journal, or queues it for the
// recorder and waits until its batch is committed); it returns the access
// id.
func (r *recorder) record(ctx context.Context, b *accessBody) (string, error) {
	if j := r.j.Load(); j != nil {
		// With the journal the record is one small write, made by the
		// caller itself: handing it to the recorder goroutine and waking
		// the caller again took two trips through the scheduler, which
		// cost more than the write (docs/PERFORMANCE.md, session 9).
		select {
		case <-r.stop:
			return "", errs.Unavailable("access log", errors.New("shutting down"))
		default:
		}
		if err := r.journal(j, b, canonical(b)); err != nil {
			r.s.log.Error("exchange: access journal append failed", "err", err)
			return "", err
		}
		return b.ID, nil
	}
	pa := pendingAccess{body: b, done: make(chan error, 1)}
	select {
	case r.queue <- pa:
	case <-r.stop:
		return "", errs.Unavailable("access log", errors.New("shutting down"))
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case err := <-pa.done:
		return b.ID, err
	case <-ctx.Done():
		// The record is still written; the caller gave up waiting.
		return "", ctx.Err()
	}
}

func (r *recorder) loop() {
	defer close(r.done)
	// One batch is written at a time, on both backends, and the next one
	// gathers everything that queued meanwhile: batches grow with the load
	// and each commit serves them all. (PostgreSQL had four writers at
	// once: a writer was nearly always free, so half the batches held one
	// or two records, each a whole commit; one writer measured more
	// lookups per second and a lower p50 on two cores, docs/PERFORMANCE.md,
	// "Exchange", session 11.)
	for {
		var first pendingAccess
		select {
		case first = <-r.queue:
		case <-r.stop:
			// Write what is still queued, then end.
			select {
			case first = <-r.queue:
			default:
				return
			}
		}
		batch := append(make([]pendingAccess, 0, 64), first)
	gather:
		for len(batch) < maxBatch {
			select {
			case pa := <-r.queue:
				batch = append(batch, pa)
			default:
				break gather
			}
		}
		r.write(batch)
	}
}

func (r *recorder) write(batch []pendingAccess) {
	bodies := make([]*accessBody, len(batch))
	data := make([][]byte, len(batch))
	for i, pa := range batch {
		bodies[i], data[i] = pa.body, canonical(pa.body)
	}
	// With the journal, queries append their records themselves (record);
	// what reaches the queue is written here.
	id, err := r.writeBatch(bodies, data, nil)
	for _, pa := range batch {
		pa.done <- err
	}
	if err != nil {
		r.s.log.Error("exchange: access log write failed", "records", len(batch), "err", err)
		return
	}
	r.written(id, bodies)
}

// journal appends a record to the journal and queues it to be moved in.
func (r *recorder) journal(j *journal, b *accessBody, data []byte) error {
	r.throttle()
	_, err := j.append([][]byte{data}, func(ends []journalPos) {
		r.imu.Lock()
		r.inq = append(r.inq, journaled{body: b, data: data, end: ends[0]})
		r.appended++
		r.imu.Unlock()
	})
	if err == nil {
		r.kickIngest()
	}
	return err
}

// written passes a committed batch on: the pump is woken and the tracker
// index learns its subjects.
func (r *recorder) written(batchID string, bodies []*accessBody) {
	select {
	case r.s.kickBatch <- struct{}{}:
	default:
	}
	entries := make([]subjectEntry, 0, len(bodies))
	for _, b := range bodies {
		for _, sub := range b.Subjects {
			entries = append(entries, subjectEntry{sub, b.ID, b.At})
		}
	}
	r.s.index.add(batchID, entries)
}

// accessCols is the number of columns of one ex_access row.
const accessCols = 12

// chunk is the most access rows one INSERT writes (12 placeholders a row,
// well under SQLite's and PostgreSQL's limits).
const chunk = 256

// inserters are the recorder's statements, prepared once (a batch's access
// rows go in a few multi-row INSERTs, none of them parsed again, or by
// COPY on PostgreSQL; a small batch there is one statement, pgBatchSQL).
type inserters struct {
	access, batch, mark *db.RowInserter
}

func newInserters(d *db.DB) inserters {
	return inserters{
		access: d.RowInserter(`INSERT INTO ex_access (seq, id, at, batch_id, leaf, leaf_hash, body, resource_id, grant_id, consumer_org, outcome, records) VALUES`, accessCols, chunk, "").
			CopyInto("ex_access", "seq", "id", "at", "batch_id", "leaf", "leaf_hash", "body", "resource_id", "grant_id", "consumer_org", "outcome", "records"),
		batch: d.RowInserter(`INSERT INTO ex_batches (id, seq, size, root, created_at) VALUES`, 5, 1, ""),
		mark:  d.RowInserter(`INSERT INTO ex_journals (journal, gen, off) VALUES`, 3, 1, `ON CONFLICT (journal) DO UPDATE SET gen = excluded.gen, off = excluded.off`),
	}
}

// journalMark is how far a journal's records are moved in: written with
// the batch that reaches it.
type journalMark struct {
	journal string
	end     journalPos
}

// writeBatch is writeRows, once more with a fresh sequence number if
// another process took the one this process expected.
func (r *recorder) writeBatch(bodies []*accessBody, data [][]byte, mark *journalMark) (string, error) {
	id, err := r.writeRows(bodies, data, mark)
	if err != nil && db.IsUniqueViolation(err) {
		r.resetSeq()
		id, err = r.writeRows(bodies, data, mark)
	}
	return id, err
}

// writeRows writes a batch's access rows (bodies and their canonical
// encodings) and its root at once, with the journal mark (if any); it
// returns the batch id.
func (r *recorder) writeRows(bodies []*accessBody, data [][]byte, mark *journalMark) (string, error) {
	s := r.s
	h := s.ledger.Hasher()
	leaves := make([]merkle.Hash, len(data))
	for i, d := range data {
		leaves[i] = h.LeafHash(d)
	}
	root, err := rootOf(h, leaves)
	if err != nil {
		return "", err
	}
	batchID := newID()
	pg := s.db.Dialect() == db.Postgres
	var seq int64
	if pg && len(bodies) < pgCopyRows {
		if seq, err = r.writeRowsPG(batchID, root, bodies, data, leaves, mark); err == nil {
			s.leaves.put(seq, leaves)
		}
		return batchID, err
	}
	err = s.db.InTx(context.Background(), func(ctx context.Context) error {
		if pg {
			// The database's sequence numbers the batch, so that replicas
			// never collide and numbers follow the order batches began.
			if err := s.db.QueryRow(ctx, `INSERT INTO ex_batches (id, seq, size, root, created_at) VALUES (?, nextval('ex_batches_seq'), ?, ?, ?) RETURNING seq`,
				batchID, len(bodies), root.Hex(), s.nowMs()).Scan(&seq); err != nil {
				return err
			}
		} else {
			var err error
			if seq, err = r.nextSeq(ctx); err != nil {
				return err
			}
			if err := r.ins.batch.Insert(ctx, []any{batchID, seq, len(bodies), root.Hex(), s.nowMs()}); err != nil {
				return err
			}
		}
		args := make([]any, 0, len(bodies)*accessCols)
		for i, b := range bodies {
			args = append(args, seq*maxBatch+int64(i), b.ID, b.At, batchID, i, leaves[i].Hex(), string(data[i]), b.ResourceID, b.Grant, b.ConsumerOrg, b.Outcome, b.Records)
		}
		if err := r.ins.access.Insert(ctx, args); err != nil {
			return err
		}
		if mark != nil {
			return r.ins.mark.Insert(ctx, []any{mark.journal, mark.end.gen, mark.end.off})
		}
		return nil
	})
	if err == nil {
		s.leaves.put(seq, leaves)
	}
	return batchID, err
}

// leafCache keeps the leaf hashes of the batches this process wrote until
// the pump has put them into an epoch, so that it need not read them back
// from the access table (4 % of the process's CPU at 20,000 lookups/s on
// SQLite). A batch it lacks (written by another process, before a restart,
// or past the bound) is read from the table as before.
type leafCache struct {
	mu sync.Mutex
	m  map[int64][]merkle.Hash // batch seq → its leaves
	n  int                     // leaves held
}

// leafCacheMax bounds the leaves held (32 bytes each: 8 MiB), some fifty
// epochs' worth at 20,000 lookups/s; beyond it (a pump far behind, or a
// process that does not pump) batches are not kept.
const leafCacheMax = 1 << 18

func newLeafCache() *leafCache { return &leafCache{m: map[int64][]merkle.Hash{}} }

func (c *leafCache) put(seq int64, leaves []merkle.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n+len(leaves) <= leafCacheMax {
		c.m[seq] = leaves
		c.n += len(leaves)
	}
}

// get returns the leaves of the batches seqs, in order, if it holds them
// all with the sizes given.
func (c *leafCache) get(seqs []int64, sizes []int) ([]merkle.Hash, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	total := 0
	for i, seq := range seqs {
		ls, ok := c.m[seq]
		if !ok || len(ls) != sizes[i] {
			return nil, false
		}
		total += len(ls)
	}
	out := make([]merkle.Hash, 0, total)
	for _, seq := range seqs {
		out = append(out, c.m[seq]...)
	}
	return out, true
}

// drop forgets the batches up to seq: the pump has passed them (into an
// epoch of its own or another process's).
func (c *leafCache) drop(seq int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for s, ls := range c.m {
		if s <= seq {
			delete(c.m, s)
			c.n -= len(ls)
		}
	}
}

// pgCopyRows is the size from which a batch goes to PostgreSQL as a
// transaction with its access rows by COPY (RowInserter.CopyInto); a
// smaller one goes as one statement (pgBatchSQL). Measured on this machine
// (docs/PERFORMANCE.md, "Exchange", session 11), machine CPU per row of
// ex_access: 16 rows 35-42 µs as one statement against 51-56 µs in a
// transaction with COPY, 64 rows 14-15 against 17-20 µs, 256 rows 13-14
// against 10-12 µs, 1,024 rows 11-16 against 8-12 µs.
const pgCopyRows = 128

// pgBatchSQL writes a batch in one statement, a single round trip that
// commits by itself: the batch row numbered by the database's sequence, its
// access rows from arrays (one per column) and, with the mark, the
// journal's position (pgBatchMarkSQL). The transaction it replaces for
// small batches costs four round trips or more (BEGIN, the batch row, the
// rows, COMMIT), each a wake-up of a server process on the cores the
// queries need.
var (
	pgBatchRow  = `WITH b AS (INSERT INTO ex_batches (id, seq, size, root, created_at) VALUES ($1, nextval('ex_batches_seq'), $2, $3, $4) RETURNING seq)`
	pgBatchMark = `, m AS (INSERT INTO ex_journals (journal, gen, off) VALUES ($15, $16, $17) ON CONFLICT (journal) DO UPDATE SET gen = excluded.gen, off = excluded.off)`
	pgBatchRows = fmt.Sprintf(`,
a AS (INSERT INTO ex_access (seq, id, at, batch_id, leaf, leaf_hash, body, resource_id, grant_id, consumer_org, outcome, records)
  SELECT b.seq * %d + u.leaf, u.id, u.at, $1, u.leaf, u.leaf_hash, u.body, u.resource_id, u.grant_id, u.consumer_org, u.outcome, u.records
  FROM b, unnest($5::text[], $6::bigint[], $7::int[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::int[])
    AS u (id, at, leaf, leaf_hash, body, resource_id, grant_id, consumer_org, outcome, records))
SELECT seq FROM b`, maxBatch)
	pgBatchSQL     = pgBatchRow + pgBatchRows
	pgBatchMarkSQL = pgBatchRow + pgBatchMark + pgBatchRows
)

func (r *recorder) writeRowsPG(batchID string, root merkle.Hash, bodies []*accessBody, data [][]byte, leaves []merkle.Hash, mark *journalMark) (int64, error) {
	n := len(bodies)
	ids, hashes, docs, res, grants, orgs, outcomes := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ats, idx, recs := make([]int64, n), make([]int32, n), make([]int32, n)
	for i, b := range bodies {
		ids[i], ats[i], idx[i], hashes[i], docs[i] = b.ID, b.At, int32(i), leaves[i].Hex(), string(data[i])
		res[i], grants[i], orgs[i], outcomes[i], recs[i] = b.ResourceID, b.Grant, b.ConsumerOrg, b.Outcome, int32(b.Records)
	}
	args := []any{batchID, n, root.Hex(), r.s.nowMs(), ids, ats, idx, hashes, docs, res, grants, orgs, outcomes, recs}
	q := pgBatchSQL
	if mark != nil {
		q = pgBatchMarkSQL
		args = append(args, mark.journal, mark.end.gen, mark.end.off)
	}
	st, err := r.s.db.Prepared(context.Background(), q)
	if err != nil {
		return 0, err
	}
	var seq int64
	err = st.QueryRowContext(context.Background(), args...).Scan(&seq)
	return seq, err
}

// nextSeq numbers the next batch on SQLite: one more than the last (read
// once; one process writes). PostgreSQL numbers batches from its sequence
// (writeRows).
func (r *recorder) nextSeq(ctx context.Context) (int64, error) {
	r.seqMu.Lock()
	defer r.seqMu.Unlock()
	if r.seq == 0 {
		var seq sql.NullInt64
		if err := r.s.db.QueryRow(ctx, `SELECT MAX(seq) FROM ex_batches`).Scan(&seq); err != nil {
			return 0, err
		}
		r.seq = seq.Int64
	}
	r.seq++
	return r.seq, nil
}

// resetSeq makes the next batch re-read the last sequence number (another
// replica wrote batches too).
func (r *recorder) resetSeq() {
	r.seqMu.Lock()
	r.seq = 0
	r.seqMu.Unlock()
}

// leafTree is the RFC 6962 tree over a batch's or an epoch's leaves, kept
// as the stored hashes of ledger/merkle's (tlog's) layout, so that its root
// and paths come from the same functions as the ledger's.
type leafTree struct {
	h      merkle.Hasher
	n      int64
	stored []merkle.Hash
}

func newLeafTree(h merkle.Hasher, leaves []merkle.Hash) (*leafTree, error) {
	t := &leafTree{h: h, n: int64(len(leaves)), stored: make([]merkle.Hash, 0, 2*len(leaves))}
	for i, l := range leaves {
		hs, err := merkle.StoredHashes(h, int64(i), l, t)
		if err != nil {
			return nil, err
		}
		t.stored = append(t.stored, hs...)
	}
	return t, nil
}

// ReadHashes implements merkle.HashReader.
func (t *leafTree) ReadHashes(indexes []int64) ([]merkle.Hash, error) {
	out := make([]merkle.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.stored)) {
			return nil, fmt.Errorf("exchange: stored hash %d not in a tree of %d leaves", x, t.n)
		}
		out[i] = t.stored[x]
	}
	return out, nil
}

func (t *leafTree) root() (merkle.Hash, error) { return merkle.TreeHash(t.h, t.n, t) }

// rootOf is the root of a list of leaf hashes.
func rootOf(h merkle.Hasher, leaves []merkle.Hash) (merkle.Hash, error) {
	t, err := newLeafTree(h, leaves)
	if err != nil {
		return merkle.Hash{}, err
	}
	return t.root()
}

// epochEvery is the least time between two epochs of this process: the
// batches of a quarter of a second share one ledger entry.
const epochEvery = 250 * time.Millisecond

// maxEpoch bounds the leaves of one epoch (a proof rebuilds its tree).
const maxEpoch = 16384

// maxEpochBatches bounds the batches of one epoch: assigning them is one
// UPDATE per batch inside the epoch's transaction, which holds SQLite's one
// writer, and the queries waiting to record their accesses wait for it.
// 256 keep that transaction near a millisecond; under light load (many
// batches of a few accesses) a quarter of a second then makes several
// epochs.
const maxEpochBatches = 256

// PumpBatches anchors committed batches on the ledger until ctx ends: an
// epoch at most every 250 ms while batches arrive, and every second
// otherwise (batches left by another process).
func (s *Service) PumpBatches(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		start := time.Now()
		for {
			n, more, err := s.pumpOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("exchange: access epochs to the ledger", "err", err)
				}
				break
			}
			if n < maxEpoch && !more {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kickBatch:
			select {
			case <-time.After(epochEvery - time.Since(start)):
			case <-ctx.Done():
				return
			}
		case <-t.C:
		}
	}
}

// PumpOnce gathers the committed batches not yet in an epoch into one,
// appends its root to the ledger, and appends any epoch an earlier attempt
// left off the ledger; it returns how many leaves it anchored.
func (s *Service) PumpOnce(ctx context.Context) (int, error) {
	if err := s.rec.sync(ctx); err != nil {
		return 0, err
	}
	n, _, err := s.pumpOnce(ctx)
	return n, err
}

// pumpOnce is PumpOnce; more reports that it stopped at maxEpochBatches
// with batches left.
func (s *Service) pumpOnce(ctx context.Context) (leaves int, more bool, err error) {
	if err := s.appendPending(ctx); err != nil {
		return 0, false, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, seq, size FROM ex_batches WHERE epoch = -1 ORDER BY seq LIMIT ?`, maxEpochBatches+1)
	if err != nil {
		return 0, false, err
	}
	type batch struct {
		id   string
		seq  int64
		size int
	}
	var bs []batch
	for rows.Next() {
		var b batch
		if err := rows.Scan(&b.id, &b.seq, &b.size); err != nil {
			rows.Close()
			return 0, false, err
		}
		if len(bs) == maxEpochBatches || (leaves > 0 && leaves+b.size > maxEpoch) {
			more = true
			break
		}
		bs = append(bs, b)
		leaves += b.size
	}
	rows.Close()
	if len(bs) == 0 {
		return 0, false, nil
	}
	// The leaves are taken and hashed before taking the writer (committed
	// rows never change); the transaction only assigns the batches. They
	// are those the recorder kept of this process's batches or, when a
	// batch is not kept, one range read for all the batches (one query per
	// batch made the pump a burst of milliseconds of CPU every epoch),
	// keeping only the rows of the batches taken: with several writers
	// (PostgreSQL) a batch inside the range may have committed after the
	// list was read.
	seqs, sizes := make([]int64, len(bs)), make([]int, len(bs))
	for i, b := range bs {
		seqs[i], sizes[i] = b.seq, b.size
	}
	hs, cached := s.leaves.get(seqs, sizes)
	if !cached {
		taken := make(map[int64]bool, len(bs))
		for _, b := range bs {
			taken[b.seq] = true
		}
		if hs, err = s.leavesOf(ctx, bs[0].seq, bs[len(bs)-1].seq, taken); err != nil {
			return 0, false, err
		}
	}
	if len(hs) != leaves {
		return 0, false, fmt.Errorf("exchange: epoch batches hold %d access rows, their sizes say %d", len(hs), leaves)
	}
	root, err := rootOf(s.ledger.Hasher(), hs)
	if err != nil {
		return 0, false, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		var last sql.NullInt64
		if err := s.db.QueryRow(ctx, `SELECT MAX(seq) FROM ex_epochs`).Scan(&last); err != nil {
			return err
		}
		epoch := last.Int64 + 1
		args := []any{epoch}
		for _, b := range bs {
			args = append(args, b.id)
		}
		res, err := s.db.Exec(ctx, `UPDATE ex_batches SET epoch = ? WHERE epoch = -1 AND id IN (`+strings.Repeat(",?", len(bs))[1:]+`)`, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); int(n) != len(bs) {
			return errs.Conflict("epoch", "another process took these batches", "批次已被其他进程处理")
		}
		_, err = s.db.Exec(ctx, `INSERT INTO ex_epochs (seq, size, root, created_at) VALUES (?, ?, ?, ?)`, epoch, len(hs), root.Hex(), s.nowMs())
		return err
	})
	// Another process's pump took these batches, or the same epoch number
	// for others, first (replicas): the next round sees what is left.
	if errors.Is(err, errs.ErrConflict) || db.IsUniqueViolation(err) {
		s.leaves.drop(bs[len(bs)-1].seq)
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	s.leaves.drop(bs[len(bs)-1].seq)
	return leaves, more, s.appendPending(ctx)
}

// scanLeaves reads a query's hex leaf hashes.
func scanLeaves(rows *sql.Rows, err error) ([]merkle.Hash, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []merkle.Hash
	for rows.Next() {
		var hx string
		if err := rows.Scan(&hx); err != nil {
			return nil, err
		}
		h, err := merkle.ParseHexHash(hx)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// leavesOf are the leaf hashes of the batches first..last (seq) that are in
// taken, in access order.
func (s *Service) leavesOf(ctx context.Context, first, last int64, taken map[int64]bool) ([]merkle.Hash, error) {
	rows, err := s.db.Query(ctx, `SELECT seq, leaf_hash FROM ex_access WHERE seq >= ? AND seq < ? ORDER BY seq`, first*maxBatch, (last+1)*maxBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []merkle.Hash
	for rows.Next() {
		var seq int64
		var hx string
		if err := rows.Scan(&seq, &hx); err != nil {
			return nil, err
		}
		if !taken[seq/maxBatch] {
			continue
		}
		h, err := merkle.ParseHexHash(hx)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// epochLeaves are the leaf hashes of an epoch's accesses, in access order.
func (s *Service) epochLeaves(ctx context.Context, epoch int64) ([]merkle.Hash, error) {
	rows, err := s.db.Query(ctx, `SELECT a.leaf_hash FROM ex_batches b JOIN ex_access a ON a.seq >= b.seq * 4096 AND a.seq < b.seq * 4096 + 4096
		WHERE b.epoch = ? ORDER BY a.seq`, epoch)
	return scanLeaves(rows, err)
}

// appendPending appends epochs not yet on the ledger (at least once: a
// crash between the append and the update appends the epoch again, with
// the same ref).
// epochClaim is how long a claim on an epoch holds off other pumps.
const epochClaim = 10 * time.Second

func (s *Service) appendPending(ctx context.Context) error {
	// A claim left by a process that stopped between claiming an epoch and
	// anchoring it (an append takes a second at most) is given up.
	if _, err := s.db.Exec(ctx, `UPDATE ex_epochs SET ledger_index = -1 WHERE ledger_index = -2 AND claimed_at < ?`, s.nowMs()-epochClaim.Milliseconds()); err != nil {
		return err
	}
	rows, err := s.db.Query(ctx, `SELECT seq, size, root, created_at FROM ex_epochs WHERE ledger_index = -1 ORDER BY seq LIMIT 64`)
	if err != nil {
		return err
	}
	type ep struct {
		seq, at int64
		size    int
		root    string
	}
	var eps []ep
	for rows.Next() {
		var e ep
		if err := rows.Scan(&e.seq, &e.size, &e.root, &e.at); err != nil {
			rows.Close()
			return err
		}
		eps = append(eps, e)
	}
	rows.Close()
	for _, e := range eps {
		// Claimed first (ledger_index -2), so that of several processes'
		// pumps (replicas) one anchors each epoch.
		res, err := s.db.Exec(ctx, `UPDATE ex_epochs SET ledger_index = -2, claimed_at = ? WHERE seq = ? AND ledger_index = -1`, s.nowMs(), e.seq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue
		}
		idx, leaf, err := s.ledger.AppendRecord(ctx, LedgerRecord{ActorKind: "system", ActorID: "exchange", ActorName: "exchange",
			Action: "exchange.access.epoch", Subject: fmt.Sprintf("epoch:%d", e.seq), Purpose: "data-sharing-audit",
			Basis: "国发〔2016〕51号 政务信息资源共享管理暂行办法", PayloadHash: e.root, Ref: fmt.Sprintf("epoch:%d", e.seq), At: time.UnixMilli(e.at)})
		if err != nil {
			if _, uerr := s.db.Exec(ctx, `UPDATE ex_epochs SET ledger_index = -1 WHERE seq = ? AND ledger_index = -2`, e.seq); uerr != nil {
				s.log.Warn("exchange: releasing an epoch's claim", "epoch", e.seq, "err", uerr)
			}
			return err
		}
		if _, err := s.db.Exec(ctx, `UPDATE ex_epochs SET ledger_index = ?, ledger_leaf = ? WHERE seq = ?`, idx, leaf, e.seq); err != nil {
			return err
		}
	}
	return nil
}

// EntryProof is the ledger's proof of one of its entries against a signed
// checkpoint.
type EntryProof struct {
	Index      int64    `json:"index"`
	Size       int64    `json:"size"`
	LeafHash   string   `json:"leafHash" doc:"hex"`
	Entry      string   `json:"entry" doc:"The ledger entry (canonical JSON)"`
	Root       string   `json:"root" doc:"base64"`
	Proof      []string `json:"proof" nullable:"false" doc:"base64 sibling hashes, leaf to root"`
	Checkpoint string   `json:"checkpoint" doc:"The signed checkpoint (C2SP signed note)"`
}

// Prover proves ledger entries (the ledger module, through app).
type Prover interface {
	ProveEntry(ctx context.Context, index int64) (*EntryProof, error)
}

// AccessProof proves one access: its record, its audit path in its epoch,
// and the epoch's ledger entry with its inclusion proof.
type AccessProof struct {
	AccessID  string      `json:"accessId"`
	Record    string      `json:"record" doc:"The access record (canonical JSON, the leaf data)"`
	LeafHash  string      `json:"leafHash" doc:"hex"`
	Hasher    string      `json:"hasher" enum:"sha256,sm3"`
	Batch     int64       `json:"batch" doc:"The epoch (-1 while not yet in one)"`
	LeafIndex int         `json:"leafIndex" doc:"Position in the epoch"`
	BatchSize int         `json:"batchSize" doc:"Leaves of the epoch"`
	BatchRoot string      `json:"batchRoot" doc:"hex root of the epoch; the payloadHash of the ledger entry"`
	BatchPath []string    `json:"batchPath" nullable:"false" doc:"base64 RFC 6962 audit path in the epoch"`
	OnLedger  bool        `json:"onLedger" doc:"false while the batch waits for the ledger or its checkpoint"`
	Ledger    *EntryProof `json:"ledger,omitempty"`
}

// ProveAccess proves an access to the consumer organisation, the provider,
// an auditor, or a person it concerns.
func (s *Service) ProveAccess(ctx context.Context, prover Prover, id string) (*AccessProof, error) {
	p := authz.From(ctx)
	if p == nil {
		return nil, errs.Unauthenticated("login required", "请先登录")
	}
	if err := s.rec.sync(ctx); err != nil {
		return nil, err
	}
	var body, leaf string
	var aseq, epoch int64
	err := s.db.QueryRow(ctx, `SELECT a.body, a.leaf_hash, a.seq, b.epoch FROM ex_access a JOIN ex_batches b ON b.id = a.batch_id WHERE a.id = ?`, id).
		Scan(&body, &leaf, &aseq, &epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("access", id)
	}
	if err != nil {
		return nil, err
	}
	var ab accessBody
	if err := json.Unmarshal([]byte(body), &ab); err != nil {
		return nil, err
	}
	if err := s.maySeeAccess(ctx, p, &ab); err != nil {
		return nil, err
	}
	h := s.ledger.Hasher()
	out := &AccessProof{AccessID: id, Record: body, LeafHash: leaf, Hasher: h.Name(), Batch: epoch, BatchPath: []string{}}
	if epoch < 0 {
		return out, nil // not yet in an epoch: no path to show
	}
	var root string
	var lidx int64
	if err := s.db.QueryRow(ctx, `SELECT root, ledger_index FROM ex_epochs WHERE seq = ?`, epoch).Scan(&root, &lidx); err != nil {
		return nil, err
	}
	leaves, err := s.epochLeaves(ctx, epoch)
	if err != nil {
		return nil, err
	}
	tree, err := newLeafTree(h, leaves)
	if err != nil {
		return nil, err
	}
	if r, err := tree.root(); err != nil || r.Hex() != root {
		return nil, fmt.Errorf("exchange: epoch %d does not match its root", epoch)
	}
	leafIdx := -1
	for i, x := range leaves {
		if x.Hex() == leaf {
			leafIdx = i
			break
		}
	}
	if leafIdx < 0 {
		return nil, fmt.Errorf("exchange: access %s is not in epoch %d", id, epoch)
	}
	path, err := merkle.ProveRecord(h, tree.n, int64(leafIdx), tree)
	if err != nil {
		return nil, err
	}
	out.LeafIndex, out.BatchSize, out.BatchRoot = leafIdx, len(leaves), root
	out.BatchPath = make([]string, len(path))
	for i, x := range path {
		out.BatchPath[i] = base64.StdEncoding.EncodeToString(x[:])
	}
	if lidx >= 0 && prover != nil {
		lp, err := prover.ProveEntry(ctx, lidx)
		if err == nil {
			out.Ledger, out.OnLedger = lp, true
		} else if !errors.Is(err, errs.ErrInvalid) {
			return nil, err
		}
	}
	return out, nil
}

// maySeeAccess: the consumer, the provider, an auditor, or the person
// (enterprise) the access concerned.
func (s *Service) maySeeAccess(ctx context.Context, p *authz.Principal, ab *accessBody) error {
	if p.Nationwide || p.Has(authz.ExchangeAudit) || (p.OrgID != "" && p.OrgID == ab.ConsumerOrg) {
		return nil
	}
	if ab.ResourceID != "" {
		if r, err := s.resource(ctx, ab.ResourceID); err == nil && s.mayManage(ctx, p, r) == nil && p.Has(authz.ExchangeRead) {
			return nil
		}
	}
	mine, err := s.subjectsOf(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, sub := range ab.Subjects {
		for _, m := range mine {
			if sub == m.Subject {
				return nil
			}
		}
	}
	return errs.NotFound("access", ab.ID)
}

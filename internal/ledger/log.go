// Package ledger is the tamper-evident log (可信存证) every module writes to:
// an append-only Merkle tree (RFC 6962 hashing with SHA-256, or SM3 in the
// 国密 profile), stored in the platform database as C2SP entry bundles and
// hash tiles, served as tlog-tiles with signed checkpoints, cosigned by
// witnesses and verifiable by anyone.
package ledger

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"golang.org/x/mod/sumdb/tlog"
)

// Receipt proves an append was committed: the entry's index and leaf hash,
// and the index of the organisation's attestation that signs it.
type Receipt struct {
	Index       int64  `json:"index"`
	LeafHash    string `json:"leafHash"` // hex
	Attestation int64  `json:"attestation"`
}

// Options configure a Log.
type Options struct {
	Origin string // checkpoint origin line, e.g. "shuzhi.example/gusu"
	// MaxBatch bounds one group commit (default 4096 entries).
	MaxBatch int
	// CheckpointEvery is the longest time between checkpoints while entries
	// arrive (default 500ms; the issue asks for at least one a second).
	CheckpointEvery time.Duration
	// TileCache is the number of full level-0 tiles kept in memory, and
	// separately of full tiles of the levels above (default 4096 each; a
	// tile is 16 KB).
	TileCache int
	// ReadOnly opens the log for proofs and reads only: no sequencer runs
	// and Append fails.
	ReadOnly bool
	// CheckpointFile, when set, receives a copy of every signed checkpoint
	// outside the database, so that a database rolled back to an older copy
	// is detected by Verify.
	CheckpointFile string
	Now            func() time.Time
	Log            *slog.Logger
}

// Log is the ledger. Append is safe for concurrent use; one sequencer
// goroutine batches appends into single transactions.
type Log struct {
	db      *db.DB
	prof    *crypto.Profile
	hasher  merkle.Hasher
	opts    Options
	reqs    chan *appendReq
	stop    chan struct{}
	stopped chan struct{}

	placedAgain atomic.Int64 // batches placed again after another sequencer committed first
	turnConn    *sql.Conn    // PostgreSQL: the session holding the sequencers' lock (sequencer only)

	mu       sync.RWMutex // guards the fields below (sequencer writes, readers read)
	size     int64
	root     merkle.Hash
	builder  *merkle.Builder
	edges    []*tileEdge // right-edge tile per tile level
	bundle   [][]byte    // entries of the partial right-edge bundle
	lastCP   time.Time
	cpSize   int64
	cpRoot   merkle.Hash // root of the latest checkpoint (proofs default to it)
	orgKeys  *orgKeys
	tiles    tileCaches
	closeErr error

	scratch []byte // store's blob buffer (the sequencer's, under mu)
}

type appendReq struct {
	data  []byte
	leaf  merkle.Hash
	org   string
	done  chan appendRes
	index int64
	att   int64 // index of the attestation that signs it
}

type appendRes struct {
	r   Receipt
	err error
}

// tileEdge is the right-edge tile of one tile level: its hashes at the 8
// tree levels it spans.
type tileEdge struct {
	n     int64
	subs  [8][]merkle.Hash
	dirty bool
}

// HasherFor returns the Merkle hasher of a crypto profile.
func HasherFor(p *crypto.Profile) merkle.Hasher {
	if p.Name() == crypto.ProfileGM {
		return merkle.SM3
	}
	return merkle.SHA256
}

// Open loads the log's state and starts the sequencer.
func Open(ctx context.Context, d *db.DB, prof *crypto.Profile, opts Options) (*Log, error) {
	if opts.Origin == "" {
		return nil, errors.New("ledger: origin required")
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 4096
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 500 * time.Millisecond
	}
	if opts.TileCache <= 0 {
		opts.TileCache = 4096
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	l := &Log{db: d, prof: prof, hasher: HasherFor(prof), opts: opts, reqs: make(chan *appendReq, 8192),
		stop: make(chan struct{}), stopped: make(chan struct{}), tiles: newTileCaches(opts.TileCache)}
	l.orgKeys = &orgKeys{db: d, prof: prof, keys: map[string]crypto.Signer{}}
	if err := l.load(ctx); err != nil {
		return nil, err
	}
	if err := l.preloadUpper(ctx); err != nil {
		return nil, err
	}
	if opts.ReadOnly {
		close(l.stop)
		close(l.stopped)
		return l, nil
	}
	go l.sequence()
	return l, nil
}

// load reads the size, the right-edge tiles and bundle, and rebuilds the
// in-memory tree edge from them.
func (l *Log) load(ctx context.Context) error {
	var size int64
	err := l.db.QueryRow(ctx, `SELECT size FROM ledger_state WHERE id = 1`).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		size = 0
	} else if err != nil {
		return fmt.Errorf("ledger: load state: %w", err)
	}
	l.size = size
	for L := 0; size>>(8*L) > 0; L++ {
		count := size >> (8 * L) // hashes at tree level 8L
		n := (count - 1) / 256
		t, err := l.readTile(ctx, L, n)
		if err != nil {
			return fmt.Errorf("ledger: load edge tile %d/%d: %w", L, n, err)
		}
		want := int(count - n*256)
		if t.count(0) < want {
			l.releaseTile(L, t)
			return fmt.Errorf("ledger: tile %d/%d has %d hashes, the state needs %d: the database is damaged (run shuzhi ledger verify)", L, n, t.count(0), want)
		}
		e := &tileEdge{n: n}
		for sub := range 8 {
			k := min(want>>sub, t.count(sub))
			e.subs[sub] = make([]merkle.Hash, k)
			for i := range k {
				e.subs[sub][i] = t.hash(sub, i)
			}
		}
		l.releaseTile(L, t)
		l.edges = append(l.edges, e)
	}
	if size%256 != 0 {
		var data []byte
		if err := l.db.QueryRow(ctx, `SELECT data FROM ledger_bundles WHERE n = ?`, size/256).Scan(&data); err != nil {
			return fmt.Errorf("ledger: load edge bundle: %w", err)
		}
		entries, err := merkle.ParseBundle(data)
		if err != nil {
			return fmt.Errorf("ledger: edge bundle: %w", err)
		}
		if int64(len(entries)) < size%256 {
			return fmt.Errorf("ledger: edge bundle holds %d entries, the state needs %d: the database is damaged (run shuzhi ledger verify)", len(entries), size%256)
		}
		l.bundle = entries[:size%256]
	}
	// Unlocked: load runs in Open, before anything else uses the log, or in
	// write, which holds l.mu.
	b, err := merkle.BuilderFrom(l.hasher, size, l.hashReaderLocking(ctx, false))
	if err != nil {
		return fmt.Errorf("ledger: rebuild tree edge: %w", err)
	}
	l.builder = b
	l.root = b.Root()
	var cpSize int64
	var cpRoot string
	err = l.db.QueryRow(ctx, `SELECT size, root FROM ledger_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&cpSize, &cpRoot)
	if err == nil && cpSize <= size {
		if r, err := merkle.ParseHash(cpRoot); err == nil {
			l.cpSize, l.cpRoot = cpSize, r
		}
	}
	return nil
}

// Size is the number of committed entries.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.size
}

// Hasher is the log's Merkle hasher.
func (l *Log) Hasher() merkle.Hasher { return l.hasher }

// Append writes a record and returns its receipt once it is committed.
// Concurrent appends share one transaction (group commit).
func (l *Log) Append(ctx context.Context, rec Record) (Receipt, error) {
	data, err := rec.Encode()
	if err != nil {
		return Receipt{}, err
	}
	return l.appendData(ctx, data, rec.OrgID)
}

func (l *Log) appendData(ctx context.Context, data []byte, org string) (Receipt, error) {
	if len(data) > 65535 {
		return Receipt{}, errs.Invalid("record", "maxLength", "an encoded entry is at most 65535 bytes", "单条记录编码后不超过 65535 字节")
	}
	req := reqPool.Get().(*appendReq)
	req.data, req.leaf, req.org = data, l.hasher.LeafHash(data), org
	select {
	case l.reqs <- req:
	case <-l.stop:
		putReq(req)
		return Receipt{}, errs.Unavailable("ledger", errors.New("closed"))
	case <-ctx.Done():
		putReq(req)
		return Receipt{}, ctx.Err()
	}
	select {
	case res := <-req.done:
		// The sequencer is done with req once it has answered.
		putReq(req)
		return res.r, res.err
	case <-ctx.Done():
		// The entry may still be committed; the receipt is lost to this caller.
		return Receipt{}, ctx.Err()
	}
}

// reqPool recycles append requests and their reply channels (two
// allocations per append otherwise). A request goes back only once its
// reply was received, or when it was never queued.
var reqPool = sync.Pool{New: func() any { return &appendReq{done: make(chan appendRes, 1)} }}

func putReq(r *appendReq) {
	*r = appendReq{done: r.done}
	reqPool.Put(r)
}

// Close stops the sequencer after the queued appends are committed.
func (l *Log) Close() error {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.stopped
	return l.closeErr
}

func (l *Log) sequence() {
	defer close(l.stopped)
	defer l.dropTurnConn()
	ctx := context.Background()
	timer := time.NewTimer(l.opts.CheckpointEvery)
	defer timer.Stop()
	for {
		var batch []*appendReq
		select {
		case r := <-l.reqs:
			batch = append(batch, r)
		case <-timer.C:
			l.catchUp(ctx)
			l.maybeCheckpoint(ctx, true)
			timer.Reset(l.opts.CheckpointEvery)
			continue
		case <-l.stop:
			// Commit what is queued, then stop.
			for {
				select {
				case r := <-l.reqs:
					batch = append(batch, r)
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				l.commit(ctx, batch)
			}
			l.maybeCheckpoint(ctx, true)
			return
		}
	drain:
		for len(batch) < l.opts.MaxBatch {
			select {
			case r := <-l.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		l.commit(ctx, batch)
		l.maybeCheckpoint(ctx, false)
	}
}

// commit writes one batch: the records grouped by organisation, each group
// followed by that organisation's attestation, in one transaction.
func (l *Log) commit(ctx context.Context, batch []*appendReq) {
	fail := func(err error) {
		for _, r := range batch {
			r.done <- appendRes{err: err}
		}
	}
	slices.SortStableFunc(batch, func(a, b *appendReq) int {
		switch {
		case a.org < b.org:
			return -1
		case a.org > b.org:
			return 1
		}
		return 0
	})
	// Several processes may sequence into one database (replicas on
	// PostgreSQL): they take turns, and when another one committed since
	// this one last wrote, the size guard fails, write reloads the edge,
	// and the batch is numbered, attested and written again at the new end
	// (once: nobody else commits while this one holds the turn).
	unlock, err := l.takeTurn(ctx)
	if err != nil {
		l.opts.Log.Error("ledger: waiting for the sequencers' lock", "err", err)
		fail(errs.Unavailable("ledger", err))
		return
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		err := l.place(ctx, batch)
		if err == nil {
			break
		}
		if errors.Is(err, errOtherSequencer) && attempt < maxPlaceAttempts {
			l.placedAgain.Add(1)
			l.opts.Log.Debug("ledger: another sequencer committed first; placing the batch again", "entries", len(batch), "attempt", attempt)
			continue
		}
		l.opts.Log.Error("ledger commit", "err", err, "entries", len(batch))
		fail(errs.Unavailable("ledger", err))
		return
	}
	for _, r := range batch {
		r.done <- appendRes{r: Receipt{Index: r.index, LeafHash: hex.EncodeToString(r.leaf[:]), Attestation: r.att}}
	}
}

// catchUp loads the entries other sequencers on the database appended
// (replicas), so that this process's proofs and checkpoints reach them
// while it appends nothing itself. One query when nothing changed.
func (l *Log) catchUp(ctx context.Context) {
	var size int64
	if err := l.db.QueryRow(ctx, `SELECT size FROM ledger_state WHERE id = 1`).Scan(&size); err != nil {
		return // empty, or the database is away: the next tick tries again
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if size <= l.size {
		return
	}
	l.edges, l.bundle = nil, nil
	if err := l.load(ctx); err != nil {
		l.opts.Log.Error("ledger: loading other sequencers' entries", "err", err)
	}
}

// errOtherSequencer is the size guard's failure: another process appended
// to the log since this one last wrote or loaded it.
var errOtherSequencer = errors.New("another sequencer wrote to this log")

// maxPlaceAttempts bounds how often a batch is placed: the second attempt,
// after catching up, runs while no other sequencer can commit.
const maxPlaceAttempts = 3

// sequencerLockKey names the PostgreSQL advisory lock the sequencers of a
// database take turns with.
const sequencerLockKey = 0x5348_5a4c_4544 // "SHZLED"

// sqliteTurns are the in-process turns of SQLite sequencers, per database
// (one process writes a SQLite database; several Logs on one DB are tests).
var sqliteTurns sync.Map // *db.DB → *sync.Mutex

// takeTurn waits until no other sequencer of the database is placing a
// batch, and returns the function that ends the turn. PostgreSQL: a
// session advisory lock on a connection the sequencer keeps (if the
// connection breaks, PostgreSQL releases the lock with the session).
func (l *Log) takeTurn(ctx context.Context) (func(), error) {
	if l.db.Dialect() != db.Postgres {
		m, _ := sqliteTurns.LoadOrStore(l.db, &sync.Mutex{})
		mu := m.(*sync.Mutex)
		mu.Lock()
		return mu.Unlock, nil
	}
	if l.turnConn == nil {
		c, err := l.db.SQL().Conn(ctx)
		if err != nil {
			return nil, err
		}
		l.turnConn = c
	}
	if _, err := l.turnConn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(sequencerLockKey)); err != nil {
		l.dropTurnConn()
		return nil, err
	}
	return func() {
		if _, err := l.turnConn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(sequencerLockKey)); err != nil {
			l.dropTurnConn()
		}
	}, nil
}

func (l *Log) dropTurnConn() {
	if l.turnConn != nil {
		_ = l.turnConn.Close()
		l.turnConn = nil
	}
}

// place numbers the (sorted) batch from the current end of the log, has
// each organisation's run attested, and writes it.
func (l *Log) place(ctx context.Context, batch []*appendReq) error {
	l.mu.RLock()
	next := l.size
	l.mu.RUnlock()
	now := l.opts.Now()
	// Group the (sorted) batch by organisation: each run of records is
	// followed by its organisation's attestation.
	type group struct {
		reqs   []*appendReq
		first  int64
		digest []byte
		att    []byte
		err    error
	}
	var groups []*group
	for i := 0; i < len(batch); {
		j := i
		for j < len(batch) && batch[j].org == batch[i].org {
			j++
		}
		g := &group{reqs: batch[i:j], first: next}
		h := l.prof.NewHash() // SHA-256, or SM3 in the 国密 profile
		for _, r := range g.reqs {
			r.index = next
			h.Write(r.leaf[:])
			next++
		}
		g.digest = h.Sum(nil)
		next++ // the attestation's index
		groups = append(groups, g)
		i = j
	}
	// Signing is the costly part: do it in parallel, off the sequencer's core.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, g := range groups {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			g.att, g.err = l.attest(ctx, g.reqs[0].org, g.first, int64(len(g.reqs)), g.digest, now)
		}()
	}
	wg.Wait()
	datas := make([][]byte, 0, len(batch)+len(groups))
	leaves := make([]merkle.Hash, 0, len(batch)+len(groups))
	for _, g := range groups {
		if g.err != nil {
			return g.err
		}
		attAt := g.first + int64(len(g.reqs))
		for _, r := range g.reqs {
			datas, leaves = append(datas, r.data), append(leaves, r.leaf)
			r.att = attAt
		}
		datas, leaves = append(datas, g.att), append(leaves, l.hasher.LeafHash(g.att))
	}
	return l.write(ctx, datas, leaves)
}

// write appends entries to the tree, the bundles and the tiles, and commits
// them with the new size in one transaction. On failure the in-memory state
// is restored from the database.
func (l *Log) write(ctx context.Context, datas [][]byte, leaves []merkle.Hash) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := l.size
	stored := l.builder.AppendBatch(leaves)
	var bundleRows []bundleRow
	bn := start / 256
	for _, d := range datas {
		l.bundle = append(l.bundle, d)
		if len(l.bundle) == 256 {
			bundleRows = append(bundleRows, bundleRow{n: bn, entries: l.bundle})
			l.bundle, bn = nil, bn+1
		}
	}
	if len(l.bundle) > 0 {
		bundleRows = append(bundleRows, bundleRow{n: bn, entries: l.bundle})
	}
	var tileRows []tileRow
	for _, s := range stored {
		level, n := tlog.SplitStoredHashIndex(s.Index)
		L, sub := level/8, level%8
		for len(l.edges) <= L {
			l.edges = append(l.edges, &tileEdge{})
		}
		e := l.edges[L]
		if tn := (n << sub) >> 8; tn != e.n {
			if e.dirty {
				tileRows = append(tileRows, e.row(L))
			}
			*e = tileEdge{n: tn}
		}
		e.subs[sub] = append(e.subs[sub], s.Hash)
		e.dirty = true
	}
	for L, e := range l.edges {
		if e.dirty {
			tileRows = append(tileRows, e.row(L))
			e.dirty = false
		}
	}
	size := start + int64(len(datas))
	err := l.store(ctx, start, size, bundleRows, tileRows)
	if err != nil {
		// Roll the in-memory edge back to what the database holds.
		l.edges, l.bundle = nil, nil
		if lerr := l.load(ctx); lerr != nil {
			l.opts.Log.Error("ledger reload after failed commit", "err", lerr)
		}
		return err
	}
	l.size = size
	l.root = l.builder.Root()
	return nil
}

// The sequencer's statements, prepared once per Log (see writeStmts).
const (
	sqlUpdateSize = `UPDATE ledger_state SET size = ?, updated_at = ? WHERE id = 1 AND size = ?`
	sqlInsertSize = `INSERT INTO ledger_state (id, size, updated_at) VALUES (1, ?, ?)`
	sqlPutBundle  = `INSERT INTO ledger_bundles (n, width, data) VALUES (?, ?, ?)
				ON CONFLICT (n) DO UPDATE SET width = excluded.width, data = excluded.data`
	sqlPutTile = `INSERT INTO ledger_tiles (level, n, width, data, interior) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (level, n) DO UPDATE SET width = excluded.width, data = excluded.data, interior = excluded.interior`
)

// writeStmts are the sequencer's statements, prepared on the pool once
// (db.Prepared); each transaction uses them through Tx.StmtContext, which
// prepares a statement at most once per pooled connection. (Parsing them
// anew in every commit cost as much as running them.)
func (l *Log) writeStmts(ctx context.Context) ([4]*sql.Stmt, error) {
	var out [4]*sql.Stmt
	for i, q := range []string{sqlUpdateSize, sqlInsertSize, sqlPutBundle, sqlPutTile} {
		st, err := l.db.Prepared(ctx, q)
		if err != nil {
			return out, err
		}
		out[i] = st
	}
	return out, nil
}

// store commits one batch: the new size (checked against the old one), the
// bundles and the tiles, in one transaction.
func (l *Log) store(ctx context.Context, start, size int64, bundleRows []bundleRow, tileRows []tileRow) error {
	stmts, err := l.writeStmts(ctx)
	if err != nil {
		return err
	}
	unlock, err := l.db.LockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	tx, err := l.db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	// The transaction's statements are closed when it ends; the prepared
	// statements they derive from stay for the next commit.
	st := func(i int) *sql.Stmt { return tx.StmtContext(ctx, stmts[i]) }
	err = func() error {
		now := l.opts.Now().UnixMilli()
		res, err := st(0).ExecContext(ctx, size, now, start)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if start != 0 {
				return fmt.Errorf("the stored size is no longer %d: %w", start, errOtherSequencer)
			}
			if _, err := st(1).ExecContext(ctx, size, now); err != nil {
				if db.IsUniqueViolation(err) {
					return fmt.Errorf("the log is no longer empty: %w", errOtherSequencer)
				}
				return err
			}
		}
		// The blobs are built in one reused buffer: the drivers copy their
		// arguments during Exec.
		buf := l.scratch[:0]
		defer func() { l.scratch = buf[:0] }()
		if len(bundleRows) > 0 {
			put := st(2)
			for _, b := range bundleRows {
				if len(b.entries) == 0 || len(b.entries) > merkle.TileWidth {
					return fmt.Errorf("ledger: bundle %d with %d entries", b.n, len(b.entries))
				}
				buf = buf[:0]
				for _, e := range b.entries {
					if len(e) > merkle.MaxEntrySize {
						return fmt.Errorf("ledger: entry of %d bytes", len(e))
					}
					buf = binary.BigEndian.AppendUint16(buf, uint16(len(e)))
					buf = append(buf, e...)
				}
				if _, err := put.ExecContext(ctx, b.n, len(b.entries), buf); err != nil {
					return err
				}
			}
		}
		if len(tileRows) > 0 {
			put := st(3)
			for _, t := range tileRows {
				buf = t.edge.appendRow(buf[:0])
				data, interior := buf[:32*t.width], buf[32*t.width:]
				if _, err := put.ExecContext(ctx, t.level, t.n, t.width, data, interior); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	return l.db.EndWrite(tx, err)
}

type bundleRow struct {
	n       int64
	entries [][]byte
}

// tileRow is a dirty right-edge tile to store: a copy of its edge (hashes
// are only appended, so the slices stay valid) until store writes it.
type tileRow struct {
	level int
	n     int64
	width int
	edge  tileEdge
}

func (e *tileEdge) row(L int) tileRow {
	return tileRow{level: L, n: e.n, width: len(e.subs[0]), edge: *e}
}

// appendRow appends the tile's stored form: its bottom hashes (the data
// column), then the 7 levels above, level by level (interior).
func (e *tileEdge) appendRow(b []byte) []byte {
	for sub := range 8 {
		for _, h := range e.subs[sub] {
			b = append(b, h[:]...)
		}
	}
	return b
}

// attest signs a run of an organisation's records.
func (l *Log) attest(ctx context.Context, org string, first, count int64, digest []byte, now time.Time) ([]byte, error) {
	s, err := l.orgKeys.signer(ctx, org)
	if err != nil {
		return nil, err
	}
	a := Attestation{Alg: s.Algorithm(), Count: count, Digest: hex.EncodeToString(digest), First: first, Key: s.Public().ID(),
		Kind: KindAttestation, OrgID: org, Time: now.UnixMilli(), V: 1}
	msg, err := canonical(a)
	if err != nil {
		return nil, err
	}
	sig, err := s.Sign(msg)
	if err != nil {
		return nil, err
	}
	a.Sig = base64.StdEncoding.EncodeToString(sig)
	return canonical(a)
}

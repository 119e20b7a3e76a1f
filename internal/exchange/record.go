package exchange

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Accesses are recorded in batches. Every query's record (granted or
// refused) is queued to one recorder goroutine, which writes all queued
// records in one transaction: the access rows with their leaf hashes, the
// subjects they concern, and a batch row with the Merkle root (RFC 6962,
// the ledger's hash) over the batch's leaves. The query returns only after
// that commit, so an answered query is always on record. A pump then
// appends one ledger entry per batch whose payload hash is the batch root;
// an access is proved by its audit path in the batch plus the ledger's
// inclusion proof of the batch entry.

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
}

func newRecorder(s *Service) *recorder {
	r := &recorder{s: s, queue: make(chan pendingAccess, 8192), stop: make(chan struct{}), done: make(chan struct{})}
	go r.loop()
	return r
}

func (r *recorder) close() {
	close(r.stop)
	<-r.done
}

// record queues an access and waits until it is committed; it returns the
// access id.
func (r *recorder) record(ctx context.Context, b *accessBody) (string, error) {
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
	// SQLite has one writer; PostgreSQL commits several batches at once
	// (each waits for its WAL flush).
	writers := 1
	if r.s.db.Dialect() == db.Postgres {
		writers = 4
	}
	slots := make(chan struct{}, writers)
	var inflight sync.WaitGroup
	write := func(batch []pendingAccess) {
		slots <- struct{}{}
		inflight.Add(1)
		go func() {
			defer func() { <-slots; inflight.Done() }()
			r.write(batch)
		}()
	}
	defer inflight.Wait()
	for {
		var first pendingAccess
		select {
		case first = <-r.queue:
		case <-r.stop:
			// Drain what is queued.
			var batch []pendingAccess
			for {
				select {
				case pa := <-r.queue:
					batch = append(batch, pa)
					if len(batch) == maxBatch {
						write(batch)
						batch = nil
					}
				default:
					if len(batch) > 0 {
						write(batch)
					}
					return
				}
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
		write(batch)
	}
}

// canonical encodes an access body as its leaf data.
func canonical(b *accessBody) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(b)
	return bytes.TrimRight(buf.Bytes(), "\n")
}

func (r *recorder) write(batch []pendingAccess) {
	id, err := r.writeBatch(batch)
	if err != nil && isUnique(err) {
		r.resetSeq()
		id, err = r.writeBatch(batch)
	}
	for _, pa := range batch {
		pa.done <- err
	}
	if err != nil {
		r.s.log.Error("exchange: access log write failed", "records", len(batch), "err", err)
		return
	}
	select {
	case r.s.kickBatch <- struct{}{}:
	default:
	}
	entries := make([]subjectEntry, 0, len(batch))
	for _, pa := range batch {
		for _, sub := range pa.body.Subjects {
			entries = append(entries, subjectEntry{sub, pa.body.ID, pa.body.At})
		}
	}
	r.s.index.add(id, entries)
}

// accessCols is the number of columns of one ex_access row.
const accessCols = 12

// chunk is how many access rows one prepared insert writes.
const chunk = 32

func accessInsert(rows int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO ex_access (seq, id, at, batch_id, leaf, leaf_hash, body, resource_id, grant_id, consumer_org, outcome, records) VALUES `)
	for i := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	return q.String()
}

var (
	insertChunk = accessInsert(chunk)
	insertOne   = accessInsert(1)
)

// writeBatch writes a batch's access rows and its root in one transaction;
// it returns the batch id.
func (r *recorder) writeBatch(batch []pendingAccess) (string, error) {
	s := r.s
	h := s.ledger.Hasher()
	bodies := make([][]byte, len(batch))
	leaves := make([]merkle.Hash, len(batch))
	for i, pa := range batch {
		bodies[i] = canonical(pa.body)
		leaves[i] = h.LeafHash(bodies[i])
	}
	root := rootOf(h, leaves)
	batchID := newID()
	err := s.db.InTx(context.Background(), func(ctx context.Context) error {
		st := s.db.Stmts(ctx)
		defer st.Close()
		seq, err := r.nextSeq(ctx)
		if err != nil {
			return err
		}
		if _, err := st.Exec(ctx, `INSERT INTO ex_batches (id, seq, size, root, created_at) VALUES (?, ?, ?, ?, ?)`,
			batchID, seq, len(batch), root.Hex(), s.nowMs()); err != nil {
			return err
		}
		args := make([]any, 0, chunk*accessCols)
		for lo := 0; lo < len(batch); {
			n, q := chunk, insertChunk
			if len(batch)-lo < chunk {
				n, q = 1, insertOne
			}
			args = args[:0]
			for i := lo; i < lo+n; i++ {
				b := batch[i].body
				args = append(args, seq*maxBatch+int64(i), b.ID, b.At, batchID, i, leaves[i].Hex(), string(bodies[i]), b.ResourceID, b.Grant, b.ConsumerOrg, b.Outcome, b.Records)
			}
			if _, err := st.Exec(ctx, q, args...); err != nil {
				return err
			}
			lo += n
		}
		return nil
	})
	return batchID, err
}

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

// rootOf is the RFC 6962 root of a list of leaf hashes.
func rootOf(h merkle.Hasher, leaves []merkle.Hash) merkle.Hash {
	switch len(leaves) {
	case 0:
		return h.EmptyHash()
	case 1:
		return leaves[0]
	}
	k := split(len(leaves))
	return h.NodeHash(rootOf(h, leaves[:k]), rootOf(h, leaves[k:]))
}

// split is the largest power of two smaller than n (RFC 6962 §2.1).
func split(n int) int {
	k := 1
	for k<<1 < n {
		k <<= 1
	}
	return k
}

// auditPath is the RFC 6962 audit path of leaf m in leaves.
func auditPath(h merkle.Hasher, m int, leaves []merkle.Hash) []merkle.Hash {
	if len(leaves) <= 1 {
		return nil
	}
	k := split(len(leaves))
	if m < k {
		return append(auditPath(h, m, leaves[:k]), rootOf(h, leaves[k:]))
	}
	return append(auditPath(h, m-k, leaves[k:]), rootOf(h, leaves[:k]))
}

// PumpBatches appends batches to the ledger until ctx ends: at once after
// a batch commits here, and every second otherwise.
func (s *Service) PumpBatches(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for {
			n, err := s.PumpOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("exchange: batches to the ledger", "err", err)
				}
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kickBatch:
		case <-t.C:
		}
	}
}

// PumpOnce appends up to 64 waiting batches to the ledger; it returns how
// many.
func (s *Service) PumpOnce(ctx context.Context) (int, error) {
	now := s.nowMs()
	type b struct {
		id, root string
		seq      int64
		size     int
		at       int64
	}
	rows, err := s.db.Query(ctx, `SELECT id, seq, root, size, created_at FROM ex_batches WHERE ledger_index = -1 AND claimed_at < ? ORDER BY seq LIMIT 64`, now-60000)
	if err != nil {
		return 0, err
	}
	var bs []b
	for rows.Next() {
		var x b
		if err := rows.Scan(&x.id, &x.seq, &x.root, &x.size, &x.at); err != nil {
			rows.Close()
			return 0, err
		}
		bs = append(bs, x)
	}
	rows.Close()
	if len(bs) == 0 {
		return 0, nil
	}
	type res struct {
		i    int
		idx  int64
		leaf string
		err  error
	}
	out := make(chan res, len(bs))
	for i, x := range bs {
		go func() {
			idx, leaf, err := s.ledger.AppendRecord(ctx, LedgerRecord{ActorKind: "system", ActorID: "exchange", ActorName: "exchange",
				Action: "exchange.access.batch", Subject: fmt.Sprintf("batch:%d", x.seq), Purpose: "data-sharing-audit",
				Basis: "国发〔2016〕51号 政务信息资源共享管理暂行办法", PayloadHash: x.root, Ref: x.id, At: time.UnixMilli(x.at)})
			out <- res{i, idx, leaf, err}
		}()
	}
	var first error
	done := make([]res, 0, len(bs))
	for range bs {
		r := <-out
		if r.err != nil {
			if first == nil {
				first = r.err
			}
			continue
		}
		done = append(done, r)
	}
	// One transaction for all (each would otherwise queue for the writer).
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		for _, r := range done {
			if _, err := s.db.Exec(ctx, `UPDATE ex_batches SET ledger_index = ?, ledger_leaf = ? WHERE id = ?`, r.idx, r.leaf, bs[r.i].id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(done), first
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

// AccessProof proves one access: its record, its audit path in its batch,
// and the batch's ledger entry with its inclusion proof.
type AccessProof struct {
	AccessID  string      `json:"accessId"`
	Record    string      `json:"record" doc:"The access record (canonical JSON, the leaf data)"`
	LeafHash  string      `json:"leafHash" doc:"hex"`
	Hasher    string      `json:"hasher" enum:"sha256,sm3"`
	Batch     int64       `json:"batch"`
	LeafIndex int         `json:"leafIndex"`
	BatchSize int         `json:"batchSize"`
	BatchRoot string      `json:"batchRoot" doc:"hex; the payloadHash of the ledger entry"`
	BatchPath []string    `json:"batchPath" nullable:"false" doc:"base64 RFC 6962 audit path in the batch"`
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
	var body, leaf, batchID, root string
	var leafIdx, size int
	var seq, lidx int64
	err := s.db.QueryRow(ctx, `SELECT a.body, a.leaf_hash, a.leaf, a.batch_id, b.seq, b.size, b.root, b.ledger_index
		FROM ex_access a JOIN ex_batches b ON b.id = a.batch_id WHERE a.id = ?`, id).Scan(&body, &leaf, &leafIdx, &batchID, &seq, &size, &root, &lidx)
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
	rows, err := s.db.Query(ctx, `SELECT leaf_hash FROM ex_access WHERE seq >= ? AND seq < ? ORDER BY seq`, seq*maxBatch, (seq+1)*maxBatch)
	if err != nil {
		return nil, err
	}
	leaves := make([]merkle.Hash, 0, size)
	for rows.Next() {
		var hx string
		if err := rows.Scan(&hx); err != nil {
			rows.Close()
			return nil, err
		}
		lh, err := merkle.ParseHexHash(hx)
		if err != nil {
			rows.Close()
			return nil, err
		}
		leaves = append(leaves, lh)
	}
	rows.Close()
	h := s.ledger.Hasher()
	if rootOf(h, leaves).Hex() != root {
		return nil, fmt.Errorf("exchange: batch %d does not match its root", seq)
	}
	path := auditPath(h, leafIdx, leaves)
	out := &AccessProof{AccessID: id, Record: body, LeafHash: leaf, Hasher: h.Name(), Batch: seq, LeafIndex: leafIdx, BatchSize: size,
		BatchRoot: root, BatchPath: make([]string, len(path))}
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

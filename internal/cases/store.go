package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// The intake writer commits new cases in groups: reports arriving together
// share one transaction (cases, timelines, photos, reporters, notices and
// their ledger evidence), which is what lets a surge of sensor alarms or
// 12345 tickets through on one SQLite writer. A group that fails is retried
// one report at a time, so one bad report fails alone.

const maxGroup = 256

type job struct {
	pr   *prepared
	ctx  context.Context
	done chan error
}

type batcher struct {
	s    *Service
	ch   chan *job
	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func newBatcher(s *Service) *batcher {
	b := &batcher{s: s, ch: make(chan *job, 4*maxGroup), quit: make(chan struct{})}
	b.wg.Add(1)
	go b.run()
	return b
}

func (b *batcher) close() {
	b.once.Do(func() { close(b.quit) })
	b.wg.Wait()
}

func (b *batcher) submit(ctx context.Context, pr *prepared) (*Intake, error) {
	j := &job{pr: pr, ctx: ctx, done: make(chan error, 1)}
	select {
	case b.ch <- j:
	case <-b.quit:
		return nil, errs.Unavailable("case intake", errors.New("shutting down"))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case err := <-j.done:
		if err != nil {
			return nil, err
		}
		return pr.out, nil
	case <-ctx.Done():
		// The write may still commit; the caller sees the cancellation.
		return nil, ctx.Err()
	}
}

func (b *batcher) run() {
	defer b.wg.Done()
	for {
		var first *job
		select {
		case first = <-b.ch:
		case <-b.quit:
			// Drain what was accepted before the stop.
			for {
				select {
				case j := <-b.ch:
					b.commit([]*job{j})
				default:
					return
				}
			}
		}
		group := []*job{first}
	fill:
		for len(group) < maxGroup {
			select {
			case j := <-b.ch:
				group = append(group, j)
			default:
				break fill
			}
		}
		b.commit(group)
	}
}

func (b *batcher) commit(group []*job) {
	live := group[:0:0]
	for _, j := range group {
		if j.ctx.Err() != nil {
			j.done <- j.ctx.Err()
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	err := b.s.writeGroup(context.Background(), live)
	b.s.kickEvidence()
	if err == nil || len(live) == 1 {
		for _, j := range live {
			if err == nil {
				b.s.noteCases(j.pr.out.Case)
			}
			j.done <- err
		}
		return
	}
	b.s.log.Warn("case intake group failed; retrying one by one", "size", len(live), "err", err)
	for _, j := range live {
		err := b.s.writeGroup(context.Background(), []*job{j})
		if err == nil {
			b.s.noteCases(j.pr.out.Case)
		}
		j.done <- err
	}
}

// writeGroup stores a group of prepared reports in one transaction.
func (s *Service) writeGroup(ctx context.Context, group []*job) error {
	// Reset what a failed attempt may have set.
	for _, j := range group {
		j.pr.out.Repeat = false
	}
	return s.db.InTx(ctx, func(ctx context.Context) error {
		st := s.db.Stmts(ctx)
		defer st.Close()
		ctx = db.WithStmts(ctx, st)
		day := time.UnixMilli(group[0].pr.c.CreatedAt).In(cst).Format("20060102")
		next, err := s.reserveNumbers(ctx, day, len(group))
		if err != nil {
			return err
		}
		byKey := map[string]*Case{}
		rows := &stepRows{s: s}
		for _, j := range group {
			pr := j.pr
			c := pr.c
			if c.DedupKey != "" {
				open := byKey[c.DedupKey]
				if open == nil {
					var err error
					if open, err = s.openByKey(ctx, c.DedupKey); err != nil {
						return err
					}
				}
				if open != nil {
					if err := rows.flush(ctx); err != nil { // its timeline so far, before the repeat's step
						return err
					}
					if err := s.repeat(ctx, open, pr); err != nil {
						return err
					}
					pr.out.Case, pr.out.Repeat = open, true
					continue
				}
				byKey[c.DedupKey] = c
			}
			c.No = caseNo(c, day, next)
			next++
			if err := s.insertCase(ctx, c); err != nil {
				return err
			}
			if _, err := s.db.Exec(ctx, `INSERT INTO case_reporters (case_id, reporter_id, kind, via_case, added_at) VALUES (?, ?, ?, ?, ?)`,
				c.ID, reporterKey(c), c.ReporterKind, c.ID, c.CreatedAt); err != nil {
				return err
			}
			for _, ph := range pr.photos {
				if err := s.insertPhoto(ctx, c.ID, "report", ph, c.ReporterID, c.CreatedAt); err != nil {
					return err
				}
			}
			for i, e := range pr.events {
				e.Seq = i + 1
				rows.add(c, e, pr.reqID)
			}
			if c.State == Dispatched {
				if err := s.notify(ctx, c.OrgID, "", c.ID, "dispatch", fmt.Sprintf("新派遣案件 %s：%s", c.No, c.CategoryName)); err != nil {
					return err
				}
			}
		}
		return rows.flush(ctx)
	})
}

var cst = time.FixedZone("CST", 8*3600)

// reserveNumbers takes n case numbers of a day (YYYYMMDD, China time) from
// the daily counter, in the caller's transaction, and returns the first.
func (s *Service) reserveNumbers(ctx context.Context, day string, n int) (int64, error) {
	var last int64
	err := s.db.QueryRow(ctx, `INSERT INTO case_counters (day, n) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET n = case_counters.n + excluded.n RETURNING n`,
		day, n).Scan(&last)
	return last - int64(n) + 1, err
}

// caseNo is a case's number: district (6) + day (8) + the day's serial (6).
func caseNo(c *Case, day string, serial int64) string {
	return fmt.Sprintf("%s%s%06d", c.District[:6], day, serial)
}

func reporterKey(c *Case) string {
	if c.ReporterID != "" {
		return c.ReporterID
	}
	return c.token
}

func (s *Service) openByKey(ctx context.Context, key string) (*Case, error) {
	c, err := s.scanCase(s.db.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE dedup_key = ? AND state IN ('reported', 'filed', 'dispatched', 'handled', 'suspended')
		ORDER BY created_at DESC LIMIT 1`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// repeat counts a repeated alarm on the open case it is about.
func (s *Service) repeat(ctx context.Context, c *Case, pr *prepared) error {
	now := pr.c.CreatedAt
	c.Repeats++
	c.Version++
	c.UpdatedAt = now
	if _, err := s.db.Exec(ctx, `UPDATE cases SET repeats = ?, version = ?, updated_at = ? WHERE id = ?`, c.Repeats, c.Version, now, c.ID); err != nil {
		return err
	}
	e := actorOf(pr.p).event("repeat", c.State, c.State, "", map[string]any{"channel": pr.c.Channel, "dedupKey": pr.c.DedupKey, "description": pr.c.Description}, now)
	seq, err := s.nextSeq(ctx, c.ID)
	if err != nil {
		return err
	}
	e.Seq = seq
	return s.insertEvent(ctx, c, e, pr.reqID)
}

func (s *Service) nextSeq(ctx context.Context, caseID string) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM case_events WHERE case_id = ?`, caseID).Scan(&n)
	return n + 1, err
}

func (s *Service) insertCase(ctx context.Context, c *Case) error {
	_, err := s.db.Exec(ctx, `INSERT INTO cases (`+caseColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
		?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.No, c.Channel, string(c.State), c.Category, c.Confidence, c.ClassifiedBy, c.Description, c.Address, c.Lon, c.Lat, c.Grid, c.Grid, c.RespGrid, c.Community,
		c.Street, c.District, c.Component, c.DedupKey, c.Dept, c.OrgID, c.OrgName, c.ReporterKind, c.ReporterID, c.reporterName, c.reporterPhone, c.Reporter,
		c.ExternalID, c.token, c.Supervised, c.Warning, c.Reworks, c.Returns, c.Repeats, c.DuplicateOf, c.PostponeReq, c.FiledAt, c.DispatchedAt, c.FirstDispatch,
		c.YellowAt, c.DeadlineAt, c.SuspendedAt, c.HandledAt, c.ClosedAt, c.HandlerID, c.VerifierID, c.Rating, c.RatingComment, c.RatedAt, c.Version, c.CreatedAt, c.UpdatedAt)
	return err
}

// updateCase writes a case's mutable fields if nobody changed it since it
// was read (optimistic: version).
func (s *Service) updateCase(ctx context.Context, c *Case) error {
	res, err := s.db.Exec(ctx, `UPDATE cases SET state = ?, category = ?, confidence = ?, classified_by = ?, dept = ?, org_id = ?, org_name = ?, supervised = ?, warning = ?,
		reworks = ?, returns = ?, repeats = ?, duplicate_of = ?, postpone_req = ?, filed_at = ?, dispatched_at = ?, first_dispatched_at = ?, yellow_at = ?, deadline_at = ?,
		suspended_at = ?, handled_at = ?, closed_at = ?, handler_id = ?, verifier_id = ?, rating = ?, rating_comment = ?, rated_at = ?, version = ?, updated_at = ?
		WHERE id = ? AND version = ?`,
		string(c.State), c.Category, c.Confidence, c.ClassifiedBy, c.Dept, c.OrgID, c.OrgName, c.Supervised, c.Warning, c.Reworks, c.Returns, c.Repeats, c.DuplicateOf,
		c.PostponeReq, c.FiledAt, c.DispatchedAt, c.FirstDispatch, c.YellowAt, c.DeadlineAt, c.SuspendedAt, c.HandledAt, c.ClosedAt, c.HandlerID, c.VerifierID,
		c.Rating, c.RatingComment, c.RatedAt, c.Version+1, c.UpdatedAt, c.ID, c.Version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.Conflict("version", "the case was changed by someone else; reload and try again", "案件已被他人更新，请刷新后重试")
	}
	c.Version++
	return nil
}

func (s *Service) insertEvent(ctx context.Context, c *Case, e *Event, reqID string) error {
	rows := &stepRows{s: s}
	rows.add(c, e, reqID)
	return rows.flush(ctx)
}

// stepRows collects timeline rows and their evidence and writes them with
// multi-row inserts (a group of new cases writes all its steps in a few
// statements).
type stepRows struct {
	s        *Service
	events   []any
	evidence []any
	n        int
}

const eventCols = 13

func (r *stepRows) add(c *Case, e *Event, reqID string) {
	data := ""
	if len(e.Data) > 0 {
		data = string(e.Data)
	}
	r.events = append(r.events, e.ID, c.ID, e.Seq, e.Action, string(e.From), string(e.To), e.ActorKind, e.ActorID, e.ActorName, e.OrgID, e.Note, data, e.At)
	payload, _ := json.Marshal(struct {
		Case     string `json:"case"`
		No       string `json:"no"`
		Seq      int    `json:"seq"`
		Action   string `json:"action"`
		From     State  `json:"from"`
		To       State  `json:"to"`
		Category string `json:"category"`
		Grid     string `json:"grid"`
		OrgID    string `json:"orgId"`
		Note     string `json:"note,omitempty"`
		Data     string `json:"data,omitempty"`
		At       int64  `json:"at"`
	}{c.ID, c.No, e.Seq, e.Action, e.From, e.To, c.Category, c.Grid, c.OrgID, e.Note, data, e.At})
	ev := Evidence{ActorKind: e.ActorKind, ActorID: e.ActorID, ActorName: e.ActorName, OrgID: e.OrgID, Action: "case." + e.Action, Subject: "case:" + c.No,
		At: time.UnixMilli(e.At).UTC(), RequestID: reqID, Ref: e.ID, Payload: payload}
	body, _ := json.Marshal(ev)
	r.evidence = append(r.evidence, ev.Ref, string(body), r.s.nowMs())
	r.n++
}

// rowsPerInsert keeps a statement's parameters well under every backend's
// limit (SQLite 32766, PostgreSQL 65535).
const rowsPerInsert = 200

func (r *stepRows) flush(ctx context.Context) error {
	for start := 0; start < r.n; start += rowsPerInsert {
		k := min(rowsPerInsert, r.n-start)
		if _, err := r.s.db.Exec(ctx, `INSERT INTO case_events (id, case_id, seq, action, from_state, to_state, actor_kind, actor_id, actor_name, org_id, note, data, at) VALUES `+
			placeholders(k, eventCols), r.events[start*eventCols:(start+k)*eventCols]...); err != nil {
			return err
		}
		if _, err := r.s.db.Exec(ctx, `INSERT INTO case_evidence (id, body, created_at) VALUES `+placeholders(k, 3), r.evidence[start*3:(start+k)*3]...); err != nil {
			return err
		}
	}
	r.events, r.evidence, r.n = r.events[:0], r.evidence[:0], 0
	return nil
}

// placeholders is "(?, ?, …), (…)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

func (s *Service) insertPhoto(ctx context.Context, caseID, stage string, p Photo, by string, at int64) error {
	_, err := s.db.Exec(ctx, `INSERT INTO case_photos (id, case_id, stage, mime, size, sha256, data, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		newID(), caseID, stage, p.Mime, len(p.Data), photoHash(p.Data), p.Data, by, at)
	return err
}

func (s *Service) notify(ctx context.Context, orgID, userID, caseID, kind, msg string) error {
	if orgID == "" && userID == "" {
		return nil
	}
	_, err := s.db.Exec(ctx, `INSERT INTO case_notices (id, org_id, user_id, case_id, kind, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		newID(), orgID, userID, caseID, kind, msg, s.nowMs())
	return err
}

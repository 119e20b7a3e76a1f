package cases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

// ActionInput carries what an action needs; each action reads its fields.
type ActionInput struct {
	Note     string  `json:"note,omitempty" maxLength:"1000" doc:"Reason or result (required for reject, return, handle, verify-fail, postpone-request, suspend, comment)"`
	Category string  `json:"category,omitempty" doc:"file, dispatch: the operator's category (a correction becomes training data)"`
	Dept     string  `json:"dept,omitempty" doc:"dispatch: department (deptType) instead of the rules' choice"`
	OrgID    string  `json:"orgId,omitempty" doc:"dispatch: unit instead of the rules' choice"`
	Until    int64   `json:"until,omitempty" doc:"postpone-request: the new deadline asked for (unix ms)"`
	Target   string  `json:"target,omitempty" doc:"merge: id or number of the case this one duplicates"`
	Level    int     `json:"level,omitempty" minimum:"0" maximum:"2" doc:"escalate: 1 the unit's head, 2 the operations centre"`
	Rating   string  `json:"rating,omitempty" enum:"satisfied,basically,dissatisfied,"`
	Photos   []Photo `json:"photos,omitempty" doc:"handle, verify-pass, verify-fail: photos of the result (base64)"`
}

// Actions lists every action and the states it starts from.
var Actions = map[string][]State{
	"file":             {Reported},
	"reject":           {Reported, Filed},
	"dispatch":         {Reported, Filed},
	"return":           {Dispatched},
	"handle":           {Dispatched},
	"verify-pass":      {Handled},
	"verify-fail":      {Handled},
	"postpone-request": {Dispatched},
	"postpone-approve": {Dispatched},
	"postpone-reject":  {Dispatched},
	"suspend":          {Filed, Dispatched},
	"resume":           {Suspended},
	"merge":            {Reported, Filed, Dispatched},
	"escalate":         OpenStates,
	"reopen":           {Closed},
	"rate":             {Closed},
	"comment":          append(slices.Clone(OpenStates), Closed, Rejected, Merged),
}

var actionPerm = map[string]authz.Permission{
	"file": authz.CasesDispatch, "reject": authz.CasesDispatch, "dispatch": authz.CasesDispatch, "return": authz.CasesHandle, "handle": authz.CasesHandle,
	"verify-pass": authz.CasesVerify, "verify-fail": authz.CasesVerify, "postpone-request": authz.CasesHandle, "postpone-approve": authz.CasesDispatch,
	"postpone-reject": authz.CasesDispatch, "suspend": authz.CasesDispatch, "resume": authz.CasesDispatch, "merge": authz.CasesDispatch,
	"escalate": authz.CasesSupervise, "reopen": authz.CasesDispatch, "rate": "", "comment": authz.CasesRead,
}

var needsNote = []string{"reject", "return", "handle", "verify-fail", "postpone-request", "suspend", "comment"}

var stateZh = map[State]string{Reported: "待受理", Filed: "已立案", Dispatched: "处置中", Handled: "待核查", Closed: "已结案", Rejected: "不予立案", Merged: "已合并", Suspended: "已挂起"}

// Act performs one step of the loop on a case, attributed to the caller.
func (s *Service) Act(ctx context.Context, id, action string, in ActionInput) (*Case, error) {
	from, ok := Actions[action]
	if !ok {
		return nil, errs.Invalid("action", "enum", "unknown action", "未知操作")
	}
	p, err := authz.Require(ctx, actionPerm[action])
	if err != nil {
		return nil, err
	}
	in.Note = strings.TrimSpace(in.Note)
	if slices.Contains(needsNote, action) && in.Note == "" {
		return nil, errs.Invalid("note", "required", "a reason or result is required for "+action, "此操作须填写说明")
	}
	if utf8.RuneCountInString(in.Note) > 1000 {
		return nil, errs.Invalid("note", "maxLength", "must be at most 1000 characters", "不能超过 1000 个字符")
	}
	if err := checkPhotos("photos", in.Photos); err != nil {
		return nil, err
	}
	var out *Case
	var retrain bool
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		c, err := s.load(ctx, id)
		if err != nil {
			return err
		}
		if !s.canSee(ctx, p, c) {
			return errs.NotFound("case", id)
		}
		if !slices.Contains(from, c.State) {
			return errs.Conflict("state", fmt.Sprintf("a case in state %s cannot be %s", c.State, action),
				fmt.Sprintf("%s状态的案件不能执行此操作（%s）", stateZh[c.State], action))
		}
		seq, err := s.nextSeq(ctx, c.ID)
		if err != nil {
			return err
		}
		st := &step{s: s, ctx: ctx, p: p, c: c, in: in, now: s.nowMs(), seq: seq, actor: actorOf(p), reqID: httpx.RequestID(ctx)}
		if err := st.run(action); err != nil {
			return err
		}
		c.UpdatedAt = st.now
		if err := s.updateCase(ctx, c); err != nil {
			return err
		}
		retrain = st.corrected
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.kickEvidence()
	s.noteCases(out)
	if retrain {
		s.retrainSoon()
	}
	return out, nil
}

// step is one action in progress inside its transaction.
type step struct {
	s         *Service
	ctx       context.Context
	p         *authz.Principal
	c         *Case
	in        ActionInput
	now       int64
	seq       int
	actor     actorRef
	reqID     string
	corrected bool
}

func (st *step) event(action string, from, to State, data any) error {
	e := st.actor.event(action, from, to, st.in.Note, data, st.now)
	e.Seq = st.seq
	st.seq++
	return st.s.insertEvent(st.ctx, st.c, e, st.reqID)
}

func (st *step) photos(stage string) error {
	for _, ph := range st.in.Photos {
		if err := st.s.insertPhoto(st.ctx, st.c.ID, stage, ph, st.p.ID, st.now); err != nil {
			return err
		}
	}
	return nil
}

// ownUnit checks that the caller acts for the unit the case is with.
func (st *step) ownUnit() error {
	if st.p.Nationwide || st.p.OrgID == st.c.OrgID {
		return nil
	}
	return errs.Forbidden("the case is with another unit", "案件不在本单位办理")
}

// tellReporters leaves a notice for every reporter with an account.
func (st *step) tellReporters(msg string) error {
	rows, err := st.s.db.Query(st.ctx, `SELECT DISTINCT reporter_id FROM case_reporters WHERE case_id = ? AND kind = 'user' AND reporter_id <> ''`, st.c.ID)
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := st.s.notify(st.ctx, "", id, st.c.ID, "progress", fmt.Sprintf("您反映的问题 %s %s", st.c.No, msg)); err != nil {
			return err
		}
	}
	return nil
}

// recategorize applies an operator's category; a change from the
// classifier's choice becomes a training example.
func (st *step) recategorize() error {
	code := st.in.Category
	if code == "" || code == st.c.Category {
		if st.c.Category == "" {
			return errs.Invalid("category", "required", "choose a category first", "请先选择类别")
		}
		return nil
	}
	cat, ok := st.s.category(code)
	if !ok || !cat.Active {
		return errs.Invalid("category", "exists", "no active category has this code", "没有此代码的有效类别")
	}
	old := st.c.Category
	st.c.Category, st.c.CategoryName, st.c.Confidence, st.c.ClassifiedBy = code, cat.NameZh, 1, "operator"
	if err := st.event("recategorize", st.c.State, st.c.State, map[string]string{"from": old, "to": code}); err != nil {
		return err
	}
	if _, err := st.s.db.Exec(st.ctx, `INSERT INTO case_examples (id, category, text, source, case_id, created_by, created_at) VALUES (?, ?, ?, 'correction', ?, ?, ?)`,
		newID(), code, st.c.Description, st.c.ID, st.p.ID, st.now); err != nil {
		return err
	}
	st.corrected = true
	return nil
}

func (st *step) run(action string) error {
	c, s := st.c, st.s
	prev := c.State
	switch action {
	case "file":
		if err := st.recategorize(); err != nil {
			return err
		}
		c.State, c.FiledAt = Filed, st.now
		return st.event("file", prev, Filed, nil)

	case "reject":
		c.State, c.ClosedAt = Rejected, st.now
		if err := st.event("reject", prev, Rejected, nil); err != nil {
			return err
		}
		return st.tellReporters("经审核不予立案：" + st.in.Note)

	case "dispatch":
		if err := st.recategorize(); err != nil {
			return err
		}
		if prev == Reported {
			c.State, c.FiledAt = Filed, st.now
			if err := st.event("file", Reported, Filed, nil); err != nil {
				return err
			}
		}
		return st.dispatch()

	case "return":
		if err := st.ownUnit(); err != nil {
			return err
		}
		org := c.OrgID
		c.State, c.Returns, c.OrgID, c.OrgName, c.Dept = Filed, c.Returns+1, "", "", ""
		c.DispatchedAt, c.YellowAt, c.DeadlineAt, c.Warning, c.PostponeReq = 0, 0, 0, 0, 0
		if err := st.event("return", prev, Filed, map[string]string{"orgId": org}); err != nil {
			return err
		}
		return st.notifyCentre("return", fmt.Sprintf("案件 %s 被退单，待重新派遣：%s", c.No, st.in.Note))

	case "handle":
		if err := st.ownUnit(); err != nil {
			return err
		}
		c.State, c.HandledAt, c.HandlerID, c.PostponeReq = Handled, st.now, st.p.ID, 0
		if err := st.photos("handle"); err != nil {
			return err
		}
		if err := st.event("handle", prev, Handled, map[string]int{"photos": len(st.in.Photos)}); err != nil {
			return err
		}
		if u, err := s.dir.UnitFor(st.ctx, "sq", c.Grid); err == nil {
			if err := s.notify(st.ctx, u.ID, "", c.ID, "verify", fmt.Sprintf("案件 %s 已处置，请到现场核查", c.No)); err != nil {
				return err
			}
		}
		return st.tellReporters("已处置，待核查")

	case "verify-pass":
		c.State, c.ClosedAt, c.VerifierID = Closed, st.now, st.p.ID
		if err := st.photos("verify"); err != nil {
			return err
		}
		if err := st.event("verify-pass", prev, Closed, map[string]any{"onTime": c.DeadlineAt == 0 || c.HandledAt <= c.DeadlineAt}); err != nil {
			return err
		}
		return st.tellReporters("已核查结案，欢迎评价")

	case "verify-fail":
		c.State, c.Reworks, c.HandledAt, c.VerifierID = Dispatched, c.Reworks+1, 0, st.p.ID
		if err := st.photos("verify"); err != nil {
			return err
		}
		if err := st.event("verify-fail", prev, Dispatched, nil); err != nil {
			return err
		}
		return s.notify(st.ctx, c.OrgID, "", c.ID, "rework", fmt.Sprintf("案件 %s 核查未通过，请返工：%s", c.No, st.in.Note))

	case "postpone-request":
		if err := st.ownUnit(); err != nil {
			return err
		}
		if st.in.Until <= c.DeadlineAt || st.in.Until <= st.now {
			return errs.Invalid("until", "minimum", "the new deadline must be later than the current one", "新的期限须晚于当前期限")
		}
		c.PostponeReq = st.in.Until
		if err := st.event("postpone-request", prev, prev, map[string]int64{"until": st.in.Until, "deadlineAt": c.DeadlineAt}); err != nil {
			return err
		}
		return st.notifyCentre("postpone", fmt.Sprintf("案件 %s 申请延期：%s", c.No, st.in.Note))

	case "postpone-approve", "postpone-reject":
		if c.PostponeReq == 0 {
			return errs.Conflict("state", "no postponement is pending", "没有待审批的延期申请")
		}
		until := c.PostponeReq
		c.PostponeReq = 0
		if action == "postpone-approve" {
			old := c.DeadlineAt
			c.DeadlineAt = until
			c.YellowAt = st.now + int64(float64(until-st.now)*yellowShare)
			if c.DeadlineAt > st.now {
				c.Warning = 0
			}
			if err := st.event(action, prev, prev, map[string]int64{"from": old, "until": until}); err != nil {
				return err
			}
			return s.notify(st.ctx, c.OrgID, "", c.ID, "postpone", fmt.Sprintf("案件 %s 延期已批准", c.No))
		}
		if err := st.event(action, prev, prev, map[string]int64{"until": until}); err != nil {
			return err
		}
		return s.notify(st.ctx, c.OrgID, "", c.ID, "postpone", fmt.Sprintf("案件 %s 延期申请未批准", c.No))

	case "suspend":
		c.State, c.SuspendedAt = Suspended, st.now
		return st.event("suspend", prev, Suspended, nil)

	case "resume":
		back, err := s.stateBeforeSuspend(st.ctx, c.ID)
		if err != nil {
			return err
		}
		if back == Dispatched && c.DeadlineAt > 0 {
			cat, ok := s.category(c.Category)
			if !ok {
				return fmt.Errorf("cases: unknown category %q", c.Category)
			}
			yellow, deadline, err := s.extend(st.ctx, cat, time.UnixMilli(c.SuspendedAt), time.UnixMilli(st.now), time.UnixMilli(c.DeadlineAt))
			if err != nil {
				return err
			}
			c.YellowAt, c.DeadlineAt = yellow.UnixMilli(), deadline.UnixMilli()
		}
		c.State, c.SuspendedAt = back, 0
		return st.event("resume", prev, back, map[string]int64{"deadlineAt": c.DeadlineAt})

	case "merge":
		return st.merge()

	case "escalate":
		level := st.in.Level
		if level == 0 {
			level = 1
		}
		if level <= c.Supervised {
			return errs.Conflict("level", "the case is already supervised at this level", "案件已在此级别督办")
		}
		c.Supervised = level
		if err := st.event("escalate", prev, prev, map[string]int{"level": level}); err != nil {
			return err
		}
		return s.notify(st.ctx, c.OrgID, "", c.ID, "escalation", fmt.Sprintf("案件 %s 被督办：%s", c.No, st.in.Note))

	case "reopen":
		return st.reopen("reopen")

	case "rate":
		return st.rate()

	case "comment":
		return st.event("comment", prev, prev, nil)
	}
	return errs.Invalid("action", "enum", "unknown action", "未知操作")
}

func (st *step) notifyCentre(kind, msg string) error {
	u, err := st.s.dir.UnitFor(st.ctx, "cyzx", st.c.Grid)
	if errs.CodeOf(err) == errs.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	return st.s.notify(st.ctx, u.ID, "", st.c.ID, kind, msg)
}

func (st *step) dispatch() error {
	c, s := st.c, st.s
	cat, ok := s.category(c.Category)
	if !ok {
		return errs.Invalid("category", "required", "choose a category first", "请先选择类别")
	}
	dept, why := st.in.Dept, "operator"
	var comp *ComponentRef
	if c.Component != "" {
		comp, _ = s.dir.Component(st.ctx, c.Component)
	}
	if dept == "" {
		var err error
		if dept, why, err = s.deptFor(st.ctx, cat, c.Grid, comp); err != nil {
			return err
		}
	}
	var unit *Unit
	var err error
	if st.in.OrgID != "" {
		unit, err = s.dir.Unit(st.ctx, st.in.OrgID)
		if errs.CodeOf(err) == errs.CodeNotFound {
			return errs.Invalid("orgId", "exists", "no such organisation", "没有此单位")
		}
		if err == nil {
			dept, why = unit.DeptType, "operator"
		}
	} else {
		unit, err = s.dir.UnitFor(st.ctx, dept, c.Grid)
		if errs.CodeOf(err) == errs.CodeNotFound {
			return errs.Invalid("dept", "unit", "no unit of this department serves the case's area", "该区域没有此部门的单位")
		}
	}
	if err != nil {
		return err
	}
	prev := c.State
	if err := s.assign(st.ctx, c, dept, unit, st.now); err != nil {
		return err
	}
	if err := st.event("dispatch", prev, Dispatched, map[string]any{"dept": dept, "orgId": unit.ID, "orgName": unit.Name, "rule": why, "deadlineAt": c.DeadlineAt}); err != nil {
		return err
	}
	if err := s.notify(st.ctx, unit.ID, "", c.ID, "dispatch", fmt.Sprintf("新派遣案件 %s：%s", c.No, c.CategoryName)); err != nil {
		return err
	}
	return st.tellReporters("已受理并派遣至" + unit.Name)
}

func (st *step) reopen(action string) error {
	c, s := st.c, st.s
	prev := c.State
	cat, ok := s.category(c.Category)
	if !ok {
		return fmt.Errorf("cases: unknown category %q", c.Category)
	}
	yellow, deadline, err := s.deadlines(st.ctx, cat, time.UnixMilli(st.now))
	if err != nil {
		return err
	}
	c.State, c.Reworks, c.ClosedAt, c.HandledAt = Dispatched, c.Reworks+1, 0, 0
	c.DispatchedAt, c.YellowAt, c.DeadlineAt, c.Warning = st.now, yellow.UnixMilli(), deadline.UnixMilli(), 0
	if err := st.event(action, prev, Dispatched, map[string]int64{"deadlineAt": c.DeadlineAt}); err != nil {
		return err
	}
	return s.notify(st.ctx, c.OrgID, "", c.ID, "rework", fmt.Sprintf("案件 %s 已重新打开，请返工", c.No))
}

func (st *step) rate() error {
	c := st.c
	if !slices.Contains(Ratings, st.in.Rating) {
		return errs.Invalid("rating", "enum", "must be satisfied, basically or dissatisfied", "应为 满意、基本满意 或 不满意")
	}
	ok, err := st.s.isReporter(st.ctx, st.p, c)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Forbidden("only the reporter can rate the result", "只有反映人可以评价")
	}
	if c.Rating != "" && c.RatedAt >= c.ClosedAt {
		return errs.Conflict("rating", "this result is already rated", "该处理结果已评价")
	}
	c.Rating, c.RatingComment, c.RatedAt = st.in.Rating, st.in.Note, st.now
	if err := st.event("rate", c.State, c.State, map[string]string{"rating": st.in.Rating}); err != nil {
		return err
	}
	if st.in.Rating == "dissatisfied" {
		return st.reopen("reopen")
	}
	return nil
}

func (st *step) merge() error {
	c, s := st.c, st.s
	if st.in.Target == "" {
		return errs.Invalid("target", "required", "the case this one duplicates is required", "须指定重复的目标案件")
	}
	t, err := s.load(st.ctx, st.in.Target)
	if errs.CodeOf(err) == errs.CodeNotFound || (err == nil && !s.canSee(st.ctx, st.p, t)) {
		return errs.Invalid("target", "exists", "no such case in your region", "您的辖区内没有此案件")
	}
	if err != nil {
		return err
	}
	if t.ID == c.ID || !t.open() {
		return errs.Invalid("target", "open", "the target must be another open case", "目标须为另一件未结案件")
	}
	prev := c.State
	c.State, c.DuplicateOf, c.ClosedAt = Merged, t.ID, st.now
	if err := st.event("merge", prev, Merged, map[string]string{"into": t.No}); err != nil {
		return err
	}
	if _, err := s.db.Exec(st.ctx, `INSERT INTO case_reporters (case_id, reporter_id, kind, via_case, added_at)
		SELECT ?, reporter_id, kind, via_case, ? FROM case_reporters WHERE case_id = ? ON CONFLICT DO NOTHING`, t.ID, st.now, c.ID); err != nil {
		return err
	}
	t.Repeats++
	t.UpdatedAt = st.now
	seq, err := s.nextSeq(st.ctx, t.ID)
	if err != nil {
		return err
	}
	e := st.actor.event("merge-in", t.State, t.State, st.in.Note, map[string]string{"from": c.No}, st.now)
	e.Seq = seq
	if err := s.insertEvent(st.ctx, t, e, st.reqID); err != nil {
		return err
	}
	if err := s.updateCase(st.ctx, t); err != nil {
		return err
	}
	return st.tellReporters("与案件 " + t.No + " 为同一问题，已合并办理")
}

func (s *Service) stateBeforeSuspend(ctx context.Context, id string) (State, error) {
	var from string
	err := s.db.QueryRow(ctx, `SELECT from_state FROM case_events WHERE case_id = ? AND action = 'suspend' ORDER BY seq DESC LIMIT 1`, id).Scan(&from)
	if errors.Is(err, sql.ErrNoRows) {
		return Filed, nil
	}
	return State(from), err
}

// isReporter reports whether the caller reported the case (or a duplicate
// merged into it).
func (s *Service) isReporter(ctx context.Context, p *authz.Principal, c *Case) (bool, error) {
	if p == nil || p.ID == "" {
		return false, nil
	}
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM case_reporters WHERE case_id = ? AND reporter_id = ?`, c.ID, p.ID).Scan(&n)
	return n > 0, err
}

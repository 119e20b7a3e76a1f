package exchange

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// The data tracker (数据使用记录): a person linked to their ID number sees
// every access to data about them; an enterprise user linked to the
// enterprise's credit code sees the same for the enterprise. Links are
// verified against the registry (the name must match the authoritative
// record), and only the salted reference is kept.

// Link is an account's verified link to the subject it is.
type Link struct {
	Subject  string `json:"subject" doc:"Salted reference (person:…) or entity:<credit code>"`
	Kind     string `json:"kind" enum:"person,entity"`
	Label    string `json:"label" doc:"Masked identifier"`
	LinkedAt int64  `json:"linkedAt"`
}

// LinkInput links the caller to a person (ID number and name) or an
// enterprise (credit code and its name).
type LinkInput struct {
	IDNumber   string `json:"idNumber,omitempty" maxLength:"18"`
	CreditCode string `json:"creditCode,omitempty" maxLength:"18"`
	Name       string `json:"name" minLength:"1" maxLength:"100" doc:"Your name, or the enterprise's registered name"`
}

// LinkSubject verifies and stores the caller's link.
func (s *Service) LinkSubject(ctx context.Context, in LinkInput) (*Link, error) {
	p, err := authz.Require(ctx, authz.ExchangeTracker)
	if err != nil {
		return nil, err
	}
	var l Link
	switch {
	case in.IDNumber != "" && in.CreditCode == "":
		cid, err := idcode.ParseCitizenID("idNumber", in.IDNumber)
		if err != nil {
			return nil, err
		}
		vals, subject, err := s.source.Lookup(ctx, "people", cid.Number)
		if err != nil || strings.TrimSpace(vals["name"]) != strings.TrimSpace(in.Name) {
			return nil, errs.Invalid("idNumber", "verified", "the ID number and name do not match the population register", "身份证号与姓名核验不一致")
		}
		l = Link{Subject: subject, Kind: "person", Label: idcode.MaskCitizenID(cid.Number)}
	case in.CreditCode != "" && in.IDNumber == "":
		cc, err := idcode.ParseCreditCode("creditCode", in.CreditCode)
		if err != nil {
			return nil, err
		}
		vals, subject, err := s.source.Lookup(ctx, "entities", cc.Code)
		if err != nil || strings.TrimSpace(vals["name"]) != strings.TrimSpace(in.Name) {
			return nil, errs.Invalid("creditCode", "verified", "the credit code and name do not match the enterprise register", "统一社会信用代码与名称核验不一致")
		}
		l = Link{Subject: subject, Kind: "entity", Label: cc.Code}
	default:
		return nil, errs.Invalid("idNumber", "oneOf", "give an ID number or a credit code", "请提供身份证号或统一社会信用代码之一")
	}
	if l.Kind == "person" && !p.HasRole(authz.Citizen) || l.Kind == "entity" && !p.HasRole(authz.Enterprise) {
		return nil, errs.Forbidden("citizens link an ID number, enterprise users a credit code", "市民绑定身份证号，企业用户绑定统一社会信用代码")
	}
	l.LinkedAt = s.nowMs()
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `DELETE FROM ex_subject_links WHERE user_id = ? AND subject = ?`, p.ID, l.Subject); err != nil {
			return err
		}
		if _, err := s.db.Exec(ctx, `INSERT INTO ex_subject_links (user_id, subject, kind, label, linked_at) VALUES (?, ?, ?, ?, ?)`,
			p.ID, l.Subject, l.Kind, l.Label, l.LinkedAt); err != nil {
			return err
		}
		return s.evidence(ctx, p, "exchange.tracker.link", l.Subject, "data-tracker", "《个人信息保护法》第四十五条", map[string]any{"kind": l.Kind})
	})
	if err != nil {
		return nil, err
	}
	return &l, nil
}

func (s *Service) subjectsOf(ctx context.Context, userID string) ([]Link, error) {
	rows, err := s.db.Query(ctx, `SELECT subject, kind, label, linked_at FROM ex_subject_links WHERE user_id = ? ORDER BY linked_at`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Link{}
	for rows.Next() {
		var l Link
		if err := rows.Scan(&l.Subject, &l.Kind, &l.Label, &l.LinkedAt); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Links lists the caller's links.
func (s *Service) Links(ctx context.Context) ([]Link, error) {
	p, err := authz.Require(ctx, authz.ExchangeTracker)
	if err != nil {
		return nil, err
	}
	return s.subjectsOf(ctx, p.ID)
}

// Use is one access to a person's or enterprise's data as they see it.
type Use struct {
	AccessID     string   `json:"accessId"`
	At           int64    `json:"at"`
	Subject      string   `json:"subject"`
	Consumer     string   `json:"consumer" doc:"The department that asked"`
	ConsumerNode string   `json:"consumerNode,omitempty"`
	Resource     string   `json:"resource"`
	ResourceName string   `json:"resourceName"`
	Fields       []string `json:"fields" nullable:"false"`
	FieldsZh     []string `json:"fieldsZh" nullable:"false" doc:"The fields' Chinese names"`
	Clear        []string `json:"clear" nullable:"false" doc:"Fields it saw in clear"`
	Purpose      string   `json:"purpose"`
	Basis        string   `json:"basis"`
	Outcome      string   `json:"outcome"`
	ProofURL     string   `json:"proofUrl"`
	Disputed     bool     `json:"disputed"`
}

// Tracker lists every access to data about the caller (through their
// links), newest first.
func (s *Service) Tracker(ctx context.Context, limit, offset int) ([]Use, int, error) {
	p, err := authz.Require(ctx, authz.ExchangeTracker)
	if err != nil {
		return nil, 0, err
	}
	links, err := s.subjectsOf(ctx, p.ID)
	if err != nil {
		return nil, 0, err
	}
	out := []Use{}
	if len(links) == 0 {
		return out, 0, nil
	}
	if err := s.rec.sync(ctx); err != nil {
		return nil, 0, err
	}
	if err := s.index.flush(ctx); err != nil {
		return nil, 0, err
	}
	ph := strings.Repeat(",?", len(links))[1:]
	args := make([]any, len(links))
	for i, l := range links {
		args[i] = l.Subject
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM ex_access_subjects WHERE subject IN (`+ph+`)`, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT t.subject, a.body, (SELECT COUNT(*) FROM ex_disputes d WHERE d.access_id = a.id)
		FROM ex_access_subjects t JOIN ex_access a ON a.id = t.access_id WHERE t.subject IN (`+ph+`) ORDER BY t.at DESC LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var subject, body string
		var disputes int
		if err := rows.Scan(&subject, &body, &disputes); err != nil {
			return nil, 0, err
		}
		var ab accessBody
		if err := json.Unmarshal([]byte(body), &ab); err != nil {
			return nil, 0, err
		}
		zh := make([]string, len(ab.Fields))
		r, _ := s.resource(ctx, ab.ResourceID)
		for i, f := range ab.Fields {
			zh[i] = f
			if r != nil {
				if it, ok := r.item(f); ok {
					zh[i] = it.NameZh
				}
			}
		}
		out = append(out, Use{AccessID: ab.ID, At: ab.At, Subject: subject, Consumer: ab.ConsumerName, ConsumerNode: ab.ConsumerNode,
			Resource: ab.Resource, ResourceName: ab.ResourceName, Fields: ab.Fields, FieldsZh: zh, Clear: nonNil(ab.Clear), Purpose: ab.Purpose,
			Basis: ab.Basis, Outcome: ab.Outcome, ProofURL: "/api/v1/exchange/access/" + ab.ID + "/proof", Disputed: disputes > 0})
	}
	return out, total, rows.Err()
}

// Dispute is an objection to an access or a correction request (数据纠错).
type Dispute struct {
	ID           string `json:"id"`
	Kind         string `json:"kind" enum:"objection,correction"`
	Subject      string `json:"subject"`
	AccessID     string `json:"accessId,omitempty"`
	Resource     string `json:"resource"`
	ResourceName string `json:"resourceName"`
	ProviderName string `json:"providerName"`
	Field        string `json:"field,omitempty"`
	Claimed      string `json:"claimed,omitempty" doc:"The value the person says is right (shown to the person and the provider)"`
	Text         string `json:"text"`
	Status       string `json:"status" enum:"open,accepted,rejected"`
	DueAt        int64  `json:"dueAt"`
	Overdue      bool   `json:"overdue"`
	Answer       string `json:"answer,omitempty"`
	AnsweredBy   string `json:"answeredBy,omitempty"`
	AnsweredAt   int64  `json:"answeredAt,omitempty"`
	CreatedAt    int64  `json:"createdAt"`
}

// NewDispute raises an objection to an access, or asks for a correction.
type NewDispute struct {
	Kind     string `json:"kind" enum:"objection,correction"`
	AccessID string `json:"accessId,omitempty" maxLength:"36" doc:"The access objected to (objections; optional for corrections)"`
	Resource string `json:"resource,omitempty" maxLength:"40" doc:"Resource with the wrong value (corrections without accessId)"`
	Field    string `json:"field,omitempty" maxLength:"40" doc:"The wrong item (corrections)"`
	Claimed  string `json:"claimed,omitempty" maxLength:"200" doc:"The right value (corrections)"`
	Text     string `json:"text" minLength:"2" maxLength:"1000"`
}

// DisputeWorkDays is the provider's time to answer a dispute.
const DisputeWorkDays = 5

// RaiseDispute records an objection or a correction request and sends it to
// the authoritative (providing) department with a deadline.
func (s *Service) RaiseDispute(ctx context.Context, in NewDispute) (*Dispute, error) {
	p, err := authz.Require(ctx, authz.ExchangeTracker)
	if err != nil {
		return nil, err
	}
	links, err := s.subjectsOf(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	if len(links) == 0 {
		return nil, errs.Invalid("subject", "linked", "link your ID number (or credit code) first", "请先完成实名绑定")
	}
	d := Dispute{ID: newID(), Kind: in.Kind, AccessID: in.AccessID, Field: in.Field, Claimed: in.Claimed, Text: in.Text, Status: "open", CreatedAt: s.nowMs()}
	resRef := in.Resource
	if in.AccessID != "" {
		if err := s.rec.sync(ctx); err != nil {
			return nil, err
		}
		var body string
		if err := s.db.QueryRow(ctx, `SELECT body FROM ex_access WHERE id = ?`, in.AccessID).Scan(&body); err != nil {
			return nil, errs.Invalid("accessId", "exists", "no such access", "没有该使用记录")
		}
		var ab accessBody
		if err := json.Unmarshal([]byte(body), &ab); err != nil {
			return nil, err
		}
		for _, sub := range ab.Subjects {
			for _, l := range links {
				if sub == l.Subject {
					d.Subject = sub
				}
			}
		}
		if d.Subject == "" {
			return nil, errs.Invalid("accessId", "yours", "that access did not concern you", "该使用记录与您无关")
		}
		resRef = ab.ResourceID
	} else if in.Kind == "objection" {
		return nil, errs.Invalid("accessId", "required", "an objection names the access", "异议须指明使用记录")
	} else {
		d.Subject = links[0].Subject
	}
	if resRef == "" {
		return nil, errs.Invalid("resource", "required", "name the resource with the wrong value", "请指明数据所在的资源")
	}
	r, err := s.resource(ctx, resRef)
	if err != nil {
		return nil, errs.Invalid("resource", "exists", "no such resource", "没有该资源")
	}
	if in.Kind == "correction" {
		if _, ok := r.item(in.Field); !ok {
			return nil, errs.Invalid("field", "enum", "the resource has no item "+in.Field, "资源没有数据项 "+in.Field)
		}
		if strings.TrimSpace(in.Claimed) == "" {
			return nil, errs.Invalid("claimed", "required", "give the right value", "请填写正确的值")
		}
	}
	cal, err := s.cal(ctx)
	if err != nil {
		return nil, err
	}
	d.DueAt = cal.AddWorkDays(s.now(), DisputeWorkDays).UnixMilli()
	d.Resource, d.ResourceName, d.ProviderName = r.Code, r.Name, r.ProviderName
	var claimed string
	if d.Claimed != "" {
		if claimed, err = s.seal([]byte(d.Claimed), "dispute:"+d.ID); err != nil {
			return nil, err
		}
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `INSERT INTO ex_disputes (id, kind, subject, user_id, access_id, resource_id, provider_org, field, claimed, text, status, due_at, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`, d.ID, d.Kind, d.Subject, p.ID, d.AccessID, r.ID, r.ProviderOrg, d.Field, claimed, d.Text, d.Status, d.DueAt, d.CreatedAt); err != nil {
			return err
		}
		return s.evidence(ctx, p, "exchange.dispute."+d.Kind, d.Subject, "data-tracker", "《个人信息保护法》第四十六条",
			map[string]any{"dispute": d.ID, "access": d.AccessID, "resource": r.Code, "field": d.Field})
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

const disputeCols = `d.id, d.kind, d.subject, d.access_id, r.code, r.name, r.provider_name, d.field, d.claimed, d.text, d.status, d.due_at,
	d.answer, d.answered_by, d.answered_at, d.created_at`

func (s *Service) scanDispute(sc interface{ Scan(...any) error }) (*Dispute, error) {
	var d Dispute
	var claimed string
	if err := sc.Scan(&d.ID, &d.Kind, &d.Subject, &d.AccessID, &d.Resource, &d.ResourceName, &d.ProviderName, &d.Field, &claimed, &d.Text,
		&d.Status, &d.DueAt, &d.Answer, &d.AnsweredBy, &d.AnsweredAt, &d.CreatedAt); err != nil {
		return nil, err
	}
	if claimed != "" {
		pt, err := s.unseal(claimed, "dispute:"+d.ID)
		if err != nil {
			return nil, err
		}
		d.Claimed = string(pt)
	}
	d.Overdue = d.Status == "open" && s.nowMs() > d.DueAt
	return &d, nil
}

// Disputes lists the caller's own disputes (role "mine") or those sent to
// the caller's department (role "provider").
func (s *Service) Disputes(ctx context.Context, role, status string, limit, offset int) ([]Dispute, int, error) {
	var p *authz.Principal
	var err error
	var where string
	var args []any
	if role == "provider" {
		if p, err = authz.Require(ctx, authz.ExchangeRead); err != nil {
			return nil, 0, err
		}
		if where, args, err = s.sideCond(ctx, p, "provider", ""); err != nil {
			return nil, 0, err
		}
	} else {
		if p, err = authz.Require(ctx, authz.ExchangeTracker); err != nil {
			return nil, 0, err
		}
		where, args = "d.user_id = ?", []any{p.ID}
	}
	if status != "" {
		where += " AND d.status = ?"
		args = append(args, status)
	}
	from := ` FROM ex_disputes d JOIN ex_resources r ON r.id = d.resource_id WHERE ` + where
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+disputeCols+from+` ORDER BY d.created_at DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Dispute{}
	for rows.Next() {
		d, err := s.scanDispute(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *d)
	}
	return out, total, rows.Err()
}

// AnswerDispute is the provider's answer: accepted (the value is corrected
// at the source, or the access is found improper) or rejected, with reasons.
func (s *Service) AnswerDispute(ctx context.Context, id string, accept bool, answer string) (*Dispute, error) {
	p, err := authz.Require(ctx, authz.ExchangeDecide)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(answer) == "" {
		return nil, errs.Invalid("answer", "required", "the answer explains the decision", "请填写答复意见")
	}
	d, err := s.scanDispute(s.db.QueryRow(ctx, `SELECT `+disputeCols+` FROM ex_disputes d JOIN ex_resources r ON r.id = d.resource_id WHERE d.id = ?`, id))
	if err != nil {
		return nil, errs.NotFound("dispute", id)
	}
	r, err := s.resource(ctx, d.Resource)
	if err != nil {
		return nil, err
	}
	if err := s.mayManage(ctx, p, r); err != nil {
		return nil, errs.NotFound("dispute", id)
	}
	if d.Status != "open" {
		return nil, errs.Conflict("status", "the dispute is already answered", "该事项已答复")
	}
	status := "rejected"
	if accept {
		status = "accepted"
	}
	now := s.nowMs()
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `UPDATE ex_disputes SET status = ?, answer = ?, answered_by = ?, answered_at = ? WHERE id = ? AND status = 'open'`,
			status, answer, p.Name, now, id); err != nil {
			return err
		}
		return s.evidence(ctx, p, "exchange.dispute."+status, d.Subject, "data-tracker", "《个人信息保护法》第四十六条",
			map[string]any{"dispute": id, "answer": answer})
	})
	if err != nil {
		return nil, err
	}
	d.Status, d.Answer, d.AnsweredBy, d.AnsweredAt = status, answer, p.Name, now
	return d, nil
}

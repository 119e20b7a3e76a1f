package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

// Evidence is a consequential action of the exchange for the ledger: a
// catalog change, a request, a decision, a grant revoked, a dispute and
// its answer. Accesses are not evidence events: they go to the ledger in
// batches (record.go).
type Evidence struct {
	ActorKind string          `json:"actorKind"`
	ActorID   string          `json:"actorId"`
	ActorName string          `json:"actorName"`
	OrgID     string          `json:"orgId"`
	Action    string          `json:"action"`
	Subject   string          `json:"subject"`
	Purpose   string          `json:"purpose,omitempty"`
	Basis     string          `json:"basis,omitempty"`
	At        time.Time       `json:"at"`
	RequestID string          `json:"requestId,omitempty"`
	Ref       string          `json:"ref"`
	Payload   json.RawMessage `json:"payload,omitempty"`
}

// EventType implements bus.Event.
func (Evidence) EventType() string { return "exchange.evidence" }

// evidence emits evidence in the caller's transaction (or alone).
func (s *Service) evidence(ctx context.Context, p *authz.Principal, action, subject, purpose, basis string, payload any) error {
	if s.events == nil {
		return nil
	}
	ev := Evidence{Action: action, Subject: subject, Purpose: purpose, Basis: basis, At: s.now().UTC(), RequestID: httpx.RequestID(ctx), Ref: newID()}
	if p != nil {
		ev.ActorKind, ev.ActorID, ev.ActorName, ev.OrgID = string(p.Kind), p.ID, p.Name, p.OrgID
	}
	b, _ := json.Marshal(payload)
	ev.Payload = b
	return s.events.Emit(ctx, ev, subject)
}

// Request statuses.
const (
	Pending  = "pending"
	Approved = "approved"
	Rejected = "rejected"
	Refused  = "refused" // not-shared resource: refused with its legal basis
)

// DecisionWorkDays is the statutory time for a provider's decision on a
// conditional request (国发〔2016〕51号).
const DecisionWorkDays = 10

// remindWorkDays before the deadline the provider is reminded.
const remindWorkDays = 3

// Request asks to use a resource.
type Request struct {
	ID           string   `json:"id"`
	ResourceID   string   `json:"resourceId"`
	ResourceCode string   `json:"resourceCode"`
	ResourceName string   `json:"resourceName"`
	ProviderName string   `json:"providerName"`
	Sharing      string   `json:"sharing"`
	ConsumerNode string   `json:"consumerNode,omitempty"`
	ConsumerOrg  string   `json:"consumerOrg"`
	ConsumerName string   `json:"consumerName"`
	Requester    string   `json:"requester"`
	Fields       []string `json:"fields" nullable:"false"`
	ClearFields  []string `json:"clearFields" nullable:"false"`
	Purpose      string   `json:"purpose"`
	Basis        string   `json:"basis"`
	DailyQuota   int      `json:"dailyQuota"`
	RateLimit    int      `json:"rateLimit"`
	ExpiresAt    int64    `json:"expiresAt"`
	Status       string   `json:"status" enum:"pending,approved,rejected,refused"`
	DueAt        int64    `json:"dueAt" doc:"Decision deadline (10 working days), for pending requests"`
	Reminded     bool     `json:"reminded"`
	Escalated    bool     `json:"escalated"`
	Overdue      bool     `json:"overdue"`
	DecidedBy    string   `json:"decidedBy,omitempty"`
	DecidedAt    int64    `json:"decidedAt,omitempty"`
	Reason       string   `json:"reason,omitempty"`
	GrantID      string   `json:"grantId,omitempty"`
	CreatedAt    int64    `json:"createdAt"`
}

// NewRequest is the input of a request.
type NewRequest struct {
	Resource    string   `json:"resource" minLength:"1" maxLength:"40" doc:"Resource id or code"`
	Fields      []string `json:"fields" minItems:"1" maxItems:"100"`
	ClearFields []string `json:"clearFields,omitempty" maxItems:"100" doc:"Personal fields wanted in clear (the provider decides)"`
	Purpose     string   `json:"purpose" minLength:"2" maxLength:"200" doc:"What the data is for"`
	Basis       string   `json:"basis" minLength:"2" maxLength:"200" doc:"Legal basis (law, regulation, article)"`
	DailyQuota  int      `json:"dailyQuota,omitempty" minimum:"0" maximum:"10000000" doc:"Records per day (default 1000)"`
	RateLimit   int      `json:"rateLimit,omitempty" minimum:"0" maximum:"100000" doc:"Queries per second (default 50)"`
	ExpiresAt   string   `json:"expiresAt,omitempty" maxLength:"10" doc:"YYYY-MM-DD (default one year)"`
}

// Grant is the agreement under which a consumer uses a resource.
type Grant struct {
	ID           string   `json:"id"`
	RequestID    string   `json:"requestId"`
	ResourceID   string   `json:"resourceId"`
	ResourceCode string   `json:"resourceCode"`
	ResourceName string   `json:"resourceName"`
	ProviderName string   `json:"providerName"`
	ConsumerNode string   `json:"consumerNode,omitempty"`
	ConsumerOrg  string   `json:"consumerOrg"`
	ConsumerName string   `json:"consumerName"`
	Fields       []string `json:"fields" nullable:"false"`
	ClearFields  []string `json:"clearFields" nullable:"false"`
	Purpose      string   `json:"purpose"`
	Basis        string   `json:"basis"`
	DailyQuota   int      `json:"dailyQuota"`
	RateLimit    int      `json:"rateLimit"`
	ExpiresAt    int64    `json:"expiresAt"`
	Status       string   `json:"status" enum:"active,revoked,expired"`
	GrantedBy    string   `json:"grantedBy"`
	GrantedAt    int64    `json:"grantedAt"`
	RevokedBy    string   `json:"revokedBy,omitempty"`
	RevokedAt    int64    `json:"revokedAt,omitempty"`
	RevokeReason string   `json:"revokeReason,omitempty"`
	UsedToday    int      `json:"usedToday"`
}

func (s *Service) parseExpiry(field, v string) (int64, error) {
	if v == "" {
		return s.now().AddDate(1, 0, 0).UnixMilli(), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, cst)
	if err != nil {
		return 0, errs.Invalid(field, "format", "must be YYYY-MM-DD", "应为 YYYY-MM-DD")
	}
	end := t.AddDate(0, 0, 1).UnixMilli() // through the whole day
	if end <= s.nowMs() {
		return 0, errs.Invalid(field, "future", "must be in the future", "应晚于今天")
	}
	return end, nil
}

var cst = time.FixedZone("CST", 8*3600)

// checkFields checks requested fields against the resource's items.
func checkFields(r *Resource, field string, fields []string) error {
	for i, f := range fields {
		if _, ok := r.item(f); !ok {
			return errs.Invalid(fmt.Sprintf("%s[%d]", field, i), "enum", "the resource has no item "+f, "资源没有数据项 "+f)
		}
	}
	return nil
}

func checkClear(r *Resource, fields, clear []string) error {
	for i, f := range clear {
		it, ok := r.item(f)
		if !ok || !slices.Contains(fields, f) {
			return errs.Invalid(fmt.Sprintf("clearFields[%d]", i), "subset", f+" is not among the fields asked for", f+" 不在申请的数据项中")
		}
		if it.Personal == "" {
			return errs.Invalid(fmt.Sprintf("clearFields[%d]", i), "personal", f+" is not personal and is never masked", f+" 不是个人信息，本就不脱敏")
		}
	}
	return nil
}

// RequestAccess asks for a resource. Unconditional resources are granted at
// once (unless personal fields are asked in clear), conditional ones wait
// for the provider (10 working days), and not-shared ones are refused with
// their legal basis. A resource held on another node is asked there.
func (s *Service) RequestAccess(ctx context.Context, in NewRequest) (*Request, error) {
	p, err := authz.Require(ctx, authz.ExchangeRequest)
	if err != nil {
		return nil, err
	}
	if p.OrgID == "" {
		return nil, errs.Forbidden("requests are made by an organisation", "须以部门身份申请")
	}
	r, err := s.resource(ctx, in.Resource)
	if err != nil {
		return nil, err
	}
	if r.Status != Published {
		return nil, errs.Invalid("resource", "published", "the resource is not published", "该资源未发布")
	}
	if err := checkFields(r, "fields", in.Fields); err != nil {
		return nil, err
	}
	if err := checkClear(r, in.Fields, in.ClearFields); err != nil {
		return nil, err
	}
	exp, err := s.parseExpiry("expiresAt", in.ExpiresAt)
	if err != nil {
		return nil, err
	}
	org, err := s.dir.Org(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	if r.Node != "" {
		return s.requestRemote(ctx, p, org, r, in, exp)
	}
	return s.request(ctx, p, "", org, r, in, exp)
}

// request records a request on the node holding the resource.
func (s *Service) request(ctx context.Context, p *authz.Principal, node string, org *Org, r *Resource, in NewRequest, exp int64) (*Request, error) {
	if in.DailyQuota == 0 {
		in.DailyQuota = 1000
	}
	if in.RateLimit == 0 {
		in.RateLimit = 50
	}
	now := s.nowMs()
	req := &Request{ID: newID(), ResourceID: r.ID, ResourceCode: r.Code, ResourceName: r.Name, ProviderName: r.ProviderName, Sharing: r.Sharing,
		ConsumerNode: node, ConsumerOrg: org.ID, ConsumerName: org.Name, Requester: p.DisplayName, Fields: in.Fields, ClearFields: nonNil(in.ClearFields),
		Purpose: in.Purpose, Basis: in.Basis, DailyQuota: in.DailyQuota, RateLimit: in.RateLimit, ExpiresAt: exp, CreatedAt: now}
	if req.Requester == "" {
		req.Requester = p.Name
	}
	var grant *Grant
	switch {
	case r.Sharing == NotShared:
		req.Status, req.Reason, req.DecidedAt, req.DecidedBy = Refused, "不予共享："+r.LegalBasis, now, "system"
	case r.Sharing == Unconditional && len(in.ClearFields) == 0:
		req.Status, req.DecidedAt, req.DecidedBy, req.Reason = Approved, now, "system", "无条件共享，自动授权"
		grant = grantFrom(req, r, in.Fields, nil, in.DailyQuota, exp, "system", now)
		req.GrantID = grant.ID
	default:
		cal, err := s.cal(ctx)
		if err != nil {
			return nil, err
		}
		req.Status = Pending
		req.DueAt = cal.AddWorkDays(s.now(), DecisionWorkDays).UnixMilli()
	}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.insertRequest(ctx, p, req); err != nil {
			return err
		}
		if grant != nil {
			if err := s.insertGrant(ctx, grant); err != nil {
				return err
			}
		}
		action := "exchange.request." + req.Status
		return s.evidence(ctx, p, action, "resource:"+r.Code, req.Purpose, req.Basis, req)
	})
	if err != nil {
		return nil, err
	}
	return req, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func grantFrom(req *Request, r *Resource, fields, clear []string, quota int, exp int64, by string, now int64) *Grant {
	return &Grant{ID: newID(), RequestID: req.ID, ResourceID: r.ID, ResourceCode: r.Code, ResourceName: r.Name, ProviderName: r.ProviderName,
		ConsumerNode: req.ConsumerNode, ConsumerOrg: req.ConsumerOrg, ConsumerName: req.ConsumerName, Fields: fields, ClearFields: nonNil(clear),
		Purpose: req.Purpose, Basis: req.Basis, DailyQuota: quota, RateLimit: req.RateLimit, ExpiresAt: exp, Status: "active", GrantedBy: by, GrantedAt: now}
}

func (s *Service) insertRequest(ctx context.Context, p *authz.Principal, q *Request) error {
	_, err := s.db.Exec(ctx, `INSERT INTO ex_requests (id, resource_id, consumer_node, consumer_org, consumer_name, requested_by, requester, fields,
		clear_fields, purpose, basis, daily_quota, rate_limit, expires_at, status, due_at, decided_by, decided_at, reason, grant_id, created_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		q.ID, q.ResourceID, q.ConsumerNode, q.ConsumerOrg, q.ConsumerName, p.ID, q.Requester, strings.Join(q.Fields, ","), strings.Join(q.ClearFields, ","),
		q.Purpose, q.Basis, q.DailyQuota, q.RateLimit, q.ExpiresAt, q.Status, q.DueAt, q.DecidedBy, q.DecidedAt, q.Reason, q.GrantID, q.CreatedAt)
	return err
}

func (s *Service) insertGrant(ctx context.Context, g *Grant) error {
	_, err := s.db.Exec(ctx, `INSERT INTO ex_grants (id, request_id, resource_id, consumer_node, consumer_org, consumer_name, fields, clear_fields,
		purpose, basis, daily_quota, rate_limit, expires_at, status, granted_by, granted_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		g.ID, g.RequestID, g.ResourceID, g.ConsumerNode, g.ConsumerOrg, g.ConsumerName, strings.Join(g.Fields, ","), strings.Join(g.ClearFields, ","),
		g.Purpose, g.Basis, g.DailyQuota, g.RateLimit, g.ExpiresAt, g.Status, g.GrantedBy, g.GrantedAt)
	return err
}

const requestCols = `q.id, q.resource_id, r.code, r.name, r.provider_name, r.sharing, q.consumer_node, q.consumer_org, q.consumer_name, q.requester,
	q.fields, q.clear_fields, q.purpose, q.basis, q.daily_quota, q.rate_limit, q.expires_at, q.status, q.due_at, q.reminded_at, q.escalated_at,
	q.decided_by, q.decided_at, q.reason, q.grant_id, q.created_at`

func (s *Service) scanRequest(sc interface{ Scan(...any) error }) (*Request, error) {
	var q Request
	var fields, clear string
	var reminded, escalated int64
	err := sc.Scan(&q.ID, &q.ResourceID, &q.ResourceCode, &q.ResourceName, &q.ProviderName, &q.Sharing, &q.ConsumerNode, &q.ConsumerOrg,
		&q.ConsumerName, &q.Requester, &fields, &clear, &q.Purpose, &q.Basis, &q.DailyQuota, &q.RateLimit, &q.ExpiresAt, &q.Status, &q.DueAt,
		&reminded, &escalated, &q.DecidedBy, &q.DecidedAt, &q.Reason, &q.GrantID, &q.CreatedAt)
	if err != nil {
		return nil, err
	}
	q.Fields, q.ClearFields = splitList(fields), splitList(clear)
	q.Reminded, q.Escalated = reminded > 0, escalated > 0
	q.Overdue = q.Status == Pending && q.DueAt > 0 && s.nowMs() > q.DueAt
	return &q, nil
}

// RequestFilter narrows request lists.
type RequestFilter struct {
	Role   string // "consumer" (my organisation's requests) or "provider" (requests for my resources)
	Status string
}

// Requests lists requests made by the caller's organisation, or made for
// resources it provides.
func (s *Service) Requests(ctx context.Context, f RequestFilter, limit, offset int) ([]Request, int, error) {
	p, err := authz.Require(ctx, authz.ExchangeRead)
	if err != nil {
		return nil, 0, err
	}
	where, args, err := s.sideCond(ctx, p, f.Role, "q.consumer_org")
	if err != nil {
		return nil, 0, err
	}
	if f.Status != "" {
		where += " AND q.status = ?"
		args = append(args, f.Status)
	}
	from := ` FROM ex_requests q JOIN ex_resources r ON r.id = q.resource_id WHERE ` + where
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+requestCols+from+` ORDER BY q.created_at DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Request{}
	for rows.Next() {
		q, err := s.scanRequest(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *q)
	}
	return out, total, rows.Err()
}

// sideCond is the condition for "my organisation's" (consumer) or "my
// resources'" (provider) rows. Providers are the resource's organisation or
// its department family; the data bureau and nationwide callers see all.
func (s *Service) sideCond(ctx context.Context, p *authz.Principal, role, consumerCol string) (string, []any, error) {
	if p.Nationwide {
		return "1=1", nil, nil
	}
	switch role {
	case "provider":
		own, err := s.dir.Org(ctx, p.OrgID)
		if err != nil {
			return "", nil, err
		}
		if own.DeptType == "sj" {
			return "r.node = ''", nil, nil
		}
		return "r.node = '' AND (r.provider_org = ? OR r.provider_dept = ?)", []any{p.OrgID, nonEmpty(own.DeptType)}, nil
	case "consumer", "":
		return consumerCol + " = ?", []any{p.OrgID}, nil
	}
	return "", nil, errs.Invalid("role", "enum", "role must be consumer or provider", "role 应为 consumer 或 provider")
}

func nonEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// GetRequest returns one request the caller may see.
func (s *Service) GetRequest(ctx context.Context, id string) (*Request, error) {
	p, err := authz.Require(ctx, authz.ExchangeRead)
	if err != nil {
		return nil, err
	}
	q, err := s.scanRequest(s.db.QueryRow(ctx, `SELECT `+requestCols+` FROM ex_requests q JOIN ex_resources r ON r.id = q.resource_id WHERE q.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("request", id)
	}
	if err != nil {
		return nil, err
	}
	if q.ConsumerOrg == p.OrgID || p.Nationwide {
		return q, nil
	}
	r, err := s.resource(ctx, q.ResourceID)
	if err != nil {
		return nil, err
	}
	if s.mayManage(ctx, p, r) != nil {
		return nil, errs.NotFound("request", id)
	}
	return q, nil
}

// Decision is a provider's answer to a pending request.
type Decision struct {
	Approve     bool     `json:"approve"`
	Fields      []string `json:"fields,omitempty" maxItems:"100" doc:"Fields granted (a subset of those asked; default all)"`
	ClearFields []string `json:"clearFields,omitempty" maxItems:"100" doc:"Personal fields granted in clear (a subset of those asked)"`
	DailyQuota  int      `json:"dailyQuota,omitempty" minimum:"0" maximum:"10000000"`
	ExpiresAt   string   `json:"expiresAt,omitempty" maxLength:"10" doc:"YYYY-MM-DD (default as asked)"`
	Reason      string   `json:"reason,omitempty" maxLength:"500" doc:"Required when rejecting"`
}

// Decide approves (possibly narrowing fields, clear fields, quota and
// expiry) or rejects a pending request; only the provider decides.
func (s *Service) Decide(ctx context.Context, id string, d Decision) (*Request, error) {
	p, err := authz.Require(ctx, authz.ExchangeDecide)
	if err != nil {
		return nil, err
	}
	q, err := s.GetRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	r, err := s.resource(ctx, q.ResourceID)
	if err != nil {
		return nil, err
	}
	if err := s.mayManage(ctx, p, r); err != nil {
		return nil, err
	}
	if q.Status != Pending {
		return nil, errs.Conflict("status", "the request is "+q.Status+", not pending", "该申请已处理（"+q.Status+"）")
	}
	now := s.nowMs()
	var g *Grant
	if d.Approve {
		fields := d.Fields
		if len(fields) == 0 {
			fields = q.Fields
		}
		for i, f := range fields {
			if !slices.Contains(q.Fields, f) {
				return nil, errs.Invalid(fmt.Sprintf("fields[%d]", i), "subset", f+" was not asked for", f+" 不在申请范围内")
			}
		}
		for i, f := range d.ClearFields {
			if !slices.Contains(q.ClearFields, f) || !slices.Contains(fields, f) {
				return nil, errs.Invalid(fmt.Sprintf("clearFields[%d]", i), "subset", f+" was not asked for in clear", f+" 未申请明文")
			}
		}
		quota := q.DailyQuota
		if d.DailyQuota > 0 {
			quota = d.DailyQuota
		}
		exp := q.ExpiresAt
		if d.ExpiresAt != "" {
			if exp, err = s.parseExpiry("expiresAt", d.ExpiresAt); err != nil {
				return nil, err
			}
		}
		g = grantFrom(q, r, fields, d.ClearFields, quota, exp, p.ID, now)
		q.Status, q.GrantID = Approved, g.ID
	} else {
		if strings.TrimSpace(d.Reason) == "" {
			return nil, errs.Invalid("reason", "required", "a rejection states its reason", "不予同意须说明理由")
		}
		q.Status = Rejected
	}
	q.DecidedBy, q.DecidedAt, q.Reason = p.DisplayName, now, d.Reason
	if q.DecidedBy == "" {
		q.DecidedBy = p.Name
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, `UPDATE ex_requests SET status = ?, decided_by = ?, decided_at = ?, reason = ?, grant_id = ? WHERE id = ? AND status = 'pending'`,
			q.Status, q.DecidedBy, now, q.Reason, q.GrantID, q.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.Conflict("status", "the request was decided meanwhile", "该申请已被他人处理")
		}
		if g != nil {
			if err := s.insertGrant(ctx, g); err != nil {
				return err
			}
		}
		return s.evidence(ctx, p, "exchange.request."+q.Status, "resource:"+r.Code, q.Purpose, q.Basis, map[string]any{"request": q, "grant": g})
	})
	if err != nil {
		return nil, err
	}
	if q.ConsumerNode != "" {
		s.notifyRemoteDecision(ctx, q, g)
	}
	return q, nil
}

// grantCache keeps grants by id for the access path, fresh for a second
// (a revocation on this node drops the entry at once).
type grantCache struct {
	mu sync.RWMutex
	m  map[string]cachedGrant
}

type cachedGrant struct {
	g  *Grant
	at time.Time
}

func newGrantCache() *grantCache { return &grantCache{m: map[string]cachedGrant{}} }

const grantCols = `g.id, g.request_id, g.resource_id, r.code, r.name, r.provider_name, g.consumer_node, g.consumer_org, g.consumer_name, g.fields,
	g.clear_fields, g.purpose, g.basis, g.daily_quota, g.rate_limit, g.expires_at, g.status, g.granted_by, g.granted_at, g.revoked_by,
	g.revoked_at, g.revoke_reason`

func (s *Service) scanGrant(sc interface{ Scan(...any) error }) (*Grant, error) {
	var g Grant
	var fields, clear string
	err := sc.Scan(&g.ID, &g.RequestID, &g.ResourceID, &g.ResourceCode, &g.ResourceName, &g.ProviderName, &g.ConsumerNode, &g.ConsumerOrg,
		&g.ConsumerName, &fields, &clear, &g.Purpose, &g.Basis, &g.DailyQuota, &g.RateLimit, &g.ExpiresAt, &g.Status, &g.GrantedBy, &g.GrantedAt,
		&g.RevokedBy, &g.RevokedAt, &g.RevokeReason)
	if err != nil {
		return nil, err
	}
	g.Fields, g.ClearFields = splitList(fields), splitList(clear)
	if g.Status == "active" && s.nowMs() >= g.ExpiresAt {
		g.Status = "expired"
	}
	return &g, nil
}

// grant returns a grant by id (cached). The Grant is the cache's, shared
// with every other caller: copy it before changing anything in it.
func (s *Service) grant(ctx context.Context, id string) (*Grant, error) {
	now := s.now()
	s.grants.mu.RLock()
	c, ok := s.grants.m[id]
	s.grants.mu.RUnlock()
	if ok && now.Sub(c.at) < cacheFor {
		if c.g.Status == "active" && now.UnixMilli() >= c.g.ExpiresAt {
			g := *c.g // expired since it was cached
			g.Status = "expired"
			return &g, nil
		}
		return c.g, nil
	}
	g, err := s.scanGrant(s.db.QueryRow(ctx, `SELECT `+grantCols+` FROM ex_grants g JOIN ex_resources r ON r.id = g.resource_id WHERE g.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("grant", id)
	}
	if err != nil {
		return nil, err
	}
	s.grants.mu.Lock()
	s.grants.m[id] = cachedGrant{g, now}
	s.grants.mu.Unlock()
	return g, nil
}

// Grants lists the grants of the caller's organisation (consumer) or of its
// resources (provider).
func (s *Service) Grants(ctx context.Context, role, status string, limit, offset int) ([]Grant, int, error) {
	p, err := authz.Require(ctx, authz.ExchangeRead)
	if err != nil {
		return nil, 0, err
	}
	where, args, err := s.sideCond(ctx, p, role, "g.consumer_org")
	if err != nil {
		return nil, 0, err
	}
	switch status {
	case "":
	case "active":
		where += " AND g.status = 'active' AND g.expires_at > ?"
		args = append(args, s.nowMs())
	case "expired":
		where += " AND g.status = 'active' AND g.expires_at <= ?"
		args = append(args, s.nowMs())
	case "revoked":
		where += " AND g.status = 'revoked'"
	default:
		return nil, 0, errs.Invalid("status", "enum", "status must be active, expired or revoked", "状态应为 active、expired 或 revoked")
	}
	from := ` FROM ex_grants g JOIN ex_resources r ON r.id = g.resource_id WHERE ` + where
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+grantCols+from+` ORDER BY g.granted_at DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Grant{}
	for rows.Next() {
		g, err := s.scanGrant(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *g)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := s.usedToday(ctx, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// usedToday fills in the records answered under each grant today: what
// every process has reported, and what this one has not yet.
func (s *Service) usedToday(ctx context.Context, gs []Grant) error {
	if len(gs) == 0 {
		return nil
	}
	day := s.day()
	args := []any{day}
	for _, g := range gs {
		args = append(args, g.ID)
	}
	rows, err := s.db.Query(ctx, `SELECT grant_id, used FROM ex_quota_use WHERE day = ? AND grant_id IN (`+strings.Repeat(",?", len(gs))[1:]+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	used := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		used[id] = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range gs {
		gs[i].UsedToday = used[gs[i].ID] + s.limits.unreportedOf(gs[i].ID, day)
	}
	return nil
}

// Revoke ends a grant at once: the next query under it is refused.
func (s *Service) Revoke(ctx context.Context, id, reason string) (*Grant, error) {
	p, err := authz.Require(ctx, authz.ExchangeDecide)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, errs.Invalid("reason", "required", "state why the grant is revoked", "请说明撤销理由")
	}
	g, err := s.grant(ctx, id)
	if err != nil {
		return nil, err
	}
	r, err := s.resource(ctx, g.ResourceID)
	if err != nil {
		return nil, err
	}
	if err := s.mayManage(ctx, p, r); err != nil {
		return nil, err
	}
	if g.Status == "revoked" {
		return nil, errs.Conflict("status", "the grant is already revoked", "该授权已撤销")
	}
	now := s.nowMs()
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `UPDATE ex_grants SET status = 'revoked', revoked_by = ?, revoked_at = ?, revoke_reason = ?, version = version + 1 WHERE id = ?`,
			p.Name, now, reason, id); err != nil {
			return err
		}
		_, err := s.db.Exec(ctx, `UPDATE ex_subscriptions SET status = 'cancelled' WHERE grant_id = ?`, id)
		if err != nil {
			return err
		}
		return s.evidence(ctx, p, "exchange.grant.revoke", "resource:"+r.Code, g.Purpose, g.Basis, map[string]any{"grant": id, "reason": reason})
	})
	if err != nil {
		return nil, err
	}
	s.grants.mu.Lock()
	delete(s.grants.m, id)
	s.grants.mu.Unlock()
	return s.grant(ctx, id)
}

// markRequest sets a pending request's reminded_at or escalated_at if it
// is not set yet; false when another process set it first.
func (s *Service) markRequest(ctx context.Context, col, id string, now time.Time) (bool, error) {
	res, err := s.db.Exec(ctx, `UPDATE ex_requests SET `+col+` = ? WHERE id = ? AND `+col+` = 0 AND status = 'pending'`, now.UnixMilli(), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Tick reminds providers of requests nearing their deadline and escalates
// overdue ones to the data bureau; both go on the ledger. It returns how
// many it reminded and escalated.
func (s *Service) Tick(ctx context.Context) (reminded, escalated int, err error) {
	cal, err := s.cal(ctx)
	if err != nil {
		return 0, 0, err
	}
	now := s.now()
	sys := &authz.Principal{Kind: authz.KindSystem, ID: "exchange-watch", Name: "exchange-watch", Nationwide: true}
	rows, err := s.db.Query(ctx, `SELECT id, resource_id, due_at, reminded_at, escalated_at, purpose, basis FROM ex_requests WHERE status = 'pending'`)
	if err != nil {
		return 0, 0, err
	}
	type pend struct {
		id, res, purpose, basis string
		due, rem, esc           int64
	}
	var ps []pend
	for rows.Next() {
		var x pend
		if err := rows.Scan(&x.id, &x.res, &x.due, &x.rem, &x.esc, &x.purpose, &x.basis); err != nil {
			rows.Close()
			return 0, 0, err
		}
		ps = append(ps, x)
	}
	rows.Close()
	for _, x := range ps {
		due := time.UnixMilli(x.due)
		// Each step is taken by whichever process's watcher marks it first
		// (replicas): the others' updates find it marked and record nothing.
		var done bool
		switch {
		case x.esc == 0 && !now.Before(due):
			err = s.db.InTx(ctx, func(ctx context.Context) error {
				var merr error
				if done, merr = s.markRequest(ctx, "escalated_at", x.id, now); merr != nil || !done {
					return merr
				}
				return s.evidence(ctx, sys, "exchange.request.escalate", "request:"+x.id, x.purpose, x.basis,
					map[string]any{"request": x.id, "due": x.due, "to": "sj"})
			})
			if done && err == nil {
				escalated++
			}
		case x.rem == 0 && x.esc == 0 && !cal.AddWorkDays(now, remindWorkDays).Before(due): // fewer than 3 working days left
			err = s.db.InTx(ctx, func(ctx context.Context) error {
				var merr error
				if done, merr = s.markRequest(ctx, "reminded_at", x.id, now); merr != nil || !done {
					return merr
				}
				return s.evidence(ctx, sys, "exchange.request.remind", "request:"+x.id, x.purpose, x.basis, map[string]any{"request": x.id, "due": x.due})
			})
			if done && err == nil {
				reminded++
			}
		}
		if err != nil {
			return reminded, escalated, err
		}
	}
	return reminded, escalated, nil
}

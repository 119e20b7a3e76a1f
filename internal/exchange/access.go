package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// Query is a consumer's query under a grant: by one key, by many keys
// (bulk) or by a filter on granted items.
type Query struct {
	Grant    string            `json:"grant,omitempty" maxLength:"36" doc:"The grant the query is made under (required)"`
	Resource string            `json:"resource,omitempty" maxLength:"40" doc:"Resource id or code (checked against the grant)"`
	Key      string            `json:"key,omitempty" maxLength:"200" doc:"One key: an ID number, a credit code, an address…"`
	Keys     []string          `json:"keys,omitempty" maxItems:"1000" doc:"Bulk: up to 1000 keys"`
	Filter   map[string]string `json:"filter,omitempty" doc:"Equality on granted items"`
	Fields   []string          `json:"fields,omitempty" maxItems:"100" doc:"A subset of the granted fields (default: all granted)"`
	Limit    int               `json:"limit,omitempty" minimum:"0" maximum:"1000" doc:"Filter queries: page size (default 100)"`
	Offset   int               `json:"offset,omitempty" minimum:"0"`
}

// Answer is what a consumer receives.
type Answer struct {
	AccessID string              `json:"accessId" doc:"The access record (its ledger proof: /api/v1/exchange/access/{id}/proof)"`
	Resource string              `json:"resource"`
	Grant    string              `json:"grant"`
	Fields   []string            `json:"fields" nullable:"false"`
	Masked   []string            `json:"masked" nullable:"false" doc:"Fields masked under the grant"`
	Records  []map[string]string `json:"records" nullable:"false"`
	Missing  int                 `json:"missing" doc:"Keys with no record"`
	Node     string              `json:"node,omitempty" doc:"Node that holds the data, when not this one"`
}

// Refusal reasons (recorded with the refusal, and the problem's rule).
const (
	NoGrant      = "no-grant"
	BeyondGrant  = "beyond-grant"
	GrantExpired = "expired"
	GrantRevoked = "revoked"
	OverQuota    = "quota"
	OverRate     = "rate"
	NotSharedRes = "not-shared"
)

// record is one record of a resource in clear.
type record struct {
	values  map[string]string
	subject string
}

// Query answers a consumer under its grant, recording the access (or the
// refusal) durably before it returns.
func (s *Service) Query(ctx context.Context, q Query) (*Answer, error) {
	p, err := authz.Require(ctx, authz.ExchangeQuery)
	if err != nil {
		return nil, err
	}
	c := caller{p: p, org: p.OrgID}
	// A resource held on another node is answered (or refused) there.
	var r *Resource
	if q.Resource != "" {
		r, _ = s.resource(ctx, q.Resource)
	} else if q.Grant != "" {
		if g, err := s.grant(ctx, q.Grant); err == nil && g.ConsumerOrg == p.OrgID && g.ConsumerNode == "" {
			r, _ = s.resource(ctx, g.ResourceID)
		}
	}
	if r != nil && r.Node != "" {
		return s.queryRemote(ctx, p, r, q)
	}
	a, _, err := s.queryFor(ctx, c, q)
	return a, err
}

// caller is who asks, for the access record.
type caller struct {
	p         *authz.Principal
	node      string // consumer's node ('' = this node)
	org, name string
}

// queryFor answers a caller of this node or of another (c.node); it returns
// the subjects the answer concerned as well.
func (s *Service) queryFor(ctx context.Context, c caller, q Query) (*Answer, []string, error) {
	var r *Resource
	if q.Resource != "" {
		var err error
		if r, err = s.resource(ctx, q.Resource); err != nil {
			return nil, nil, err
		}
	}
	if q.Grant == "" {
		if r != nil && r.Sharing == NotShared {
			return nil, nil, s.refuse(ctx, c, r, nil, q, NotSharedRes, errs.Forbidden("the resource is not shared: "+r.LegalBasis, "该资源不予共享："+r.LegalBasis))
		}
		return nil, nil, s.refuse(ctx, c, r, nil, q, NoGrant, grantRequired())
	}
	g, err := s.grant(ctx, q.Grant)
	if err != nil || g.ConsumerOrg != c.org || g.ConsumerNode != c.node {
		return nil, nil, s.refuse(ctx, c, r, nil, q, NoGrant, grantRequired())
	}
	c.name = g.ConsumerName
	if r == nil {
		if r, err = s.resource(ctx, g.ResourceID); err != nil {
			return nil, nil, err
		}
	} else if r.ID != g.ResourceID {
		return nil, nil, s.refuse(ctx, c, r, nil, q, NoGrant, errs.Forbidden("the grant is for another resource", "该授权不适用于此资源"))
	}
	if r.Node != "" {
		return nil, nil, s.refuse(ctx, c, r, g, q, NoGrant, errs.NotFound("resource", r.Code))
	}
	switch {
	case g.Status == "revoked":
		return nil, nil, s.refuse(ctx, c, r, g, q, GrantRevoked, errs.Forbidden("the grant was revoked: "+g.RevokeReason, "授权已撤销："+g.RevokeReason))
	case g.Status == "expired":
		return nil, nil, s.refuse(ctx, c, r, g, q, GrantExpired, errs.Forbidden("the grant expired on "+time.UnixMilli(g.ExpiresAt).In(cst).Format(time.DateOnly), "授权已过期"))
	case r.Sharing == NotShared:
		return nil, nil, s.refuse(ctx, c, r, g, q, NotSharedRes, errs.Forbidden("the resource is not shared: "+r.LegalBasis, "该资源不予共享："+r.LegalBasis))
	}
	fields := q.Fields
	if len(fields) == 0 {
		fields = g.Fields
	}
	for i, f := range fields {
		if !slices.Contains(g.Fields, f) {
			e := errs.Invalid(fmt.Sprintf("fields[%d]", i), BeyondGrant, f+" is not granted", f+" 不在授权范围内")
			e.Code = errs.CodeForbidden
			return nil, nil, s.refuse(ctx, c, r, g, q, BeyondGrant, e)
		}
	}
	for f := range q.Filter {
		if !slices.Contains(g.Fields, f) {
			e := errs.Invalid("filter."+f, BeyondGrant, "cannot filter on "+f+": not granted", "不能按未授权的数据项 "+f+" 筛选")
			e.Code = errs.CodeForbidden
			return nil, nil, s.refuse(ctx, c, r, g, q, BeyondGrant, e)
		}
	}
	allowed, err := s.limits.allow(ctx, s, g, s.now())
	if err != nil {
		return nil, nil, err
	}
	if !allowed {
		return nil, nil, s.refuse(ctx, c, r, g, q, OverRate, &errs.Error{Code: errs.CodeTooMany,
			Message: fmt.Sprintf("rate limit of the grant: %d queries per second", g.RateLimit), MessageZh: fmt.Sprintf("超过授权的频率限制：每秒 %d 次", g.RateLimit)})
	}
	recs, missing, err := s.fetch(ctx, r, q)
	if err != nil {
		return nil, nil, err
	}
	day := s.day()
	ok, err := s.limits.take(ctx, s, g, day, len(recs))
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, s.refuse(ctx, c, r, g, q, OverQuota, &errs.Error{Code: errs.CodeTooMany,
			Message: fmt.Sprintf("daily quota of the grant (%d records) would be exceeded", g.DailyQuota), MessageZh: fmt.Sprintf("超过授权的每日限额（%d 条）", g.DailyQuota)})
	}
	ans := &Answer{Resource: r.Code, Grant: g.ID, Fields: fields, Masked: []string{}, Records: make([]map[string]string, 0, len(recs)), Missing: missing}
	var clear []string
	for _, f := range fields {
		it, _ := r.item(f)
		if it.Personal == "" {
			continue
		}
		if slices.Contains(g.ClearFields, f) {
			clear = append(clear, f)
		} else {
			ans.Masked = append(ans.Masked, f)
		}
	}
	subjects := make([]string, 0, len(recs))
	for _, rec := range recs {
		out := make(map[string]string, len(fields))
		for _, f := range fields {
			v := rec.values[f]
			if slices.Contains(ans.Masked, f) {
				it, _ := r.item(f)
				v = maskValue(it, v)
			}
			out[f] = v
		}
		ans.Records = append(ans.Records, out)
		if rec.subject != "" {
			subjects = append(subjects, rec.subject)
		}
	}
	id, err := s.rec.record(ctx, s.accessBody(c, r, g, fields, clear, "ok", "", len(recs), subjects))
	if err != nil {
		s.limits.give(g.ID, day, len(recs))
		return nil, nil, err
	}
	ans.AccessID = id
	return ans, subjects, nil
}

func grantRequired() error {
	return &errs.Error{Code: errs.CodeForbidden, Message: "a grant of your organisation for this resource is required", MessageZh: "须持有本部门对该资源的有效授权",
		Fields: []errs.FieldError{{Field: "grant", Rule: NoGrant, Message: "no valid grant", MessageZh: "没有有效授权"}}}
}

// refuse records a refused query and returns its error.
func (s *Service) refuse(ctx context.Context, c caller, r *Resource, g *Grant, q Query, reason string, cause error) error {
	if c.name == "" && c.org != "" {
		if o, err := s.dir.Org(ctx, c.org); err == nil {
			c.name = o.Name
		}
	}
	if r == nil {
		r = &Resource{Code: q.Resource}
	}
	fields := q.Fields
	if _, err := s.rec.record(ctx, s.accessBody(c, r, g, fields, nil, "refused", reason, 0, nil)); err != nil {
		return err
	}
	return cause
}

// accessBody is the canonical record of an access: JSON members in
// lexicographic order, integers only, no HTML escaping (RFC 8785), so the
// leaf can be re-encoded and re-hashed by anyone.
type accessBody struct {
	ActorID      string   `json:"actorId"`
	ActorKind    string   `json:"actorKind"`
	ActorName    string   `json:"actorName"`
	At           int64    `json:"at"`
	Basis        string   `json:"basis,omitempty"`
	Clear        []string `json:"clear,omitempty"`
	ConsumerName string   `json:"consumerName"`
	ConsumerNode string   `json:"consumerNode,omitempty"`
	ConsumerOrg  string   `json:"consumerOrg"`
	Fields       []string `json:"fields"`
	Grant        string   `json:"grant,omitempty"`
	ID           string   `json:"id"`
	Node         string   `json:"node,omitempty"`
	Outcome      string   `json:"outcome"`
	Purpose      string   `json:"purpose,omitempty"`
	Reason       string   `json:"reason,omitempty"`
	Records      int      `json:"records"`
	Resource     string   `json:"resource"`
	ResourceID   string   `json:"resourceId"`
	ResourceName string   `json:"resourceName"`
	Subjects     []string `json:"subjects,omitempty"`
}

func (s *Service) accessBody(c caller, r *Resource, g *Grant, fields, clear []string, outcome, reason string, n int, subjects []string) *accessBody {
	b := &accessBody{ActorKind: string(c.p.Kind), ActorID: c.p.ID, ActorName: c.p.Name, At: s.nowMs(), ConsumerName: c.name,
		ConsumerNode: c.node, ConsumerOrg: c.org, Fields: fields, ID: newID(), Outcome: outcome, Reason: reason, Records: n,
		Resource: r.Code, ResourceID: r.ID, ResourceName: r.Name, Subjects: subjects, Clear: clear}
	if b.Fields == nil {
		b.Fields = []string{}
	}
	if s.node != nil {
		b.Node = s.node.ID
	}
	if g != nil {
		b.Grant, b.Purpose, b.Basis = g.ID, g.Purpose, g.Basis
	}
	return b
}

// normalizeKey checks and normalises a key by its item type.
func normalizeKey(it Item, field, key string) (string, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return "", errs.Invalid(field, "required", "a key is required", "请提供查询键")
	}
	switch it.Type {
	case "idnumber":
		c, err := idcode.ParseCitizenID(field, key)
		if err != nil {
			return "", err
		}
		return c.Number, nil
	case "creditcode":
		c, err := idcode.ParseCreditCode(field, key)
		if err != nil {
			return "", err
		}
		return c.Code, nil
	}
	return key, nil
}

// rowKey is how a hosted record's key is stored: a blind index when the
// key is personal (ID numbers are never stored in clear).
func (s *Service) rowKey(it Item, key string) string {
	if it.Personal != "" {
		return "b:" + s.blind(it.Type, key)
	}
	return key
}

// subjectOf is the salted reference of the person or enterprise a key
// names: the same reference the registry writes on the ledger.
func (s *Service) subjectOf(it Item, key string) string {
	switch it.Type {
	case "idnumber":
		return "person:" + s.blind("id", key)
	case "creditcode":
		return "entity:" + key
	}
	return ""
}

// fetch reads the records a query asks for, in clear.
func (s *Service) fetch(ctx context.Context, r *Resource, q Query) ([]record, int, error) {
	kit := r.keyItem()
	var keys []string
	switch {
	case q.Key != "" && len(q.Keys) > 0:
		return nil, 0, errs.Invalid("keys", "exclusive", "give key or keys, not both", "key 与 keys 只能二选一")
	case q.Key != "":
		keys = []string{q.Key}
	case len(q.Keys) > 0:
		keys = q.Keys
	case len(q.Filter) > 0:
		return s.filter(ctx, r, q)
	default:
		return nil, 0, errs.Invalid("key", "required", "give a key, keys or a filter", "请提供 key、keys 或 filter")
	}
	nks := make([]string, len(keys))
	for i, k := range keys {
		field := "key"
		if len(q.Keys) > 0 {
			field = fmt.Sprintf("keys[%d]", i)
		}
		nk, err := normalizeKey(kit, field, k)
		if err != nil {
			return nil, 0, err
		}
		nks[i] = nk
	}
	if r.Backend == Hosted {
		return s.fetchHosted(ctx, r, kit, nks)
	}
	out := make([]record, 0, len(keys))
	missing := 0
	for _, nk := range nks {
		rec, ok, err := s.lookup(ctx, r, kit, nk)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			missing++
			continue
		}
		out = append(out, rec)
	}
	return out, missing, nil
}

// fetchHosted reads a hosted resource's records by their normalised keys,
// in the keys' order (a key given twice answers twice).
func (s *Service) fetchHosted(ctx context.Context, r *Resource, kit Item, nks []string) ([]record, int, error) {
	rks := make([]string, len(nks))
	for i, nk := range nks {
		rks[i] = s.rowKey(kit, nk)
	}
	if len(rks) == 1 {
		row, ok, err := s.rows.one(ctx, r.ID, rks[0])
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			return nil, 1, nil
		}
		vals, err := s.openRow(r.ID, rks[0], row.data)
		if err != nil {
			return nil, 0, err
		}
		return []record{{values: vals, subject: row.subject}}, 0, nil
	}
	found, err := s.rows.many(ctx, r.ID, rks)
	if err != nil {
		return nil, 0, err
	}
	out := make([]record, 0, len(rks))
	missing := 0
	for _, rk := range rks {
		row, ok := found[rk]
		if !ok {
			missing++
			continue
		}
		vals, err := s.openRow(r.ID, rk, row.data)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, record{values: vals, subject: row.subject})
	}
	return out, missing, nil
}

// lookup reads one record by its normalised key from a registry or HTTP
// backend (hosted resources: fetchHosted).
func (s *Service) lookup(ctx context.Context, r *Resource, kit Item, key string) (record, bool, error) {
	switch r.Backend {
	case Registry:
		vals, subject, err := s.source.Lookup(ctx, r.BackendRef, key)
		if errors.Is(err, errs.ErrNotFound) {
			return record{}, false, nil
		}
		if err != nil {
			return record{}, false, err
		}
		return record{values: vals, subject: subject}, true, nil
	case HTTPAPI:
		vals, ok, err := s.callProvider(ctx, r, key)
		if err != nil || !ok {
			return record{}, ok, err
		}
		return record{values: vals, subject: s.subjectOf(kit, key)}, true, nil
	}
	return record{}, false, fmt.Errorf("exchange: unknown backend %q", r.Backend)
}

// callProvider asks the provider's own system for one record: GET the
// resource's URL with {key} replaced; 404 means no record; the answer is a
// JSON object of item values.
func (s *Service) callProvider(ctx context.Context, r *Resource, key string) (map[string]string, bool, error) {
	u := strings.ReplaceAll(r.BackendRef, "{key}", url.PathEscape(key))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, false, errs.Unavailable("provider system of "+r.ProviderName, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, errs.Unavailable("provider system of "+r.ProviderName, fmt.Errorf("status %d", resp.StatusCode))
	}
	var raw map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&raw); err != nil {
		return nil, false, errs.Unavailable("provider system of "+r.ProviderName, err)
	}
	out := make(map[string]string, len(r.Items))
	for _, it := range r.Items {
		switch v := raw[it.Name].(type) {
		case nil:
		case string:
			out[it.Name] = v
		case float64:
			out[it.Name] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			out[it.Name] = strconv.FormatBool(v)
		default:
			b, _ := json.Marshal(v)
			out[it.Name] = string(b)
		}
	}
	return out, true, nil
}

// scanLimit bounds a filter query's scan of one resource.
const scanLimit = 200000

// filter answers an equality filter by scanning the resource (hosted rows
// are encrypted, so there is no index on their values).
func (s *Service) filter(ctx context.Context, r *Resource, q Query) ([]record, int, error) {
	limit := q.Limit
	if limit == 0 {
		limit = 100
	}
	match := func(v map[string]string) bool {
		for k, want := range q.Filter {
			if v[k] != want {
				return false
			}
		}
		return true
	}
	var out []record
	skipped := 0
	err := s.scan(ctx, r, func(rec record) bool {
		if !match(rec.values) {
			return true
		}
		if skipped < q.Offset {
			skipped++
			return true
		}
		out = append(out, rec)
		return len(out) < limit
	})
	return out, 0, err
}

// scan calls fn for each record of a resource, in key order, until fn
// returns false.
func (s *Service) scan(ctx context.Context, r *Resource, fn func(record) bool) error {
	switch r.Backend {
	case Hosted:
		rows, err := s.db.Query(ctx, `SELECT rkey, data, subject FROM ex_rows WHERE resource_id = ? ORDER BY rkey LIMIT ?`, r.ID, scanLimit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var rk, subject, data string
			if err := rows.Scan(&rk, &data, &subject); err != nil {
				return err
			}
			vals, err := s.openRow(r.ID, rk, data)
			if err != nil {
				return err
			}
			if !fn(record{values: vals, subject: subject}) {
				return nil
			}
		}
		return rows.Err()
	case Registry:
		const page = 1000
		for off := 0; off < scanLimit; off += page {
			list, total, err := s.source.List(ctx, r.BackendRef, page, off)
			if err != nil {
				return err
			}
			for _, row := range list {
				if !fn(record{values: row.Values, subject: row.Subject}) {
					return nil
				}
			}
			if off+page >= total {
				return nil
			}
		}
		return nil
	}
	return errs.Invalid("filter", "backend", "filters are not available for a resource served by the provider's own system; query by key", "该资源由提供部门系统直接提供，只能按键查询")
}

// limiter enforces grants' rate limits and daily quotas (records per day,
// shared by every process on the database through ex_quota_use). Rate
// limits: with SQLite (one process) a token bucket in memory; with
// PostgreSQL (possibly replicas) one-second windows shared through
// ex_rate_use, leased like the quota.
//
// A process leases a block of a grant's day at a time (a few percent of the
// quota, at most leaseMax records) and answers from it without touching the
// database; near the end of the quota it leases exactly what a query needs.
// A process refuses only when its own lease is spent and the database has
// nothing left to lease, so the records answered never exceed the quota;
// records leased by a process that then stops are lost for the day (at most
// one block per process and day).
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	windows map[string]*rateWindow
	days    map[string]*dayCount
}

// rateWindow is this process's lease of a grant's queries in one second.
type rateWindow struct {
	sec int64
	leased
}

// leased is what this process holds of a count kept in the database (a
// day's quota, a second's rate): it answers from what it leased and, when
// that is spent, leases more, one lease at a time.
type leased struct {
	left  int // leased, not yet used (under limiter.mu)
	lease sync.Mutex
}

// take takes n from c, leasing with more(need) when c holds too little;
// false when even the new lease leaves too little (what it brought stays
// for smaller takes).
func (l *limiter) takeLeased(c *leased, n int, more func(need int) (int, error)) (bool, error) {
	fits := func() bool {
		if c.left >= n {
			c.left -= n
			return true
		}
		return false
	}
	l.mu.Lock()
	ok := fits()
	l.mu.Unlock()
	if ok {
		return true, nil
	}
	// Whoever waited for the lease looks again.
	c.lease.Lock()
	defer c.lease.Unlock()
	l.mu.Lock()
	ok, need := fits(), n-c.left
	l.mu.Unlock()
	if ok {
		return true, nil
	}
	got, err := more(need)
	if err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c.left += got
	return fits(), nil
}

type bucket struct {
	tokens float64
	last   time.Time
}

type dayCount struct {
	day        string
	unreported int // answered since the last report to the database
	leased
}

// leaseMax bounds a lease, and leaseParts is the share of the quota a lease
// takes (1/leaseParts) while much is left.
const (
	leaseMax   = 1000
	leaseParts = 32
)

func newLimiter() *limiter {
	return &limiter{buckets: map[string]*bucket{}, windows: map[string]*rateWindow{}, days: map[string]*dayCount{}}
}

// allow counts one query against the grant's rate limit (queries per
// second); false when it would exceed it.
func (l *limiter) allow(ctx context.Context, s *Service, g *Grant, now time.Time) (bool, error) {
	if g.RateLimit <= 0 {
		return true, nil
	}
	if s.db.Dialect() != db.Postgres {
		return l.allowLocal(g.ID, g.RateLimit, now), nil
	}
	sec := now.Unix()
	l.mu.Lock()
	w := l.windows[g.ID]
	if w == nil || w.sec != sec {
		w = &rateWindow{sec: sec}
		l.windows[g.ID] = w
	}
	l.mu.Unlock()
	return l.takeLeased(&w.leased, 1, func(int) (int, error) { return s.leaseRate(ctx, g, sec) })
}

// leaseRate leases queries of the grant's window sec (a share of the rate,
// all that is left near the end): 0 when the window is spent. Processes
// race by compare-and-set; a window another process has already moved past
// sec (its clock ahead) is leased from as it is.
func (s *Service) leaseRate(ctx context.Context, g *Grant, sec int64) (int, error) {
	rate := int64(g.RateLimit)
	chunk := min(max(rate/leaseParts, 1), leaseMax)
	for range 50 {
		var win, leased int64
		err := s.db.QueryRow(ctx, `SELECT window_s, leased FROM ex_rate_use WHERE grant_id = ?`, g.ID).Scan(&win, &leased)
		if errors.Is(err, sql.ErrNoRows) {
			res, err := s.db.Exec(ctx, `INSERT INTO ex_rate_use (grant_id, window_s, leased) VALUES (?, ?, ?) ON CONFLICT (grant_id) DO NOTHING`, g.ID, sec, chunk)
			if err != nil {
				return 0, err
			}
			if k, _ := res.RowsAffected(); k == 1 {
				return int(chunk), nil
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		newWin, base := win, leased
		if win < sec {
			newWin, base = sec, 0
		}
		take := min(chunk, rate-base)
		if take <= 0 {
			return 0, nil
		}
		res, err := s.db.Exec(ctx, `UPDATE ex_rate_use SET window_s = ?, leased = ? WHERE grant_id = ? AND window_s = ? AND leased = ?`,
			newWin, base+take, g.ID, win, leased)
		if err != nil {
			return 0, err
		}
		if k, _ := res.RowsAffected(); k == 1 {
			return int(take), nil
		}
	}
	return 0, errs.Unavailable("rate limit", errors.New("the grant's rate count kept changing under this process"))
}

// allowLocal takes a token from the grant's bucket in this process (rate
// per second, burst of one second's worth).
func (l *limiter) allowLocal(id string, rate int, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[id]
	if b == nil {
		b = &bucket{tokens: float64(rate), last: now}
		l.buckets[id] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * float64(rate)
	if b.tokens > float64(rate) {
		b.tokens = float64(rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (s *Service) day() string { return s.now().In(cst).Format(time.DateOnly) }

// dayLocked returns the grant's count for day, starting a new one when the
// day has changed (what the old one had not reported is returned, to be
// reported by the caller).
func (l *limiter) dayLocked(id, day string) (d *dayCount, stale *quotaReport) {
	d = l.days[id]
	if d == nil || d.day != day {
		if d != nil && d.unreported > 0 {
			stale = &quotaReport{grant: id, day: d.day, n: d.unreported}
		}
		d = &dayCount{day: day}
		l.days[id] = d
	}
	return d, stale
}

// take counts n records against the grant's quota for day; false when they
// would exceed it.
func (l *limiter) take(ctx context.Context, s *Service, g *Grant, day string, n int) (bool, error) {
	if g.DailyQuota <= 0 {
		return true, nil
	}
	l.mu.Lock()
	d, stale := l.dayLocked(g.ID, day)
	l.mu.Unlock()
	if stale != nil {
		if err := s.reportQuota(ctx, stale.grant, stale.day, stale.n); err != nil {
			s.log.Warn("exchange: reporting the previous day's quota use", "grant", stale.grant, "err", err)
		}
	}
	ok, err := l.takeLeased(&d.leased, n, func(need int) (int, error) {
		// Each lease also reports what was answered since the last one.
		l.mu.Lock()
		report := d.unreported
		l.mu.Unlock()
		got, err := s.leaseQuota(ctx, g, day, need, report)
		if err == nil {
			l.mu.Lock()
			d.unreported -= report
			l.mu.Unlock()
		}
		return got, err
	})
	if ok {
		l.mu.Lock()
		d.unreported += n
		l.mu.Unlock()
	}
	return ok, err
}

// give returns n records taken for a query that was not answered.
func (l *limiter) give(id, day string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d := l.days[id]; d != nil && d.day == day {
		d.left += n
		d.unreported -= n
	}
}

// unreported returns (and forgets) what each grant's count has answered
// and not yet reported, for a process that stops.
func (l *limiter) unreported() []quotaReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []quotaReport
	for id, d := range l.days {
		if d.unreported > 0 {
			out = append(out, quotaReport{grant: id, day: d.day, n: d.unreported})
			d.unreported = 0
		}
	}
	return out
}

// quotaReport is records answered under a grant on a day, to be added to
// its count in the database.
type quotaReport struct {
	grant, day string
	n          int
}

// unreportedOf is what this process answered under the grant on day and
// has not reported yet.
func (l *limiter) unreportedOf(id, day string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d := l.days[id]; d != nil && d.day == day {
		return d.unreported
	}
	return 0
}

// leaseQuota leases up to need records (more while much is left) of the
// grant's quota for day and reports report records answered; it returns the
// records leased (0 when fewer than need are left). Processes race by
// compare-and-set on the leased count.
func (s *Service) leaseQuota(ctx context.Context, g *Grant, day string, need, report int) (int, error) {
	block := min(max(g.DailyQuota/leaseParts, 1), leaseMax)
	for range 50 {
		var leased int64
		err := s.db.QueryRow(ctx, `SELECT leased FROM ex_quota_use WHERE grant_id = ? AND day = ?`, g.ID, day).Scan(&leased)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
		left := int64(g.DailyQuota) - leased
		take := int64(need)
		if left > 4*int64(block) {
			take = int64(max(need, block))
		}
		if take > left {
			take = 0
		}
		var res sql.Result
		if exists {
			res, err = s.db.Exec(ctx, `UPDATE ex_quota_use SET leased = leased + ?, used = used + ? WHERE grant_id = ? AND day = ? AND leased = ?`,
				take, report, g.ID, day, leased)
		} else {
			res, err = s.db.Exec(ctx, `INSERT INTO ex_quota_use (grant_id, day, leased, used) VALUES (?, ?, ?, ?) ON CONFLICT (grant_id, day) DO NOTHING`,
				g.ID, day, take, report)
		}
		if err != nil {
			return 0, err
		}
		if k, err := res.RowsAffected(); err != nil {
			return 0, err
		} else if k == 1 {
			return int(take), nil
		}
	}
	return 0, errs.Unavailable("quota", errors.New("the grant's quota count kept changing under this process"))
}

// reportQuota adds records answered to the grant's count for day.
func (s *Service) reportQuota(ctx context.Context, grant, day string, n int) error {
	_, err := s.db.Exec(ctx, `INSERT INTO ex_quota_use (grant_id, day, leased, used) VALUES (?, ?, ?, ?)
		ON CONFLICT (grant_id, day) DO UPDATE SET used = ex_quota_use.used + excluded.used`, grant, day, n, n)
	return err
}

// flushQuota reports what this process answered and has not reported (at
// Close).
func (s *Service) flushQuota(ctx context.Context) {
	for _, d := range s.limits.unreported() {
		if err := s.reportQuota(ctx, d.grant, d.day, d.n); err != nil {
			s.log.Warn("exchange: reporting quota use", "grant", d.grant, "err", err)
		}
	}
}

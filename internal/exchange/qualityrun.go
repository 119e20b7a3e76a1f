package exchange

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/exchange/quality"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// QualityRun is one run of a resource's quality rules.
type QualityRun struct {
	ID       string         `json:"id"`
	Resource string         `json:"resource"`
	Score    float64        `json:"score"`
	Records  int            `json:"records"`
	Failed   int            `json:"failed"`
	Trigger  string         `json:"trigger" enum:"publish,load,schedule,manual"`
	At       int64          `json:"at"`
	Result   quality.Result `json:"result"`
}

// maxQualityRecords bounds the records one run reads.
const maxQualityRecords = scanLimit

// RunQuality runs a resource's quality rules over its records (the
// provider, the data bureau, or the scheduler) and keeps the result; the
// failing records go back to the provider in the result.
func (s *Service) RunQuality(ctx context.Context, id, trigger string) (*QualityRun, error) {
	p := authz.From(ctx)
	if p == nil {
		return nil, errs.Unauthenticated("login required", "请先登录")
	}
	r, err := s.getFresh(ctx, id)
	if err != nil {
		return nil, err
	}
	if !p.Nationwide {
		if _, err := authz.Require(ctx, authz.ExchangePublish); err != nil {
			return nil, err
		}
		if err := s.mayManage(ctx, p, r); err != nil {
			return nil, err
		}
	}
	if r.Node != "" {
		return nil, errs.Invalid("resource", "local", "quality is checked on the node holding the data", "数据质量在数据所在节点检查")
	}
	items := QualityItems(r.Items)
	rules := r.Rules
	if len(rules) == 0 {
		rules = quality.DefaultRules(items)
	}
	in := quality.Input{Items: items, Rules: rules, UpdateCycle: r.UpdateCycle, Now: s.now(), MaxFailures: 1000}
	if r.LastLoad > 0 {
		in.LastUpdate = time.UnixMilli(r.LastLoad)
	}
	kit := r.keyItem()
	if r.Backend == HTTPAPI {
		// The provider's own system serves the data: only timeliness of
		// its declared cycle can be judged here, from its release date.
		in.Records = nil
	} else {
		err = s.scan(ctx, r, func(rec record) bool {
			in.Records = append(in.Records, quality.Record{Key: rec.values[kit.Name], Values: rec.values})
			return len(in.Records) < maxQualityRecords
		})
		if err != nil {
			return nil, err
		}
		if r.Backend == Registry && in.LastUpdate.IsZero() {
			in.LastUpdate = s.now() // the registry is maintained continuously
		}
	}
	if in.References, err = s.references(ctx, rules); err != nil {
		return nil, err
	}
	res := quality.Evaluate(in)
	if kit.Personal != "" { // failing records go back with their keys masked
		for i := range res.Failures {
			res.Failures[i].Key = maskValue(kit, res.Failures[i].Key)
		}
	}
	run := &QualityRun{ID: newID(), Resource: r.Code, Score: res.Score, Records: res.Records, Failed: res.FailedRecords, Trigger: trigger, At: s.nowMs(), Result: res}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `INSERT INTO ex_quality_runs (id, resource_id, provider_org, score, records, failed, result, trigger, at) VALUES (?,?,?,?,?,?,?,?,?)`,
			run.ID, r.ID, r.ProviderOrg, run.Score, run.Records, run.Failed, mustJSON(res), trigger, run.At); err != nil {
			return err
		}
		_, err := s.db.Exec(ctx, `UPDATE ex_resources SET quality = ?, quality_at = ? WHERE id = ?`, run.Score, run.At, r.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.resources.drop(r.ID)
	s.resources.drop(r.Code)
	return run, nil
}

// references loads the other sources that consistency rules compare with:
// Param "<resource code>.<item>" reads that resource of this node, keyed by
// its key item.
func (s *Service) references(ctx context.Context, rules []quality.Rule) (map[string]quality.Reference, error) {
	refs := map[string]quality.Reference{}
	for _, rule := range rules {
		if rule.Kind != quality.Consistency || refs[rule.Param] != nil {
			continue
		}
		code, item, ok := strings.Cut(rule.Param, ".")
		if !ok {
			continue // the rule reports that it cannot run
		}
		other, err := s.getFresh(ctx, code)
		if err != nil || other.Node != "" || other.Backend == HTTPAPI {
			continue
		}
		okey := other.keyItem().Name
		m := map[string]string{}
		if err := s.scan(ctx, other, func(rec record) bool {
			m[rec.values[okey]] = rec.values[item]
			return len(m) < maxQualityRecords
		}); err != nil {
			return nil, err
		}
		refs[rule.Param] = func(key string) (string, bool) {
			v, ok := m[key]
			return v, ok
		}
	}
	return refs, nil
}

// LatestQuality returns the latest run of a resource with its failing
// records (the provider and the data bureau).
func (s *Service) LatestQuality(ctx context.Context, id string) (*QualityRun, error) {
	p, err := authz.Require(ctx, authz.ExchangeRead)
	if err != nil {
		return nil, err
	}
	r, err := s.getFresh(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayManage(ctx, p, r); err != nil {
		return nil, err
	}
	var run QualityRun
	var result string
	err = s.db.QueryRow(ctx, `SELECT id, score, records, failed, trigger, at, result FROM ex_quality_runs WHERE resource_id = ? ORDER BY at DESC LIMIT 1`, r.ID).
		Scan(&run.ID, &run.Score, &run.Records, &run.Failed, &run.Trigger, &run.At, &result)
	if err != nil {
		return nil, errs.NotFound("quality run", r.Code)
	}
	run.Resource = r.Code
	if err := json.Unmarshal([]byte(result), &run.Result); err != nil {
		return nil, err
	}
	return &run, nil
}

// QualityBoard is the quality dashboard: a score per resource and per
// provider.
type QualityBoard struct {
	Resources []ResourceQuality `json:"resources" nullable:"false"`
	Providers []ProviderQuality `json:"providers" nullable:"false"`
	Average   float64           `json:"average" doc:"Mean score of checked resources"`
}

// ResourceQuality is one resource's latest score.
type ResourceQuality struct {
	Resource     string  `json:"resource"`
	Name         string  `json:"name"`
	ProviderName string  `json:"providerName"`
	Score        float64 `json:"score"`
	Records      int     `json:"records"`
	Failed       int     `json:"failed"`
	At           int64   `json:"at"`
}

// ProviderQuality is a provider's mean score.
type ProviderQuality struct {
	ProviderOrg  string  `json:"providerOrg"`
	ProviderName string  `json:"providerName"`
	Resources    int     `json:"resources"`
	Score        float64 `json:"score"`
	Failed       int     `json:"failed"`
}

// Quality returns the dashboard over published local resources.
func (s *Service) Quality(ctx context.Context) (*QualityBoard, error) {
	if _, err := authz.Require(ctx, authz.ExchangeRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT r.code, r.name, r.provider_org, r.provider_name, r.quality, r.quality_at,
		COALESCE((SELECT q.records FROM ex_quality_runs q WHERE q.resource_id = r.id ORDER BY q.at DESC LIMIT 1), 0),
		COALESCE((SELECT q.failed FROM ex_quality_runs q WHERE q.resource_id = r.id ORDER BY q.at DESC LIMIT 1), 0)
		FROM ex_resources r WHERE r.node = '' AND r.status = 'published' ORDER BY r.quality, r.code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	b := &QualityBoard{Resources: []ResourceQuality{}, Providers: []ProviderQuality{}}
	prov := map[string]*ProviderQuality{}
	var order []string
	sum, n := 0.0, 0
	for rows.Next() {
		var x ResourceQuality
		var org string
		if err := rows.Scan(&x.Resource, &x.Name, &org, &x.ProviderName, &x.Score, &x.At, &x.Records, &x.Failed); err != nil {
			return nil, err
		}
		b.Resources = append(b.Resources, x)
		if x.Score < 0 || x.Records == 0 {
			continue // never checked, or nothing to check: no score to average
		}
		sum += x.Score
		n++
		pq := prov[org]
		if pq == nil {
			pq = &ProviderQuality{ProviderOrg: org, ProviderName: x.ProviderName}
			prov[org] = pq
			order = append(order, org)
		}
		pq.Resources++
		pq.Score += x.Score
		pq.Failed += x.Failed
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, org := range order {
		pq := prov[org]
		pq.Score = math.Round(pq.Score/float64(pq.Resources)*10) / 10
		b.Providers = append(b.Providers, *pq)
	}
	if n > 0 {
		b.Average = math.Round(sum/float64(n)*10) / 10
	}
	return b, nil
}

// qualityEvery is how often the schedule re-checks every resource.
const qualityEvery = 24 * time.Hour

// Watch runs the deadline reminders every interval, the quality schedule
// daily, and delivers webhooks, until ctx ends.
func (s *Service) Watch(ctx context.Context, every time.Duration) {
	sys := authz.With(ctx, &authz.Principal{Kind: authz.KindSystem, ID: "exchange-watch", Name: "exchange-watch", Nationwide: true})
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, err := s.Tick(sys); err != nil && ctx.Err() == nil {
			s.log.Warn("exchange: request deadlines", "err", err)
		}
		s.scheduledQuality(sys)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) scheduledQuality(ctx context.Context) {
	rows, err := s.db.Query(ctx, `SELECT id FROM ex_resources WHERE node = '' AND status = 'published' AND quality_at < ?`, s.now().Add(-qualityEvery).UnixMilli())
	if err != nil {
		return
	}
	var ids []string
	for rows.Next() {
		var id string
		if rows.Scan(&id) == nil {
			ids = append(ids, id)
		}
	}
	rows.Close()
	due := s.now().Add(-qualityEvery).UnixMilli()
	for _, id := range ids {
		// Claimed first, by moving quality_at on (given back if the run
		// fails), so that of several processes' watchers (replicas) one
		// runs each resource's daily check.
		var was int64
		if err := s.db.QueryRow(ctx, `SELECT quality_at FROM ex_resources WHERE id = ?`, id).Scan(&was); err != nil || was >= due {
			continue
		}
		res, err := s.db.Exec(ctx, `UPDATE ex_resources SET quality_at = ? WHERE id = ? AND quality_at = ?`, s.nowMs(), id, was)
		if err != nil {
			continue
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue
		}
		if _, err := s.RunQuality(ctx, id, "schedule"); err != nil && ctx.Err() == nil {
			s.log.Warn("exchange: scheduled quality", "resource", id, "err", err)
			_, _ = s.db.Exec(ctx, `UPDATE ex_resources SET quality_at = ? WHERE id = ?`, was, id)
		}
	}
}

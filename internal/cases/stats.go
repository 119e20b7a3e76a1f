package cases

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Performance indicators in the manner of GB/T 30428.4 (评价指标), over the
// cases reported in a period, per unit, street, community, unit grid or
// grid worker. The definitions are kept here in one place (the standard is
// being revised): counts are of cases, not of steps.
//
//	立案数      filed and neither rejected nor merged
//	派遣数      dispatched at least once (merged duplicates aside)
//	准确派遣数  dispatched and never returned by a unit (退单)
//	处置数      handled (reported back), awaiting verification or closed
//	按期处置数  handled by the deadline (the deadline of the last dispatch)
//	应结案数    dispatched and closed, or with a deadline already passed
//	结案数      closed; 按期结案 when handled by the deadline, else 超期结案
//	超期未结数  still with the unit (or awaiting verification after being
//	            handled late) past the deadline
//	返工数      reworked at least once (verification failed, or reopened)
//	平均处置时长 mean hours from the first dispatch to the report back
//	满意率      (满意 + 基本满意) / rated
//
// Rates are fractions (0..1) of: 准确派遣率 and 返工率 the dispatched,
// 按期处置率 the handled, 结案率 and 按期结案率 the due (应结案数), 满意率
// the rated; 0 when the denominator is.

// Groupings of the indicators.
var IndicatorGroupings = []string{"dept", "street", "community", "grid", "gridworker"}

// IndicatorQuery selects the cases and the grouping.
type IndicatorQuery struct {
	By     string // dept | street | community | grid | gridworker
	Within string // division or grid code prefix (short)
	// From and To bound the time the cases were reported (unix ms, To
	// excluded). Zero From is the start of To's month (China time), zero
	// To now.
	From, To int64
}

// IndicatorRow is one group's indicators.
type IndicatorRow struct {
	Key  string `json:"key" doc:"Unit id, division or grid code, or grid worker's user id; empty for cases not dispatched (by dept)"`
	Name string `json:"name"`

	Reported             int     `json:"reported" doc:"上报数"`
	Filed                int     `json:"filed" doc:"立案数"`
	Dispatched           int     `json:"dispatched" doc:"派遣数"`
	AccurateDispatched   int     `json:"accurateDispatched" doc:"准确派遣数: dispatched, never returned"`
	AccurateDispatchRate float64 `json:"accurateDispatchRate" doc:"准确派遣率"`
	Handled              int     `json:"handled" doc:"处置数"`
	HandledOnTime        int     `json:"handledOnTime" doc:"按期处置数"`
	HandledOnTimeRate    float64 `json:"handledOnTimeRate" doc:"按期处置率 (of the handled)"`
	Due                  int     `json:"due" doc:"应结案数: closed, or past the deadline"`
	Closed               int     `json:"closed" doc:"结案数"`
	CloseRate            float64 `json:"closeRate" doc:"结案率 (of the due)"`
	ClosedOnTime         int     `json:"closedOnTime" doc:"按期结案数"`
	ClosedOnTimeRate     float64 `json:"closedOnTimeRate" doc:"按期结案率 (of the due)"`
	ClosedLate           int     `json:"closedLate" doc:"超期结案数"`
	OverdueOpen          int     `json:"overdueOpen" doc:"超期未结数"`
	Reworked             int     `json:"reworked" doc:"返工数"`
	ReworkRate           float64 `json:"reworkRate" doc:"返工率 (of the dispatched)"`
	AvgHandleHours       float64 `json:"avgHandleHours" doc:"平均处置时长: hours from the first dispatch to the report back"`
	Rated                int     `json:"rated" doc:"评价数"`
	Satisfied            int     `json:"satisfied" doc:"满意 + 基本满意"`
	SatisfactionRate     float64 `json:"satisfactionRate" doc:"满意率"`
	Verifications        int     `json:"verifications,omitempty" doc:"By grid worker: on-site verifications (核查) done in the period"`
	VerifyFailed         int     `json:"verifyFailed,omitempty" doc:"By grid worker: verifications that sent the case back"`

	handleMs, handleN int64
}

// IndicatorReport is the indicators of a period.
type IndicatorReport struct {
	By          string         `json:"by" enum:"dept,street,community,grid,gridworker"`
	Within      string         `json:"within,omitempty"`
	From        int64          `json:"from"`
	To          int64          `json:"to"`
	GeneratedAt int64          `json:"generatedAt"`
	Rows        []IndicatorRow `json:"rows"`
	Total       IndicatorRow   `json:"total"`
}

// Namer names division and grid codes (the app asks the geo and identity
// modules); codes it does not know keep no name.
type Namer func(ctx context.Context, codes []string) map[string]string

// SetNamer sets how division and grid codes get their names in the
// indicators. Call it before serving.
func (s *Service) SetNamer(f func(ctx context.Context, codes []string) map[string]string) {
	s.namer = f
}

func (s *Service) names(ctx context.Context, codes []string) map[string]string {
	if s.namer != nil && len(codes) > 0 {
		if m := s.namer(ctx, codes); m != nil {
			return m
		}
	}
	return map[string]string{}
}

// monthStart is the first instant of t's month in China time.
func monthStart(t time.Time) time.Time {
	t = t.In(cst)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, cst)
}

// Indicators computes the performance indicators of the cases reported in
// the period in the caller's region (and, for units' staff, of their unit).
func (s *Service) Indicators(ctx context.Context, q IndicatorQuery) (*IndicatorReport, error) {
	p, err := authz.Require(ctx, authz.CasesRead)
	if err != nil {
		return nil, err
	}
	if q.By == "" {
		q.By = "dept"
	}
	if !slices.Contains(IndicatorGroupings, q.By) {
		return nil, errs.Invalid("by", "enum", "must be one of "+strings.Join(IndicatorGroupings, ", "), "应为 "+strings.Join(IndicatorGroupings, "、")+" 之一")
	}
	if len(q.Within) > 15 || strings.Trim(q.Within, "0123456789") != "" {
		return nil, errs.Invalid("within", "pattern", "must be a division or grid code", "应为区划或网格代码")
	}
	now := s.nowMs()
	if q.To == 0 {
		q.To = now
	}
	if q.From == 0 {
		q.From = monthStart(time.UnixMilli(q.To - 1)).UnixMilli()
	}
	if q.From >= q.To {
		return nil, errs.Invalid("from", "order", "the period must start before it ends", "统计周期的开始须早于结束")
	}
	// Deadlines count as passed up to the end of the period, or now.
	cutoff := min(q.To, now)

	where := []string{"c.created_at >= ? AND c.created_at < ?"}
	args := []any{q.From, q.To}
	lo, hi := p.ScopeRange()
	if p.OrgID != "" && p.Has(authz.CasesHandle) {
		where = append(where, `((c.scope_key >= ? AND c.scope_key < ?) OR c.org_id = ?)`)
		args = append(args, lo, hi, p.OrgID)
	} else {
		where = append(where, `c.scope_key >= ? AND c.scope_key < ?`)
		args = append(args, lo, hi)
	}
	if q.Within != "" {
		lo, hi := authz.PrefixRange(q.Within)
		where = append(where, `c.scope_key >= ? AND c.scope_key < ?`)
		args = append(args, lo, hi)
	}
	scope := strings.Join(where, " AND ")
	scopeArgs := slices.Clone(args[2:])

	key := map[string]string{"dept": "c.org_id", "street": "c.street", "community": "c.community", "grid": "c.grid_code", "gridworker": "c.reporter_id"}[q.By]
	cond := scope
	if q.By == "gridworker" {
		cond += ` AND c.channel = 'grid' AND c.reporter_id <> ''`
	}
	dispatched := `c.first_dispatched_at > 0 AND c.state <> 'merged'`
	rows, err := s.db.Query(ctx, `SELECT `+key+`, MAX(c.org_name), COUNT(*),
		SUM(CASE WHEN c.filed_at > 0 AND c.state NOT IN ('rejected', 'merged') THEN 1 ELSE 0 END),
		SUM(CASE WHEN `+dispatched+` THEN 1 ELSE 0 END),
		SUM(CASE WHEN `+dispatched+` AND c.returns = 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.handled_at > 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.handled_at > 0 AND c.deadline_at > 0 AND c.handled_at <= c.deadline_at THEN 1 ELSE 0 END),
		SUM(CASE WHEN `+dispatched+` AND (c.state = 'closed' OR (c.deadline_at > 0 AND c.deadline_at <= ?)) THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.state = 'closed' THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.state = 'closed' AND c.deadline_at > 0 AND c.handled_at <= c.deadline_at THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.state = 'closed' AND c.deadline_at > 0 AND c.handled_at > c.deadline_at THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.state IN ('dispatched', 'handled') AND c.deadline_at > 0 AND c.deadline_at <= ? AND (c.handled_at = 0 OR c.handled_at > c.deadline_at) THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.reworks > 0 THEN 1 ELSE 0 END),
		CAST(SUM(CASE WHEN c.handled_at > 0 AND c.first_dispatched_at > 0 THEN c.handled_at - c.first_dispatched_at ELSE 0 END) AS BIGINT),
		SUM(CASE WHEN c.handled_at > 0 AND c.first_dispatched_at > 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.rating <> '' THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.rating IN ('satisfied', 'basically') THEN 1 ELSE 0 END)
		FROM cases c WHERE `+cond+` GROUP BY `+key, append([]any{cutoff, cutoff}, args...)...)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*IndicatorRow{}
	var order []string
	for rows.Next() {
		var r IndicatorRow
		if err := rows.Scan(&r.Key, &r.Name, &r.Reported, &r.Filed, &r.Dispatched, &r.AccurateDispatched, &r.Handled, &r.HandledOnTime, &r.Due, &r.Closed,
			&r.ClosedOnTime, &r.ClosedLate, &r.OverdueOpen, &r.Reworked, &r.handleMs, &r.handleN, &r.Rated, &r.Satisfied); err != nil {
			rows.Close()
			return nil, err
		}
		byKey[r.Key] = &r
		order = append(order, r.Key)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	if q.By == "gridworker" {
		// Their verifications on site in the period, of cases in the region.
		vrows, err := s.db.Query(ctx, `SELECT e.actor_id, COUNT(*), SUM(CASE WHEN e.action = 'verify-fail' THEN 1 ELSE 0 END)
			FROM case_events e JOIN cases c ON c.id = e.case_id
			WHERE e.action IN ('verify-pass', 'verify-fail') AND e.actor_kind = 'user' AND e.at >= ? AND e.at < ? AND `+strings.Join(where[1:], " AND ")+`
			GROUP BY e.actor_id`, append([]any{q.From, q.To}, scopeArgs...)...)
		if err != nil {
			return nil, err
		}
		for vrows.Next() {
			var id string
			var n, failed int
			if err := vrows.Scan(&id, &n, &failed); err != nil {
				vrows.Close()
				return nil, err
			}
			r := byKey[id]
			if r == nil {
				r = &IndicatorRow{Key: id}
				byKey[id] = r
				order = append(order, id)
			}
			r.Verifications, r.VerifyFailed = n, failed
		}
		vrows.Close()
		if err := vrows.Err(); err != nil {
			return nil, err
		}
	}

	// Names.
	switch q.By {
	case "dept":
		for _, r := range byKey {
			if r.Key == "" {
				r.Name = "（未派遣）"
			}
		}
	case "gridworker":
		names, err := s.actorNames(ctx, order)
		if err != nil {
			return nil, err
		}
		for _, r := range byKey {
			r.Name = names[r.Key]
		}
	default:
		var codes []string
		for _, k := range order {
			if k != "" {
				codes = append(codes, k)
			}
		}
		names := s.names(ctx, codes)
		for _, r := range byKey {
			r.Name = names[r.Key]
			if r.Key == "" {
				r.Name = "（未定位）"
			}
		}
	}

	out := &IndicatorReport{By: q.By, Within: q.Within, From: q.From, To: q.To, GeneratedAt: now, Rows: make([]IndicatorRow, 0, len(byKey))}
	for _, r := range byKey {
		r.finish()
		out.Rows = append(out.Rows, *r)
	}
	slices.SortFunc(out.Rows, func(a, b IndicatorRow) int {
		if (a.Key == "") != (b.Key == "") { // the unassigned last
			if a.Key == "" {
				return 1
			}
			return -1
		}
		if q.By == "dept" || q.By == "gridworker" {
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
		}
		return strings.Compare(a.Key, b.Key)
	})
	t := &out.Total
	t.Name = "合计"
	for _, r := range out.Rows {
		t.add(r)
	}
	t.finish()
	return out, nil
}

func (t *IndicatorRow) add(r IndicatorRow) {
	t.Reported += r.Reported
	t.Filed += r.Filed
	t.Dispatched += r.Dispatched
	t.AccurateDispatched += r.AccurateDispatched
	t.Handled += r.Handled
	t.HandledOnTime += r.HandledOnTime
	t.Due += r.Due
	t.Closed += r.Closed
	t.ClosedOnTime += r.ClosedOnTime
	t.ClosedLate += r.ClosedLate
	t.OverdueOpen += r.OverdueOpen
	t.Reworked += r.Reworked
	t.Rated += r.Rated
	t.Satisfied += r.Satisfied
	t.Verifications += r.Verifications
	t.VerifyFailed += r.VerifyFailed
	t.handleMs += r.handleMs
	t.handleN += r.handleN
}

func (r *IndicatorRow) finish() {
	r.AccurateDispatchRate = rate(r.AccurateDispatched, r.Dispatched)
	r.HandledOnTimeRate = rate(r.HandledOnTime, r.Handled)
	r.CloseRate = rate(r.Closed, r.Due)
	r.ClosedOnTimeRate = rate(r.ClosedOnTime, r.Due)
	r.ReworkRate = rate(r.Reworked, r.Dispatched)
	r.SatisfactionRate = rate(r.Satisfied, r.Rated)
	r.AvgHandleHours = 0
	if r.handleN > 0 {
		r.AvgHandleHours = math.Round(float64(r.handleMs)/float64(r.handleN)/3600e3*100) / 100
	}
}

// rate is n/d rounded to four decimals (0 when d is 0).
func rate(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(d)*1e4) / 1e4
}

// actorNames are the names users acted under on cases (their reports and
// verifications), for the grid workers' rows.
func (s *Service) actorNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(ids); i += 500 {
		chunk := ids[i:min(len(ids), i+500)]
		args := make([]any, len(chunk))
		for j, id := range chunk {
			args[j] = id
		}
		rows, err := s.db.Query(ctx, `SELECT actor_id, MAX(actor_name) FROM case_events WHERE actor_kind = 'user' AND action IN ('report', 'verify-pass', 'verify-fail')
			AND actor_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`) GROUP BY actor_id`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

package quality

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Item is one data item (field) of a resource.
type Item struct {
	Name     string // e.g. "idNumber"
	Type     string // string, int, number, date, datetime, bool, idnumber, creditcode, division, phone or email
	Required bool
	Key      bool // the resource's key item (unique)
}

// Rule kinds.
const (
	Completeness = "completeness" // Item is not empty
	Validity     = "validity"     // Item's value has its type; Param ("enum:", "regex:", "range:", "len:") narrows
	Uniqueness   = "uniqueness"   // Item's value is unique across records (empty values ignored)
	Timeliness   = "timeliness"   // resource-level: the last load is within the update cycle; no Item
	Consistency  = "consistency"  // Item's value equals the one in Input.References[Param] for the record's key
)

// Rule is one quality rule of a resource.
type Rule struct {
	ID     string  `json:"id"`
	Kind   string  `json:"kind"`
	Item   string  `json:"item,omitempty"`
	Param  string  `json:"param,omitempty"`
	Weight float64 `json:"weight,omitempty"` // 0 means 1
}

// Record is one record of the resource, values as strings ("" = empty).
type Record struct {
	Key       string
	Values    map[string]string
	UpdatedAt time.Time
}

// Reference looks a record's key up in another source (consistency).
type Reference func(key string) (value string, found bool)

// Input is everything one evaluation of a resource needs.
type Input struct {
	Items       []Item
	Rules       []Rule
	Records     []Record
	UpdateCycle string    // realtime, daily, weekly, monthly, quarterly, yearly, irregular
	LastUpdate  time.Time // last load of the resource; zero = newest UpdatedAt of the records
	Now         time.Time
	References  map[string]Reference
	MaxFailures int // cap on Result.Failures: 0 means 1000, negative lists none; counts stay exact
}

// defaultMaxFailures bounds the failure list sent back to a provider, so
// that a wholly broken load of a large resource stays a readable report.
const defaultMaxFailures = 1000

// RuleResult is the outcome of one rule.
type RuleResult struct {
	Rule    Rule    `json:"rule"`
	Checked int     `json:"checked"`
	Passed  int     `json:"passed"`
	Score   float64 `json:"score"` // 0..100, Passed/Checked*100 (100 when Checked is 0)
}

// Failure is one failed check, of a record or (Key "") of the resource.
type Failure struct {
	Key       string `json:"key"` // record key (as given; the caller masks it if personal)
	RuleID    string `json:"ruleId"`
	Kind      string `json:"kind"`
	Item      string `json:"item,omitempty"`
	Problem   string `json:"problem"`   // English, e.g. "idNumber: check digit wrong"
	ProblemZh string `json:"problemZh"` // Chinese, e.g. "idNumber：校验位错误"
}

// Result is the outcome of one evaluation.
type Result struct {
	Score         float64      `json:"score"` // weighted mean of rule scores, 0..100, rounded to 0.1
	Records       int          `json:"records"`
	Rules         []RuleResult `json:"rules"`
	Failures      []Failure    `json:"failures"`
	Failed        int          `json:"failed"`        // total failures, even beyond MaxFailures
	FailedRecords int          `json:"failedRecords"` // distinct record keys with at least one failure
}

// Evaluate runs the rules over the records. It never fails: see the package
// documentation for rules that cannot run.
func Evaluate(in Input) Result {
	e := evaluation{
		res: Result{
			Records:  len(in.Records),
			Rules:    make([]RuleResult, len(in.Rules)),
			Failures: []Failure{},
		},
		max: in.MaxFailures,
	}
	if e.max == 0 {
		e.max = defaultMaxFailures
	}
	items := indexItems(in.Items)
	weights := make([]float64, len(in.Rules))
	var checks []*check
	for i, r := range in.Rules {
		rr := &e.res.Rules[i]
		rr.Rule = r
		weights[i] = 1
		c, err := compile(r, items)
		if err != nil {
			e.cannotRun(rr, err.en, err.zh)
			continue
		}
		weights[i] = c.weight
		c.result = rr
		switch r.Kind {
		case Timeliness:
			e.timeliness(rr, in)
			continue
		case Consistency:
			c.ref = in.References[r.Param]
			if c.ref == nil {
				e.cannotRun(rr, "reference source "+strconv.Quote(r.Param)+" is not available",
					"参照数据源 "+strconv.Quote(r.Param)+" 不可用")
				continue
			}
		case Uniqueness:
			c.counts = countValues(in.Records, c)
		}
		checks = append(checks, c)
	}

	var failedKeys map[string]struct{}
	for _, rec := range in.Records {
		failed := false
		for _, c := range checks {
			if p, ok := c.run(rec); !ok {
				e.fail(rec.Key, c.result.Rule, c.item+": "+p.en, c.item+"："+p.zh)
				failed = true
			}
		}
		if !failed {
			continue
		}
		// Records without a key cannot be told apart, so each counts.
		if rec.Key == "" {
			e.res.FailedRecords++
			continue
		}
		if failedKeys == nil {
			failedKeys = make(map[string]struct{})
		}
		if _, seen := failedKeys[rec.Key]; !seen {
			failedKeys[rec.Key] = struct{}{}
			e.res.FailedRecords++
		}
	}

	var sum, total float64
	for i := range e.res.Rules {
		rr := &e.res.Rules[i]
		rr.Score = 100
		if rr.Checked > 0 {
			rr.Score = float64(rr.Passed) / float64(rr.Checked) * 100
		}
		sum += weights[i] * rr.Score
		total += weights[i]
	}
	e.res.Score = 100
	if total > 0 {
		e.res.Score = math.Round(sum/total*10) / 10
	}
	return e.res
}

// evaluation holds the result being built and the failure cap.
type evaluation struct {
	res Result
	max int
}

// fail records one failure; past the cap it is only counted, and its text
// is not even built.
func (e *evaluation) fail(key string, r Rule, en, zh string) {
	e.res.Failed++
	if len(e.res.Failures) < e.max {
		e.res.Failures = append(e.res.Failures, Failure{
			Key: key, RuleID: r.ID, Kind: r.Kind, Item: r.Item, Problem: en, ProblemZh: zh,
		})
	}
}

// cannotRun counts a rule that cannot run as one failed resource-level check.
func (e *evaluation) cannotRun(rr *RuleResult, en, zh string) {
	rr.Checked, rr.Passed = 1, 0
	e.fail("", rr.Rule, "rule "+strconv.Quote(rr.Rule.ID)+" cannot run: "+en, "规则 "+strconv.Quote(rr.Rule.ID)+" 无法执行："+zh)
}

// timeliness runs the one resource-level check of a timeliness rule.
func (e *evaluation) timeliness(rr *RuleResult, in Input) {
	allowed, known := Cycle(in.UpdateCycle)
	switch {
	case !known:
		e.cannotRun(rr, "update cycle "+strconv.Quote(in.UpdateCycle)+" is unknown", "更新周期 "+strconv.Quote(in.UpdateCycle)+" 未知")
		return
	case allowed == 0: // irregular
		rr.Checked, rr.Passed = 1, 1
		return
	case in.Now.IsZero():
		e.cannotRun(rr, "no evaluation time was given", "未提供评估时间")
		return
	}
	rr.Checked = 1
	last := in.LastUpdate
	if last.IsZero() {
		for _, rec := range in.Records {
			if rec.UpdatedAt.After(last) {
				last = rec.UpdatedAt
			}
		}
	}
	if last.IsZero() {
		e.fail("", rr.Rule, "no data has been loaded", "尚未加载任何数据")
		return
	}
	age := in.Now.Sub(last)
	if age <= allowed {
		rr.Passed = 1
		return
	}
	ageEn, ageZh := span(age)
	allowEn, allowZh := span(allowed)
	cycleZh := cyclesZh[in.UpdateCycle]
	e.fail("", rr.Rule,
		"data is "+ageEn+" old; the "+in.UpdateCycle+" update cycle allows "+allowEn,
		"数据已 "+ageZh+"未更新，更新周期（"+cycleZh+"）允许 "+allowZh)
}

// Cycle returns the allowed age of a resource's data for an update cycle,
// and whether the cycle is known. Each allows some grace past its nominal
// length (a daily load may run late), and "irregular" returns 0, meaning
// the data is never stale.
func Cycle(updateCycle string) (time.Duration, bool) {
	d, ok := cycles[updateCycle]
	return d, ok
}

const day = 24 * time.Hour

var cycles = map[string]time.Duration{
	"realtime":  time.Hour,
	"daily":     26 * time.Hour,
	"weekly":    8 * day,
	"monthly":   32 * day,
	"quarterly": 93 * day,
	"yearly":    366 * day,
	"irregular": 0,
}

var cyclesZh = map[string]string{
	"realtime": "实时", "daily": "每日", "weekly": "每周", "monthly": "每月",
	"quarterly": "每季度", "yearly": "每年", "irregular": "不定期",
}

// span says how long d is, in whole days from two days up, else in whole
// hours, else in whole minutes.
func span(d time.Duration) (en, zh string) {
	switch {
	case d >= 2*day:
		n := int64(d / day)
		return plural(n, "day"), strconv.FormatInt(n, 10) + " 天"
	case d >= time.Hour:
		n := int64(d / time.Hour)
		return plural(n, "hour"), strconv.FormatInt(n, 10) + " 小时"
	default:
		n := int64(d / time.Minute)
		return plural(n, "minute"), strconv.FormatInt(n, 10) + " 分钟"
	}
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// indexItems maps item names to items; the first of a repeated name wins.
func indexItems(items []Item) map[string]Item {
	m := make(map[string]Item, len(items))
	for _, it := range items {
		if _, dup := m[it.Name]; !dup {
			m[it.Name] = it
		}
	}
	return m
}

// countValues counts the canonical non-empty values of c's item, for a
// uniqueness check.
func countValues(records []Record, c *check) map[string]int {
	counts := make(map[string]int, len(records))
	for _, rec := range records {
		if v := strings.TrimSpace(rec.Values[c.item]); v != "" {
			counts[c.canon(v)]++
		}
	}
	return counts
}

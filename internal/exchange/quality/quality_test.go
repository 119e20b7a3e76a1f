package quality_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/exchange/quality"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// one evaluates a single rule on one item's values.
func one(it quality.Item, r quality.Rule, values ...string) quality.Result {
	return quality.Evaluate(quality.Input{
		Items: []quality.Item{it}, Rules: []quality.Rule{r}, Records: records(it.Name, values...),
		UpdateCycle: "daily", Now: now,
	})
}

func TestCompleteness(t *testing.T) {
	t.Parallel()
	it := quality.Item{Name: "name", Type: "string", Required: true}
	res := one(it, quality.Rule{ID: "c", Kind: quality.Completeness, Item: "name"}, "王小明", "", "  ", "李四")
	wantCounts(t, res.Rules[0], 4, 2)
	if got := keys(res.Failures); !slices.Equal(got, []string{"r2", "r3"}) {
		t.Errorf("failing keys %v, want [r2 r3]", got)
	}
	f := res.Failures[0]
	if f.Problem != "name: is empty" || f.ProblemZh != "name：为空" || f.RuleID != "c" || f.Kind != quality.Completeness || f.Item != "name" {
		t.Errorf("failure %+v", f)
	}
	if res.Score != 50 || res.Failed != 2 || res.FailedRecords != 2 || res.Records != 4 {
		t.Errorf("result %+v", res)
	}
}

func TestValidityTypes(t *testing.T) {
	t.Parallel()
	id := citizenID(7)
	code := creditCode(t, 12345678)
	cases := []struct {
		name, typ, value string
		problem          string // "" when valid
	}{
		{"plain string", "string", "任何内容", ""},
		{"int", "int", "-42", ""},
		{"int with spaces", "int", " 42 ", ""},
		{"int with a fraction", "int", "4.2", "not an integer"},
		{"int words", "int", "forty", "not an integer"},
		{"number", "number", "3.14", ""},
		{"number exponent", "number", "-1.5e3", ""},
		{"number fraction only", "number", ".5", ""},
		{"number Inf", "number", "Inf", "not a number"},
		{"number hex", "number", "0x10", "not a number"},
		{"number underscore", "number", "1_000", "not a number"},
		{"number overflow", "number", "1e999", "not a number"},
		{"number dot only", "number", ".", "not a number"},
		{"date", "date", "2024-02-29", ""},
		{"date not leap", "date", "2023-02-29", "not a date (YYYY-MM-DD)"},
		{"date month 13", "date", "2024-13-01", "not a date (YYYY-MM-DD)"},
		{"date short month", "date", "2024-1-01", "not a date (YYYY-MM-DD)"},
		{"date slashes", "date", "2024/01/01", "not a date (YYYY-MM-DD)"},
		{"datetime", "datetime", "2024-05-01T08:30:00+08:00", ""},
		{"datetime UTC fraction", "datetime", "2024-05-01T00:30:00.123Z", ""},
		{"datetime without zone", "datetime", "2024-05-01 08:30:00", "not an RFC 3339 date and time"},
		{"bool", "bool", "false", ""},
		{"bool capital", "bool", "True", "not true or false"},
		{"bool number", "bool", "1", "not true or false"},
		{"idnumber", "idnumber", id, ""},
		{"idnumber lowercase x", "idnumber", strings.ToLower(citizenIDEndingX(t)), ""},
		{"idnumber bad check digit", "idnumber", corrupt(id), "check digit wrong"},
		{"idnumber 17 digits", "idnumber", id[:17], "must have 18 characters"},
		{"idnumber letter", "idnumber", "11010519850314A23X", "must be digits (the last may be X)"},
		{"idnumber legacy 15 digits", "idnumber", id[:6] + id[8:17], "legacy 15-digit number, use the 18-character form"},
		{"idnumber bad birth date", "idnumber", withCheck("11010519851332001"), "birth date invalid"},
		{"idnumber bad province", "idnumber", withCheck("99010519850314001"), "division code invalid"},
		{"creditcode", "creditcode", code, ""},
		{"creditcode lowercase", "creditcode", strings.ToLower(code), ""},
		{"creditcode bad check digit", "creditcode", corrupt(code), "check digit wrong"},
		{"creditcode letter I", "creditcode", "I" + code[1:], "invalid character (use digits and capital letters except I, O, S, V, Z)"},
		{"creditcode short", "creditcode", code[:17], "must have 18 characters"},
		{"division county", "division", "110105", ""},
		{"division 12 digits", "division", "110105001001", ""},
		{"division 9 digits", "division", "110105001", "must have 6 or 12 digits"},
		{"division bad province", "division", "991234", "unknown province"},
		{"division gap", "division", "110005", "division levels inconsistent"},
		{"phone mobile", "phone", "13800138000", ""},
		{"phone fixed with area code", "phone", "010-12345678", ""},
		{"phone fixed without hyphen", "phone", "075512345678", ""},
		{"phone local", "phone", "8765432", ""},
		{"phone mobile 12 digits", "phone", "138001380001", "not a phone number"},
		{"phone starts with 1 but short", "phone", "12345678", "not a phone number"},
		{"phone two hyphens", "phone", "010-1234-5678", "not a phone number"},
		{"phone leading hyphen", "phone", "-0101234567", "not a phone number"},
		{"phone too short", "phone", "123456", "not a phone number"},
		{"phone with plus", "phone", "+8613800138000", "not a phone number"},
		{"email", "email", "zhang.san+news@example.gov.cn", ""},
		{"email no dot in domain", "email", "a@localhost", "not an email address"},
		{"email double dot", "email", "a..b@example.cn", "not an email address"},
		{"email hyphen label", "email", "a@-example.cn", "not an email address"},
		{"email no local part", "email", "@example.cn", "not an email address"},
		{"email space", "email", "a b@example.cn", "not an email address"},
		{"email two ats", "email", "a@b@example.cn", "not an email address"},
		{"email trailing dot", "email", "a@example.cn.", "not an email address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			it := quality.Item{Name: "v", Type: tc.typ}
			res := one(it, quality.Rule{ID: "r", Kind: quality.Validity, Item: "v"}, tc.value, "")
			if tc.problem == "" {
				wantCounts(t, res.Rules[0], 1, 1)
				if len(res.Failures) != 0 {
					t.Errorf("failures %+v", res.Failures)
				}
				return
			}
			wantCounts(t, res.Rules[0], 1, 0)
			if len(res.Failures) != 1 || res.Failures[0].Problem != "v: "+tc.problem || res.Failures[0].ProblemZh == "" {
				t.Fatalf("failures %+v, want problem %q", res.Failures, tc.problem)
			}
		})
	}
}

// The failure text says what is wrong in both languages, but never repeats
// the value: failure lists leave the platform.
func TestValidityProblemsHideTheValue(t *testing.T) {
	t.Parallel()
	bad := corrupt(citizenID(3))
	res := one(quality.Item{Name: "idNumber", Type: "idnumber"}, quality.Rule{ID: "validity:idNumber", Kind: quality.Validity, Item: "idNumber"}, bad)
	f := res.Failures[0]
	if f.Problem != "idNumber: check digit wrong" || f.ProblemZh != "idNumber：校验位错误" || f.Key != "r1" {
		t.Errorf("failure %+v", f)
	}
	birth := withCheck("11010519851332001")
	res = one(quality.Item{Name: "idNumber", Type: "idnumber"}, quality.Rule{ID: "v", Kind: quality.Validity, Item: "idNumber"}, birth)
	if p := res.Failures[0].Problem + res.Failures[0].ProblemZh; strings.Contains(p, "19851332") || strings.Contains(p, "110105") {
		t.Errorf("problem %q repeats part of the value", p)
	}
}

func TestValidityParams(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, typ, param string
		values           []string
		checked, passed  int
		problems         []string // of the failures, in order
	}{
		{"enum", "string", "enum:男|女", []string{"男", "女", "未知", ""}, 3, 2,
			[]string{"must be one of 男, 女"}},
		{"enum on a typed item still checks the type", "int", "enum:1|2|3", []string{"1", "3", "4", "x"}, 4, 2,
			[]string{"must be one of 1, 2, 3", "not an integer"}},
		{"regex is anchored", "string", `regex:[A-Z]{2}\d{4}`, []string{"AB1234", "ab1234", "XAB12345"}, 3, 1,
			[]string{"does not match the required pattern", "does not match the required pattern"}},
		{"range on int", "int", "range:0,100", []string{"0", "100", "101", "-1", "abc"}, 5, 2,
			[]string{"must be between 0 and 100", "must be between 0 and 100", "not an integer"}},
		{"range without max", "number", "range:0,", []string{"0.5", "-0.1", "1e6"}, 3, 2,
			[]string{"must be at least 0"}},
		{"range without min", "number", "range:,-1.5", []string{"-2", "-1.5", "0"}, 3, 2,
			[]string{"must be at most -1.5"}},
		{"len counts characters", "string", "len:2,4", []string{"ab", "abcd", "a", "abcde", "中文", "中华人民共和国"}, 6, 3,
			[]string{"must be 2-4 characters long", "must be 2-4 characters long", "must be 2-4 characters long"}},
		{"len exact", "string", "len:6,6", []string{"100000", "10000"}, 2, 1,
			[]string{"must be 6 characters long"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			it := quality.Item{Name: "v", Type: tc.typ}
			r := quality.Rule{ID: "p", Kind: quality.Validity, Item: "v", Param: tc.param}
			if err := quality.ValidateRules([]quality.Rule{r}, []quality.Item{it}); err != nil {
				t.Fatalf("ValidateRules: %v", err)
			}
			res := one(it, r, tc.values...)
			wantCounts(t, res.Rules[0], tc.checked, tc.passed)
			var got []string
			for _, f := range res.Failures {
				got = append(got, strings.TrimPrefix(f.Problem, "v: "))
			}
			if !slices.Equal(got, tc.problems) {
				t.Errorf("problems %q, want %q", got, tc.problems)
			}
		})
	}
}

func TestUniqueness(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, typ       string
		values          []string
		checked, passed int
		failing         []string
	}{
		{"every occurrence of a duplicate fails", "string", []string{"a", "b", "a", "", "c", "a", "b", ""}, 6, 1,
			[]string{"r1", "r2", "r3", "r6", "r7"}},
		{"all distinct", "string", []string{"a", "b", "c"}, 3, 3, nil},
		{"white space is ignored", "string", []string{"a", " a "}, 2, 0, []string{"r1", "r2"}},
		{"ID numbers ignore the case of x", "idnumber", []string{citizenIDEndingX(t), strings.ToLower(citizenIDEndingX(t)), citizenID(1)}, 3, 1,
			[]string{"r1", "r2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := one(quality.Item{Name: "id", Type: tc.typ, Key: true}, quality.Rule{ID: "u", Kind: quality.Uniqueness, Item: "id"}, tc.values...)
			wantCounts(t, res.Rules[0], tc.checked, tc.passed)
			if got := keys(res.Failures); !slices.Equal(got, tc.failing) {
				t.Errorf("failing %v, want %v", got, tc.failing)
			}
			for _, f := range res.Failures {
				if f.Problem != "id: duplicate value" || f.ProblemZh != "id：值重复" {
					t.Errorf("failure %+v", f)
				}
			}
		})
	}
}

func TestTimeliness(t *testing.T) {
	t.Parallel()
	at := func(ago time.Duration) []quality.Record {
		return []quality.Record{{Key: "a", UpdatedAt: now.Add(-ago - time.Hour)}, {Key: "b", UpdatedAt: now.Add(-ago)}}
	}
	cases := []struct {
		name       string
		cycle      string
		lastUpdate time.Time
		records    []quality.Record
		now        time.Time
		passed     int
		problem    string
		problemZh  string
	}{
		{name: "daily, loaded 25 hours ago", cycle: "daily", lastUpdate: now.Add(-25 * time.Hour), now: now, passed: 1},
		{name: "daily, loaded exactly 26 hours ago", cycle: "daily", lastUpdate: now.Add(-26 * time.Hour), now: now, passed: 1},
		{name: "daily, loaded 3 days ago", cycle: "daily", lastUpdate: now.Add(-3*24*time.Hour - time.Hour), now: now,
			problem: "data is 3 days old; the daily update cycle allows 26 hours", problemZh: "数据已 3 天未更新，更新周期（每日）允许 26 小时"},
		{name: "daily, newest record 2 hours old", cycle: "daily", records: at(2 * time.Hour), now: now, passed: 1},
		{name: "daily, newest record 30 hours old", cycle: "daily", records: at(30 * time.Hour), now: now,
			problem: "data is 30 hours old; the daily update cycle allows 26 hours", problemZh: "数据已 30 小时未更新，更新周期（每日）允许 26 小时"},
		{name: "LastUpdate wins over the records", cycle: "daily", lastUpdate: now.Add(-48 * time.Hour), records: at(time.Hour), now: now,
			problem: "data is 2 days old; the daily update cycle allows 26 hours", problemZh: "数据已 2 天未更新，更新周期（每日）允许 26 小时"},
		{name: "realtime, 90 minutes", cycle: "realtime", lastUpdate: now.Add(-90 * time.Minute), now: now,
			problem: "data is 1 hour old; the realtime update cycle allows 1 hour", problemZh: "数据已 1 小时未更新，更新周期（实时）允许 1 小时"},
		{name: "weekly, 7 days", cycle: "weekly", lastUpdate: now.Add(-7 * 24 * time.Hour), now: now, passed: 1},
		{name: "monthly, 40 days", cycle: "monthly", lastUpdate: now.AddDate(0, 0, -40), now: now,
			problem: "data is 40 days old; the monthly update cycle allows 32 days", problemZh: "数据已 40 天未更新，更新周期（每月）允许 32 天"},
		{name: "daily, nothing loaded", cycle: "daily", now: now,
			problem: "no data has been loaded", problemZh: "尚未加载任何数据"},
		{name: "irregular never stale", cycle: "irregular", lastUpdate: now.AddDate(-5, 0, 0), now: now, passed: 1},
		{name: "irregular, nothing loaded", cycle: "irregular", passed: 1},
		{name: "unknown cycle", cycle: "hourly", lastUpdate: now, now: now,
			problem: `rule "timeliness" cannot run: update cycle "hourly" is unknown`, problemZh: `规则 "timeliness" 无法执行：更新周期 "hourly" 未知`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := quality.Evaluate(quality.Input{
				Rules:   []quality.Rule{{ID: "timeliness", Kind: quality.Timeliness}},
				Records: tc.records, UpdateCycle: tc.cycle, LastUpdate: tc.lastUpdate, Now: tc.now,
			})
			wantCounts(t, res.Rules[0], 1, tc.passed)
			if tc.passed == 1 {
				if len(res.Failures) != 0 || res.Score != 100 {
					t.Errorf("result %+v", res)
				}
				return
			}
			if len(res.Failures) != 1 {
				t.Fatalf("failures %+v", res.Failures)
			}
			f := res.Failures[0]
			if f.Key != "" || f.RuleID != "timeliness" || f.Problem != tc.problem || f.ProblemZh != tc.problemZh {
				t.Errorf("failure %+v, want %q / %q", f, tc.problem, tc.problemZh)
			}
			if res.Score != 0 || res.Failed != 1 || res.FailedRecords != 0 {
				t.Errorf("score %v failed %d failedRecords %d, want 0, 1, 0", res.Score, res.Failed, res.FailedRecords)
			}
		})
	}
}

func TestCycle(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cycle string
		want  time.Duration
		known bool
	}{
		{"realtime", time.Hour, true},
		{"daily", 26 * time.Hour, true},
		{"weekly", 8 * 24 * time.Hour, true},
		{"monthly", 32 * 24 * time.Hour, true},
		{"quarterly", 93 * 24 * time.Hour, true},
		{"yearly", 366 * 24 * time.Hour, true},
		{"irregular", 0, true},
		{"Daily", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		if got, known := quality.Cycle(tc.cycle); got != tc.want || known != tc.known {
			t.Errorf("Cycle(%q) = %v, %v, want %v, %v", tc.cycle, got, known, tc.want, tc.known)
		}
	}
}

func TestConsistency(t *testing.T) {
	t.Parallel()
	registry := map[string]string{"k1": "北京市朝阳区", "k2": "北京市海淀区", "k4": "北京市东城区", "k5": " 北京市西城区 "}
	ref := func(key string) (string, bool) { v, ok := registry[key]; return v, ok }
	items := []quality.Item{{Name: "address", Type: "string"}}
	rules := []quality.Rule{{ID: "c", Kind: quality.Consistency, Item: "address", Param: "population"}}
	recs := []quality.Record{
		{Key: "k1", Values: map[string]string{"address": "北京市朝阳区"}}, // match
		{Key: "k2", Values: map[string]string{"address": "北京市朝阳区"}}, // mismatch
		{Key: "k3", Values: map[string]string{"address": "北京市丰台区"}}, // unknown to the reference: skipped
		{Key: "k4", Values: map[string]string{"address": ""}},       // empty: completeness's business
		{Key: "k5", Values: map[string]string{"address": "北京市西城区"}}, // match, white space aside
	}
	res := quality.Evaluate(quality.Input{Items: items, Rules: rules, Records: recs, Now: now,
		References: map[string]quality.Reference{"population": ref}})
	wantCounts(t, res.Rules[0], 3, 2)
	if len(res.Failures) != 1 {
		t.Fatalf("failures %+v", res.Failures)
	}
	if f := res.Failures[0]; f.Key != "k2" || f.Problem != "address: differs from population" || f.ProblemZh != "address：与 population 不一致" {
		t.Errorf("failure %+v", f)
	}

	t.Run("missing reference cannot run", func(t *testing.T) {
		t.Parallel()
		res := quality.Evaluate(quality.Input{Items: items, Rules: rules, Records: recs, Now: now})
		wantCounts(t, res.Rules[0], 1, 0)
		if len(res.Failures) != 1 || res.Failures[0].Key != "" ||
			res.Failures[0].Problem != `rule "c" cannot run: reference source "population" is not available` {
			t.Errorf("failures %+v", res.Failures)
		}
		if res.FailedRecords != 0 || res.Score != 0 {
			t.Errorf("result %+v", res)
		}
	})
}

func TestMaxFailures(t *testing.T) {
	t.Parallel()
	empty := make([]string, 1500)
	cases := []struct {
		name   string
		max    int
		listed int
	}{
		{"capped", 10, 10},
		{"zero means 1000", 0, 1000},
		{"above the count", 5000, 1500},
		{"negative lists none", -1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := quality.Evaluate(quality.Input{
				Items:   []quality.Item{{Name: "v", Type: "string", Required: true}},
				Rules:   []quality.Rule{{ID: "c", Kind: quality.Completeness, Item: "v"}},
				Records: records("v", empty...), Now: now, MaxFailures: tc.max,
			})
			if len(res.Failures) != tc.listed || res.Failed != 1500 || res.FailedRecords != 1500 {
				t.Errorf("listed %d failed %d failedRecords %d, want %d, 1500, 1500", len(res.Failures), res.Failed, res.FailedRecords, tc.listed)
			}
			if tc.listed > 0 && res.Failures[tc.listed-1].Key != "r"+strconv.Itoa(tc.listed) {
				t.Errorf("last listed %+v, want the first %d records", res.Failures[tc.listed-1], tc.listed)
			}
			wantCounts(t, res.Rules[0], 1500, 0)
		})
	}
}

// Failures come resource-level first, then by record and, within a record,
// by rule; FailedRecords counts keys, each empty key on its own.
func TestFailureOrderAndCounts(t *testing.T) {
	t.Parallel()
	items := []quality.Item{
		{Name: "id", Type: "idnumber", Required: true, Key: true},
		{Name: "phone", Type: "phone"},
	}
	rules := []quality.Rule{
		{ID: "validity:phone", Kind: quality.Validity, Item: "phone"},
		{ID: "completeness:id", Kind: quality.Completeness, Item: "id"},
		{ID: "timeliness", Kind: quality.Timeliness},
	}
	recs := []quality.Record{
		{Key: "a", Values: map[string]string{"id": citizenID(1), "phone": "13800138000"}},
		{Key: "b", Values: map[string]string{"id": "", "phone": "12"}},
		{Key: "b", Values: map[string]string{"id": "", "phone": "13800138000"}},
		{Key: "", Values: map[string]string{"phone": "x"}},
		{Key: "", Values: map[string]string{"phone": "y"}},
	}
	res := quality.Evaluate(quality.Input{Items: items, Rules: rules, Records: recs, UpdateCycle: "daily",
		LastUpdate: now.AddDate(0, 0, -10), Now: now})
	type row struct{ key, rule string }
	var got []row
	for _, f := range res.Failures {
		got = append(got, row{f.Key, f.RuleID})
	}
	want := []row{
		{"", "timeliness"},
		{"b", "validity:phone"}, {"b", "completeness:id"},
		{"b", "completeness:id"},
		{"", "validity:phone"}, {"", "completeness:id"},
		{"", "validity:phone"}, {"", "completeness:id"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("failures %v, want %v", got, want)
	}
	if res.Failed != 8 || res.FailedRecords != 3 {
		t.Errorf("failed %d failedRecords %d, want 8, 3", res.Failed, res.FailedRecords)
	}
	wantCounts(t, res.Rules[0], 5, 2)
	wantCounts(t, res.Rules[1], 5, 1)
	wantCounts(t, res.Rules[2], 1, 0)
	// (40 + 20 + 0) / 3
	if res.Score != 20 {
		t.Errorf("score %v, want 20", res.Score)
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	items := []quality.Item{{Name: "v", Type: "int"}}
	recs := records("v", "1", "x", "", "3")
	cases := []struct {
		name  string
		rules []quality.Rule
		want  float64
	}{
		{"no rules", nil, 100},
		{"rounded to 0.1", []quality.Rule{{ID: "v", Kind: quality.Validity, Item: "v"}}, 66.7},
		{"weighted", []quality.Rule{
			{ID: "c", Kind: quality.Completeness, Item: "v", Weight: 3}, // 75
			{ID: "u", Kind: quality.Uniqueness, Item: "v"},              // 100
		}, 81.3}, // (225 + 100) / 4 = 81.25
		{"rule that cannot run scores 0", []quality.Rule{
			{ID: "v", Kind: quality.Validity, Item: "v", Param: "enum:1|3|x"}, // 66.67, enum value x is not an int: cannot run
			{ID: "c", Kind: quality.Completeness, Item: "v"},                  // 75
		}, 37.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := quality.Evaluate(quality.Input{Items: items, Rules: tc.rules, Records: recs, Now: now})
			if res.Score != tc.want {
				t.Errorf("score %v, want %v (rules %+v)", res.Score, tc.want, res.Rules)
			}
		})
	}
	t.Run("empty resource", func(t *testing.T) {
		t.Parallel()
		res := quality.Evaluate(quality.Input{Items: items, Rules: []quality.Rule{{ID: "v", Kind: quality.Validity, Item: "v"}}, Now: now})
		wantCounts(t, res.Rules[0], 0, 0)
		if res.Score != 100 {
			t.Errorf("score %v, want 100", res.Score)
		}
		b, _ := json.Marshal(res)
		if !strings.Contains(string(b), `"failures":[]`) {
			t.Errorf("JSON %s: want an empty failures list, not null", b)
		}
	})
}

// Evaluate runs what it can: a rule ValidateRules would reject counts as one
// failed resource-level check instead of being skipped.
func TestEvaluateRuleThatCannotRun(t *testing.T) {
	t.Parallel()
	res := quality.Evaluate(quality.Input{
		Items: []quality.Item{{Name: "v", Type: "string"}},
		Rules: []quality.Rule{
			{ID: "ok", Kind: quality.Completeness, Item: "v"},
			{ID: "bad", Kind: quality.Completeness, Item: "missing"},
		},
		Records: records("v", "a", "b"), Now: now,
	})
	wantCounts(t, res.Rules[0], 2, 2)
	wantCounts(t, res.Rules[1], 1, 0)
	if len(res.Failures) != 1 || res.Failures[0].Problem != `rule "bad" cannot run: the resource has no item "missing"` ||
		res.Failures[0].ProblemZh != `规则 "bad" 无法执行：资源没有数据项 "missing"` {
		t.Errorf("failures %+v", res.Failures)
	}
	if res.Score != 50 {
		t.Errorf("score %v, want 50", res.Score)
	}
}

var sampleItems = []quality.Item{
	{Name: "idNumber", Type: "idnumber", Required: true, Key: true},
	{Name: "name", Type: "string", Required: true},
	{Name: "phone", Type: "phone"},
	{Name: "birthDate", Type: "date", Required: true},
	{Name: "remark", Type: "string"},
}

func TestDefaultRules(t *testing.T) {
	t.Parallel()
	want := []quality.Rule{
		{ID: "completeness:idNumber", Kind: quality.Completeness, Item: "idNumber"},
		{ID: "completeness:name", Kind: quality.Completeness, Item: "name"},
		{ID: "completeness:birthDate", Kind: quality.Completeness, Item: "birthDate"},
		{ID: "validity:idNumber", Kind: quality.Validity, Item: "idNumber"},
		{ID: "validity:phone", Kind: quality.Validity, Item: "phone"},
		{ID: "validity:birthDate", Kind: quality.Validity, Item: "birthDate"},
		{ID: "uniqueness:idNumber", Kind: quality.Uniqueness, Item: "idNumber"},
		{ID: "timeliness", Kind: quality.Timeliness},
	}
	got := quality.DefaultRules(sampleItems)
	if !slices.Equal(got, want) {
		t.Errorf("DefaultRules =\n%+v\nwant\n%+v", got, want)
	}
	if err := quality.ValidateRules(got, sampleItems); err != nil {
		t.Errorf("ValidateRules(DefaultRules) = %v", err)
	}
	if got := quality.DefaultRules(nil); !slices.Equal(got, []quality.Rule{{ID: "timeliness", Kind: quality.Timeliness}}) {
		t.Errorf("DefaultRules(nil) = %+v", got)
	}
}

func TestValidateRules(t *testing.T) {
	t.Parallel()
	valid := quality.Rule{ID: "ok", Kind: quality.Completeness, Item: "name"}
	cases := []struct {
		name        string
		rule        quality.Rule
		field, want string
	}{
		{"no id", quality.Rule{Kind: quality.Completeness, Item: "name"}, "rules[1].id", "required"},
		{"duplicate id", quality.Rule{ID: "ok", Kind: quality.Completeness, Item: "name"}, "rules[1].id", "unique"},
		{"unknown kind", quality.Rule{ID: "x", Kind: "accuracy", Item: "name"}, "rules[1].kind", "enum"},
		{"no item", quality.Rule{ID: "x", Kind: quality.Uniqueness}, "rules[1].item", "required"},
		{"unknown item", quality.Rule{ID: "x", Kind: quality.Validity, Item: "nmae"}, "rules[1].item", "exists"},
		{"timeliness with an item", quality.Rule{ID: "x", Kind: quality.Timeliness, Item: "name"}, "rules[1].item", "empty"},
		{"timeliness with a param", quality.Rule{ID: "x", Kind: quality.Timeliness, Param: "daily"}, "rules[1].param", "empty"},
		{"completeness with a param", quality.Rule{ID: "x", Kind: quality.Completeness, Item: "name", Param: "len:1,2"}, "rules[1].param", "empty"},
		{"validity of an unknown type", quality.Rule{ID: "x", Kind: quality.Validity, Item: "odd"}, "rules[1].item", "type"},
		{"unknown param", quality.Rule{ID: "x", Kind: quality.Validity, Item: "name", Param: "max:3"}, "rules[1].param", "format"},
		{"empty enum value", quality.Rule{ID: "x", Kind: quality.Validity, Item: "name", Param: "enum:a||b"}, "rules[1].param", "format"},
		{"enum value of the wrong type", quality.Rule{ID: "x", Kind: quality.Validity, Item: "age", Param: "enum:1|two"}, "rules[1].param", "format"},
		{"bad regex", quality.Rule{ID: "x", Kind: quality.Validity, Item: "name", Param: "regex:[a-"}, "rules[1].param", "format"},
		{"empty regex", quality.Rule{ID: "x", Kind: quality.Validity, Item: "name", Param: "regex:"}, "rules[1].param", "format"},
		{"range on a string", quality.Rule{ID: "x", Kind: quality.Validity, Item: "name", Param: "range:1,2"}, "rules[1].param", "format"},
		{"range without comma", quality.Rule{ID: "x", Kind: quality.Validity, Item: "age", Param: "range:1"}, "rules[1].param", "format"},
		{"range without bounds", quality.Rule{ID: "x", Kind: quality.Validity, Item: "age", Param: "range:,"}, "rules[1].param", "format"},
		{"range bad bound", quality.Rule{ID: "x", Kind: quality.Validity, Item: "age", Param: "range:0,abc"}, "rules[1].param", "format"},
		{"range reversed", quality.Rule{ID: "x", Kind: quality.Validity, Item: "age", Param: "range:10,1"}, "rules[1].param", "format"},
		{"len negative", quality.Rule{ID: "x", Kind: quality.Validity, Item: "name", Param: "len:-1,2"}, "rules[1].param", "format"},
		{"len three parts", quality.Rule{ID: "x", Kind: quality.Validity, Item: "name", Param: "len:1,2,3"}, "rules[1].param", "format"},
		{"consistency without reference", quality.Rule{ID: "x", Kind: quality.Consistency, Item: "name"}, "rules[1].param", "required"},
		{"negative weight", quality.Rule{ID: "x", Kind: quality.Completeness, Item: "name", Weight: -1}, "rules[1].weight", "minimum"},
	}
	items := []quality.Item{{Name: "name", Type: "string"}, {Name: "age", Type: "int"}, {Name: "odd", Type: "blob"}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := quality.ValidateRules([]quality.Rule{valid, tc.rule}, items)
			var e *errs.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want an *errs.Error", err, err)
			}
			if e.Code != errs.CodeInvalid || len(e.Fields) != 1 {
				t.Fatalf("error %+v: want code invalid and one field", e)
			}
			if f := e.Fields[0]; f.Field != tc.field || f.Rule != tc.want || f.Message == "" || f.MessageZh == "" {
				t.Errorf("field %q rule %q (%q / %q), want %q, %q", f.Field, f.Rule, f.Message, f.MessageZh, tc.field, tc.want)
			}
		})
	}

	t.Run("accepts a full set", func(t *testing.T) {
		t.Parallel()
		rules := []quality.Rule{
			{ID: "a", Kind: quality.Completeness, Item: "name", Weight: 2},
			{ID: "b", Kind: quality.Validity, Item: "name", Param: "enum:甲|乙"},
			{ID: "c", Kind: quality.Validity, Item: "name", Param: `regex:\p{Han}+`},
			{ID: "d", Kind: quality.Validity, Item: "age", Param: "range:0,150"},
			{ID: "e", Kind: quality.Validity, Item: "name", Param: "len:,20"},
			{ID: "f", Kind: quality.Uniqueness, Item: "name"},
			{ID: "g", Kind: quality.Consistency, Item: "name", Param: "population"},
			{ID: "h", Kind: quality.Timeliness},
		}
		if err := quality.ValidateRules(rules, items); err != nil {
			t.Errorf("ValidateRules = %v", err)
		}
	})
}

// citizenIDEndingX returns a valid ID number whose check character is X.
func citizenIDEndingX(t testing.TB) string {
	for n := range 1000 {
		if id := citizenID(n); id[17] == 'X' {
			return id
		}
	}
	t.Fatal("no ID number ending in X")
	return ""
}

// withCheck appends the right check character to 17 digits, so that a test
// reaches the checks after the check character.
func withCheck(first17 string) string {
	return first17 + string(idcode.CitizenIDCheck(first17))
}

package app_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

type indicatorRow struct {
	Key, Name                                                               string
	Reported, Filed, Dispatched, AccurateDispatched, Handled, HandledOnTime int
	Due, Closed, ClosedOnTime, ClosedLate, OverdueOpen, Reworked, Rated     int
	Satisfied, Verifications, VerifyFailed                                  int
	AccurateDispatchRate, HandledOnTimeRate, CloseRate, ClosedOnTimeRate    float64
	ReworkRate, AvgHandleHours, SatisfactionRate                            float64
}

type indicatorReport struct {
	By       string
	From, To int64
	Rows     []indicatorRow
	Total    indicatorRow
}

func TestCaseStats(t *testing.T) {
	t.Parallel()
	for _, backend := range dbtest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			t.Parallel()
			e := apptest.Start(t, backend)
			t.Run("the demo district has a case history", func(t *testing.T) { testDemoCases(t, e) })
			t.Run("indicators count a known set of outcomes, per unit, street and grid worker, in the caller's region", func(t *testing.T) { testIndicators(t, e) })
			t.Run("cases are an OGC API - Features collection", func(t *testing.T) { testCasesOGC(t, e) })
		})
	}
}

func indicators(t *testing.T, c *apptest.Client, q url.Values) indicatorReport {
	t.Helper()
	r := c.Do("GET", "/api/v1/cases/indicators?"+q.Encode(), nil)
	if r.Status != 200 {
		t.Fatalf("indicators %s: %d %s", q.Encode(), r.Status, r.Body)
	}
	var out indicatorReport
	r.JSON(&out)
	return out
}

func report(t *testing.T, c *apptest.Client, body map[string]any) caseView {
	t.Helper()
	r := c.Do("POST", "/api/v1/cases", body)
	if r.Status != 200 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	var in intakeView
	r.JSON(&in)
	if in.Case.State != "dispatched" {
		t.Fatalf("%s: not dispatched at once: %+v (suggestions %+v)", body["description"], in.Case, in.Suggestions)
	}
	return in.Case
}

func testDemoCases(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	var n, closed, open, withEvents int
	if err := e.Server.DB.QueryRow(ctx, `SELECT COUNT(*), SUM(CASE WHEN state = 'closed' THEN 1 ELSE 0 END), SUM(CASE WHEN state IN ('dispatched', 'handled', 'filed', 'reported') THEN 1 ELSE 0 END)
		FROM cases`).Scan(&n, &closed, &open); err != nil {
		t.Fatal(err)
	}
	if n < 40 || closed == 0 || open == 0 {
		t.Fatalf("demo history: %d cases, %d closed, %d open", n, closed, open)
	}
	if err := e.Server.DB.QueryRow(ctx, `SELECT COUNT(DISTINCT case_id) FROM case_events`).Scan(&withEvents); err != nil {
		t.Fatal(err)
	}
	if withEvents < n {
		t.Fatalf("%d of %d demo cases have a timeline", withEvents, n)
	}
}

func testIndicators(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	from := time.Now().Add(-time.Second).UnixMilli()
	gw := e.Login(t, "gridworker")
	h := e.Login(t, "handler")
	sup := e.Login(t, "supervisor")
	scope := scopeOf(t, e, "gridworker")
	_, lon, lat := gridIn(t, e, scope)
	at := func(cat, desc string) map[string]any {
		return map[string]any{"channel": "grid", "category": cat, "description": desc, "lon": lon, "lat": lat}
	}
	setDeadline := func(id string, deadline int64) {
		t.Helper()
		if _, err := e.Server.DB.Exec(ctx, `UPDATE cases SET deadline_at = ?, yellow_at = ? WHERE id = ?`, deadline, deadline-1, id); err != nil {
			t.Fatal(err)
		}
	}
	// A: handled on time, closed, rated satisfied.
	a := report(t, gw, at("E0102", "路口堆放的生活垃圾无人清运"))
	actOn(t, h, a.ID, "handle", map[string]any{"note": "已清运"})
	actOn(t, gw, a.ID, "verify-pass", map[string]any{})
	actOn(t, gw, a.ID, "rate", map[string]any{"rating": "satisfied"})
	// B: returned by the unit, dispatched again, closed.
	b := report(t, gw, at("E0104", "人行道上满是泥浆污渍"))
	actOn(t, h, b.ID, "return", map[string]any{"note": "请核实位置"})
	actOn(t, sup, b.ID, "dispatch", map[string]any{})
	actOn(t, h, b.ID, "handle", map[string]any{"note": "已冲洗"})
	actOn(t, gw, b.ID, "verify-pass", map[string]any{})
	// C: verification fails once (rework), then closes; rated basically.
	c := report(t, gw, at("E0201", "电线杆上贴满了小广告"))
	actOn(t, h, c.ID, "handle", map[string]any{"note": "已清除"})
	actOn(t, gw, c.ID, "verify-fail", map[string]any{"note": "仍有残留"})
	actOn(t, h, c.ID, "handle", map[string]any{"note": "已彻底清除"})
	actOn(t, gw, c.ID, "verify-pass", map[string]any{})
	actOn(t, gw, c.ID, "rate", map[string]any{"rating": "basically"})
	// D: closed, rated dissatisfied: reopened for rework, open with a new clock.
	d := report(t, gw, at("E0403", "商铺把货架摆到店门外经营"))
	actOn(t, h, d.ID, "handle", map[string]any{"note": "已劝导"})
	actOn(t, gw, d.ID, "verify-pass", map[string]any{})
	if v := actOn(t, gw, d.ID, "rate", map[string]any{"rating": "dissatisfied"}); v.State != "dispatched" || v.Reworks != 1 {
		t.Fatalf("dissatisfied: %+v", v)
	}
	// E: handled after its deadline, closed late.
	ec := report(t, gw, at("E0601", "夜间广场舞音响声音太大扰民"))
	actOn(t, h, ec.ID, "handle", map[string]any{"note": "已协调降低音量"})
	var handledAt int64
	if err := e.Server.DB.QueryRow(ctx, `SELECT handled_at FROM cases WHERE id = ?`, ec.ID).Scan(&handledAt); err != nil {
		t.Fatal(err)
	}
	setDeadline(ec.ID, handledAt-60_000)
	actOn(t, gw, ec.ID, "verify-pass", map[string]any{})
	// F: past its deadline, not handled: overdue and open.
	f := report(t, gw, at("E0402", "早市摊贩占用机动车道经营"))
	setDeadline(f.ID, time.Now().Add(-time.Minute).UnixMilli())
	// G: a citizen's report in another street.
	_, olon, olat := gridIn(t, e, "320508019")
	g := report(t, e.Login(t, "citizen"), map[string]any{"channel": "portal", "category": "E0405", "description": "共享单车堆满了盲道", "lon": olon, "lat": olat})
	_ = g

	q := url.Values{"by": {"dept"}, "within": {scope}, "from": {strconv.FormatInt(from, 10)}}
	rep := indicators(t, sup, q)
	if len(rep.Rows) != 1 || !strings.Contains(rep.Rows[0].Name, "城市管理局") {
		t.Fatalf("by dept: %+v", rep.Rows)
	}
	want := indicatorRow{Reported: 6, Filed: 6, Dispatched: 6, AccurateDispatched: 5, Handled: 4, HandledOnTime: 3, Due: 5, Closed: 4, ClosedOnTime: 3, ClosedLate: 1,
		OverdueOpen: 1, Reworked: 2, Rated: 3, Satisfied: 2,
		AccurateDispatchRate: 0.8333, HandledOnTimeRate: 0.75, CloseRate: 0.8, ClosedOnTimeRate: 0.6, ReworkRate: 0.3333, SatisfactionRate: 0.6667}
	got := rep.Total
	got.Key, got.Name, got.AvgHandleHours = "", "", 0
	if got != want {
		t.Fatalf("indicators\n got %+v\nwant %+v", got, want)
	}
	if r := rep.Rows[0]; r.AvgHandleHours < 0 || r.AvgHandleHours > 0.5 || r.Reported != 6 {
		t.Fatalf("row %+v", r)
	}

	// By grid worker: their reports and verifications on site.
	q.Set("by", "gridworker")
	rep = indicators(t, sup, q)
	if len(rep.Rows) != 1 || rep.Rows[0].Name != "张伟" || rep.Rows[0].Reported != 6 || rep.Rows[0].Verifications != 6 || rep.Rows[0].VerifyFailed != 1 {
		t.Fatalf("by grid worker: %+v", rep.Rows)
	}

	// By street: the district's operators see both streets; each street's
	// staff only their own.
	q = url.Values{"by": {"street"}, "from": {strconv.FormatInt(from, 10)}}
	rep = indicators(t, sup, q)
	streets := map[string]indicatorRow{}
	for _, r := range rep.Rows {
		streets[r.Key] = r
	}
	pj, jc := streets["320508018000"], streets["320508019000"]
	if len(rep.Rows) != 2 || pj.Reported != 6 || jc.Reported != 1 || !strings.Contains(pj.Name, "平江") || !strings.Contains(jc.Name, "金阊") || rep.Total.Reported != 7 {
		t.Fatalf("by street: %+v", rep.Rows)
	}
	if rep := indicators(t, e.Login(t, "staff2"), q); len(rep.Rows) != 1 || rep.Rows[0].Key != "320508019000" || rep.Total.Reported != 1 {
		t.Fatalf("金阊 staff: %+v", rep.Rows)
	}
	if rep := indicators(t, e.Login(t, "staff"), q); len(rep.Rows) != 1 || rep.Rows[0].Key != "320508018000" || rep.Total.Reported != 6 {
		t.Fatalf("平江 staff: %+v", rep.Rows)
	}
	if r := e.Login(t, "citizen").Do("GET", "/api/v1/cases/indicators", nil); r.Status != 403 {
		t.Fatalf("citizen: %d", r.Status)
	}
	if r := sup.Do("GET", "/api/v1/cases/indicators?by=planet", nil); r.Status != 422 {
		t.Fatalf("bad grouping: %d", r.Status)
	}

	// The monthly report matches the board over the same month.
	cst := time.FixedZone("CST", 8*3600)
	month := time.Now().In(cst)
	start := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, cst)
	board := indicators(t, sup, url.Values{"by": {"community"}, "within": {"320508018"}, "from": {strconv.FormatInt(start.UnixMilli(), 10)},
		"to": {strconv.FormatInt(start.AddDate(0, 1, 0).UnixMilli(), 10)}})
	exp := "/api/v1/cases/indicators/export?by=community&within=320508018&month=" + start.Format("2006-01")
	x := sup.Do("GET", exp+"&format=xlsx", nil)
	if x.Status != 200 || !strings.Contains(x.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("xlsx: %d %s", x.Status, x.Header)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(x.Body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := wb.GetRows(wb.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 7 || !strings.Contains(rows[0][0], "考核月报") || !strings.Contains(rows[1][0], start.Format("2006年01月02日")) {
		t.Fatalf("xlsx title: %q", rows[:min(3, len(rows))])
	}
	header := rows[5]
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, h := range []string{"社区", "代码", "上报数", "立案数", "准确派遣率", "按期处置率", "应结案数", "结案率", "按期结案率", "超期结案数", "超期未结数", "返工率", "平均处置时长(小时)", "满意率"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("xlsx header lacks %s: %q", h, header)
		}
	}
	last := rows[len(rows)-1]
	if last[0] != "合计" || last[col["上报数"]] != strconv.Itoa(board.Total.Reported) || len(rows)-7 != len(board.Rows) {
		t.Fatalf("xlsx total %q, board total %+v (%d rows)", last, board.Total, len(board.Rows))
	}
	if want := fmt.Sprintf("%.1f%%", board.Total.AccurateDispatchRate*100); last[col["准确派遣率"]] != want {
		t.Fatalf("xlsx rate %q, want %q", last[col["准确派遣率"]], want)
	}
	totalCell, _ := excelize.CoordinatesToCellName(col["准确派遣率"]+1, len(rows))
	if raw, _ := wb.GetCellValue(wb.GetSheetName(0), totalCell, excelize.Options{RawCellValue: true}); math.Abs(parseF(raw)-board.Total.AccurateDispatchRate) > 1e-9 {
		t.Fatalf("xlsx rate cell %s = %q, want the fraction %v", totalCell, raw, board.Total.AccurateDispatchRate)
	}

	p := sup.Do("GET", exp+"&format=pdf", nil)
	if p.Status != 200 || p.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(p.Body, []byte("%PDF-1.7")) || !bytes.HasSuffix(p.Body, []byte("%%EOF\n")) {
		t.Fatalf("pdf: %d %s %q", p.Status, p.Header, p.Body[:min(20, len(p.Body))])
	}
	if text, ok := pdfText(t, p.Body); ok {
		for _, want := range []string{"城市管理案件考核月报", "按社区", "统计周期：" + start.Format("2006年01月02日"), "合计", strconv.Itoa(board.Total.Reported)} {
			if !strings.Contains(text, want) {
				t.Fatalf("pdf text lacks %q:\n%s", want, text)
			}
		}
	}
	if r := sup.Do("GET", exp+"&format=csv", nil); r.Status != 200 || !strings.Contains(string(r.Body), "准确派遣率") {
		t.Fatalf("csv: %d %s", r.Status, r.Body)
	}
}

func parseF(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// pdfText extracts a PDF's text with poppler's pdftotext, when installed
// with its CJK maps (poppler-data).
func pdfText(t *testing.T, b []byte) (string, bool) {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Log("pdftotext not installed (scripts/deps.sh test): PDF text not checked")
		return "", false
	}
	f := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", f, "-").CombinedOutput()
	if bytes.Contains(out, []byte("CMap file")) {
		t.Logf("pdftotext lacks the Adobe CMaps (poppler-data): PDF text not checked\n%s", out)
		return "", false
	}
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out), true
}

func testCasesOGC(t *testing.T, e *apptest.Env) {
	sup := e.Login(t, "supervisor")
	var page struct {
		Type     string
		Features []struct {
			Type, ID string
			Geometry struct {
				Type        string
				Coordinates []float64
			}
			Properties map[string]any
		}
		NumberMatched, NumberReturned int
		Links                         []struct{ Rel, Href string }
	}
	r := sup.Do("GET", "/ogc/collections/cases/items?limit=5", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/geo+json") {
		t.Fatalf("items: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	r.JSON(&page)
	if page.Type != "FeatureCollection" || len(page.Features) != 5 || page.NumberReturned != 5 || page.NumberMatched < 40 {
		t.Fatalf("page: %s", r.Body)
	}
	hasNext := false
	for _, l := range page.Links {
		hasNext = hasNext || l.Rel == "next"
	}
	if !hasNext {
		t.Fatalf("no next link: %+v", page.Links)
	}
	for _, f := range page.Features {
		if f.Type != "Feature" || f.Geometry.Type != "Point" || len(f.Geometry.Coordinates) != 2 || f.Geometry.Coordinates[0] < 120 || f.Geometry.Coordinates[0] > 121 {
			t.Fatalf("feature %+v", f)
		}
		for _, k := range []string{"no", "state", "category", "categoryName", "channel", "grid", "orgName", "createdAt", "deadlineAt", "warning"} {
			if _, ok := f.Properties[k]; !ok {
				t.Fatalf("feature %s lacks %s: %v", f.ID, k, f.Properties)
			}
		}
		for k := range f.Properties {
			if strings.Contains(strings.ToLower(k), "reporter") {
				t.Fatalf("feature %s shows %s", f.ID, k)
			}
		}
		if no, _ := f.Properties["no"].(string); len(no) != 20 {
			t.Fatalf("case number %v", f.Properties["no"])
		}
	}
	if strings.Contains(string(r.Body), "reporter") {
		t.Fatal("reporter data in the collection")
	}
	// The collection is listed, with its queryables.
	var cols struct{ Collections []struct{ ID, Title string } }
	sup.Do("GET", "/ogc/collections", nil).JSON(&cols)
	listed := false
	for _, c := range cols.Collections {
		listed = listed || (c.ID == "cases" && c.Title == "案件")
	}
	if !listed {
		t.Fatalf("collections: %+v", cols.Collections)
	}
	// Filters: a street's cases, closed ones, and nothing of 平江 for 金阊's staff.
	sup.Do("GET", "/ogc/collections/cases/items?limit=1000&grid=320508018&state=closed", nil).JSON(&page)
	for _, f := range page.Features {
		if f.Properties["state"] != "closed" || !strings.HasPrefix(f.Properties["grid"].(string), "320508018") {
			t.Fatalf("filtered feature %v", f.Properties)
		}
	}
	if page.NumberMatched == 0 {
		t.Fatal("no closed case in 平江街道")
	}
	id := page.Features[0].ID
	staff2 := e.Login(t, "staff2")
	staff2.Do("GET", "/ogc/collections/cases/items?grid=320508018", nil).JSON(&page)
	if page.NumberMatched != 0 || len(page.Features) != 0 {
		t.Fatalf("金阊 staff sees %d cases of 平江", page.NumberMatched)
	}
	if r := staff2.Do("GET", "/ogc/collections/cases/items/"+id, nil); r.Status != 404 {
		t.Fatalf("金阊 staff reads a 平江 case: %d", r.Status)
	}
	if r := sup.Do("GET", "/ogc/collections/cases/items/"+id, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"Point"`) {
		t.Fatalf("item: %d %s", r.Status, r.Body)
	}
	// datetime: the last week only.
	since := time.Now().Add(-7 * 24 * time.Hour).UTC().Format(time.RFC3339)
	sup.Do("GET", "/ogc/collections/cases/items?limit=1000&datetime="+url.QueryEscape(since+"/.."), nil).JSON(&page)
	for _, f := range page.Features {
		if f.Properties["createdAt"].(string) < since {
			t.Fatalf("datetime filter let through %v", f.Properties["createdAt"])
		}
	}
	if r := sup.Do("GET", "/ogc/collections/cases/items?state=lost", nil); r.Status != 400 {
		t.Fatalf("bad state: %d", r.Status)
	}
	if r := e.Login(t, "citizen").Do("GET", "/ogc/collections/cases/items", nil); r.Status != 403 {
		t.Fatalf("citizen: %d", r.Status)
	}
}

package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// A 1x1 JPEG (valid magic and structure) for photo uploads.
var tinyJPEG, _ = base64.StdEncoding.DecodeString("/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAA//EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AN//Z")

type caseView struct {
	ID, No, State, Category, OrgID, OrgName, Dept, Grid, ClassifiedBy string
	Confidence                                                        float64
	DeadlineAt, YellowAt, DispatchedAt                                int64
	Reworks, Repeats, Warning, Supervised                             int
	Rating                                                            string
	Events                                                            []struct {
		Seq                    int
		Action, From, To, Note string
		ActorKind, ActorName   string
	}
	Photos []struct{ ID, Stage, Mime string }
}

type intakeView struct {
	Case        caseView
	Repeat      bool
	Suggestions []struct{ ID, No, Reason string }
	Candidates  []struct {
		Code       string
		Confidence float64
	}
}

func TestCases(t *testing.T) {
	t.Parallel()
	for _, backend := range dbtest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			t.Parallel()
			e := apptest.Start(t, backend)
			t.Run("the closed loop from a grid worker's report to a rated close", func(t *testing.T) { testCaseLoop(t, e) })
			t.Run("operators file, correct and dispatch what the classifier is unsure of", func(t *testing.T) { testOperatorQueue(t, e) })
			t.Run("bad reports are refused naming the field", func(t *testing.T) { testCaseValidation(t, e) })
			t.Run("duplicates are suggested at intake and merged; reporters of both hear of progress", func(t *testing.T) { testDuplicates(t, e) })
			t.Run("categories are versioned data and area rules pick the department", func(t *testing.T) { testCategoriesAndRules(t, e) })
			t.Run("a sensor alarm over MQTT opens one case however often it repeats", func(t *testing.T) { testSensorMQTT(t, e) })
			t.Run("video alerts open cases by rule, once per camera and alarm", func(t *testing.T) { testVideoAlerts(t, e) })
		})
	}
}

func actOn(t *testing.T, c *apptest.Client, id, action string, body map[string]any) caseView {
	t.Helper()
	r := c.Do("POST", "/api/v1/cases/"+id+"/actions/"+action, body)
	if r.Status != 200 {
		t.Fatalf("%s: %d %s", action, r.Status, r.Body)
	}
	var v caseView
	r.JSON(&v)
	return v
}

func getCase(t *testing.T, c *apptest.Client, id string) caseView {
	t.Helper()
	r := c.Do("GET", "/api/v1/cases/"+id, nil)
	if r.Status != 200 {
		t.Fatalf("get case: %d %s", r.Status, r.Body)
	}
	var v caseView
	r.JSON(&v)
	return v
}

// ledgerActions returns the actions recorded on the ledger for a subject,
// waiting until want of them are there. It reads the whole log in process
// (the demo's registry evidence can bury a case's records deep).
func ledgerActions(t *testing.T, e *apptest.Env, subject string, want int) []string {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	var got []string
	var next int64
	for {
		for size := e.Server.Ledger.Size(); next < size; next++ {
			en, err := e.Server.Ledger.Entry(ctx, next)
			if err != nil {
				t.Fatalf("ledger entry %d: %v", next, err)
			}
			var rec struct{ Subject, Action string }
			if json.Unmarshal(en.Data, &rec) == nil && rec.Subject == subject {
				got = append(got, rec.Action)
			}
		}
		if len(got) >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func testCaseLoop(t *testing.T, e *apptest.Env) {
	gw := e.Login(t, "gridworker")
	grid, lon, lat := gridIn(t, e, scopeOf(t, e, "gridworker"))
	r := gw.Do("POST", "/api/v1/cases", map[string]any{"channel": "grid", "category": "E0102", "description": "小区门口路边有一堆暴露垃圾，散发臭味",
		"lon": lon, "lat": lat, "address": "测试路1号", "photos": []map[string]any{{"mime": "image/jpeg", "data": tinyJPEG}}})
	if r.Status != 200 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	var in intakeView
	r.JSON(&in)
	c := in.Case
	if c.State != "dispatched" || c.Grid != grid || c.Dept != "cg" || !strings.Contains(c.OrgName, "城市管理局") || c.DeadlineAt <= c.DispatchedAt || c.YellowAt >= c.DeadlineAt {
		t.Fatalf("not dispatched to 城管 with a clock: %+v", c)
	}
	if len(c.No) != 20 {
		t.Fatalf("case number %q", c.No)
	}
	// The unit sees it, handles it with a photo.
	h := e.Login(t, "handler")
	actOn(t, h, c.ID, "handle", map[string]any{"note": "已清运", "photos": []map[string]any{{"mime": "image/jpeg", "data": tinyJPEG}}})
	// Another street's staff does not see it.
	if r := e.Login(t, "staff2").Do("GET", "/api/v1/cases/"+c.ID, nil); r.Status != 404 {
		t.Fatalf("staff2 sees another street's case: %d", r.Status)
	}
	// Verification fails once (rework), then passes.
	v := actOn(t, gw, c.ID, "verify-fail", map[string]any{"note": "仍有残留"})
	if v.State != "dispatched" || v.Reworks != 1 {
		t.Fatalf("after verify-fail: %+v", v)
	}
	actOn(t, h, c.ID, "handle", map[string]any{"note": "已彻底清理"})
	v = actOn(t, gw, c.ID, "verify-pass", map[string]any{"photos": []map[string]any{{"mime": "image/jpeg", "data": tinyJPEG}}})
	if v.State != "closed" {
		t.Fatalf("after verify-pass: %+v", v)
	}
	// Only the reporter rates.
	if r := h.Do("POST", "/api/v1/cases/"+c.ID+"/actions/rate", map[string]any{"rating": "satisfied"}); r.Status != 403 {
		t.Fatalf("handler rated: %d %s", r.Status, r.Body)
	}
	v = actOn(t, gw, c.ID, "rate", map[string]any{"rating": "satisfied", "note": "处理及时"})
	if v.Rating != "satisfied" || v.State != "closed" {
		t.Fatalf("after rate: %+v", v)
	}
	d := getCase(t, gw, c.ID)
	var actions []string
	for _, ev := range d.Events {
		actions = append(actions, ev.Action)
	}
	want := []string{"report", "file", "dispatch", "handle", "verify-fail", "handle", "verify-pass", "rate"}
	if !slices.Equal(actions, want) {
		t.Fatalf("timeline %v, want %v", actions, want)
	}
	if len(d.Photos) != 3 {
		t.Fatalf("photos %+v", d.Photos)
	}
	ph := gw.Do("GET", "/api/v1/cases/"+c.ID+"/photos/"+d.Photos[0].ID, nil)
	if ph.Status != 200 || string(ph.Body) != string(tinyJPEG) {
		t.Fatalf("photo: %d", ph.Status)
	}
	// Every step is on the ledger.
	got := ledgerActions(t, e, "case:"+c.No, len(want))
	var wantLedger []string
	for _, a := range want {
		wantLedger = append(wantLedger, "case."+a)
	}
	// Concurrent consumers append in any order; each record's payload
	// carries the step's sequence number.
	slices.Sort(got)
	slices.Sort(wantLedger)
	if !slices.Equal(got, wantLedger) {
		t.Fatalf("ledger %v, want %v", got, wantLedger)
	}
}

func testOperatorQueue(t *testing.T, e *apptest.Env) {
	cit := e.Login(t, "citizen")
	_, lon, lat := gridIn(t, e, "320508018")
	// Vague text: the classifier is not sure, so it waits for an operator.
	r := cit.Do("POST", "/api/v1/cases", map[string]any{"channel": "portal", "description": "这里有点问题，麻烦来看一下", "lon": lon, "lat": lat})
	if r.Status != 200 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	var in intakeView
	r.JSON(&in)
	if in.Case.State != "reported" {
		t.Fatalf("vague report was %s (confidence %.2f)", in.Case.State, in.Case.Confidence)
	}
	sup := e.Login(t, "supervisor")
	var q struct {
		Items []caseView
		Total int
	}
	sup.Do("GET", "/api/v1/cases?queue=true&pageSize=200", nil).JSON(&q)
	if !slices.ContainsFunc(q.Items, func(c caseView) bool { return c.ID == in.Case.ID }) {
		t.Fatalf("not in the operators' queue (%d items)", q.Total)
	}
	// Without GPS a citizen finds the place by its address (public places
	// only: buildings, components, organisations, divisions).
	var places []struct {
		Kind, Name string
		Lon, Lat   float64
	}
	if r := cit.Do("GET", "/api/v1/cases/places?q="+url.QueryEscape("平江"), nil); r.Status != 200 {
		t.Fatalf("places: %d %s", r.Status, r.Body)
	} else {
		r.JSON(&places)
	}
	if len(places) == 0 || places[0].Lon == 0 || !strings.Contains(places[0].Name, "平江") {
		t.Fatalf("places: %+v", places)
	}
	for _, p := range places {
		if p.Kind == "person" {
			t.Fatalf("a person among places: %+v", p)
		}
	}
	// The citizen sees it among their own, not others'.
	var mine struct{ Items []caseView }
	cit.Do("GET", "/api/v1/cases?mine=true", nil).JSON(&mine)
	if len(mine.Items) == 0 || mine.Items[0].ID != in.Case.ID {
		t.Fatalf("mine: %+v", mine.Items)
	}
	if r := cit.Do("GET", "/api/v1/cases", nil); r.Status != 403 {
		t.Fatalf("citizen lists all cases: %d", r.Status)
	}
	// The operator corrects the category and dispatches.
	v := actOn(t, sup, in.Case.ID, "dispatch", map[string]any{"category": "E0402"})
	if v.State != "dispatched" || v.Category != "E0402" || v.ClassifiedBy != "operator" || v.OrgID == "" {
		t.Fatalf("dispatch: %+v", v)
	}
	// The unit returns it as not theirs; it goes back to the queue.
	v = actOn(t, e.Login(t, "handler"), v.ID, "return", map[string]any{"note": "不属于本单位职责"})
	if v.State != "filed" || v.OrgID != "" {
		t.Fatalf("return: %+v", v)
	}
	// A wrong state is a conflict naming the state.
	if r := sup.Do("POST", "/api/v1/cases/"+v.ID+"/actions/verify-pass", nil); r.Status != 409 {
		t.Fatalf("verify a filed case: %d %s", r.Status, r.Body)
	}
}

func testCaseValidation(t *testing.T, e *apptest.Env) {
	gw := e.Login(t, "gridworker")
	_, lon, lat := gridIn(t, e, scopeOf(t, e, "gridworker"))
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"channel": "grid", "description": "短", "lon": lon, "lat": lat}, "description"},
		{map[string]any{"channel": "grid", "description": "路灯不亮已经三天了"}, "lon"},
		{map[string]any{"channel": "grid", "description": "路灯不亮已经三天了", "lon": 0.0, "lat": 0.0}, "lon"},
		{map[string]any{"channel": "grid", "description": "路灯不亮已经三天了", "lon": lon, "lat": lat, "category": "X9999"}, "category"},
		{map[string]any{"channel": "grid", "description": "路灯不亮已经三天了", "lon": lon, "lat": lat, "photos": []map[string]any{{"mime": "image/jpeg", "data": []byte("not a jpeg")}}}, "photos[0]"},
	} {
		r := gw.Do("POST", "/api/v1/cases", tc.body)
		if r.Status != 422 {
			t.Fatalf("%v: %d %s", tc.body, r.Status, r.Body)
		}
		p := r.Problem()
		if !slices.ContainsFunc(p.Errors, func(fe struct{ Field, Rule, Message string }) bool { return strings.Contains(fe.Field, tc.field) }) {
			t.Fatalf("%v: errors %+v do not name %s", tc.body, p.Errors, tc.field)
		}
	}
	// Outside the grid worker's region.
	_, olon, olat := gridIn(t, e, "320508019")
	if r := gw.Do("POST", "/api/v1/cases", map[string]any{"channel": "grid", "description": "路灯不亮已经三天了", "lon": olon, "lat": olat}); r.Status != 403 {
		t.Fatalf("report outside region: %d %s", r.Status, r.Body)
	}
}

func casesWhere(t *testing.T, c *apptest.Client, query string) []struct {
	ID, No, State, Category, DedupKey string
	Repeats                           int
} {
	t.Helper()
	var page struct {
		Items []struct {
			ID, No, State, Category, DedupKey string
			Repeats                           int
		}
	}
	if r := c.Do("GET", "/api/v1/cases?pageSize=200&"+query, nil); r.Status != 200 {
		t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
	} else {
		r.JSON(&page)
	}
	return page.Items
}

func testSensorMQTT(t *testing.T, e *apptest.Env) {
	bin, err := exec.LookPath("mosquitto_pub")
	if err != nil {
		t.Fatal("mosquitto_pub not found: make test installs mosquitto-clients (scripts/deps.sh test)")
	}
	host, port, err := net.SplitHostPort(e.Server.Bus.MQTTAddr())
	if err != nil {
		t.Fatalf("MQTT address %q: %v", e.Server.Bus.MQTTAddr(), err)
	}
	_, lon, lat := gridIn(t, e, "320508018")
	pub := func(device string, value float64) {
		t.Helper()
		msg := fmt.Sprintf(`{"alarm":"water-level","value":%g,"lon":%f,"lat":%f}`, value, lon, lat)
		out, err := exec.Command(bin, "-h", host, "-p", port, "-q", "1", "-i", "test-"+device, "-t", "shuzhi/sensors/"+device+"/alarm", "-m", msg).CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_pub: %v %s", err, out)
		}
	}
	dev := fmt.Sprintf("WL-%d", time.Now().UnixNano()%1_000_000)
	pub(dev+"-low", 0.05) // below the rule's 0.15 m: no case
	for range 5 {
		pub(dev, 0.32)
	}
	sup := e.Login(t, "supervisor")
	deadline := time.Now().Add(30 * time.Second)
	for {
		items := casesWhere(t, sup, "channel=sensor")
		var mine, low int
		repeats := -1
		for _, c := range items {
			switch c.DedupKey {
			case "sensor:" + dev + ":water-level":
				mine++
				repeats = c.Repeats
				if c.Category != "E0505" {
					t.Fatalf("category %s, want E0505 (道路积水)", c.Category)
				}
			case "sensor:" + dev + "-low:water-level":
				low++
			}
		}
		if mine > 1 || low > 0 {
			t.Fatalf("%d cases for the repeated alarm, %d for the one below threshold", mine, low)
		}
		if mine == 1 && repeats == 4 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d cases, repeats %d; want 1 case with 4 repeats", mine, repeats)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func testVideoAlerts(t *testing.T, e *apptest.Env) {
	sec := e.Login(t, "secadmin")
	r := sec.Do("POST", "/api/v1/tokens", map[string]any{"name": "视频智能分析平台", "orgId": orgIDByName(t, e, "姑苏区城市运行管理中心"),
		"scopes": []string{"cases:report"}, "expiresInDays": 1})
	if r.Status != 200 {
		t.Fatalf("issue token: %d %s", r.Status, r.Body)
	}
	var tok struct{ Token string }
	r.JSON(&tok)
	cam := e.Bearer(t, tok.Token)
	_, lon, lat := gridIn(t, e, "320508019")
	camera := fmt.Sprintf("CAM-%d", time.Now().UnixNano()%1_000_000)
	alert := func(conf float64) (res struct {
		Created, Repeat bool
		Ignored         string
		Case            struct{ ID, No, State, Category string }
	}) {
		t.Helper()
		r := cam.Do("POST", "/api/v1/cases/video-alerts", map[string]any{"camera": camera, "alarm": "illegal-parking", "confidence": conf, "lon": lon, "lat": lat, "snapshot": tinyJPEG})
		if r.Status != 200 {
			t.Fatalf("video alert: %d %s", r.Status, r.Body)
		}
		r.JSON(&res)
		return res
	}
	if res := alert(0.5); res.Created || res.Ignored == "" {
		t.Fatalf("below threshold: %+v", res)
	}
	first := alert(0.93)
	if !first.Created || first.Case.Category != "E0404" || first.Case.State != "dispatched" {
		t.Fatalf("first alert: %+v", first)
	}
	again := alert(0.95)
	if again.Created || !again.Repeat || again.Case.ID != first.Case.ID {
		t.Fatalf("repeat alert: %+v", again)
	}
	// The camera's system follows its own reports, and nothing else.
	if r := cam.Do("GET", "/api/v1/cases/"+first.Case.ID, nil); r.Status != 200 {
		t.Fatalf("camera reads its case: %d", r.Status)
	}
	if r := cam.Do("GET", "/api/v1/cases", nil); r.Status != 403 {
		t.Fatalf("camera lists the region's cases: %d", r.Status)
	}
}

func testDuplicates(t *testing.T, e *apptest.Env) {
	gw := e.Login(t, "gridworker")
	_, lon, lat := gridIn(t, e, scopeOf(t, e, "gridworker"))
	lon += 0.0003 // a spot of its own in the grid
	report := func(c *apptest.Client, channel, text string, dlon float64) intakeView {
		t.Helper()
		r := c.Do("POST", "/api/v1/cases", map[string]any{"channel": channel, "category": "B0109", "description": text, "lon": lon + dlon, "lat": lat})
		if r.Status != 200 {
			t.Fatalf("report: %d %s", r.Status, r.Body)
		}
		var in intakeView
		r.JSON(&in)
		return in
	}
	first := report(gw, "grid", "小区北门口的路灯坏了，晚上一片漆黑", 0)
	if first.Case.State != "dispatched" {
		t.Fatalf("first report: %s", first.Case.State)
	}
	// A citizen reports the same lamp 20 m away in other words.
	second := report(e.Login(t, "citizen"), "portal", "北门口路灯坏了晚上很黑，请尽快修理", 0.0002)
	if second.Case.State != "reported" || len(second.Suggestions) == 0 || second.Suggestions[0].ID != first.Case.ID {
		t.Fatalf("second report: %s, suggestions %+v", second.Case.State, second.Suggestions)
	}
	sup := e.Login(t, "supervisor")
	v := actOn(t, sup, second.Case.ID, "merge", map[string]any{"target": first.Case.ID, "note": "同一路灯"})
	if v.State != "merged" {
		t.Fatalf("merge: %+v", v)
	}
	if d := getCase(t, sup, first.Case.ID); d.Repeats != 1 {
		t.Fatalf("target repeats %d", d.Repeats)
	}
	// The citizen follows the merged case and hears when it is handled.
	actOn(t, e.Login(t, "handler"), first.Case.ID, "handle", map[string]any{"note": "已更换灯泡"})
	var notes struct {
		Items []struct{ CaseID, Kind, Message string }
	}
	e.Login(t, "citizen").Do("GET", "/api/v1/case-notices?pageSize=50", nil).JSON(&notes)
	if !slices.ContainsFunc(notes.Items, func(n struct{ CaseID, Kind, Message string }) bool {
		return n.CaseID == first.Case.ID && n.Kind == "progress" && strings.Contains(n.Message, "已处置")
	}) {
		t.Fatalf("citizen's notices: %+v", notes.Items)
	}
}

func testCategoriesAndRules(t *testing.T, e *apptest.Env) {
	sup := e.Login(t, "supervisor")
	var cats []struct {
		Code, NameZh, Dept, Unit string
		Deadline, Version        int
	}
	sup.Do("GET", "/api/v1/case-categories?active=true", nil).JSON(&cats)
	if len(cats) != 62 {
		t.Fatalf("%d active categories, want the 62 of categories.tsv", len(cats))
	}
	// An edit is a new version; the old one is kept.
	body := map[string]any{"majorZh": "宣传广告", "nameZh": "违章张贴小广告", "nameEn": "Illegal flyers", "dept": "cg", "deadline": 2, "unit": "work_days",
		"filing": "墙面、电杆、设施上张贴或涂写小广告", "verifyRule": "小广告已清除", "active": true}
	r := sup.Do("PUT", "/api/v1/case-categories/E0201", body)
	if r.Status != 200 {
		t.Fatalf("put category: %d %s", r.Status, r.Body)
	}
	var got struct{ Version, Deadline int }
	r.JSON(&got)
	if got.Version < 2 || got.Deadline != 2 {
		t.Fatalf("after edit: %+v", got)
	}
	var versions []map[string]any
	sup.Do("GET", "/api/v1/case-categories/E0201/versions", nil).JSON(&versions)
	if len(versions) != got.Version || versions[len(versions)-1]["deadline"] != float64(1) {
		t.Fatalf("versions: %v", versions)
	}
	body["unit"] = "weeks"
	if r := sup.Do("PUT", "/api/v1/case-categories/E0201", body); r.Status != 422 {
		t.Fatalf("bad unit: %d", r.Status)
	}
	if r := e.Login(t, "handler").Do("PUT", "/api/v1/case-categories/E0201", body); r.Status != 403 {
		t.Fatalf("handler edits a category: %d", r.Status)
	}
	// An area rule: street-order events in 金阊 go to the street office.
	r = sup.Do("POST", "/api/v1/case-area-rules", map[string]any{"category": "E04*", "division": "320508019", "dept": "jd", "note": "街面秩序由街道处置"})
	if r.Status != 200 {
		t.Fatalf("add rule: %d %s", r.Status, r.Body)
	}
	var rule struct{ ID string }
	r.JSON(&rule)
	_, lon, lat := gridIn(t, e, "320508019")
	r = sup.Do("POST", "/api/v1/cases", map[string]any{"channel": "hotline", "category": "E0402", "description": "菜场门口有人摆摊卖水果占了人行道", "lon": lon + 0.0004, "lat": lat})
	var in intakeView
	r.JSON(&in)
	if in.Case.State != "dispatched" || in.Case.Dept != "jd" || !strings.Contains(in.Case.OrgName, "金阊") {
		t.Fatalf("E0402 in 金阊 went to %s %s (%s)", in.Case.Dept, in.Case.OrgName, in.Case.State)
	}
	if r := sup.Do("DELETE", "/api/v1/case-area-rules/"+rule.ID, nil); r.Status != 204 && r.Status != 200 {
		t.Fatalf("delete rule: %d", r.Status)
	}
}

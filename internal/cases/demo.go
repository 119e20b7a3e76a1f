package cases

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Demo history: three months of cases across the demo district, so that the
// indicators board and the map have something to show. Each case is played
// through the loop in memory (report, file, dispatch, return, handle,
// verify, rework, rate, warnings) with plausible delays, stopping where
// "now" falls, then written with the module's own insert functions: the
// same rows, timelines and ledger evidence as live cases.

// DemoPerson is someone demo steps are attributed to.
type DemoPerson struct{ ID, Name, OrgID string }

// DemoPeople are who report, dispatch, handle, verify and rate in the demo
// history.
type DemoPeople struct {
	GridWorkers map[string]DemoPerson // by community code (12 digits): report and verify there
	Operators   []DemoPerson          // the operations centre: hotline, filing, dispatch
	Citizens    []DemoPerson          // portal reporters, who rate their cases
	Handlers    map[string]DemoPerson // by unit id; other units act under their own name
}

// demoCategories are the common categories and how often they come up.
var demoCategories = []struct {
	code   string
	weight int
}{
	{"E0102", 14}, {"E0404", 10}, {"E0405", 8}, {"E0401", 8}, {"E0201", 7}, {"E0402", 6}, {"E0403", 6}, {"E0104", 6}, {"B0109", 5}, {"E0601", 5},
	{"B0302", 4}, {"E0303", 4}, {"E0103", 4}, {"B0101", 3}, {"B0401", 3}, {"E0301", 3}, {"B0102", 2}, {"E0108", 2}, {"E0504", 2}, {"E0101", 2},
	{"E0602", 2}, {"B0205", 2}, {"E0505", 1}, {"B0204", 1},
}

var (
	videoCategories  = []string{"E0404", "E0401", "E0403", "E0102", "E0303", "E0405"}
	sensorCategories = []string{"B0101", "B0102", "B0109", "E0505"}
	demoChannels     = []struct {
		ch     string
		weight int
	}{{"grid", 45}, {"hotline", 20}, {"portal", 12}, {"video", 10}, {"sensor", 6}, {"referral", 7}}
	demoTexts = map[string]string{
		"grid":     "巡查发现%s%s，已拍照上报",
		"hotline":  "市民来电反映%s%s，希望尽快处理",
		"portal":   "%s%s，影响出行和环境，请相关部门处理",
		"video":    "视频智能识别：%s疑似%s",
		"sensor":   "物联感知告警：%s%s",
		"referral": "上级交办：%s%s问题",
	}
	demoSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
)

type demoCase struct {
	c      *Case
	events []*Event
	name   string // reporter's name and phone to seal (hotline)
	phone  string
}

// SeedDemo writes n historical cases of the last 90 days around the given
// points (the demo passes unit-grid centroids) when there is no case yet,
// deterministically from seed. It returns how many it wrote.
func (s *Service) SeedDemo(ctx context.Context, seed int64, n int, points [][2]float64, people DemoPeople) (int, error) {
	var existing int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&existing); err != nil {
		return 0, err
	}
	if existing > 0 || n <= 0 || len(points) == 0 {
		return 0, nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x63617365))
	var cats []*Category
	var weights []int
	for _, dc := range demoCategories {
		if cat, ok := s.category(dc.code); ok && cat.Active {
			cats, weights = append(cats, cat), append(weights, dc.weight)
		}
	}
	if len(cats) == 0 {
		return 0, fmt.Errorf("cases: demo: none of the demo categories is active")
	}
	now := s.now()
	nowMs := now.UnixMilli()
	// Report times, oldest first, so that case numbers follow them.
	times := make([]int64, n)
	for i := range times {
		// Most over the three months, some in the last three days (the
		// live board's open cases).
		span := 90 * 24 * hour
		if rng.Float64() < 0.12 {
			span = 72 * hour
		}
		times[i] = nowMs - 1 - int64(rng.Float64()*float64(span))
	}
	slices.Sort(times)
	var out []*demoCase
	for _, at := range times {
		dc, err := s.demoCase(ctx, rng, at, nowMs, cats, weights, points, &people)
		if err != nil {
			return 0, err
		}
		if dc != nil {
			out = append(out, dc)
		}
	}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		st := s.db.Stmts(ctx) // the same few inserts, thousands of times
		defer st.Close()
		ctx = db.WithStmts(ctx, st)
		// Case numbers: a daily serial, as the intake writer gives them.
		byDay := map[string][]*demoCase{}
		var days []string
		for _, dc := range out {
			day := time.UnixMilli(dc.c.CreatedAt).In(cst).Format("20060102")
			if byDay[day] == nil {
				days = append(days, day)
			}
			byDay[day] = append(byDay[day], dc)
		}
		for _, day := range days {
			group := byDay[day]
			next, err := s.reserveNumbers(ctx, day, len(group))
			if err != nil {
				return err
			}
			for _, dc := range group {
				dc.c.No = caseNo(dc.c, day, next)
				next++
			}
		}
		for _, dc := range out {
			c := dc.c
			var err error
			if c.reporterName, err = s.seal(dc.name, c.ID, "name"); err != nil {
				return err
			}
			if c.reporterPhone, err = s.seal(dc.phone, c.ID, "phone"); err != nil {
				return err
			}
			if err := s.insertCase(ctx, c); err != nil {
				return err
			}
			if _, err := s.db.Exec(ctx, `INSERT INTO case_reporters (case_id, reporter_id, kind, via_case, added_at) VALUES (?, ?, ?, ?, ?)`,
				c.ID, c.ReporterID, c.ReporterKind, c.ID, c.CreatedAt); err != nil {
				return err
			}
			for i, e := range dc.events {
				e.Seq = i + 1
				if err := s.insertEvent(ctx, c, e, ""); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(out), nil
}

func pickWeighted(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := rng.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// between is a random instant in [a, b).
func between(rng *rand.Rand, a, b int64) int64 {
	if b <= a {
		return a
	}
	return a + rng.Int64N(b-a)
}

const (
	minute = int64(60 * 1000)
	hour   = 60 * minute
)

// demoPlace places a case 60 to 180 m from a random point (reports are
// rarely at a grid's very centre), inside some grid.
func (s *Service) demoPlace(ctx context.Context, rng *rand.Rand, points [][2]float64) (float64, float64, *Place, error) {
	for range 6 {
		p := pick(rng, points)
		d := 60 + rng.Float64()*120
		θ := rng.Float64() * 2 * math.Pi
		lat := p[1] + d*math.Cos(θ)/111320
		lon := p[0] + d*math.Sin(θ)/(111320*math.Cos(p[1]*math.Pi/180))
		pl, err := s.dir.Locate(ctx, lon, lat)
		if errs.CodeOf(err) == errs.CodeNotFound {
			continue
		}
		if err != nil {
			return 0, 0, nil, err
		}
		return math.Round(lon*1e6) / 1e6, math.Round(lat*1e6) / 1e6, pl, nil
	}
	return 0, 0, nil, nil
}

// demoCase plays one case through the loop up to now; nil when it found no
// place.
func (s *Service) demoCase(ctx context.Context, rng *rand.Rand, at, now int64, cats []*Category, weights []int, points [][2]float64, people *DemoPeople) (*demoCase, error) {
	lon, lat, pl, err := s.demoPlace(ctx, rng, points)
	if err != nil || pl == nil {
		return nil, err
	}
	cat := cats[pickWeighted(rng, weights)]
	chw := make([]int, len(demoChannels))
	for i, c := range demoChannels {
		chw[i] = c.weight
	}
	channel := demoChannels[pickWeighted(rng, chw)].ch
	switch {
	case channel == "video" && !slices.Contains(videoCategories, cat.Code):
		channel = "grid"
	case channel == "sensor" && !slices.Contains(sensorCategories, cat.Code):
		channel = "grid"
	}
	gw, hasGW := people.GridWorkers[pl.Community]
	if channel == "grid" && !hasGW {
		channel = "hotline"
	}
	if channel == "portal" && len(people.Citizens) == 0 {
		channel = "hotline"
	}
	var operator actorRef
	if len(people.Operators) > 0 {
		op := pick(rng, people.Operators)
		operator = actorRef{kind: "user", id: op.ID, name: op.Name, org: op.OrgID}
	} else {
		operator = actorRef{kind: "system", id: "demo-operator", name: "城运中心"}
	}
	where := pl.CommunityName + "辖区"
	if where == "辖区" {
		where = pl.StreetName
	}
	c := &Case{ID: newID(), Channel: channel, State: Reported, Category: cat.Code, CategoryName: cat.NameZh, Confidence: 1, ClassifiedBy: "reporter",
		Description: fmt.Sprintf(demoTexts[channel], where, cat.NameZh), Address: pl.StreetName + pl.CommunityName + "附近", Lon: lon, Lat: lat,
		Grid: pl.Grid, GridName: pl.GridName, RespGrid: pl.Resp, Community: pl.Community, Street: pl.Street, District: pl.District, Version: 1, CreatedAt: at}
	if len(c.District) < 6 {
		return nil, nil
	}
	dc := &demoCase{c: c}
	var reporter actorRef
	switch channel {
	case "grid":
		reporter = actorRef{kind: "user", id: gw.ID, name: gw.Name, org: gw.OrgID}
		c.ReporterKind, c.ReporterID, c.Reporter = "user", gw.ID, gw.Name
	case "portal":
		ci := pick(rng, people.Citizens)
		reporter = actorRef{kind: "user", id: ci.ID, name: ci.Name, org: ci.OrgID}
		c.ReporterKind, c.ReporterID, c.Reporter = "user", ci.ID, maskReporter(ci.Name, "")
	case "hotline":
		reporter = operator
		dc.name = string(pick(rng, demoSurnames)) + pick(rng, []string{"先生", "女士"})
		dc.phone = fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1_000_000_000))
		c.ReporterKind, c.Reporter, c.ExternalID = "public", maskReporter(dc.name, dc.phone), fmt.Sprintf("12345-%d", 20_000_000+rng.IntN(80_000_000))
	case "referral":
		reporter = operator
		c.ReporterKind, c.ReporterID, c.Reporter = "user", operator.id, operator.name
	case "video", "sensor":
		id, name := "video-analytics", "视频智能识别"
		if channel == "sensor" {
			id, name = "iot-sensors", "物联感知平台"
		}
		reporter = actorRef{kind: "system", id: id, name: name}
		c.ReporterKind, c.ReporterID, c.ClassifiedBy = "system", id, "rule"
	}
	ev := func(a actorRef, action string, to State, note string, data any, t int64) {
		dc.events = append(dc.events, a.event(action, c.State, to, note, data, t))
		c.State, c.UpdatedAt = to, t
		c.Version++
	}
	c.State = ""
	ev(reporter, "report", Reported, "", map[string]any{"channel": channel, "category": c.Category, "confidence": c.Confidence, "classifiedBy": c.ClassifiedBy, "grid": c.Grid, "photos": 0}, at)
	c.Version = 1

	// Filing: at once by smart dispatch, or by an operator.
	smart := channel != "hotline" && channel != "referral" && rng.Float64() < 0.55
	t := at
	if !smart {
		t += between(rng, 5*minute, 2*hour)
		if t > now {
			return dc, nil
		}
		if rng.Float64() < 0.03 {
			c.ClosedAt = t
			ev(operator, "reject", Rejected, "经核实不属于城市管理案件受理范围", nil, t)
			return dc, nil
		}
	}
	filer := operator
	if smart {
		filer = actorRef{kind: "system", id: "smart-dispatch", name: "智能分拨"}
	}
	c.FiledAt = t
	ev(filer, "file", Filed, "", map[string]any{"criteria": cat.Filing}, t)
	if !smart {
		t += between(rng, 2*minute, 30*minute)
		if t > now {
			return dc, nil
		}
	}
	dept, why, err := s.deptFor(ctx, cat, c.Grid, nil)
	if err != nil {
		return nil, err
	}
	unit, err := s.dir.UnitFor(ctx, dept, c.Grid)
	if errs.CodeOf(err) == errs.CodeNotFound {
		return dc, nil // no such unit here: it waits, filed
	}
	if err != nil {
		return nil, err
	}
	dispatch := func(a actorRef, dept, why string, u *Unit, t int64) error {
		if err := s.assign(ctx, c, dept, u, t); err != nil {
			return err
		}
		c.State = Filed // ev records the transition
		ev(a, "dispatch", Dispatched, "", map[string]any{"dept": dept, "orgId": u.ID, "orgName": u.Name, "rule": why, "deadlineAt": c.DeadlineAt}, t)
		return nil
	}
	// Sometimes the first unit is the wrong one and returns it (退单).
	if wrong, err := s.dir.UnitFor(ctx, "jd", c.Grid); err == nil && wrong.ID != unit.ID && rng.Float64() < 0.06 {
		if err := dispatch(filer, "jd", why, wrong, t); err != nil {
			return nil, err
		}
		t += between(rng, hour, 8*hour)
		if t > now {
			s.demoWarnUntil(dc, now)
			return dc, nil
		}
		c.Returns++
		c.OrgID, c.OrgName, c.Dept, c.DispatchedAt, c.YellowAt, c.DeadlineAt, c.Warning = "", "", "", 0, 0, 0, 0
		ev(unitActor(wrong, people), "return", Filed, "非本单位职责，请重新派遣", map[string]string{"orgId": wrong.ID}, t)
		t += between(rng, 10*minute, hour)
		if t > now {
			return dc, nil
		}
		filer = operator
		why = "operator"
	}
	if err := dispatch(filer, dept, why, unit, t); err != nil {
		return nil, err
	}
	handler := unitActor(unit, people)
	verifier := operator
	if hasGW {
		verifier = actorRef{kind: "user", id: gw.ID, name: gw.Name, org: gw.OrgID}
	}
	rated := false
	for round := 0; ; round++ {
		// Handle: mostly within the time allowed, sometimes late.
		dur := c.DeadlineAt - c.DispatchedAt
		var h int64
		if x := rng.Float64(); x < 0.04 {
			// Stuck with the unit for days or weeks.
			h = c.DeadlineAt + between(rng, 24*hour, 20*24*hour)
		} else if x < 0.16 {
			h = c.DeadlineAt + 30*minute + int64(rng.Float64()*0.8*float64(dur))
		} else {
			h = c.DispatchedAt + int64((0.15+rng.Float64()*0.75)*float64(dur))
		}
		h = max(h, t+10*minute)
		if h > now {
			s.demoWarnUntil(dc, now)
			return dc, nil
		}
		s.demoWarnUntil(dc, h)
		c.HandledAt, c.HandlerID = h, handler.id
		ev(handler, "handle", Handled, "已按要求处置完毕", map[string]int{"photos": 0}, h)
		t = h + between(rng, 30*minute, 5*hour)
		if t > now {
			return dc, nil
		}
		c.VerifierID = verifier.id
		if round < 2 && rng.Float64() < 0.08 {
			c.Reworks++
			c.HandledAt = 0
			ev(verifier, "verify-fail", Dispatched, "现场核查未整改到位，请返工", nil, t)
			continue
		}
		c.ClosedAt = t
		ev(verifier, "verify-pass", Closed, "", map[string]any{"onTime": c.HandledAt <= c.DeadlineAt}, t)
		// The reporter rates (the hotline calls back).
		if rated || !(channel == "portal" && rng.Float64() < 0.8 || channel == "hotline" && rng.Float64() < 0.6) {
			return dc, nil
		}
		t += between(rng, hour, 48*hour)
		if t > now {
			return dc, nil
		}
		rater := reporter
		x := rng.Float64()
		rating := "satisfied"
		switch {
		case x < 0.08:
			rating = "dissatisfied"
		case x < 0.28:
			rating = "basically"
		}
		rated = true
		c.Rating, c.RatedAt = rating, t
		ev(rater, "rate", Closed, "", map[string]string{"rating": rating}, t)
		if rating != "dissatisfied" {
			return dc, nil
		}
		// Dissatisfied: reopened for rework with a new clock.
		yellow, deadline, err := s.deadlines(ctx, cat, time.UnixMilli(t))
		if err != nil {
			return nil, err
		}
		c.Reworks++
		c.ClosedAt, c.HandledAt = 0, 0
		c.DispatchedAt, c.YellowAt, c.DeadlineAt, c.Warning = t, yellow.UnixMilli(), deadline.UnixMilli(), 0
		ev(rater, "reopen", Dispatched, "", map[string]int64{"deadlineAt": c.DeadlineAt}, t)
	}
}

// unitActor is who acts for a unit: its named handler, or the unit.
func unitActor(u *Unit, people *DemoPeople) actorRef {
	if h, ok := people.Handlers[u.ID]; ok {
		return actorRef{kind: "user", id: h.ID, name: h.Name, org: u.ID}
	}
	return actorRef{kind: "user", name: u.Name, org: u.ID}
}

var deadlineWatch = actorRef{kind: "system", id: "deadline-watch", name: "时限监控"}

// demoWarnUntil records the deadline watch's warnings that fell before t on
// a dispatched case, as the watch would have.
func (s *Service) demoWarnUntil(dc *demoCase, t int64) {
	c := dc.c
	if c.State != Dispatched {
		return
	}
	add := func(action string, at int64, data any) {
		// The watch looks at dispatched cases only: a warning due while the
		// case awaited verification comes when it is back with the unit.
		if n := len(dc.events); n > 0 {
			at = max(at, dc.events[n-1].At)
		}
		dc.events = append(dc.events, deadlineWatch.event(action, c.State, c.State, "", data, at))
		c.UpdatedAt = max(c.UpdatedAt, at)
		c.Version++
	}
	if c.Warning < 1 && c.YellowAt > 0 && c.YellowAt <= t && c.YellowAt < c.DeadlineAt {
		c.Warning = 1
		add("warn-yellow", c.YellowAt, map[string]int64{"deadlineAt": c.DeadlineAt})
	}
	if c.Warning < 2 && c.DeadlineAt > 0 && c.DeadlineAt <= t {
		c.Warning = 2
		add("overdue", c.DeadlineAt, map[string]int64{"deadlineAt": c.DeadlineAt})
		if c.Supervised < 2 {
			c.Supervised = 2
			add("escalate", c.DeadlineAt, map[string]int{"level": 2})
		}
	}
}

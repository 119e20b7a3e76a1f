package workcal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
	"github.com/shuzhi-gov/shuzhi/internal/platform/workcal"
)

// recorder is a fake Emitter: it keeps the events, or fails when told to.
type recorder struct {
	mu   sync.Mutex
	evs  []workcal.Changed
	subj []string
	fail error
}

var _ workcal.Emitter = (*recorder)(nil)

func (r *recorder) Emit(_ context.Context, ev bus.Event, subject string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.evs = append(r.evs, ev.(workcal.Changed))
	r.subj = append(r.subj, subject)
	return nil
}

func (r *recorder) last(t *testing.T) workcal.Changed {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.evs) == 0 {
		t.Fatal("no event emitted")
	}
	return r.evs[len(r.evs)-1]
}

// clock is an injected time source tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func admin() context.Context {
	return authz.With(context.Background(), &authz.Principal{Kind: authz.KindUser, ID: "u-admin", Name: "sysadmin", OrgID: "org-1",
		Roles: []authz.Role{authz.SysAdmin}, Permissions: authz.PermissionsOf([]authz.Role{authz.SysAdmin})})
}

func staff() context.Context {
	return authz.With(context.Background(), &authz.Principal{Kind: authz.KindUser, ID: "u-staff", Name: "staff",
		Roles: []authz.Role{authz.DeptStaff}, Permissions: authz.PermissionsOf([]authz.Role{authz.DeptStaff})})
}

func migrations() []db.Migrations {
	return []db.Migrations{db.PlatformMigrations(), workcal.Migrations()}
}

func newService(t *testing.T, d *db.DB) (*workcal.Service, *recorder, *clock) {
	t.Helper()
	rec := &recorder{}
	clk := &clock{t: time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)}
	return workcal.New(d, rec, clk.now), rec, clk
}

func TestPermission(t *testing.T) {
	t.Parallel()
	for _, r := range authz.Roles {
		has := (&authz.Principal{Permissions: authz.PermissionsOf([]authz.Role{r.Code})}).Has(authz.CalendarWrite)
		if has != (r.Code == authz.SysAdmin) {
			t.Errorf("role %s: calendar:write = %v", r.Code, has)
		}
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, migrations(), func(t *testing.T, d *db.DB) {
		s, _, _ := newService(t, d)
		ctx := context.Background()
		cal, err := s.Calendar(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !cal.Known(2025) || !cal.Known(2026) || cal.Known(2027) {
			t.Errorf("known years = %v, want 2025 and 2026", cal.Years())
		}
		// The migration holds the notice of 2025-11-04 exactly as the facts list it.
		if got, want := cal.DaysIn(2026), sortedDays(days2026()); !reflect.DeepEqual(got, want) {
			t.Errorf("2026 days differ from the notice:\n got %v\nwant %v", got, want)
		}
		if !reflect.DeepEqual(cal.Windows(), workcal.DefaultWindows) {
			t.Errorf("windows = %v", cal.Windows())
		}
		// 2025: holidays 28 Jan-4 Feb, make-up Sun 26 Jan and Sat 8 Feb.
		for day, want := range map[string]bool{"2025-01-01": false, "2025-01-26": true, "2025-01-28": false, "2025-02-04": false,
			"2025-02-05": true, "2025-02-08": true, "2025-04-27": true, "2025-05-31": false, "2025-06-02": false, "2025-09-28": true,
			"2025-10-08": false, "2025-10-09": true, "2025-10-11": true} {
			if got := cal.IsWorkday(at(t, day+" 10:00")); got != want {
				t.Errorf("2025: IsWorkday(%s) = %v, want %v", day, got, want)
			}
		}

		v, err := s.Year(ctx, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Known || !strings.Contains(v.Notice, "2025年11月4日") || len(v.Days) != 39 || v.UpdatedBy != "seed" {
			t.Errorf("year view 2026: known %v notice %q days %d by %q", v.Known, v.Notice, len(v.Days), v.UpdatedBy)
		}
		// Counted independently from the notice (see calendar_test): 16 in
		// February, 18 in October, 248 in the year.
		wantMonths := []int{21, 16, 22, 21, 19, 21, 23, 21, 22, 18, 21, 23}
		for i, m := range v.Months {
			if m.Month != i+1 || m.WorkDays != wantMonths[i] {
				t.Errorf("month %d: %+v, want %d working days", i+1, m, wantMonths[i])
			}
		}
		if v.WorkDays != 248 || v.Months[1].RestDays != 12 {
			t.Errorf("2026: %d working days, February %d rest days", v.WorkDays, v.Months[1].RestDays)
		}
		v25, err := s.Year(ctx, 2025)
		if err != nil {
			t.Fatal(err)
		}
		if len(v25.Days) != 33 || v25.WorkDays != 248 {
			t.Errorf("2025: %d days, %d working days", len(v25.Days), v25.WorkDays)
		}
		v27, err := s.Year(ctx, 2027)
		if err != nil {
			t.Fatal(err)
		}
		if v27.Known || len(v27.Days) != 0 || v27.Notice != "" || v27.WorkDays != 261 {
			t.Errorf("2027 (not entered): %+v", v27)
		}
	})
}

func sortedDays(ds []workcal.Day) []workcal.Day {
	out := append([]workcal.Day(nil), ds...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Date < out[j-1].Date; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestSetYearValidation(t *testing.T) {
	t.Parallel()
	good := workcal.Day{Date: "2027-01-01", Kind: "holiday", Name: "元旦"}
	for _, tc := range []struct {
		name   string
		year   int
		notice string
		days   []workcal.Day
		field  string
		rule   string
	}{
		{"a year out of range", 1999, "n", nil, "year", "range"},
		{"no notice", 2027, "  ", []workcal.Day{good}, "notice", "required"},
		{"a long notice", 2027, strings.Repeat("通", 201), nil, "notice", "maxLength"},
		{"a malformed date", 2027, "n", []workcal.Day{good, {Date: "2027/02/06", Kind: "holiday", Name: "春节"}}, "days[1].date", "format"},
		{"a date of another year", 2027, "n", []workcal.Day{good, {Date: "2026-12-31", Kind: "holiday", Name: "x"}}, "days[1].date", "year"},
		{"a date twice", 2027, "n", []workcal.Day{good, good}, "days[1].date", "unique"},
		{"an unknown kind", 2027, "n", []workcal.Day{{Date: "2027-02-06", Kind: "rest", Name: "x"}}, "days[0].kind", "enum"},
		{"a holiday without a name", 2027, "n", []workcal.Day{{Date: "2027-02-06", Kind: "holiday", Name: " "}}, "days[0].name", "required"},
		// 2027-02-03 is a Wednesday: already a working day.
		{"a make-up working day on a weekday", 2027, "n", []workcal.Day{{Date: "2027-02-03", Kind: "workday", Name: "调休"}}, "days[0].date", "weekend"},
		{"a long name", 2027, "n", []workcal.Day{{Date: "2027-02-06", Kind: "holiday", Name: strings.Repeat("节", 33)}}, "days[0].name", "maxLength"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := workcal.ValidateYear(tc.year, tc.notice, tc.days)
			assertField(t, err, tc.field)
			var e *errs.Error
			errors.As(err, &e)
			if e.Fields[0].Rule != tc.rule {
				t.Errorf("rule = %q, want %q", e.Fields[0].Rule, tc.rule)
			}
		})
	}
	// A make-up Saturday and a Sunday pass; a holiday on a weekend too.
	if err := workcal.ValidateYear(2026, "n", days2026()); err != nil {
		t.Errorf("the 2026 notice is refused: %v", err)
	}
}

func TestSetYear(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, migrations(), func(t *testing.T, d *db.DB) {
		s, rec, clk := newService(t, d)
		ctx := admin()
		// Warm the cache, so that the change must invalidate it.
		if cal, err := s.Calendar(ctx); err != nil || cal.Known(2027) {
			t.Fatalf("calendar: %v", err)
		}

		t.Run("refuses callers without calendar:write", func(t *testing.T) {
			if err := s.SetYear(staff(), 2027, "n", nil); !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("staff: %v", err)
			}
			if err := s.SetYear(context.Background(), 2027, "n", nil); !errors.Is(err, errs.ErrUnauthenticated) {
				t.Errorf("anonymous: %v", err)
			}
			if err := s.SetWindows(staff(), workcal.DefaultWindows); !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("staff windows: %v", err)
			}
		})

		t.Run("enters a new year and emits the change", func(t *testing.T) {
			days := []workcal.Day{
				{Date: "2027-02-07", Kind: "workday", Name: " 春节调休 "}, // a Sunday; names are trimmed
				{Date: "2027-01-01", Kind: "holiday", Name: "元旦"},
			}
			if err := s.SetYear(ctx, 2027, " 测试通知 ", days); err != nil {
				t.Fatal(err)
			}
			cal, err := s.Calendar(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !cal.Known(2027) || cal.IsWorkday(at(t, "2027-01-01 10:00")) || !cal.IsWorkday(at(t, "2027-02-07 10:00")) {
				t.Error("the new year is not in the calendar at once")
			}
			v, err := s.Year(ctx, 2027)
			if err != nil {
				t.Fatal(err)
			}
			want := []workcal.Day{{Date: "2027-01-01", Kind: "holiday", Name: "元旦"}, {Date: "2027-02-07", Kind: "workday", Name: "春节调休"}}
			if v.Notice != "测试通知" || v.UpdatedBy != "sysadmin" || v.UpdatedAt == nil || !v.UpdatedAt.Equal(clk.now().Truncate(time.Millisecond)) ||
				!reflect.DeepEqual(v.Days, want) {
				t.Errorf("year view: %+v", v)
			}
			ev := rec.last(t)
			if ev.EventType() != "workcal.changed" || ev.Action != "calendar.year.set" || ev.Subject != "calendar:2027" || ev.Year != 2027 ||
				ev.ActorName != "sysadmin" || ev.ActorID != "u-admin" || ev.OrgID != "org-1" || ev.Ref == "" || !ev.At.Equal(clk.now()) ||
				!reflect.DeepEqual(ev.Added, want) || len(ev.Removed) != 0 {
				t.Errorf("event: %+v", ev)
			}
			var payload struct {
				Year   int           `json:"year"`
				Notice string        `json:"notice"`
				Days   []workcal.Day `json:"days"`
			}
			if err := json.Unmarshal(ev.Payload, &payload); err != nil || payload.Year != 2027 || !reflect.DeepEqual(payload.Days, want) {
				t.Errorf("payload %s: %v", ev.Payload, err)
			}
		})

		t.Run("replaces a year, leaving the others alone", func(t *testing.T) {
			// 2026 without the National Day make-up Saturday.
			var days []workcal.Day
			for _, x := range days2026() {
				if x.Date != "2026-10-10" {
					days = append(days, x)
				}
			}
			if err := s.SetYear(ctx, 2026, "更正", days); err != nil {
				t.Fatal(err)
			}
			cal, _ := s.Calendar(ctx)
			if cal.IsWorkday(at(t, "2026-10-10 10:00")) || !cal.Known(2027) || cal.IsWorkday(at(t, "2027-01-01 10:00")) || cal.IsWorkday(at(t, "2025-01-01 10:00")) {
				t.Error("replacing 2026 did not take or touched other years")
			}
			ev := rec.last(t)
			if len(ev.Added) != 0 || !reflect.DeepEqual(ev.Removed, []workcal.Day{{Date: "2026-10-10", Kind: "workday", Name: "国庆节调休"}}) {
				t.Errorf("diff: added %v removed %v", ev.Added, ev.Removed)
			}
		})

		t.Run("a failed event rolls the change back", func(t *testing.T) {
			rec.fail = errors.New("outbox down")
			defer func() { rec.fail = nil }()
			if err := s.SetYear(ctx, 2028, "n", []workcal.Day{{Date: "2028-01-01", Kind: "holiday", Name: "元旦"}}); err == nil {
				t.Fatal("no error")
			}
			if err := s.SetWindows(ctx, []workcal.Window{{480, 960}}); err == nil {
				t.Fatal("no error")
			}
			cal, _ := s.Calendar(ctx)
			v, _ := s.Year(ctx, 2028)
			if cal.Known(2028) || v.Known || len(v.Days) != 0 || !reflect.DeepEqual(cal.Windows(), workcal.DefaultWindows) {
				t.Error("a change whose event failed was kept")
			}
		})

		t.Run("invalid input changes nothing", func(t *testing.T) {
			n := len(rec.evs)
			err := s.SetYear(ctx, 2027, "n", []workcal.Day{{Date: "2027-02-03", Kind: "workday", Name: "x"}})
			assertField(t, err, "days[0].date")
			v, _ := s.Year(ctx, 2027)
			if len(v.Days) != 2 || len(rec.evs) != n {
				t.Error("a refused change was stored or emitted")
			}
		})

		t.Run("sees another replica's change within the cache time", func(t *testing.T) {
			if _, err := s.Calendar(ctx); err != nil {
				t.Fatal(err)
			}
			// Another replica (or an operator with SQL) enters 2029.
			if _, err := d.Exec(context.Background(), `INSERT INTO workcal_years (year, notice, updated_by, updated_at) VALUES (2029, 'x', 'other', 1)`); err != nil {
				t.Fatal(err)
			}
			cal, _ := s.Calendar(ctx)
			if cal.Known(2029) {
				t.Fatal("the cache was not used")
			}
			clk.add(2 * time.Minute)
			if cal, _ = s.Calendar(ctx); !cal.Known(2029) {
				t.Error("the cache did not expire")
			}
			s.Invalidate()
		})
	})
}

func TestWindowsAndDeadline(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, migrations(), func(t *testing.T, d *db.DB) {
		s, rec, _ := newService(t, d)
		ctx := admin()
		from := at(t, "2026-02-12 10:00")
		for _, tc := range []struct {
			n    int
			unit string
			want string
		}{
			{10, workcal.UnitWorkDays, "2026-03-04 17:30"},
			{0, workcal.UnitWorkDays, "2026-02-12 17:30"},
			// 12 Feb: 10:00-12:00 and 13:30-17:30 = 6h; 13 Feb 09:00 + 2h.
			{8, workcal.UnitWorkHours, "2026-02-13 11:00"},
			{48, workcal.UnitHours, "2026-02-14 10:00"},
		} {
			got, err := s.Deadline(ctx, from, tc.n, tc.unit)
			if err != nil || !got.Equal(at(t, tc.want)) {
				t.Errorf("Deadline(%d %s) = %v, %v; want %s", tc.n, tc.unit, got, err, tc.want)
			}
		}
		for _, tc := range []struct {
			n     int
			unit  string
			field string
		}{{1, "days", "unit"}, {-1, workcal.UnitWorkDays, "n"}, {5000, workcal.UnitWorkDays, "n"}} {
			_, err := s.Deadline(ctx, from, tc.n, tc.unit)
			assertField(t, err, tc.field)
		}
		_, err := s.Deadline(ctx, time.Time{}, 1, workcal.UnitWorkDays)
		assertField(t, err, "from")

		// Working hours 08:00-12:00, 13:00-17:00.
		ws := []workcal.Window{{480, 720}, {780, 1020}}
		if err := s.SetWindows(ctx, ws); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Windows(ctx)
		if !reflect.DeepEqual(got, ws) {
			t.Errorf("windows = %v", got)
		}
		if ev := rec.last(t); ev.Action != "calendar.hours.set" || ev.Subject != "calendar:hours" || !reflect.DeepEqual(ev.Windows, ws) {
			t.Errorf("event: %+v", ev)
		}
		// 12 Feb 10:00-12:00 and 13:00-17:00 = 6h; 13 Feb 08:00 + 2h.
		if due, _ := s.Deadline(ctx, from, 8, workcal.UnitWorkHours); !due.Equal(at(t, "2026-02-13 10:00")) {
			t.Errorf("work hours with new windows: %v", due)
		}
		if due, _ := s.Deadline(ctx, from, 1, workcal.UnitWorkDays); !due.Equal(at(t, "2026-02-13 17:00")) {
			t.Errorf("work days with new windows: %v", due)
		}
		err = s.SetWindows(ctx, []workcal.Window{{480, 720}, {700, 1020}})
		assertField(t, err, "windows[1].start")
	})
}

// The HTTP API through the platform's huma set-up, as the app serves it
// (the principal is put in the context as the authentication middleware does).
func TestRoutes(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, migrations(), func(t *testing.T, d *db.DB) {
		s, _, _ := newService(t, d)
		mux := http.NewServeMux()
		api := httpx.NewAPI(mux, "test")
		s.Routes(api)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			switch r.Header.Get("X-Test-As") {
			case "admin":
				ctx = admin()
			case "staff":
				ctx = staff()
			}
			mux.ServeHTTP(w, r.WithContext(ctx))
		}))
		defer srv.Close()
		call := func(as, method, path, body string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			req.Header.Set("X-Test-As", as)
			req.Header.Set("Accept-Language", "zh-CN")
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			var out map[string]any
			_ = json.Unmarshal(b, &out)
			return res.StatusCode, out
		}
		fieldOf := func(p map[string]any) (string, string, string) {
			es, _ := p["errors"].([]any)
			if len(es) == 0 {
				return "", "", ""
			}
			e := es[0].(map[string]any)
			return fmt.Sprint(e["field"]), fmt.Sprint(e["rule"]), fmt.Sprint(e["message"])
		}

		if code, _ := call("", "GET", "/api/v1/calendar/2026", ""); code != 401 {
			t.Errorf("anonymous GET: %d", code)
		}
		code, v := call("staff", "GET", "/api/v1/calendar/2026", "")
		if code != 200 || v["known"] != true || len(v["days"].([]any)) != 39 || v["workDays"] != float64(248) {
			t.Errorf("GET 2026: %d %v", code, v)
		}
		if code, p := call("staff", "GET", "/api/v1/calendar/1800", ""); code != 422 {
			t.Errorf("GET 1800: %d %v", code, p)
		}

		put := `{"notice":"国办发明电〔2026〕1号","days":[{"date":"2027-01-01","kind":"holiday","name":"元旦"},{"date":"2027-02-03","kind":"workday","name":"春节调休"}]}`
		if code, _ := call("staff", "PUT", "/api/v1/calendar/2027", put); code != 403 {
			t.Errorf("staff PUT: %d", code)
		}
		code, p := call("admin", "PUT", "/api/v1/calendar/2027", put)
		if f, r, m := fieldOf(p); code != 422 || f != "days[1].date" || r != "weekend" || !strings.Contains(m, "星期六或星期日") {
			t.Errorf("PUT with a weekday make-up day: %d %v", code, p)
		}
		code, p = call("admin", "PUT", "/api/v1/calendar/2027", `{"notice":"n","days":[{"date":"2027-01-01","kind":"rest","name":"x"}]}`)
		if f, r, _ := fieldOf(p); code != 422 || f != "days[0].kind" || r != "enum" {
			t.Errorf("PUT with a bad kind: %d %v", code, p)
		}
		code, v = call("admin", "PUT", "/api/v1/calendar/2027", strings.Replace(put, "2027-02-03", "2027-02-06", 1))
		if code != 200 || v["known"] != true || v["notice"] != "国办发明电〔2026〕1号" || len(v["days"].([]any)) != 2 {
			t.Errorf("PUT 2027: %d %v", code, v)
		}

		q := url.Values{"from": {"2026-09-30T15:00:00+08:00"}, "n": {"10"}, "unit": {"work_days"}}
		code, v = call("staff", "GET", "/api/v1/calendar/deadline?"+q.Encode(), "")
		if code != 200 || v["deadline"] != "2026-10-20T17:30:00+08:00" || v["known"] != true {
			t.Errorf("deadline: %d %v", code, v)
		}
		// From late December 2027 into 2028, whose notice is not entered.
		q = url.Values{"from": {"2027-12-30T07:00:00Z"}, "n": {"5"}}
		code, v = call("staff", "GET", "/api/v1/calendar/deadline?"+q.Encode(), "")
		if code != 200 || v["known"] != false || fmt.Sprint(v["unknownYears"]) != "[2028]" || v["unit"] != "work_days" {
			t.Errorf("deadline into 2028: %d %v", code, v)
		}
		code, p = call("staff", "GET", "/api/v1/calendar/deadline?from=yesterday&n=1", "")
		if f, _, _ := fieldOf(p); code != 422 || f != "from" {
			t.Errorf("bad from: %d %v", code, p)
		}
		code, p = call("staff", "GET", "/api/v1/calendar/deadline?from=2026-01-01T00:00:00Z&n=1&unit=weeks", "")
		if f, _, _ := fieldOf(p); code != 422 || f != "unit" {
			t.Errorf("bad unit: %d %v", code, p)
		}
		if code, _ := call("", "GET", "/api/v1/calendar/deadline?from=2026-01-01T00:00:00Z&n=1", ""); code != 401 {
			t.Errorf("anonymous deadline: %d", code)
		}

		code, v = call("staff", "GET", "/api/v1/calendar/hours", "")
		if code != 200 || fmt.Sprint(v["windows"]) != "[map[end:720 start:540] map[end:1050 start:810]]" {
			t.Errorf("GET hours: %d %v", code, v)
		}
		if code, _ := call("staff", "PUT", "/api/v1/calendar/hours", `{"windows":[{"start":480,"end":960}]}`); code != 403 {
			t.Errorf("staff PUT hours: %d", code)
		}
		code, p = call("admin", "PUT", "/api/v1/calendar/hours", `{"windows":[{"start":600,"end":540}]}`)
		if f, _, _ := fieldOf(p); code != 422 || f != "windows[0].end" {
			t.Errorf("PUT bad hours: %d %v", code, p)
		}
		code, v = call("admin", "PUT", "/api/v1/calendar/hours", `{"windows":[{"start":480,"end":960}]}`)
		if code != 200 || fmt.Sprint(v["windows"]) != "[map[end:960 start:480]]" {
			t.Errorf("PUT hours: %d %v", code, v)
		}
	})
}

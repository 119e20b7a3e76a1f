package cases

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/workcal"
)

// fakeDir places every point in one grid of 平江街道 and finds a unit for
// every department.
type fakeDir struct{}

func (fakeDir) Locate(context.Context, float64, float64) (*Place, error) {
	return &Place{Grid: "320508018001001", Community: "320508018001", Street: "320508018000", District: "320508000000"}, nil
}
func (fakeDir) Component(_ context.Context, code string) (*ComponentRef, error) { return nil, nil }
func (fakeDir) UnitFor(_ context.Context, dept, _ string) (*Unit, error) {
	return &Unit{ID: "org-" + dept, Name: dept + "单位", DeptType: dept, Division: "320508"}, nil
}
func (fakeDir) Unit(_ context.Context, id string) (*Unit, error) {
	return &Unit{ID: id, Name: id, DeptType: id[4:], Division: "320508"}, nil
}

func (fakeDir) Places(context.Context, string, int) ([]PlaceHit, error) { return nil, nil }

type plainCipher struct{}

func (plainCipher) Encrypt(p, _ []byte) ([]byte, error) { return p, nil }
func (plainCipher) Decrypt(c, _ []byte) ([]byte, error) { return c, nil }

type sink struct {
	mu  sync.Mutex
	evs []bus.Event
}

func (s *sink) Emit(_ context.Context, ev bus.Event, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evs = append(s.evs, ev)
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(s string) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func operator() context.Context {
	return authz.With(context.Background(), &authz.Principal{Kind: authz.KindSystem, ID: "test", Name: "test", Nationwide: true,
		Permissions: []authz.Permission{authz.CasesRead, authz.CasesReport, authz.CasesHandle, authz.CasesDispatch, authz.CasesVerify, authz.CasesSupervise}})
}

func newTestService(t *testing.T, d *db.DB, clk *clock) *Service {
	t.Helper()
	cal := workcal.New(d, &sink{}, clk.now)
	s := New(Deps{DB: d, Directory: fakeDir{}, Cipher: plainCipher{}, Calendar: cal.Calendar, Now: clk.now})
	t.Cleanup(s.Close)
	if err := s.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func report(t *testing.T, s *Service, category string) *Case {
	t.Helper()
	lon, lat := 120.63, 31.32
	in, err := s.Report(operator(), Report{Channel: "referral", Category: category, Description: descriptions[category], Lon: &lon, Lat: &lat})
	if err != nil {
		t.Fatal(err)
	}
	if in.Case.State != Dispatched {
		t.Fatalf("state %s, want dispatched", in.Case.State)
	}
	return in.Case
}

var descriptions = map[string]string{
	"E0101": "院子里有人私自搭了一间铁皮棚",
	"E0102": "路边垃圾袋堆着没人收",
	"E0503": "楼道里闻到很重的煤气味",
}

func fmtT(msec int64) string { return time.UnixMilli(msec).In(workcal.Shanghai).Format(time.RFC3339) }

// The handling clock runs in working time on the official calendar: across
// the 2026 Spring Festival (15-23 Feb off, Sat 14 and Sat 28 Feb worked) and
// National Day (1-7 Oct off), with an injected clock.
func TestDeadlinesAcrossHolidays(t *testing.T) {
	dbtest.ForEach(t, []db.Migrations{db.PlatformMigrations(), workcal.Migrations(), Migrations()}, func(t *testing.T, d *db.DB) {
		clk := &clock{}
		s := newTestService(t, d, clk)

		// 私搭乱建: 10 working days from Thu 12 Feb 10:00. Day 1 Fri 13,
		// 2 Sat 14 (make-up), 3-6 Tue 24-Fri 27, 7 Sat 28 (make-up),
		// 8-10 Mon 2-Wed 4 Mar: the deadline is the close of Wed 4 Mar.
		clk.set("2026-02-12T10:00:00+08:00")
		c := report(t, s, "E0101")
		if got, want := fmtT(c.DeadlineAt), "2026-03-04T17:30:00+08:00"; got != want {
			t.Errorf("E0101 deadline %s, want %s", got, want)
		}
		if _, err := s.Act(operator(), c.ID, "handle", ActionInput{Note: "已拆除"}); err != nil {
			t.Fatal(err)
		}

		// 暴露垃圾: 4 working hours from Wed 30 Sep 16:00: 1.5 h that day,
		// then 2.5 h on Thu 8 Oct from 09:00 → 11:30. Yellow at 80 % (3.2 h):
		// 1.5 h + 1 h 42 min → 10:42 on 8 Oct.
		clk.set("2026-09-30T16:00:00+08:00")
		c = report(t, s, "E0102")
		if got, want := fmtT(c.DeadlineAt), "2026-10-08T11:30:00+08:00"; got != want {
			t.Errorf("E0102 deadline %s, want %s", got, want)
		}
		if got, want := fmtT(c.YellowAt), "2026-10-08T10:42:00+08:00"; got != want {
			t.Errorf("E0102 yellow %s, want %s", got, want)
		}
		ctx := context.Background()
		clk.set("2026-10-08T10:30:00+08:00")
		if n, err := s.Tick(ctx); err != nil || n != 0 {
			t.Fatalf("tick before yellow: %d %v", n, err)
		}
		clk.set("2026-10-08T10:45:00+08:00")
		if n, err := s.Tick(ctx); err != nil || n != 1 {
			t.Fatalf("tick at yellow: %d %v", n, err)
		}
		got, _ := s.load(ctx, c.ID)
		if got.Warning != 1 || got.Supervised != 0 {
			t.Fatalf("after yellow: warning %d supervised %d", got.Warning, got.Supervised)
		}
		clk.set("2026-10-08T11:31:00+08:00")
		if n, err := s.Tick(ctx); err != nil || n != 1 {
			t.Fatalf("tick at red: %d %v", n, err)
		}
		got, _ = s.load(ctx, c.ID)
		if got.Warning != 2 || got.Supervised != 2 {
			t.Fatalf("after red: warning %d supervised %d", got.Warning, got.Supervised)
		}
		evs, _ := s.events_(ctx, c.ID)
		var actions []string
		for _, e := range evs {
			actions = append(actions, e.Action)
		}
		want := []string{"report", "file", "dispatch", "warn-yellow", "overdue", "escalate"}
		if len(actions) != len(want) {
			t.Fatalf("timeline %v, want %v", actions, want)
		}
		for i := range want {
			if actions[i] != want[i] {
				t.Fatalf("timeline %v, want %v", actions, want)
			}
		}
		// The unit and the operations centre were told.
		var n int
		_ = d.QueryRow(ctx, `SELECT COUNT(*) FROM case_notices WHERE case_id = ? AND kind IN ('warning', 'overdue', 'escalation')`, c.ID).Scan(&n)
		if n != 3 {
			t.Fatalf("%d warning/overdue/escalation notices, want 3", n)
		}
		if n, err := s.Tick(ctx); err != nil || n != 0 {
			t.Fatalf("tick again: %d %v", n, err)
		}

		// A suspension stops the clock: dispatched Mon 23 Nov 09:00 with 4
		// working hours (deadline 14:30), suspended at 10:00 with 3 h left,
		// resumed Tue 24 Nov 09:00: the deadline becomes 12:00 that day.
		clk.set("2026-11-23T09:00:00+08:00")
		c = report(t, s, "E0102")
		if got, want := fmtT(c.DeadlineAt), "2026-11-23T14:30:00+08:00"; got != want {
			t.Fatalf("deadline %s, want %s", got, want)
		}
		clk.set("2026-11-23T10:00:00+08:00")
		if _, err := s.Act(operator(), c.ID, "suspend", ActionInput{Note: "等待产权单位确认"}); err != nil {
			t.Fatal(err)
		}
		clk.set("2026-11-24T09:00:00+08:00")
		r, err := s.Act(operator(), c.ID, "resume", ActionInput{})
		if err != nil {
			t.Fatal(err)
		}
		if r.State != Dispatched || fmtT(r.DeadlineAt) != "2026-11-24T12:00:00+08:00" {
			t.Fatalf("after resume: %s, deadline %s, want dispatched 2026-11-24T12:00:00+08:00", r.State, fmtT(r.DeadlineAt))
		}
		// A natural-hours category ignores the calendar: 燃气泄漏, 1 hour,
		// on a holiday.
		clk.set("2026-10-02T03:00:00+08:00")
		c = report(t, s, "E0503")
		if got, want := fmtT(c.DeadlineAt), "2026-10-02T04:00:00+08:00"; got != want {
			t.Fatalf("E0503 deadline %s, want %s", got, want)
		}
	})
}

// A repeat of a sensor alarm while its case is open is counted on it, even
// when both arrive in one intake group.
func TestRepeatsInOneGroup(t *testing.T) {
	dbtest.ForEach(t, []db.Migrations{db.PlatformMigrations(), workcal.Migrations(), Migrations()}, func(t *testing.T, d *db.DB) {
		clk := &clock{}
		clk.set("2026-11-23T09:00:00+08:00")
		s := newTestService(t, d, clk)
		lon, lat := 120.63, 31.32
		var wg sync.WaitGroup
		res := make([]*Intake, 20)
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in, err := s.Report(operator(), Report{Channel: "sensor", Category: "E0505", Description: "道路积水告警", Lon: &lon, Lat: &lat, DedupKey: "sensor:W1:water-level"})
				if err != nil {
					t.Error(err)
					return
				}
				res[i] = in
			}()
		}
		wg.Wait()
		created := 0
		for _, r := range res {
			if r != nil && !r.Repeat {
				created++
			}
		}
		var cases, repeats int
		_ = d.QueryRow(context.Background(), `SELECT COUNT(*), COALESCE(SUM(repeats), 0) FROM cases WHERE dedup_key = 'sensor:W1:water-level'`).Scan(&cases, &repeats)
		if created != 1 || cases != 1 || repeats != 19 {
			t.Fatalf("created %d, stored %d cases with %d repeats; want 1, 1, 19", created, cases, repeats)
		}
	})
}

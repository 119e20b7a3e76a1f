package workcal_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/workcal"
)

var cst = workcal.Shanghai

// at parses "2006-01-02 15:04" in China Standard Time.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func span(from, to, kind, name string) []workcal.Day {
	var out []workcal.Day
	a, _ := time.Parse(time.DateOnly, from)
	b, _ := time.Parse(time.DateOnly, to)
	for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
		out = append(out, workcal.Day{Date: d.Format(time.DateOnly), Kind: kind, Name: name})
	}
	return out
}

func one(date, name string) []workcal.Day {
	return []workcal.Day{{Date: date, Kind: workcal.KindWorkday, Name: name}}
}

// days2026 is the notice of 2025-11-04, as seeded by the migration.
func days2026() []workcal.Day {
	h := workcal.KindHoliday
	var d []workcal.Day
	for _, p := range [][]workcal.Day{
		span("2026-01-01", "2026-01-03", h, "元旦"), one("2026-01-04", "元旦调休"),
		one("2026-02-14", "春节调休"), span("2026-02-15", "2026-02-23", h, "春节"), one("2026-02-28", "春节调休"),
		span("2026-04-04", "2026-04-06", h, "清明节"),
		span("2026-05-01", "2026-05-05", h, "劳动节"), one("2026-05-09", "劳动节调休"),
		span("2026-06-19", "2026-06-21", h, "端午节"),
		one("2026-09-20", "中秋节调休"), span("2026-09-25", "2026-09-27", h, "中秋节"),
		span("2026-10-01", "2026-10-07", h, "国庆节"), one("2026-10-10", "国庆节调休"),
	} {
		d = append(d, p...)
	}
	return d
}

func cal2026(t *testing.T) *workcal.Calendar {
	t.Helper()
	c, err := workcal.NewCalendar(nil, days2026(), nil, []int{2026})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIsWorkday(t *testing.T) {
	t.Parallel()
	c := cal2026(t)
	for _, tc := range []struct {
		day  string
		want bool
		why  string
	}{
		{"2026-01-01", false, "New Year's Day (Thu)"},
		{"2026-01-02", false, "holiday on a Friday"},
		{"2026-01-03", false, "holiday on a Saturday"},
		{"2026-01-04", true, "make-up Sunday"},
		{"2026-01-05", true, "ordinary Monday"},
		{"2026-02-13", true, "Friday before the Spring Festival"},
		{"2026-02-14", true, "make-up Saturday"},
		{"2026-02-15", false, "Spring Festival, Sunday"},
		{"2026-02-16", false, "Spring Festival, Monday"},
		{"2026-02-23", false, "last day of the Spring Festival, Monday"},
		{"2026-02-24", true, "first working day after"},
		{"2026-02-28", true, "second make-up Saturday"},
		{"2026-03-01", false, "ordinary Sunday"},
		{"2026-03-07", false, "ordinary Saturday"},
		{"2026-10-01", false, "National Day"},
		{"2026-10-07", false, "last day of National Day (Wed)"},
		{"2026-10-08", true, "Thursday after"},
		{"2026-10-10", true, "make-up Saturday"},
		{"2026-10-11", false, "Sunday after"},
		{"2027-01-01", true, "unknown year: Monday to Friday (a Friday)"},
		{"2027-01-02", false, "unknown year: Saturday"},
	} {
		t.Run(tc.day+" "+tc.why, func(t *testing.T) {
			if got := c.IsWorkday(at(t, tc.day+" 10:00")); got != tc.want {
				t.Errorf("IsWorkday(%s) = %v, want %v", tc.day, got, tc.want)
			}
		})
	}
	t.Run("uses the calendar's zone, not the instant's", func(t *testing.T) {
		// 2026-02-13T20:00Z is Saturday 14 Feb 04:00 in Beijing: a make-up day.
		if !c.IsWorkday(time.Date(2026, 2, 13, 20, 0, 0, 0, time.UTC)) {
			t.Error("Saturday 14 Feb in CST should be a working day")
		}
		// 2026-02-23T17:00Z is Tuesday 24 Feb 01:00 in Beijing.
		if !c.IsWorkday(time.Date(2026, 2, 23, 17, 0, 0, 0, time.UTC)) {
			t.Error("24 Feb in CST should be a working day")
		}
	})
}

func TestKnown(t *testing.T) {
	t.Parallel()
	c := cal2026(t)
	if !c.Known(2026) || c.Known(2025) || c.Known(2027) {
		t.Error("Known: want only 2026")
	}
	if ok, unknown := c.KnownBetween(at(t, "2026-12-20 10:00"), at(t, "2027-01-10 10:00")); ok || len(unknown) != 1 || unknown[0] != 2027 {
		t.Errorf("KnownBetween across 2027 = %v %v", ok, unknown)
	}
	if ok, _ := c.KnownBetween(at(t, "2026-01-01 00:00"), at(t, "2026-12-31 23:59")); !ok {
		t.Error("KnownBetween inside 2026 should be known")
	}
}

func TestAddWorkDays(t *testing.T) {
	t.Parallel()
	c := cal2026(t)
	for _, tc := range []struct {
		name  string
		start string
		n     int
		want  string
	}{
		// Ordinary weeks.
		{"n=1 from a Monday", "2026-03-02 10:00", 1, "2026-03-03 17:30"},
		{"n=1 from a Friday skips the weekend", "2026-03-06 10:00", 1, "2026-03-09 17:30"},
		// Fri 6 Mar: 9..13 Mar are 1..5, 16..20 Mar are 6..10.
		{"n=10 from a Friday", "2026-03-06 10:00", 10, "2026-03-20 17:30"},
		{"the hour of receipt does not matter (early)", "2026-03-06 00:01", 10, "2026-03-20 17:30"},
		{"the hour of receipt does not matter (late)", "2026-03-06 23:59", 10, "2026-03-20 17:30"},
		{"received on a Saturday counts from Monday", "2026-03-07 10:00", 1, "2026-03-09 17:30"},
		// Spring Festival 2026: Fri 13 Feb works, Sat 14 Feb works (调休),
		// 15..23 Feb off, Tue 24 Feb works, Sat 28 Feb works (调休).
		{"n=1 before the Spring Festival", "2026-02-12 10:00", 1, "2026-02-13 17:30"},
		{"n=2 lands on the make-up Saturday", "2026-02-12 10:00", 2, "2026-02-14 17:30"},
		{"n=3 jumps the whole festival", "2026-02-12 10:00", 3, "2026-02-24 17:30"},
		// 13(1) 14(2) 24(3) 25(4) 26(5) 27(6) 28 Sat(7) Mar 2(8) 3(9) 4(10).
		{"n=10 across the Spring Festival", "2026-02-12 10:00", 10, "2026-03-04 17:30"},
		{"received on the make-up Saturday", "2026-02-14 11:00", 1, "2026-02-24 17:30"},
		{"received during the festival", "2026-02-17 11:00", 1, "2026-02-24 17:30"},
		// 24(1) 25(2) 26(3) 27(4) 28 Sat(5).
		{"n=5 reaches the second make-up Saturday", "2026-02-23 09:00", 5, "2026-02-28 17:30"},
		// National Day 2026: 1..7 Oct off, Thu 8, Fri 9, Sat 10 (调休) work.
		{"n=1 before National Day", "2026-09-30 15:00", 1, "2026-10-08 17:30"},
		{"n=3 lands on Saturday 10 Oct", "2026-09-30 15:00", 3, "2026-10-10 17:30"},
		// 8(1) 9(2) 10(3) 12(4) 13(5) 14(6) 15(7) 16(8) 19(9) 20(10).
		{"n=10 across National Day", "2026-09-30 15:00", 10, "2026-10-20 17:30"},
		// Mid-Autumn: Sun 20 Sep works, 25..27 Sep off.
		// 21(1) 22(2) 23(3) 24(4) 28(5).
		{"n=5 across Mid-Autumn", "2026-09-20 10:00", 5, "2026-09-28 17:30"},
		// n = 0: the same working day (即办), or the next when closed.
		{"n=0 on a working day", "2026-02-12 10:00", 0, "2026-02-12 17:30"},
		{"n=0 before opening", "2026-02-12 07:00", 0, "2026-02-12 17:30"},
		{"n=0 at lunch", "2026-02-12 12:30", 0, "2026-02-12 17:30"},
		{"n=0 after closing moves to the next working day", "2026-02-13 18:00", 0, "2026-02-14 17:30"},
		{"n=0 exactly at closing moves on", "2026-02-13 17:30", 0, "2026-02-14 17:30"},
		{"n=0 on a holiday", "2026-02-16 10:00", 0, "2026-02-24 17:30"},
		{"negative n counts as 0", "2026-02-16 10:00", -3, "2026-02-24 17:30"},
		// Unknown year 2027: Monday to Friday. Thu 31 Dec 2026 -> Fri 1 Jan 2027
		// (a holiday in practice, but 2027's notice is not entered).
		{"into an unknown year", "2026-12-31 10:00", 1, "2027-01-01 17:30"},
		{"inside an unknown year", "2027-01-01 10:00", 1, "2027-01-04 17:30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.AddWorkDays(at(t, tc.start), tc.n)
			if want := at(t, tc.want); !got.Equal(want) {
				t.Errorf("AddWorkDays(%s, %d) = %s, want %s", tc.start, tc.n, got.Format(time.DateTime), tc.want)
			}
			if got.Location() != cst {
				t.Errorf("result in %v, want the calendar's zone", got.Location())
			}
		})
	}
}

func TestAddWorkHours(t *testing.T) {
	t.Parallel()
	c := cal2026(t)
	for _, tc := range []struct {
		name  string
		start string
		d     time.Duration
		want  string
	}{
		{"zero", "2026-03-02 10:00", 0, "2026-03-02 10:00"},
		{"zero outside windows stays put", "2026-03-07 03:00", 0, "2026-03-07 03:00"},
		{"inside the morning", "2026-03-02 10:00", time.Hour, "2026-03-02 11:00"},
		{"ends exactly at noon (stays at the window's end)", "2026-03-02 10:00", 2 * time.Hour, "2026-03-02 12:00"},
		// 10:00-12:00 is 2h, then 1h from 13:30.
		{"over lunch", "2026-03-02 10:00", 3 * time.Hour, "2026-03-02 14:30"},
		{"before opening starts at 09:00", "2026-03-02 07:00", time.Hour, "2026-03-02 10:00"},
		{"at lunch starts at 13:30", "2026-03-02 12:30", time.Hour, "2026-03-02 14:30"},
		{"after closing starts the next day", "2026-03-02 18:00", time.Hour, "2026-03-03 10:00"},
		{"a full day is seven hours", "2026-03-02 09:00", 7 * time.Hour, "2026-03-02 17:30"},
		{"eight hours spill into the next day", "2026-03-02 09:00", 8 * time.Hour, "2026-03-03 10:00"},
		{"minutes", "2026-03-02 11:59", 2 * time.Minute, "2026-03-02 13:31"},
		{"from a Saturday", "2026-03-07 10:00", time.Hour, "2026-03-09 10:00"},
		{"Friday afternoon to Monday", "2026-03-06 17:00", time.Hour, "2026-03-09 09:30"},
		// Fri 13 Feb 16:30: 1h to 17:30, then Sat 14 Feb (调休) 09:00 + 1h.
		{"into the make-up Saturday", "2026-02-13 16:30", 2 * time.Hour, "2026-02-14 10:00"},
		// Sat 14 Feb 17:00: 0.5h, then nothing until Tue 24 Feb 09:00 + 0.5h.
		{"across the Spring Festival", "2026-02-14 17:00", time.Hour, "2026-02-24 09:30"},
		{"from inside the festival", "2026-02-18 10:00", 24 * time.Hour, "2026-02-27 12:00"},
		{"across National Day", "2026-09-30 17:00", time.Hour, "2026-10-08 09:30"},
		{"onto the make-up Saturday 10 Oct", "2026-10-09 17:00", time.Hour, "2026-10-10 09:30"},
		// 16h from Fri 9 Oct 09:00: 9 Oct 7h, 10 Oct 7h, Mon 12 Oct 2h -> 11:00.
		{"16 working hours over the make-up weekend", "2026-10-09 09:00", 16 * time.Hour, "2026-10-12 11:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.AddWorkHours(at(t, tc.start), tc.d)
			if want := at(t, tc.want); !got.Equal(want) {
				t.Errorf("AddWorkHours(%s, %v) = %s, want %s", tc.start, tc.d, got.Format(time.DateTime), tc.want)
			}
		})
	}
}

func TestWorkBetween(t *testing.T) {
	t.Parallel()
	c := cal2026(t)
	for _, tc := range []struct {
		name string
		a, b string
		want time.Duration
	}{
		{"same instant", "2026-03-02 10:00", "2026-03-02 10:00", 0},
		{"a working day", "2026-03-02 09:00", "2026-03-02 17:30", 7 * time.Hour},
		{"a whole calendar day", "2026-03-02 00:00", "2026-03-03 00:00", 7 * time.Hour},
		{"lunch does not count", "2026-03-02 12:00", "2026-03-02 13:30", 0},
		{"over lunch", "2026-03-02 11:00", "2026-03-02 14:00", 90 * time.Minute},
		{"a weekend does not count", "2026-03-07 00:00", "2026-03-09 00:00", 0},
		{"a week", "2026-03-02 00:00", "2026-03-09 00:00", 35 * time.Hour},
		// 13 Feb and the make-up 14 Feb, then nothing until 24 Feb.
		{"the Spring Festival fortnight", "2026-02-13 00:00", "2026-02-24 09:00", 14 * time.Hour},
		{"National Day week with 10 Oct", "2026-10-01 00:00", "2026-10-11 00:00", 21 * time.Hour},
		{"reversed is negative", "2026-03-02 17:30", "2026-03-02 09:00", -7 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.WorkBetween(at(t, tc.a), at(t, tc.b)); got != tc.want {
				t.Errorf("WorkBetween(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestWorkDaysIn(t *testing.T) {
	t.Parallel()
	c := cal2026(t)
	// February 2026: 20 weekdays, minus 16..20 and 23 Feb (6), plus Sat 14
	// and Sat 28 (2) = 16. October: 22 weekdays, minus 1, 2, 5, 6, 7 Oct
	// (5), plus Sat 10 (1) = 18.
	for _, tc := range []struct{ month, want int }{{2, 16}, {10, 18}, {3, 22}} {
		if got := c.WorkDaysIn(2026, tc.month); got != tc.want {
			t.Errorf("WorkDaysIn(2026, %d) = %d, want %d", tc.month, got, tc.want)
		}
	}
}

func TestNewCalendarRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		days    []workcal.Day
		windows []workcal.Window
		field   string
	}{
		{"a malformed date", []workcal.Day{{Date: "2026-2-1", Kind: "holiday", Name: "x"}}, nil, "days[0].date"},
		{"an impossible date", []workcal.Day{{Date: "2026-02-30", Kind: "holiday", Name: "x"}}, nil, "days[0].date"},
		{"an unknown kind", []workcal.Day{{Date: "2026-02-16", Kind: "rest", Name: "x"}}, nil, "days[0].kind"},
		{"a date twice", []workcal.Day{{Date: "2026-02-16", Kind: "holiday", Name: "x"}, {Date: "2026-02-16", Kind: "holiday", Name: "y"}}, nil, "days[1].date"},
		{"no windows", nil, []workcal.Window{}, "windows"},
		{"an empty window", nil, []workcal.Window{{600, 600}}, "windows[0].end"},
		{"a window past midnight", nil, []workcal.Window{{600, 1500}}, "windows[0].end"},
		{"overlapping windows", nil, []workcal.Window{{540, 720}, {700, 800}}, "windows[1].start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := workcal.NewCalendar(nil, tc.days, tc.windows, nil)
			assertField(t, err, tc.field)
		})
	}
}

func assertField(t *testing.T, err error, field string) {
	t.Helper()
	var e *errs.Error
	if err == nil {
		t.Fatalf("no error, want one on %s", field)
	}
	if !errors.As(err, &e) || e.Code != errs.CodeInvalid || len(e.Fields) != 1 || e.Fields[0].Field != field {
		t.Fatalf("error %v, want invalid %s", err, field)
	}
	if e.Fields[0].Rule == "" || e.Fields[0].MessageZh == "" {
		t.Errorf("error on %s has no rule or Chinese message: %+v", field, e.Fields[0])
	}
}

func TestCustomWindows(t *testing.T) {
	t.Parallel()
	// One window 08:00-16:00: eight hours a day.
	c, err := workcal.NewCalendar(nil, days2026(), []workcal.Window{{480, 960}}, []int{2026})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.AddWorkHours(at(t, "2026-03-02 15:00"), 2*time.Hour), at(t, "2026-03-03 09:00"); !got.Equal(want) {
		t.Errorf("AddWorkHours = %v, want %v", got, want)
	}
	if got, want := c.AddWorkDays(at(t, "2026-03-02 15:00"), 1), at(t, "2026-03-03 16:00"); !got.Equal(want) {
		t.Errorf("AddWorkDays = %v, want %v", got, want)
	}
}

func TestOtherLocation(t *testing.T) {
	t.Parallel()
	// The same rules in another zone count in that zone's wall clock.
	utc, err := workcal.NewCalendar(time.UTC, days2026(), nil, []int{2026})
	if err != nil {
		t.Fatal(err)
	}
	got := utc.AddWorkDays(time.Date(2026, 2, 12, 10, 0, 0, 0, time.UTC), 3)
	if want := time.Date(2026, 2, 24, 17, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("AddWorkDays in UTC = %v, want %v", got, want)
	}
}

// Properties over random starts in 2025-2027 (fixed seed: reproducible).
func TestProperties(t *testing.T) {
	t.Parallel()
	c := cal2026(t)
	rng := rand.New(rand.NewPCG(2026, 11))
	base := at(t, "2025-12-01 00:00")
	randTime := func() time.Time {
		return base.Add(time.Duration(rng.IntN(400*24*60)) * time.Minute)
	}
	for i := 0; i < 3000; i++ {
		start := randTime()
		d1 := time.Duration(rng.IntN(120*60)) * time.Minute
		d2 := d1 + time.Duration(rng.IntN(40*60))*time.Minute
		e1, e2 := c.AddWorkHours(start, d1), c.AddWorkHours(start, d2)
		// Round trip: the working time from start to the result is d.
		if got := c.WorkBetween(start, e1); got != d1 {
			t.Fatalf("WorkBetween(%v, AddWorkHours(_, %v)) = %v", start, d1, got)
		}
		// Monotonic in d, never before start.
		if e2.Before(e1) || e1.Before(start) {
			t.Fatalf("AddWorkHours not monotonic at %v: %v -> %v, %v -> %v", start, d1, e1, d2, e2)
		}
		// Additive: WorkBetween(a, b) + WorkBetween(b, c) = WorkBetween(a, c).
		mid := randTime()
		end := randTime()
		if c.WorkBetween(start, mid)+c.WorkBetween(mid, end) != c.WorkBetween(start, end) {
			t.Fatalf("WorkBetween not additive over %v, %v, %v", start, mid, end)
		}
		// A positive walk ends on a working day, inside or at the end of a window.
		if d1 > 0 {
			if !c.IsWorkday(e1) {
				t.Fatalf("AddWorkHours(%v, %v) = %v is not a working day", start, d1, e1)
			}
			if c.WorkBetween(e1.Add(-time.Minute), e1) != time.Minute {
				t.Fatalf("AddWorkHours(%v, %v) = %v does not end working time", start, d1, e1)
			}
		}
		// Working days: monotonic in n and in start; the result closes the
		// n-th working day after start's day.
		n := rng.IntN(25)
		w1, w2 := c.AddWorkDays(start, n), c.AddWorkDays(start, n+1)
		// (n = 0 after closing or on a rest day is the next working day,
		// the same as n = 1; from n = 1 on every step adds a day.)
		if w2.Before(w1) || (n > 0 && !w2.After(w1)) {
			t.Fatalf("AddWorkDays(%v, %d) = %v, n+1 gives %v", start, n, w1, w2)
		}
		later := start.Add(time.Duration(rng.IntN(5*24*60)) * time.Minute)
		if c.AddWorkDays(later, n).Before(w1) {
			t.Fatalf("AddWorkDays not monotonic in start: %v < %v", later, start)
		}
		if n > 0 {
			if !c.IsWorkday(w1) || w1.Format("15:04") != "17:30" {
				t.Fatalf("AddWorkDays(%v, %d) = %v: not the close of a working day", start, n, w1)
			}
			count := 0
			day := time.Date(start.Year(), start.Month(), start.Day()+1, 12, 0, 0, 0, cst)
			for ; !day.After(w1); day = day.AddDate(0, 0, 1) {
				if c.IsWorkday(day) {
					count++
				}
			}
			if count != n {
				t.Fatalf("AddWorkDays(%v, %d) = %v spans %d working days", start, n, w1, count)
			}
		}
	}
}

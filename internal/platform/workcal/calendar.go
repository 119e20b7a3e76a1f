// Package workcal is the working-day calendar (工作日历) that statutory
// deadlines count in: Monday to Friday, minus the public holidays of the
// State Council's yearly notice, plus the weekend days that notice turns
// into working days (调休), and the working hours of a working day.
//
// The calendar is data: one set of days per year, entered by an
// administrator when the notice is published (usually in November of the
// year before), and the working-hour windows. A year whose notice is not
// entered falls back to Monday–Friday; Known tells callers so they can
// warn. Calendar is pure and safe for concurrent use; Service stores it.
package workcal

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Kinds of entered days.
const (
	KindHoliday = "holiday" // a public holiday (also on a weekend day)
	KindWorkday = "workday" // a weekend day that is a working day (调休)
)

// Day is one entered day of a year's notice.
type Day struct {
	Date string `json:"date" maxLength:"10" doc:"YYYY-MM-DD"`
	Kind string `json:"kind" enum:"holiday,workday" doc:"holiday: public holiday; workday: weekend day that is a working day (调休)"`
	Name string `json:"name" maxLength:"32" doc:"e.g. 春节, 国庆节, 春节调休"`
}

// Window is a span of working hours in a working day, in minutes after
// midnight (Start inclusive, End exclusive).
type Window struct {
	Start int `json:"start" minimum:"0" maximum:"1440" doc:"Minutes after midnight"`
	End   int `json:"end" minimum:"0" maximum:"1440" doc:"Minutes after midnight"`
}

// DefaultWindows are 09:00–12:00 and 13:30–17:30 (seven hours).
var DefaultWindows = []Window{{9 * 60, 12 * 60}, {13*60 + 30, 17*60 + 30}}

// Shanghai is China Standard Time. A fixed zone, so the result does not
// depend on the machine's time zone database (China has had no daylight
// saving time since 1991).
var Shanghai = time.FixedZone("CST", 8*3600)

// MaxNameLen is the longest day name, in characters.
const MaxNameLen = 32

// civil is a calendar date as a comparable number yyyymmdd.
type civil int

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil(y*10000 + int(m)*100 + d)
}

func (c civil) year() int { return int(c) / 10000 }

// Calendar answers working-day questions in one location.
type Calendar struct {
	loc     *time.Location
	days    map[civil]Day
	windows []Window
	years   map[int]bool
}

// NewCalendar builds a calendar. loc nil means Shanghai; windows nil means
// DefaultWindows; years are the years whose notice is entered. Days must be
// well-formed, unique and of a known kind; windows ascending and apart.
func NewCalendar(loc *time.Location, days []Day, windows []Window, years []int) (*Calendar, error) {
	if loc == nil {
		loc = Shanghai
	}
	if windows == nil {
		windows = DefaultWindows
	}
	if err := ValidateWindows(windows); err != nil {
		return nil, err
	}
	c := &Calendar{loc: loc, days: make(map[civil]Day, len(days)), windows: slices.Clone(windows), years: map[int]bool{}}
	for i, d := range days {
		t, err := parseDate(fmt.Sprintf("days[%d].date", i), d.Date)
		if err != nil {
			return nil, err
		}
		if d.Kind != KindHoliday && d.Kind != KindWorkday {
			return nil, badKind(i)
		}
		k := civilOf(t)
		if _, dup := c.days[k]; dup {
			return nil, duplicate(i, d.Date)
		}
		c.days[k] = d
	}
	for _, y := range years {
		c.years[y] = true
	}
	return c, nil
}

// ValidateWindows checks working-hour windows: at least one, each inside
// the day and not empty, in ascending order without overlap.
func ValidateWindows(ws []Window) error {
	if len(ws) == 0 {
		return errs.Invalid("windows", "minItems", "at least one window of working hours", "至少应有一个工作时段")
	}
	if len(ws) > 8 {
		return errs.Invalid("windows", "maxItems", "at most 8 windows", "最多 8 个工作时段")
	}
	for i, w := range ws {
		f := fmt.Sprintf("windows[%d]", i)
		if w.Start < 0 || w.End > 24*60 || w.Start >= w.End {
			return errs.Invalid(f+".end", "range", "a window starts before it ends, within 00:00–24:00", "时段的开始应早于结束，且在 00:00–24:00 之内")
		}
		if i > 0 && w.Start < ws[i-1].End {
			return errs.Invalid(f+".start", "order", "windows are in ascending order and do not overlap", "时段应按时间先后排列且互不重叠")
		}
	}
	return nil
}

func parseDate(field, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != 10 {
		return time.Time{}, errs.Invalid(field, "format", "a date is written YYYY-MM-DD", "日期格式应为 YYYY-MM-DD")
	}
	return t, nil
}

func badKind(i int) error {
	return errs.Invalid(fmt.Sprintf("days[%d].kind", i), "enum", "kind is holiday or workday", "类型应为 holiday（放假）或 workday（调休上班）")
}

func duplicate(i int, date string) error {
	return errs.Invalid(fmt.Sprintf("days[%d].date", i), "unique", "date "+date+" is entered twice", "日期 "+date+" 重复")
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Windows returns the working-hour windows.
func (c *Calendar) Windows() []Window { return slices.Clone(c.windows) }

// Known reports whether the notice of year is entered. Other years count
// Monday to Friday only.
func (c *Calendar) Known(year int) bool { return c.years[year] }

// KnownBetween reports whether every year from a's to b's (in the
// calendar's location) is known, and lists those that are not.
func (c *Calendar) KnownBetween(a, b time.Time) (bool, []int) {
	ya, yb := a.In(c.loc).Year(), b.In(c.loc).Year()
	if ya > yb {
		ya, yb = yb, ya
	}
	var unknown []int
	for y := ya; y <= yb; y++ {
		if !c.years[y] {
			unknown = append(unknown, y)
		}
	}
	return len(unknown) == 0, unknown
}

// Years lists the known years in ascending order.
func (c *Calendar) Years() []int {
	out := make([]int, 0, len(c.years))
	for y := range c.years {
		out = append(out, y)
	}
	slices.Sort(out)
	return out
}

// DaysIn lists the entered days of a year in date order.
func (c *Calendar) DaysIn(year int) []Day {
	out := []Day{}
	for k, d := range c.days {
		if k.year() == year {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b Day) int { return strings.Compare(a.Date, b.Date) })
	return out
}

// IsWorkday reports whether the day of t (in the calendar's location) is a
// working day: a weekday that is not a holiday, or a make-up working day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	t = t.In(c.loc)
	if d, ok := c.days[civilOf(t)]; ok {
		return d.Kind == KindWorkday
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// midnight is the start of t's day.
func (c *Calendar) midnight(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, c.loc)
}

// at is minute min of the day that starts at day (time.Date, not Add, so a
// zone with daylight saving time still gets wall-clock hours).
func (c *Calendar) at(day time.Time, min int) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, 0, min, 0, 0, c.loc)
}

func (c *Calendar) nextDay(day time.Time) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, c.loc)
}

// closing is the end of the last window of day.
func (c *Calendar) closing(day time.Time) time.Time {
	return c.at(day, c.windows[len(c.windows)-1].End)
}

// maxDays bounds every walk over days (a century), so that no input can
// loop for ever; unreachable with the limits Service puts on its inputs.
const maxDays = 36600

// AddWorkDays is the deadline of n working days counted from the day after
// start (the day of receipt does not count, whatever the hour): the close
// of the last window of the n-th working day. n = 0 (same-day matters,
// 即办) is the close of the day of start when that is a working day and it
// has not closed yet, else the close of the next working day. Negative n
// counts as 0.
func (c *Calendar) AddWorkDays(start time.Time, n int) time.Time {
	day := c.midnight(start)
	if n <= 0 {
		for i := 0; i < maxDays; i++ {
			if c.IsWorkday(day) && start.Before(c.closing(day)) {
				return c.closing(day)
			}
			day = c.nextDay(day)
		}
		return c.closing(day)
	}
	for i := 0; n > 0 && i < maxDays; i++ {
		day = c.nextDay(day)
		if c.IsWorkday(day) {
			n--
		}
	}
	return c.closing(day)
}

// AddWorkHours walks d of working time from start through the working
// windows of working days; time outside them does not count. A result that
// falls exactly on the end of a window stays there (it does not move to the
// next window's start). d <= 0 returns start.
func (c *Calendar) AddWorkHours(start time.Time, d time.Duration) time.Time {
	t := start.In(c.loc)
	if d <= 0 {
		return t
	}
	day := c.midnight(t)
	for i := 0; i < maxDays; i++ {
		if c.IsWorkday(day) {
			for _, w := range c.windows {
				ws, we := c.at(day, w.Start), c.at(day, w.End)
				if t.Before(ws) {
					t = ws
				}
				if !t.Before(we) {
					continue
				}
				avail := we.Sub(t)
				if d <= avail {
					return t.Add(d)
				}
				d -= avail
				t = we
			}
		}
		day = c.nextDay(day)
		t = day
	}
	return t
}

// WorkBetween is the working time between a and b: the parts of working
// windows of working days inside [a, b). It is negative when b is before
// a, so WorkBetween(deadline, now) > 0 reads "overdue by".
func (c *Calendar) WorkBetween(a, b time.Time) time.Duration {
	if b.Before(a) {
		return -c.WorkBetween(b, a)
	}
	var sum time.Duration
	day := c.midnight(a)
	for i := 0; i < maxDays && day.Before(b); i++ {
		if c.IsWorkday(day) {
			for _, w := range c.windows {
				ws, we := c.at(day, w.Start), c.at(day, w.End)
				if ws.Before(a) {
					ws = a
				}
				if we.After(b) {
					we = b
				}
				if we.After(ws) {
					sum += we.Sub(ws)
				}
			}
		}
		day = c.nextDay(day)
	}
	return sum
}

// WorkDaysIn counts the working days of a month (1–12) of a year.
func (c *Calendar) WorkDaysIn(year, month int) int {
	n := 0
	for day := time.Date(year, time.Month(month), 1, 0, 0, 0, 0, c.loc); int(day.Month()) == month; day = c.nextDay(day) {
		if c.IsWorkday(day) {
			n++
		}
	}
	return n
}

// Date formats t's day in the calendar's location as YYYY-MM-DD.
func (c *Calendar) Date(t time.Time) string { return t.In(c.loc).Format(time.DateOnly) }

// FormatMinutes writes minutes after midnight as HH:MM.
func FormatMinutes(m int) string {
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

func itoa(i int) string { return strconv.Itoa(i) }

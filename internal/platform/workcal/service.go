package workcal

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrations create the calendar's tables and enter the notices of 2025
// and 2026 and the default working hours.
func Migrations() db.Migrations {
	return db.Migrations{Module: "workcal", FS: db.Sub(migrationsFS, "migrations")}
}

// Emitter records events in the caller's transaction (the outbox).
type Emitter interface {
	Emit(ctx context.Context, ev bus.Event, subject string) error
}

// Changed reports a change of the calendar, for the ledger: a year's
// notice and days replaced (Action "calendar.year.set", Subject
// "calendar:<year>") or the working hours (Action "calendar.hours.set",
// Subject "calendar:hours"). Payload is the new state (what the ledger
// hashes); Added and Removed are the difference to the old one.
type Changed struct {
	ActorKind string          `json:"actorKind"`
	ActorID   string          `json:"actorId"`
	ActorName string          `json:"actorName"`
	OrgID     string          `json:"orgId"`
	Action    string          `json:"action"`
	Subject   string          `json:"subject"`
	Year      int             `json:"year,omitempty"`
	Notice    string          `json:"notice,omitempty"`
	Added     []Day           `json:"added,omitempty"`
	Removed   []Day           `json:"removed,omitempty"`
	Windows   []Window        `json:"windows,omitempty"`
	At        time.Time       `json:"at"`
	RequestID string          `json:"requestId,omitempty"`
	Ref       string          `json:"ref"`
	Payload   json.RawMessage `json:"payload"`
}

// EventType implements bus.Event.
func (Changed) EventType() string { return "workcal.changed" }

// Units of Deadline.
const (
	UnitWorkDays  = "work_days"  // working days from the day after (AddWorkDays)
	UnitWorkHours = "work_hours" // hours inside working windows (AddWorkHours)
	UnitHours     = "hours"      // natural hours
)

// Limits on inputs, so that no request walks the calendar for long.
const (
	MinYear      = 2000
	MaxYear      = 2100
	maxWorkDays  = 3660
	maxWorkHours = 30000
	maxHours     = 100000
	maxDaysYear  = 200
	maxNoticeLen = 200
)

// cacheTTL bounds how long a calendar changed by another replica stays
// unseen here; this replica's own changes are seen at once.
const cacheTTL = time.Minute

// Service stores the calendar and answers deadline questions.
type Service struct {
	db   *db.DB
	emit Emitter
	now  func() time.Time
	loc  *time.Location

	mu       sync.Mutex
	cal      *Calendar
	loadedAt time.Time
	gen      uint64 // bumped by every change; a load started before one is not cached
}

// New builds the service. emit may be nil (no events: tests); now nil is
// time.Now.
func New(d *db.DB, emit Emitter, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, emit: emit, now: now, loc: Shanghai}
}

// Invalidate drops the cached calendar (for example on a workcal.changed
// event from another replica).
func (s *Service) Invalidate() {
	s.mu.Lock()
	s.cal = nil
	s.gen++
	s.mu.Unlock()
}

// Calendar returns the current calendar (cached). Anyone may read it: the
// holiday notice is public.
func (s *Service) Calendar(ctx context.Context) (*Calendar, error) {
	s.mu.Lock()
	if s.cal != nil && s.now().Sub(s.loadedAt) < cacheTTL {
		c := s.cal
		s.mu.Unlock()
		return c, nil
	}
	gen := s.gen
	s.mu.Unlock()
	c, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.gen == gen {
		s.cal, s.loadedAt = c, s.now()
	}
	s.mu.Unlock()
	return c, nil
}

func (s *Service) load(ctx context.Context) (*Calendar, error) {
	var days []Day
	var years []int
	var windows []Window
	err := func() error {
		rows, err := s.db.Query(ctx, `SELECT date, kind, name FROM workcal_days ORDER BY date`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d Day
			if err := rows.Scan(&d.Date, &d.Kind, &d.Name); err != nil {
				return err
			}
			days = append(days, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if years, err = s.years(ctx); err != nil {
			return err
		}
		windows, err = s.windows(ctx)
		return err
	}()
	if err != nil {
		return nil, errs.Unavailable("working-day calendar", err)
	}
	if len(windows) == 0 {
		windows = DefaultWindows
	}
	return NewCalendar(s.loc, days, windows, years)
}

func (s *Service) years(ctx context.Context) ([]int, error) {
	rows, err := s.db.Query(ctx, `SELECT year FROM workcal_years ORDER BY year`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var y int
		if err := rows.Scan(&y); err != nil {
			return nil, err
		}
		out = append(out, y)
	}
	return out, rows.Err()
}

func (s *Service) windows(ctx context.Context) ([]Window, error) {
	rows, err := s.db.Query(ctx, `SELECT start_min, end_min FROM workcal_windows ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Window
	for rows.Next() {
		var w Window
		if err := rows.Scan(&w.Start, &w.End); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// MonthCount is a month's number of working and rest days.
type MonthCount struct {
	Month    int `json:"month" doc:"1-12"`
	WorkDays int `json:"workDays"`
	RestDays int `json:"restDays"`
}

// YearView is one year of the calendar for people.
type YearView struct {
	Year      int          `json:"year"`
	Known     bool         `json:"known" doc:"Whether the year's notice is entered; otherwise Monday to Friday are counted"`
	Notice    string       `json:"notice" doc:"The notice the days follow (title, number or date)"`
	UpdatedBy string       `json:"updatedBy,omitempty"`
	UpdatedAt *time.Time   `json:"updatedAt,omitempty"`
	Days      []Day        `json:"days" nullable:"false" doc:"Holidays and make-up working days, in date order"`
	Months    []MonthCount `json:"months" nullable:"false"`
	WorkDays  int          `json:"workDays" doc:"Working days in the year"`
}

func validYear(year int) error {
	if year < MinYear || year > MaxYear {
		return errs.Invalid("year", "range", fmt.Sprintf("a year from %d to %d", MinYear, MaxYear), fmt.Sprintf("年份应在 %d 到 %d 之间", MinYear, MaxYear))
	}
	return nil
}

// Year returns one year: its notice, its days and the working days of each
// month.
func (s *Service) Year(ctx context.Context, year int) (YearView, error) {
	if err := validYear(year); err != nil {
		return YearView{}, err
	}
	cal, err := s.Calendar(ctx)
	if err != nil {
		return YearView{}, err
	}
	v := YearView{Year: year, Days: cal.DaysIn(year), Months: make([]MonthCount, 0, 12)}
	var by string
	var at int64
	err = s.db.QueryRow(ctx, `SELECT notice, updated_by, updated_at FROM workcal_years WHERE year = ?`, year).Scan(&v.Notice, &by, &at)
	switch {
	case err == nil:
		v.Known, v.UpdatedBy = true, by
		if at > 0 {
			t := db.Time(at)
			v.UpdatedAt = &t
		}
	case isNoRows(err):
	default:
		return YearView{}, errs.Unavailable("working-day calendar", err)
	}
	for m := 1; m <= 12; m++ {
		n := cal.WorkDaysIn(year, m)
		all := time.Date(year, time.Month(m)+1, 0, 0, 0, 0, 0, cal.loc).Day()
		v.Months = append(v.Months, MonthCount{Month: m, WorkDays: n, RestDays: all - n})
		v.WorkDays += n
	}
	return v, nil
}

// ValidateYear checks the days of one year's notice: well-formed dates
// inside the year, no date twice, kind holiday or workday, a holiday named,
// and a make-up working day on a Saturday or Sunday. Errors name the field
// (days[i].date, days[i].kind, days[i].name) and the rule.
func ValidateYear(year int, notice string, days []Day) error {
	if err := validYear(year); err != nil {
		return err
	}
	if strings.TrimSpace(notice) == "" {
		return errs.Invalid("notice", "required", "name the State Council notice (title, number or date)", "请填写国务院办公厅通知（名称、文号或日期）")
	}
	if utf8.RuneCountInString(notice) > maxNoticeLen {
		return errs.Invalid("notice", "maxLength", fmt.Sprintf("at most %d characters", maxNoticeLen), fmt.Sprintf("不能超过 %d 个字", maxNoticeLen))
	}
	if len(days) > maxDaysYear {
		return errs.Invalid("days", "maxItems", fmt.Sprintf("at most %d days", maxDaysYear), fmt.Sprintf("最多 %d 天", maxDaysYear))
	}
	seen := map[string]int{}
	for i, d := range days {
		field := func(f string) string { return fmt.Sprintf("days[%d].%s", i, f) }
		t, err := parseDate(field("date"), d.Date)
		if err != nil {
			return err
		}
		if t.Year() != year {
			return errs.Invalid(field("date"), "year", fmt.Sprintf("%s is not in %d", d.Date, year), fmt.Sprintf("日期 %s 不在 %d 年内", d.Date, year))
		}
		if j, dup := seen[d.Date]; dup {
			return errs.Invalid(field("date"), "unique", fmt.Sprintf("%s is entered twice (also days[%d])", d.Date, j), fmt.Sprintf("日期 %s 重复（与第 %d 项相同）", d.Date, j+1))
		}
		seen[d.Date] = i
		switch d.Kind {
		case KindHoliday:
			if strings.TrimSpace(d.Name) == "" {
				return errs.Invalid(field("name"), "required", "a holiday has a name, e.g. 春节", "请填写节日名称，如“春节”")
			}
		case KindWorkday:
			if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
				return errs.Invalid(field("date"), "weekend", d.Date+" is a weekday: only a Saturday or Sunday can be made a working day",
					d.Date+" 本来就是工作日：调休上班日只能是星期六或星期日")
			}
		default:
			return badKind(i)
		}
		if utf8.RuneCountInString(d.Name) > MaxNameLen {
			return errs.Invalid(field("name"), "maxLength", fmt.Sprintf("at most %d characters", MaxNameLen), fmt.Sprintf("不能超过 %d 个字", MaxNameLen))
		}
	}
	return nil
}

// SetYear replaces one year's notice and days in one transaction, with its
// event. Needs calendar:write.
func (s *Service) SetYear(ctx context.Context, year int, notice string, days []Day) error {
	p, err := authz.Require(ctx, authz.CalendarWrite)
	if err != nil {
		return err
	}
	notice = strings.TrimSpace(notice)
	clean := make([]Day, len(days))
	for i, d := range days {
		clean[i] = Day{Date: strings.TrimSpace(d.Date), Kind: d.Kind, Name: strings.TrimSpace(d.Name)}
	}
	if err := ValidateYear(year, notice, clean); err != nil {
		return err
	}
	slices.SortFunc(clean, func(a, b Day) int { return strings.Compare(a.Date, b.Date) })
	now := s.now()
	lo, hi := fmt.Sprintf("%04d-01-01", year), fmt.Sprintf("%04d-12-31", year)
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		old, err := s.daysBetween(ctx, lo, hi)
		if err != nil {
			return err
		}
		if _, err := s.db.Exec(ctx, `DELETE FROM workcal_days WHERE date >= ? AND date <= ?`, lo, hi); err != nil {
			return err
		}
		for _, d := range clean {
			if _, err := s.db.Exec(ctx, `INSERT INTO workcal_days (date, kind, name, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)`,
				d.Date, d.Kind, d.Name, p.Name, db.Millis(now)); err != nil {
				return err
			}
		}
		if _, err := s.db.Exec(ctx, `INSERT INTO workcal_years (year, notice, updated_by, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (year) DO UPDATE SET notice = excluded.notice, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			year, notice, p.Name, db.Millis(now)); err != nil {
			return err
		}
		added, removed := diffDays(old, clean)
		payload, _ := json.Marshal(struct {
			Year   int    `json:"year"`
			Notice string `json:"notice"`
			Days   []Day  `json:"days"`
		}{year, notice, clean})
		return s.event(ctx, p, Changed{Action: "calendar.year.set", Subject: "calendar:" + itoa(year), Year: year, Notice: notice,
			Added: added, Removed: removed, Payload: payload})
	})
	if err != nil {
		return err
	}
	s.Invalidate()
	return nil
}

// Windows returns the working hours of a working day.
func (s *Service) Windows(ctx context.Context) ([]Window, error) {
	cal, err := s.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	return cal.Windows(), nil
}

// SetWindows replaces the working hours, with its event. Needs
// calendar:write.
func (s *Service) SetWindows(ctx context.Context, windows []Window) error {
	p, err := authz.Require(ctx, authz.CalendarWrite)
	if err != nil {
		return err
	}
	if err := ValidateWindows(windows); err != nil {
		return err
	}
	now := s.now()
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `DELETE FROM workcal_windows`); err != nil {
			return err
		}
		for i, w := range windows {
			if _, err := s.db.Exec(ctx, `INSERT INTO workcal_windows (seq, start_min, end_min, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)`,
				i+1, w.Start, w.End, p.Name, db.Millis(now)); err != nil {
				return err
			}
		}
		payload, _ := json.Marshal(struct {
			Windows []Window `json:"windows"`
		}{windows})
		return s.event(ctx, p, Changed{Action: "calendar.hours.set", Subject: "calendar:hours", Windows: windows, Payload: payload})
	})
	if err != nil {
		return err
	}
	s.Invalidate()
	return nil
}

func (s *Service) event(ctx context.Context, p *authz.Principal, ev Changed) error {
	if s.emit == nil {
		return nil
	}
	ev.ActorKind, ev.ActorID, ev.ActorName, ev.OrgID = string(p.Kind), p.ID, p.Name, p.OrgID
	ev.At = s.now().UTC()
	ev.RequestID = httpx.RequestID(ctx)
	ev.Ref = uuid.Must(uuid.NewV7()).String()
	return s.emit.Emit(ctx, ev, ev.Subject)
}

func (s *Service) daysBetween(ctx context.Context, lo, hi string) ([]Day, error) {
	rows, err := s.db.Query(ctx, `SELECT date, kind, name FROM workcal_days WHERE date >= ? AND date <= ? ORDER BY date`, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Day
	for rows.Next() {
		var d Day
		if err := rows.Scan(&d.Date, &d.Kind, &d.Name); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// diffDays lists the days of next not in old (new or changed) and the days
// of old not in next (removed or changed).
func diffDays(old, next []Day) (added, removed []Day) {
	in := func(list []Day, d Day) bool {
		for _, x := range list {
			if x == d {
				return true
			}
		}
		return false
	}
	for _, d := range next {
		if !in(old, d) {
			added = append(added, d)
		}
	}
	for _, d := range old {
		if !in(next, d) {
			removed = append(removed, d)
		}
	}
	return added, removed
}

// Deadline is the deadline of n units from from: n working days counted
// from the next day (work_days), n hours of working time (work_hours), or
// n natural hours (hours).
func (s *Service) Deadline(ctx context.Context, from time.Time, n int, unit string) (time.Time, error) {
	cal, err := s.Calendar(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return deadline(cal, from, n, unit)
}

func deadline(cal *Calendar, from time.Time, n int, unit string) (time.Time, error) {
	limit := 0
	switch unit {
	case UnitWorkDays:
		limit = maxWorkDays
	case UnitWorkHours:
		limit = maxWorkHours
	case UnitHours:
		limit = maxHours
	default:
		return time.Time{}, errs.Invalid("unit", "enum", "unit is work_days, work_hours or hours", "单位应为 work_days（工作日）、work_hours（工作小时）或 hours（自然小时）")
	}
	if n < 0 || n > limit {
		return time.Time{}, errs.Invalid("n", "range", fmt.Sprintf("n is from 0 to %d for %s", limit, unit), fmt.Sprintf("数量应在 0 到 %d 之间", limit))
	}
	if from.IsZero() {
		return time.Time{}, errs.Invalid("from", "required", "the start time is required", "请填写起算时间")
	}
	switch unit {
	case UnitWorkDays:
		return cal.AddWorkDays(from, n), nil
	case UnitWorkHours:
		return cal.AddWorkHours(from, time.Duration(n)*time.Hour), nil
	}
	return from.In(cal.loc).Add(time.Duration(n) * time.Hour), nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

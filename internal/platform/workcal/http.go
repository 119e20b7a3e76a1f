package workcal

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

func op(id, method, path, summary string) huma.Operation {
	return huma.Operation{OperationID: id, Method: method, Path: "/api/v1/calendar" + path, Summary: summary, Tags: []string{"Working-day calendar"}}
}

// Windows is the working hours of a working day.
type Windows struct {
	Windows []Window `json:"windows" nullable:"false" maxItems:"8" doc:"Ascending, non-overlapping spans in minutes after midnight"`
}

// YearPath names a year.
type YearPath struct {
	Year int `path:"year" minimum:"2000" maximum:"2100"`
}

// DeadlineQuery asks for a deadline.
type DeadlineQuery struct {
	From string `query:"from" required:"true" maxLength:"40" doc:"Start, RFC 3339 (e.g. 2026-02-12T10:00:00+08:00)"`
	N    int    `query:"n" required:"true" minimum:"0" maximum:"100000" doc:"Number of units"`
	Unit string `query:"unit" default:"work_days" enum:"work_days,work_hours,hours" doc:"work_days: working days from the day after; work_hours: hours of working time; hours: natural hours"`
}

// DeadlineReply is a deadline and whether it rests on entered notices.
type DeadlineReply struct {
	From     time.Time `json:"from"`
	N        int       `json:"n"`
	Unit     string    `json:"unit"`
	Deadline time.Time `json:"deadline" doc:"In China Standard Time (+08:00)"`
	Known    bool      `json:"known" doc:"Whether the notice of every year crossed is entered; otherwise Monday to Friday were counted for the others"`
	Unknown  []int     `json:"unknownYears" nullable:"false" doc:"Years crossed whose notice is not entered"`
}

// Routes registers the calendar's API: reading a year, the working hours
// and deadlines for any logged-in caller; changing them with
// calendar:write.
func (s *Service) Routes(api huma.API) {
	httpx.Register(api, httpx.Op{Operation: op("calendar-deadline", http.MethodGet, "/deadline", "Compute a deadline (working days, working hours or hours)")},
		func(ctx context.Context, in *struct{ DeadlineQuery }) (*httpx.Body[DeadlineReply], error) {
			from, err := time.Parse(time.RFC3339, strings.TrimSpace(in.From))
			if err != nil {
				return nil, errs.Invalid("from", "format", "an RFC 3339 date-time, e.g. 2026-02-12T10:00:00+08:00", "应为 RFC 3339 日期时间，如 2026-02-12T10:00:00+08:00")
			}
			cal, err := s.Calendar(ctx)
			if err != nil {
				return nil, err
			}
			due, err := deadline(cal, from, in.N, in.Unit)
			if err != nil {
				return nil, err
			}
			known, unknown := cal.KnownBetween(from, due)
			if unknown == nil {
				unknown = []int{}
			}
			return httpx.Reply(DeadlineReply{From: from.In(cal.loc), N: in.N, Unit: in.Unit, Deadline: due, Known: known, Unknown: unknown}), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("calendar-hours", http.MethodGet, "/hours", "Working hours of a working day")},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[Windows], error) {
			ws, err := s.Windows(ctx)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(Windows{ws}), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("calendar-set-hours", http.MethodPut, "/hours", "Set the working hours"), Perm: authz.CalendarWrite},
		func(ctx context.Context, in *struct{ Body Windows }) (*httpx.Body[Windows], error) {
			if err := s.SetWindows(ctx, in.Body.Windows); err != nil {
				return nil, err
			}
			ws, err := s.Windows(ctx)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(Windows{ws}), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("calendar-year", http.MethodGet, "/{year}", "A year of the calendar: notice, holidays, make-up working days, working days per month")},
		func(ctx context.Context, in *YearPath) (*httpx.Body[YearView], error) {
			v, err := s.Year(ctx, in.Year)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(v), nil
		})
	type setYear struct {
		Notice string `json:"notice" maxLength:"200" doc:"The State Council notice: title, number (e.g. 国办发明电〔2025〕7号) or date"`
		Days   []Day  `json:"days" nullable:"false" maxItems:"200" doc:"Every holiday and make-up working day of the year"`
	}
	httpx.Register(api, httpx.Op{Operation: op("calendar-set-year", http.MethodPut, "/{year}", "Enter a year's holiday notice (replaces its days)"), Perm: authz.CalendarWrite},
		func(ctx context.Context, in *struct {
			YearPath
			Body setYear
		}) (*httpx.Body[YearView], error) {
			if err := s.SetYear(ctx, in.Year, in.Body.Notice, in.Body.Days); err != nil {
				return nil, err
			}
			v, err := s.Year(ctx, in.Year)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(v), nil
		})
}

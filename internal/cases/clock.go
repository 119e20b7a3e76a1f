package cases

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

func mustRe(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// yellowShare is the share of the allowed working time after which a case
// turns yellow (deadline near).
const yellowShare = 0.8

// deadlines computes a case's yellow warning and deadline from dispatch,
// in the category's unit: natural hours, or working hours and working days
// on the official calendar (holidays and make-up working days).
func (s *Service) deadlines(ctx context.Context, cat *Category, from time.Time) (yellow, deadline time.Time, err error) {
	if cat.Unit == "hours" {
		d := time.Duration(cat.Deadline) * time.Hour
		return from.Add(time.Duration(float64(d) * yellowShare)), from.Add(d), nil
	}
	cal, err := s.calendar(ctx)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	switch cat.Unit {
	case "work_hours":
		d := time.Duration(cat.Deadline) * time.Hour
		return cal.AddWorkHours(from, time.Duration(float64(d)*yellowShare)), cal.AddWorkHours(from, d), nil
	case "work_days":
		deadline = cal.AddWorkDays(from, cat.Deadline)
		total := cal.WorkBetween(from, deadline)
		return cal.AddWorkHours(from, time.Duration(float64(total)*yellowShare)), deadline, nil
	}
	return time.Time{}, time.Time{}, fmt.Errorf("cases: category %s has unknown deadline unit %q", cat.Code, cat.Unit)
}

// extend moves a deadline so that the time left at from (natural or
// working, in the category's unit) is left again at to: a suspension stops
// the clock. Yellow comes at the same share of what is left.
func (s *Service) extend(ctx context.Context, cat *Category, from, to, deadline time.Time) (yellow, nd time.Time, err error) {
	if !deadline.After(from) {
		return deadline, deadline, nil // already overdue when the clock stopped
	}
	if cat.Unit == "hours" {
		left := deadline.Sub(from)
		return to.Add(time.Duration(float64(left) * yellowShare)), to.Add(left), nil
	}
	cal, err := s.calendar(ctx)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	left := cal.WorkBetween(from, deadline)
	return cal.AddWorkHours(to, time.Duration(float64(left)*yellowShare)), cal.AddWorkHours(to, left), nil
}

// assign hands a case to a unit and starts its clock.
func (s *Service) assign(ctx context.Context, c *Case, dept string, unit *Unit, now int64) error {
	cat, ok := s.category(c.Category)
	if !ok {
		return fmt.Errorf("cases: unknown category %q", c.Category)
	}
	yellow, deadline, err := s.deadlines(ctx, cat, time.UnixMilli(now))
	if err != nil {
		return err
	}
	c.Dept, c.OrgID, c.OrgName = dept, unit.ID, unit.Name
	c.State, c.DispatchedAt = Dispatched, now
	if c.FirstDispatch == 0 {
		c.FirstDispatch = now
	}
	c.YellowAt, c.DeadlineAt, c.Warning = yellow.UnixMilli(), deadline.UnixMilli(), 0
	return nil
}

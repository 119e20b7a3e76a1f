package cases

import (
	"context"
	"fmt"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Watch turns cases yellow when their deadline is near and red when it has
// passed, escalating red cases to the unit's head and the operations
// centre (督办) and telling the handling unit, every interval until ctx ends.
func (s *Service) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cases: deadline watch", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick runs one pass of the deadline watch and returns how many cases
// changed colour.
func (s *Service) Tick(ctx context.Context) (int, error) {
	now := s.nowMs()
	rows, err := s.db.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE state = 'dispatched' AND
		((warning < 1 AND yellow_at > 0 AND yellow_at <= ?) OR (warning < 2 AND deadline_at > 0 AND deadline_at <= ?)) ORDER BY deadline_at LIMIT 500`, now, now)
	if err != nil {
		return 0, err
	}
	var due []*Case
	for rows.Next() {
		c, err := s.scanCase(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	changed := 0
	sys := actorRef{kind: "system", id: "deadline-watch", name: "时限监控"}
	for _, c := range due {
		err := s.db.InTx(ctx, func(ctx context.Context) error {
			seq, err := s.nextSeq(ctx, c.ID)
			if err != nil {
				return err
			}
			level, action, msg := 1, "warn-yellow", fmt.Sprintf("案件 %s 即将超期（期限 %s）", c.No, time.UnixMilli(c.DeadlineAt).In(cst).Format("01-02 15:04"))
			if c.DeadlineAt <= now {
				level, action, msg = 2, "overdue", fmt.Sprintf("案件 %s 已超期，已自动督办", c.No)
			}
			e := sys.event(action, c.State, c.State, "", map[string]int64{"deadlineAt": c.DeadlineAt}, now)
			e.Seq = seq
			if err := s.insertEvent(ctx, c, e, ""); err != nil {
				return err
			}
			c.Warning = level
			if level == 2 && c.Supervised < 2 {
				c.Supervised = 2
				e := sys.event("escalate", c.State, c.State, "超期自动督办", map[string]int{"level": 2}, now)
				e.Seq = seq + 1
				if err := s.insertEvent(ctx, c, e, ""); err != nil {
					return err
				}
				if u, err := s.dir.UnitFor(ctx, "cyzx", c.Grid); err == nil {
					if err := s.notify(ctx, u.ID, "", c.ID, "escalation", msg); err != nil {
						return err
					}
				} else if errs.CodeOf(err) != errs.CodeNotFound {
					return err
				}
			}
			kind := "warning"
			if level == 2 {
				kind = "overdue"
			}
			if err := s.notify(ctx, c.OrgID, "", c.ID, kind, msg); err != nil {
				return err
			}
			c.UpdatedAt = now
			return s.updateCase(ctx, c)
		})
		if errs.CodeOf(err) == errs.CodeConflict {
			continue // changed meanwhile; the next pass sees it again
		}
		if err != nil {
			return changed, err
		}
		changed++
	}
	if changed > 0 {
		s.kickEvidence()
	}
	return changed, nil
}

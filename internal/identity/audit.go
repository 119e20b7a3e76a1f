package identity

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

// AuditEntry is one administrative action.
type AuditEntry struct {
	ID        string         `json:"id"`
	At        time.Time      `json:"at"`
	OrgID     string         `json:"orgId,omitempty"`
	ActorKind string         `json:"actorKind"`
	ActorID   string         `json:"actorId"`
	ActorName string         `json:"actorName"`
	Action    string         `json:"action"`
	Subject   string         `json:"subject"`
	Detail    map[string]any `json:"detail"`
	IP        string         `json:"ip"`
	RequestID string         `json:"requestId"`
	ScopeKey  string         `json:"-"`
}

func requestMeta(ctx context.Context) httpx.Meta { return httpx.MetaFrom(ctx) }

// audit records an action by the context's principal, inside the caller's
// transaction when there is one.
func (s *Service) audit(ctx context.Context, action, subject string, detail map[string]any) error {
	p := authz.From(ctx)
	e := AuditEntry{ID: newID(), At: s.now().UTC(), Action: action, Subject: subject, Detail: detail}
	if p != nil {
		e.ActorKind, e.ActorID, e.ActorName, e.ScopeKey, e.OrgID = string(p.Kind), p.ID, p.Name, p.Scope, p.OrgID
	} else {
		e.ActorKind, e.ActorID, e.ActorName = "anonymous", "", ""
	}
	return s.writeAudit(ctx, e)
}

func (s *Service) writeAudit(ctx context.Context, e AuditEntry) error {
	m := requestMeta(ctx)
	e.IP, e.RequestID = m.IP, m.RequestID
	if e.Detail == nil {
		e.Detail = map[string]any{}
	}
	detail, err := json.Marshal(e.Detail)
	if err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, action, subject, detail, ip, request_id, scope_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, db.Millis(e.At), e.ActorKind, e.ActorID, e.ActorName, e.Action, e.Subject, string(detail), e.IP, e.RequestID, e.ScopeKey); err != nil {
		return err
	}
	if s.events != nil {
		if err := s.events.Emit(ctx, Audited{Entry: e}, e.Subject); err != nil {
			return err
		}
		if ev := eventFor(e.Action, e.Subject, e.Detail); ev != nil {
			if err := s.events.Emit(ctx, ev, e.Subject); err != nil {
				return err
			}
		}
	}
	if s.sink != nil {
		return s.sink.Audited(ctx, e)
	}
	return nil
}

// AuditFilter narrows ListAudit.
type AuditFilter struct {
	Actor  string // actor name contains
	Action string // action prefix, e.g. "user." or "login.failure"
	From   time.Time
	To     time.Time
}

// ListAudit lists audit entries of the caller's region, newest first.
func (s *Service) ListAudit(ctx context.Context, f AuditFilter, limit, offset int) ([]AuditEntry, int, error) {
	p, err := authz.Require(ctx, authz.AuditRead)
	if err != nil {
		return nil, 0, err
	}
	lo, hi := p.ScopeRange()
	where := []string{"scope_key >= ? AND scope_key < ?"}
	args := []any{lo, hi}
	if f.Actor != "" {
		where, args = append(where, `actor_name LIKE ? ESCAPE '\'`), append(args, db.Like(f.Actor))
	}
	if f.Action != "" {
		where, args = append(where, `action LIKE ? ESCAPE '\'`), append(args, strings.TrimSuffix(db.Like(f.Action), "%")[1:]+"%")
	}
	if !f.From.IsZero() {
		where, args = append(where, "at >= ?"), append(args, db.Millis(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "at < ?"), append(args, db.Millis(f.To))
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, at, actor_kind, actor_id, actor_name, action, subject, detail, ip, request_id
		FROM audit_log WHERE `+cond+` ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		var detail string
		if err := rows.Scan(&e.ID, &at, &e.ActorKind, &e.ActorID, &e.ActorName, &e.Action, &e.Subject, &detail, &e.IP, &e.RequestID); err != nil {
			return nil, 0, err
		}
		e.At = db.Time(at)
		_ = json.Unmarshal([]byte(detail), &e.Detail)
		out = append(out, e)
	}
	return out, total, rows.Err()
}

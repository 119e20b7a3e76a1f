package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Me is the logged-in user as the UI needs it.
type Me struct {
	ID           string       `json:"id"`
	Username     string       `json:"username"`
	DisplayName  string       `json:"displayName"`
	Roles        []authz.Role `json:"roles" nullable:"false"`
	Permissions  []string     `json:"permissions" nullable:"false"`
	OrgID        string       `json:"orgId,omitempty"`
	OrgName      string       `json:"orgName,omitempty"`
	DivisionCode string       `json:"divisionCode"`
	DivisionName string       `json:"divisionName"`
}

// Session is a new browser session.
type Session struct {
	Token     string
	CSRF      string
	ExpiresAt time.Time
	Me        *Me
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

var errBadLogin = errs.Unauthenticated("wrong username or password", "用户名或密码错误")

// Login checks a password and opens a session. After MaxFailedLogins
// failures the account is locked for LockoutFor; a locked account is
// refused even with the right password.
func (s *Service) Login(ctx context.Context, username, password string) (*Session, error) {
	username = strings.TrimSpace(username)
	var id, hash, status, scope string
	var failed int
	var lockedUntil int64
	err := s.db.QueryRow(ctx, `SELECT id, password_hash, status, failed_logins, locked_until, scope_key FROM users WHERE username = ?`, username).
		Scan(&id, &hash, &status, &failed, &lockedUntil, &scope)
	if errors.Is(err, sql.ErrNoRows) {
		_, _, _ = s.passwords.Verify(s.dummyHash(), password)
		s.auditLogin(ctx, "login.failure", "", username, "", map[string]any{"reason": "unknown user"})
		return nil, errBadLogin
	}
	if err != nil {
		return nil, errs.Unavailable("database", err)
	}
	now := s.now()
	if lockedUntil > db.Millis(now) {
		s.auditLogin(ctx, "login.locked", id, username, scope, nil)
		return nil, &errs.Error{Code: errs.CodeLocked, Message: "account locked after repeated failed logins; try later or ask a security administrator",
			MessageZh: "多次登录失败，账号已锁定，请稍后再试或联系安全管理员解锁"}
	}
	ok, rehash, err := s.passwords.Verify(hash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		failed++
		var until int64
		if failed >= s.policy.MaxFailedLogins {
			until, failed = db.Millis(now.Add(s.policy.LockoutFor)), 0
		}
		if _, err := s.db.Exec(ctx, `UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?`, failed, until, id); err != nil {
			return nil, errs.Unavailable("database", err)
		}
		detail := map[string]any{"reason": "wrong password"}
		if until > 0 {
			detail["lockedUntil"] = db.Time(until)
		}
		s.auditLogin(ctx, "login.failure", id, username, scope, detail)
		return nil, errBadLogin
	}
	if status != StatusActive {
		s.auditLogin(ctx, "login.failure", id, username, scope, map[string]any{"reason": "disabled"})
		return nil, errs.Unauthenticated("this account is disabled", "账号已停用")
	}
	sess := &Session{Token: randomToken(32), CSRF: randomToken(24), ExpiresAt: now.Add(s.policy.SessionTTL)}
	m := requestMeta(ctx)
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?`, id); err != nil {
			return err
		}
		if rehash {
			if h, err := s.passwords.Hash(password); err == nil {
				if _, err := s.db.Exec(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, h, id); err != nil {
					return err
				}
			}
		}
		if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND expires_at < ?`, id, db.Millis(now)); err != nil {
			return err
		}
		ua := m.UserAgent
		if len(ua) > 256 {
			ua = ua[:256]
		}
		_, err := s.db.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf, ip, user_agent, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			sha(sess.Token), id, sess.CSRF, m.IP, ua, db.Millis(now), db.Millis(now), db.Millis(sess.ExpiresAt))
		if err != nil {
			return err
		}
		return s.writeAudit(ctx, AuditEntry{ID: newID(), At: now.UTC(), ActorKind: string(authz.KindUser), ActorID: id, ActorName: username,
			Action: "login.success", Subject: "user:" + id, ScopeKey: scope})
	})
	if err != nil {
		return nil, err
	}
	p, _, err := s.principalForSession(ctx, sess.Token)
	if err != nil {
		return nil, err
	}
	sess.Me, err = s.Me(authz.With(ctx, p))
	return sess, err
}

// auditLogin records a login event outside any transaction; a failure to
// record is logged, not returned, so it cannot unlock a brute force.
func (s *Service) auditLogin(ctx context.Context, action, id, username, scope string, detail map[string]any) {
	err := s.writeAudit(ctx, AuditEntry{ID: newID(), At: s.now().UTC(), ActorKind: string(authz.KindUser), ActorID: id, ActorName: username,
		Action: action, Subject: "user:" + id, Detail: detail, ScopeKey: scope})
	if err != nil {
		s.log.Error("audit login", "err", err)
	}
}

// Logout ends the caller's session.
func (s *Service) Logout(ctx context.Context) error {
	p := authz.From(ctx)
	if p == nil || p.SessionID == "" {
		return nil
	}
	return s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, p.SessionID); err != nil {
			return err
		}
		return s.audit(ctx, "logout", "user:"+p.ID, nil)
	})
}

// Session resolves a session cookie (httpx.Authenticator).
func (s *Service) Session(ctx context.Context, token string) (*authz.Principal, string, error) {
	return s.principalForSession(ctx, token)
}

func (s *Service) principalForSession(ctx context.Context, token string) (*authz.Principal, string, error) {
	idHash := sha(token)
	var p authz.Principal
	var csrf, orgID string
	var expires, lastSeen int64
	err := s.db.QueryRow(ctx, `SELECT u.id, u.username, u.display_name, COALESCE(u.org_id, ''), u.scope_key, s.csrf, s.expires_at, s.last_seen_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND u.status = ?`, idHash, StatusActive).
		Scan(&p.ID, &p.Name, &p.DisplayName, &orgID, &p.Scope, &csrf, &expires, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", errs.Unauthenticated("session expired", "会话已过期，请重新登录")
	}
	if err != nil {
		return nil, "", errs.Unavailable("database", err)
	}
	now := db.Millis(s.now())
	if expires <= now {
		return nil, "", errs.Unauthenticated("session expired", "会话已过期，请重新登录")
	}
	p.Kind, p.OrgID, p.SessionID = authz.KindUser, orgID, idHash
	roles, err := s.rolesOf(ctx, p.ID)
	if err != nil {
		return nil, "", errs.Unavailable("database", err)
	}
	p.Roles, p.Permissions = roles, authz.PermissionsOf(roles)
	// Record activity at most once a minute, not on every request.
	if now-lastSeen > 60_000 {
		_, _ = s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, now, idHash)
	}
	return &p, csrf, nil
}

func (s *Service) rolesOf(ctx context.Context, userID string) ([]authz.Role, error) {
	rows, err := s.db.Query(ctx, `SELECT role FROM user_roles WHERE user_id = ? ORDER BY role`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []authz.Role
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, authz.Role(r))
	}
	return out, rows.Err()
}

// Me describes the calling user.
func (s *Service) Me(ctx context.Context) (*Me, error) {
	p := authz.From(ctx)
	if p == nil {
		return nil, errs.Unauthenticated("login required", "请先登录")
	}
	m := &Me{ID: p.ID, Username: p.Name, DisplayName: p.DisplayName, Roles: p.Roles, OrgID: p.OrgID, Permissions: []string{}}
	if m.Roles == nil {
		m.Roles = []authz.Role{}
	}
	for _, perm := range p.Permissions {
		m.Permissions = append(m.Permissions, string(perm))
	}
	if p.Kind == authz.KindUser {
		err := s.db.QueryRow(ctx, `SELECT u.division_code, d.name, COALESCE(o.name, '')`+userFrom+`WHERE u.id = ?`, p.ID).Scan(&m.DivisionCode, &m.DivisionName, &m.OrgName)
		if err != nil {
			return nil, err
		}
	} else {
		err := s.db.QueryRow(ctx, `SELECT o.division_code, d.name, o.name FROM orgs o JOIN divisions d ON d.code = o.division_code WHERE o.id = ?`, p.OrgID).
			Scan(&m.DivisionCode, &m.DivisionName, &m.OrgName)
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

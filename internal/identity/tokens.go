package identity

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// TokenPrefix starts every API token, so leaked tokens are easy to find.
const TokenPrefix = "shz_"

// Token describes an API token (never its secret).
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	OrgID      string     `json:"orgId"`
	OrgName    string     `json:"orgName"`
	Scopes     []string   `json:"scopes" nullable:"false"`
	Prefix     string     `json:"prefix" doc:"First characters of the token, to recognise it"`
	CreatedBy  string     `json:"createdBy"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  time.Time  `json:"expiresAt"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	Status     string     `json:"status" enum:"active,expired,revoked"`
}

// NewToken is the input to IssueToken.
type NewToken struct {
	Name          string
	OrgID         string
	Scopes        []string
	ExpiresInDays int
}

// IssueToken creates a token for a department system and returns its
// secret, which is shown once and stored only as a hash.
func (s *Service) IssueToken(ctx context.Context, in NewToken) (*Token, string, error) {
	p, err := authz.Require(ctx, authz.TokensManage)
	if err != nil {
		return nil, "", err
	}
	name, err := validName("name", in.Name, 64)
	if err != nil {
		return nil, "", err
	}
	if len(in.Scopes) == 0 {
		return nil, "", errs.Invalid("scopes", "minItems", "at least one scope is required", "至少选择一个权限范围")
	}
	for _, sc := range in.Scopes {
		if !slices.Contains(authz.TokenScopes, authz.Permission(sc)) {
			return nil, "", errs.Invalid("scopes", "enum", "scope "+sc+" cannot be given to a token", "权限范围 "+sc+" 不能授予令牌")
		}
	}
	if in.ExpiresInDays < 1 || in.ExpiresInDays > 366 {
		return nil, "", errs.Invalid("expiresInDays", "range", "a token lives 1 to 366 days", "有效期应为 1 到 366 天")
	}
	var orgScope string
	err = s.db.QueryRow(ctx, `SELECT scope_key FROM orgs WHERE id = ?`, in.OrgID).Scan(&orgScope)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.InScope(orgScope)) {
		return nil, "", errs.Invalid("orgId", "exists", "the organisation does not exist", "所属机构不存在")
	}
	if err != nil {
		return nil, "", err
	}
	secret := TokenPrefix + randomToken(30)
	id := newID()
	now := s.now()
	scopes := slices.Clone(in.Scopes)
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `INSERT INTO api_tokens (id, name, org_id, hash, prefix, scopes, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, name, in.OrgID, sha(secret), secret[:10], strings.Join(scopes, " "), p.Name,
			db.Millis(now), db.Millis(now.AddDate(0, 0, in.ExpiresInDays))); err != nil {
			return err
		}
		return s.audit(ctx, "token.issue", "token:"+id, map[string]any{"name": name, "org": in.OrgID, "scopes": scopes, "days": in.ExpiresInDays})
	})
	if err != nil {
		return nil, "", err
	}
	t, err := s.getToken(ctx, p, id)
	return t, secret, err
}

// RevokeToken revokes a token at once.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	p, err := authz.Require(ctx, authz.TokensManage)
	if err != nil {
		return err
	}
	t, err := s.getToken(ctx, p, id)
	if err != nil {
		return err
	}
	if t.RevokedAt != nil {
		return nil
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, db.Millis(s.now()), id); err != nil {
			return err
		}
		return s.audit(ctx, "token.revoke", "token:"+id, map[string]any{"name": t.Name})
	})
	s.tokens.clear() // revoked at once here; other replicas within tokenTTL
	return err
}

// tokenTTL is how long a resolved token is reused without reading the
// database: a revocation on another replica takes effect within it.
const tokenTTL = 2 * time.Second

// tokenCache keeps resolved tokens by hash (the API's machine clients send
// the same token with every request).
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedToken
}

type cachedToken struct {
	p       authz.Principal
	expires int64 // the token's own expiry, unix ms
	at      time.Time
}

func (c *tokenCache) get(hash string, now time.Time) (*authz.Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || now.Sub(e.at) >= tokenTTL || now.UnixMilli() >= e.expires {
		return nil, false
	}
	p := e.p
	p.Permissions = slices.Clone(e.p.Permissions)
	return &p, true
}

func (c *tokenCache) put(hash string, p *authz.Principal, expires int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10_000 {
		c.m = map[string]cachedToken{}
	}
	c.m[hash] = cachedToken{p: *p, expires: expires, at: now}
}

func (c *tokenCache) clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

const tokenCols = `t.id, t.name, t.org_id, o.name, t.scopes, t.prefix, t.created_by, t.created_at, t.expires_at, t.revoked_at, t.last_used_at`

func (s *Service) scanToken(sc interface{ Scan(...any) error }) (*Token, error) {
	var t Token
	var scopes string
	var created, expires, revoked, used int64
	if err := sc.Scan(&t.ID, &t.Name, &t.OrgID, &t.OrgName, &scopes, &t.Prefix, &t.CreatedBy, &created, &expires, &revoked, &used); err != nil {
		return nil, err
	}
	t.Scopes = strings.Fields(scopes)
	t.CreatedAt, t.ExpiresAt = db.Time(created), db.Time(expires)
	t.Status = "active"
	if expires <= db.Millis(s.now()) {
		t.Status = "expired"
	}
	if revoked > 0 {
		r := db.Time(revoked)
		t.RevokedAt, t.Status = &r, "revoked"
	}
	if used > 0 {
		u := db.Time(used)
		t.LastUsedAt = &u
	}
	return &t, nil
}

func (s *Service) getToken(ctx context.Context, p *authz.Principal, id string) (*Token, error) {
	t, err := s.scanToken(s.db.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens t JOIN orgs o ON o.id = t.org_id WHERE t.id = ? AND o.scope_key >= ? AND o.scope_key < ?`, append([]any{id}, scopeArgs(p)...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("token", id)
	}
	return t, err
}

// ListTokens lists the tokens of organisations in the caller's region.
func (s *Service) ListTokens(ctx context.Context, orgID, q string, limit, offset int) ([]Token, int, error) {
	p, err := authz.Require(ctx, authz.TokensManage)
	if err != nil {
		return nil, 0, err
	}
	where := []string{"o.scope_key >= ? AND o.scope_key < ?"}
	args := scopeArgs(p)
	if orgID != "" {
		where, args = append(where, "t.org_id = ?"), append(args, orgID)
	}
	if q != "" {
		where, args = append(where, `(t.name LIKE ? ESCAPE '\' OR o.name LIKE ? ESCAPE '\')`), append(args, db.Like(q), db.Like(q))
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM api_tokens t JOIN orgs o ON o.id = t.org_id WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens t JOIN orgs o ON o.id = t.org_id WHERE `+cond+` ORDER BY t.created_at DESC, t.id LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := s.scanToken(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *t)
	}
	return out, total, rows.Err()
}

// Token resolves a bearer token (httpx.Authenticator).
func (s *Service) Token(ctx context.Context, bearer string) (*authz.Principal, error) {
	bad := errs.Unauthenticated("invalid, expired or revoked API token", "API 令牌无效、已过期或已吊销")
	if !strings.HasPrefix(bearer, TokenPrefix) || len(bearer) > 128 {
		return nil, bad
	}
	hash := sha(bearer)
	if p, ok := s.tokens.get(hash, s.now()); ok {
		return p, nil
	}
	var id, name, orgID, scopes, scope string
	var expires, revoked, used int64
	err := s.db.QueryRow(ctx, `SELECT t.id, t.name, t.org_id, t.scopes, t.expires_at, t.revoked_at, t.last_used_at, o.scope_key
		FROM api_tokens t JOIN orgs o ON o.id = t.org_id WHERE t.hash = ?`, hash).Scan(&id, &name, &orgID, &scopes, &expires, &revoked, &used, &scope)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bad
	}
	if err != nil {
		return nil, errs.Unavailable("database", err)
	}
	now := db.Millis(s.now())
	if revoked > 0 || expires <= now {
		return nil, bad
	}
	if now-used > 60_000 {
		_, _ = s.db.Exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, id)
	}
	p := &authz.Principal{Kind: authz.KindSystem, ID: id, Name: name, DisplayName: name, OrgID: orgID, Scope: scope}
	for _, sc := range strings.Fields(scopes) {
		p.Permissions = append(p.Permissions, authz.Permission(sc))
	}
	s.tokens.put(hash, p, expires, s.now())
	return p, nil
}

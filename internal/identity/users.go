package identity

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// User statuses.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
	StatusLocked   = "locked" // derived: active but locked out
)

// User is an account as callers see it: the phone number is masked.
type User struct {
	ID           string       `json:"id"`
	Username     string       `json:"username"`
	DisplayName  string       `json:"displayName"`
	PhoneMasked  string       `json:"phoneMasked,omitempty" doc:"Phone number with the middle digits hidden"`
	OrgID        string       `json:"orgId,omitempty"`
	OrgName      string       `json:"orgName,omitempty"`
	DivisionCode string       `json:"divisionCode"`
	DivisionName string       `json:"divisionName"`
	Roles        []authz.Role `json:"roles" nullable:"false"`
	Status       string       `json:"status" enum:"active,disabled,locked"`
	CreatedAt    time.Time    `json:"createdAt"`
}

// NewUser is the input to CreateUser.
type NewUser struct {
	Username     string
	DisplayName  string
	Password     string
	OrgID        string
	DivisionCode string // optional: defaults to the organisation's; must lie inside it
	Phone        string
	// PasswordHash, when set by a System caller (demo seeder, bulk import),
	// is stored instead of hashing Password.
	PasswordHash string
}

// UserPatch edits an account; nil fields stay as they are.
type UserPatch struct {
	DisplayName *string
	Phone       *string
	Status      *string
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	Q            string
	Role         string
	OrgID        string
	DivisionCode string
	Status       string
}

var (
	reUsername = regexp.MustCompile(`^[a-z][a-z0-9_.-]{2,31}$`)
	rePhone    = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
)

// CheckPassword enforces the password policy: 8-128 characters with at
// least three of lower case, upper case, digits and symbols.
func CheckPassword(field, pw string) error {
	if n := len([]rune(pw)); n < 8 || n > 128 {
		return errs.Invalid(field, "length", "a password has 8 to 128 characters", "密码长度应为 8 到 128 个字符")
	}
	var lower, upper, digit, other bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	if classes < 3 {
		return errs.Invalid(field, "complexity", "use at least three of: lower case, upper case, digits, symbols", "密码须包含小写字母、大写字母、数字、符号中的至少三类")
	}
	return nil
}

func maskPhone(last4 string) string {
	if last4 == "" {
		return ""
	}
	return "1**-****-" + last4
}

func (s *Service) encryptPhone(userID, phone string) (enc, last4 string, err error) {
	if phone == "" {
		return "", "", nil
	}
	if !rePhone.MatchString(phone) {
		return "", "", errs.Invalid("phone", "pattern", "a mobile number has 11 digits starting with 1", "手机号应为以 1 开头的 11 位数字")
	}
	ct, err := s.fields.Encrypt([]byte(phone), []byte("users.phone:"+userID))
	if err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(ct), phone[7:], nil
}

// CreateUser creates an account without roles; roles are granted by a
// security administrator (three-role separation).
func (s *Service) CreateUser(ctx context.Context, in NewUser) (*User, error) {
	p, err := authz.Require(ctx, authz.UsersWrite)
	if err != nil {
		return nil, err
	}
	return s.createUser(ctx, p, in, nil)
}

func (s *Service) createUser(ctx context.Context, p *authz.Principal, in NewUser, roles []authz.Role) (*User, error) {
	in.Username = strings.TrimSpace(in.Username)
	if !reUsername.MatchString(in.Username) {
		return nil, errs.Invalid("username", "pattern", "3-32 characters: lower-case letters, digits, _ . -, starting with a letter", "用户名为 3-32 位小写字母、数字或 _ . -，以字母开头")
	}
	var err error
	if in.DisplayName, err = validName("displayName", in.DisplayName, 64); err != nil {
		return nil, err
	}
	if in.PasswordHash == "" || !p.Nationwide {
		in.PasswordHash = ""
		if err := CheckPassword("password", in.Password); err != nil {
			return nil, err
		}
	}
	var dc DivisionCode
	if in.OrgID != "" {
		var orgDivision, orgScope string
		err := s.db.QueryRow(ctx, `SELECT division_code, scope_key FROM orgs WHERE id = ?`, in.OrgID).Scan(&orgDivision, &orgScope)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.InScope(orgScope)) {
			return nil, errs.Invalid("orgId", "exists", "the organisation does not exist", "所属机构不存在")
		}
		if err != nil {
			return nil, err
		}
		if in.DivisionCode == "" {
			in.DivisionCode = orgDivision
		}
		if dc, err = s.divisionScope(ctx, "divisionCode", in.DivisionCode); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(dc.Short, orgScope) {
			return nil, errs.Invalid("divisionCode", "within", "a user's division must lie inside the organisation's", "用户所属区划应在所属机构区划范围内")
		}
	} else {
		if in.DivisionCode == "" {
			return nil, errs.Invalid("orgId", "required", "an organisation or a division is required", "须指定所属机构或区划")
		}
		if dc, err = s.divisionScope(ctx, "divisionCode", in.DivisionCode); err != nil {
			return nil, err
		}
	}
	if !p.InScope(dc.Short) {
		return nil, errs.Invalid("divisionCode", "scope", "the division is outside your region", "该区划不在您的管辖范围内")
	}
	id := newID()
	phoneEnc, last4, err := s.encryptPhone(id, strings.TrimSpace(in.Phone))
	if err != nil {
		return nil, err
	}
	hash := in.PasswordHash
	if hash == "" {
		if hash, err = s.passwords.Hash(in.Password); err != nil {
			return nil, err
		}
	}
	now := db.Millis(s.now())
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		_, err := s.db.Exec(ctx, `INSERT INTO users (id, username, display_name, password_hash, org_id, division_code, scope_key, phone_enc, phone_last4, status, password_changed_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.Username, in.DisplayName, hash, nullIfEmpty(in.OrgID), dc.Code, dc.Short, phoneEnc, last4, StatusActive, now, now, now)
		if db.IsUniqueViolation(err) {
			return errs.Conflict("username", "username "+in.Username+" is taken", "用户名 "+in.Username+" 已被使用")
		}
		if err != nil {
			return err
		}
		for _, r := range roles {
			if _, err := s.db.Exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, string(r)); err != nil {
				return err
			}
		}
		return s.audit(ctx, "user.create", "user:"+id, map[string]any{"username": in.Username, "org": in.OrgID, "division": dc.Code, "roles": roles})
	})
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, id)
}

// CreateUserWithRoles is for the command line and the demo seeder, which
// act as System: it creates the account and grants roles in one step.
func (s *Service) CreateUserWithRoles(ctx context.Context, in NewUser, roles []authz.Role) (*User, error) {
	p := authz.From(ctx)
	if p == nil || !p.Nationwide {
		return nil, errs.Forbidden("only the command line may create users with roles", "仅命令行可直接创建带角色的用户")
	}
	if err := checkRoles(roles); err != nil {
		return nil, err
	}
	return s.createUser(ctx, p, in, roles)
}

func checkRoles(roles []authz.Role) error {
	admin := 0
	for _, r := range roles {
		if !r.Valid() {
			return errs.Invalid("roles", "enum", "unknown role "+string(r), "未知角色 "+string(r))
		}
		if slices.Contains(authz.AdminRoles, r) {
			admin++
		}
	}
	if admin > 1 {
		return errs.Invalid("roles", "separation", "system administrator, security administrator and auditor must be different people", "系统管理员、安全管理员、安全审计员须由不同人员担任（三员分立）")
	}
	return nil
}

const userCols = `u.id, u.username, u.display_name, u.phone_last4, COALESCE(u.org_id, ''), COALESCE(o.name, ''), u.division_code, d.name, u.status, u.locked_until, u.created_at`

const userFrom = ` FROM users u JOIN divisions d ON d.code = u.division_code LEFT JOIN orgs o ON o.id = u.org_id `

func (s *Service) scanUser(sc interface{ Scan(...any) error }) (*User, error) {
	var u User
	var last4 string
	var lockedUntil, created int64
	if err := sc.Scan(&u.ID, &u.Username, &u.DisplayName, &last4, &u.OrgID, &u.OrgName, &u.DivisionCode, &u.DivisionName, &u.Status, &lockedUntil, &created); err != nil {
		return nil, err
	}
	u.PhoneMasked = maskPhone(last4)
	u.CreatedAt = db.Time(created)
	if u.Status == StatusActive && lockedUntil > db.Millis(s.now()) {
		u.Status = StatusLocked
	}
	u.Roles = []authz.Role{}
	return &u, nil
}

func (s *Service) loadRoles(ctx context.Context, users []*User) error {
	if len(users) == 0 {
		return nil
	}
	ids := make([]any, len(users))
	byID := map[string]*User{}
	for i, u := range users {
		ids[i] = u.ID
		byID[u.ID] = u
	}
	rows, err := s.db.Query(ctx, `SELECT user_id, role FROM user_roles WHERE user_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY role`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, role string
		if err := rows.Scan(&id, &role); err != nil {
			return err
		}
		byID[id].Roles = append(byID[id].Roles, authz.Role(role))
	}
	return rows.Err()
}

// GetUser returns an account inside the caller's region.
func (s *Service) GetUser(ctx context.Context, id string) (*User, error) {
	p, err := authz.Require(ctx, authz.UsersRead)
	if err != nil {
		return nil, err
	}
	u, err := s.scanUser(s.db.QueryRow(ctx, `SELECT `+userCols+userFrom+`WHERE u.id = ? AND u.scope_key >= ? AND u.scope_key < ?`, append([]any{id}, scopeArgs(p)...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("user", id)
	}
	if err != nil {
		return nil, err
	}
	return u, s.loadRoles(ctx, []*User{u})
}

// ListUsers lists accounts in the caller's region.
func (s *Service) ListUsers(ctx context.Context, f UserFilter, limit, offset int) ([]User, int, error) {
	p, err := authz.Require(ctx, authz.UsersRead)
	if err != nil {
		return nil, 0, err
	}
	where := []string{"u.scope_key >= ? AND u.scope_key < ?"}
	args := scopeArgs(p)
	if f.Q != "" {
		where, args = append(where, `(u.username LIKE ? ESCAPE '\' OR u.display_name LIKE ? ESCAPE '\')`), append(args, db.Like(strings.ToLower(f.Q)), db.Like(f.Q))
	}
	if f.Role != "" {
		where, args = append(where, "EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = ?)"), append(args, f.Role)
	}
	if f.OrgID != "" {
		where, args = append(where, "u.org_id = ?"), append(args, f.OrgID)
	}
	if f.DivisionCode != "" {
		dc, err := ParseDivisionCode("divisionCode", f.DivisionCode)
		if err != nil {
			return nil, 0, err
		}
		lo, hi := authz.PrefixRange(dc.Short)
		where, args = append(where, "u.scope_key >= ? AND u.scope_key < ?"), append(args, lo, hi)
	}
	switch f.Status {
	case "":
	case StatusLocked:
		where, args = append(where, "u.status = ? AND u.locked_until > ?"), append(args, StatusActive, db.Millis(s.now()))
	case StatusActive:
		where, args = append(where, "u.status = ? AND u.locked_until <= ?"), append(args, StatusActive, db.Millis(s.now()))
	default:
		where, args = append(where, "u.status = ?"), append(args, f.Status)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM users u WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+userCols+userFrom+`WHERE `+cond+` ORDER BY u.username LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	var ptrs []*User
	for rows.Next() {
		u, err := s.scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		ptrs = append(ptrs, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := s.loadRoles(ctx, ptrs); err != nil {
		return nil, 0, err
	}
	out := make([]User, len(ptrs))
	for i, u := range ptrs {
		out[i] = *u
	}
	return out, total, nil
}

// UpdateUser edits an account's name, phone or status.
func (s *Service) UpdateUser(ctx context.Context, id string, patch UserPatch) (*User, error) {
	if _, err := authz.Require(ctx, authz.UsersWrite); err != nil {
		return nil, err
	}
	old, err := s.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	sets, args := []string{}, []any{}
	detail := map[string]any{}
	if patch.DisplayName != nil {
		name, err := validName("displayName", *patch.DisplayName, 64)
		if err != nil {
			return nil, err
		}
		sets, args = append(sets, "display_name = ?"), append(args, name)
		detail["displayName"] = name
	}
	if patch.Phone != nil {
		enc, last4, err := s.encryptPhone(id, strings.TrimSpace(*patch.Phone))
		if err != nil {
			return nil, err
		}
		sets, args = append(sets, "phone_enc = ?", "phone_last4 = ?"), append(args, enc, last4)
		detail["phone"] = "changed"
	}
	if patch.Status != nil {
		if *patch.Status != StatusActive && *patch.Status != StatusDisabled {
			return nil, errs.Invalid("status", "enum", "status is active or disabled", "状态只能是启用或停用")
		}
		if *patch.Status == StatusDisabled && id == authz.From(ctx).ID {
			return nil, errs.Invalid("status", "self", "you cannot disable your own account", "不能停用自己的账号")
		}
		sets, args = append(sets, "status = ?"), append(args, *patch.Status)
		detail["status"] = *patch.Status
	}
	if len(sets) == 0 {
		return old, nil
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+`, updated_at = ? WHERE id = ?`, append(args, db.Millis(s.now()), id)...); err != nil {
			return err
		}
		if patch.Status != nil && *patch.Status == StatusDisabled {
			if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return err
			}
		}
		return s.audit(ctx, "user.update", "user:"+id, detail)
	})
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, id)
}

// SetRoles replaces an account's roles. Only a security administrator may,
// never on their own account, and never combining two administrative roles.
func (s *Service) SetRoles(ctx context.Context, id string, roles []authz.Role) (*User, error) {
	p, err := authz.Require(ctx, authz.UsersSecurity)
	if err != nil {
		return nil, err
	}
	if id == p.ID {
		return nil, errs.Forbidden("you cannot change your own roles", "不能修改自己的角色")
	}
	if err := checkRoles(roles); err != nil {
		return nil, err
	}
	old, err := s.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	slices.Sort(roles)
	roles = slices.Compact(roles)
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `DELETE FROM user_roles WHERE user_id = ?`, id); err != nil {
			return err
		}
		for _, r := range roles {
			if _, err := s.db.Exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, id, string(r)); err != nil {
				return err
			}
		}
		// Sessions carry the old permissions: end them.
		if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, "user.roles", "user:"+id, map[string]any{"from": old.Roles, "to": roles})
	})
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, id)
}

// ResetPassword sets a new password (security administrator), unlocks the
// account and ends its sessions.
func (s *Service) ResetPassword(ctx context.Context, id, password string) error {
	if _, err := authz.Require(ctx, authz.UsersSecurity); err != nil {
		return err
	}
	if err := CheckPassword("password", password); err != nil {
		return err
	}
	if _, err := s.GetUser(ctx, id); err != nil {
		return err
	}
	hash, err := s.passwords.Hash(password)
	if err != nil {
		return err
	}
	now := db.Millis(s.now())
	return s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ?, failed_logins = 0, locked_until = 0, updated_at = ? WHERE id = ?`, hash, now, now, id); err != nil {
			return err
		}
		if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		return s.audit(ctx, "user.password_reset", "user:"+id, nil)
	})
}

// Unlock clears a lock-out.
func (s *Service) Unlock(ctx context.Context, id string) (*User, error) {
	if _, err := authz.Require(ctx, authz.UsersSecurity); err != nil {
		return nil, err
	}
	if _, err := s.GetUser(ctx, id); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = 0, updated_at = ? WHERE id = ?`, db.Millis(s.now()), id); err != nil {
			return err
		}
		return s.audit(ctx, "user.unlock", "user:"+id, nil)
	})
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, id)
}

// UserIDByUsername resolves a username for the command line.
func (s *Service) UserIDByUsername(ctx context.Context, username string) (string, error) {
	var id string
	err := s.db.QueryRow(ctx, `SELECT id FROM users WHERE username = ?`, username).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.NotFound("user", username)
	}
	return id, err
}

package identity

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Organisation kinds.
const (
	KindDepartment = "department" // 职能部门
	KindUnit       = "unit"       // 内设或派出单位
	KindCommittee  = "committee"  // 街道办事处、社区居委会
	KindEnterprise = "enterprise"
	KindSocial     = "social" // 社会组织
)

// OrgKinds lists the valid kinds.
var OrgKinds = []string{KindDepartment, KindUnit, KindCommittee, KindEnterprise, KindSocial}

// Org is an organisation bound to a division.
type Org struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Code         string `json:"code,omitempty" doc:"Organisation or unified social credit code"`
	Kind         string `json:"kind" enum:"department,unit,committee,enterprise,social"`
	DeptType     string `json:"deptType,omitempty" doc:"Department family, e.g. ga (公安), mz (民政)"`
	ParentID     string `json:"parentId,omitempty"`
	DivisionCode string `json:"divisionCode"`
	DivisionName string `json:"divisionName"`
	Level        string `json:"level" doc:"Level of the division the organisation belongs to"`
}

// OrgInput creates or edits an organisation.
type OrgInput struct {
	Name         string
	Code         string
	Kind         string
	DeptType     string
	ParentID     string
	DivisionCode string
}

// OrgFilter narrows ListOrgs.
type OrgFilter struct {
	Q            string
	DivisionCode string // subtree of this division
	Kind         string
	DeptType     string
}

var reOrgCode = regexp.MustCompile(`^[0-9A-Z]{1,18}$`)

func (s *Service) checkOrgInput(ctx context.Context, p *authz.Principal, in *OrgInput) (DivisionCode, error) {
	var err error
	if in.Name, err = validName("name", in.Name, 100); err != nil {
		return DivisionCode{}, err
	}
	in.Code = strings.ToUpper(strings.TrimSpace(in.Code))
	if in.Code != "" && !reOrgCode.MatchString(in.Code) {
		return DivisionCode{}, errs.Invalid("code", "pattern", "an organisation code has 1-18 digits or capital letters", "机构代码应为 1-18 位数字或大写字母")
	}
	valid := false
	for _, k := range OrgKinds {
		valid = valid || k == in.Kind
	}
	if !valid {
		return DivisionCode{}, errs.Invalid("kind", "enum", "kind must be one of "+strings.Join(OrgKinds, ", "), "机构类型不在允许范围内")
	}
	if len(in.DeptType) > 16 {
		return DivisionCode{}, errs.Invalid("deptType", "maxLength", "at most 16 characters", "不能超过 16 个字符")
	}
	dc, err := s.divisionScope(ctx, "divisionCode", in.DivisionCode)
	if err != nil {
		return dc, err
	}
	if !p.InScope(dc.Short) {
		return dc, errs.Invalid("divisionCode", "scope", "the division is outside your region", "该区划不在您的管辖范围内")
	}
	if in.ParentID != "" {
		var parentScope string
		err := s.db.QueryRow(ctx, `SELECT scope_key FROM orgs WHERE id = ?`, in.ParentID).Scan(&parentScope)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.InScope(parentScope)) {
			return dc, errs.Invalid("parentId", "exists", "the parent organisation does not exist", "上级机构不存在")
		}
		if err != nil {
			return dc, err
		}
		if !strings.HasPrefix(dc.Short, parentScope) {
			return dc, errs.Invalid("divisionCode", "parent", "an organisation's division must lie within its parent's", "机构所属区划应在上级机构区划范围内")
		}
	}
	return dc, nil
}

// CreateOrg adds an organisation inside the caller's region.
func (s *Service) CreateOrg(ctx context.Context, in OrgInput) (*Org, error) {
	p, err := authz.Require(ctx, authz.OrgsWrite)
	if err != nil {
		return nil, err
	}
	dc, err := s.checkOrgInput(ctx, p, &in)
	if err != nil {
		return nil, err
	}
	id := newID()
	now := db.Millis(s.now())
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		_, err := s.db.Exec(ctx, `INSERT INTO orgs (id, name, code, kind, dept_type, parent_id, division_code, scope_key, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.Name, nullIfEmpty(in.Code), in.Kind, in.DeptType, nullIfEmpty(in.ParentID), dc.Code, dc.Short, now, now)
		if db.IsUniqueViolation(err) {
			return errs.Conflict("code", "organisation code "+in.Code+" is already used", "机构代码 "+in.Code+" 已被使用")
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, "org.create", "org:"+id, map[string]any{"name": in.Name, "division": dc.Code, "kind": in.Kind})
	})
	if err != nil {
		return nil, err
	}
	return s.GetOrg(ctx, id)
}

// UpdateOrg replaces an organisation's editable fields.
func (s *Service) UpdateOrg(ctx context.Context, id string, in OrgInput) (*Org, error) {
	p, err := authz.Require(ctx, authz.OrgsWrite)
	if err != nil {
		return nil, err
	}
	old, err := s.GetOrg(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.ParentID == id {
		return nil, errs.Invalid("parentId", "cycle", "an organisation cannot be its own parent", "机构不能是自己的上级")
	}
	dc, err := s.checkOrgInput(ctx, p, &in)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		_, err := s.db.Exec(ctx, `UPDATE orgs SET name = ?, code = ?, kind = ?, dept_type = ?, parent_id = ?, division_code = ?, scope_key = ?, updated_at = ? WHERE id = ?`,
			in.Name, nullIfEmpty(in.Code), in.Kind, in.DeptType, nullIfEmpty(in.ParentID), dc.Code, dc.Short, db.Millis(s.now()), id)
		if db.IsUniqueViolation(err) {
			return errs.Conflict("code", "organisation code "+in.Code+" is already used", "机构代码 "+in.Code+" 已被使用")
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, "org.update", "org:"+id, map[string]any{"from": old.Name, "name": in.Name, "division": dc.Code})
	})
	if err != nil {
		return nil, err
	}
	return s.GetOrg(ctx, id)
}

const orgCols = `o.id, o.name, COALESCE(o.code, ''), o.kind, o.dept_type, COALESCE(o.parent_id, ''), o.division_code, d.name, d.level`

func scanOrg(sc interface{ Scan(...any) error }) (*Org, error) {
	var o Org
	err := sc.Scan(&o.ID, &o.Name, &o.Code, &o.Kind, &o.DeptType, &o.ParentID, &o.DivisionCode, &o.DivisionName, &o.Level)
	return &o, err
}

// GetOrg returns an organisation inside the caller's region.
func (s *Service) GetOrg(ctx context.Context, id string) (*Org, error) {
	p, err := authz.Require(ctx, authz.OrgsRead)
	if err != nil {
		return nil, err
	}
	o, err := scanOrg(s.db.QueryRow(ctx, `SELECT `+orgCols+` FROM orgs o JOIN divisions d ON d.code = o.division_code
		WHERE o.id = ? AND o.scope_key >= ? AND o.scope_key < ?`, append([]any{id}, scopeArgs(p)...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("organisation", id)
	}
	return o, err
}

// ListOrgs lists organisations in the caller's region.
func (s *Service) ListOrgs(ctx context.Context, f OrgFilter, limit, offset int) ([]Org, int, error) {
	p, err := authz.Require(ctx, authz.OrgsRead)
	if err != nil {
		return nil, 0, err
	}
	where := []string{"o.scope_key >= ? AND o.scope_key < ?"}
	args := scopeArgs(p)
	if f.DivisionCode != "" {
		dc, err := ParseDivisionCode("divisionCode", f.DivisionCode)
		if err != nil {
			return nil, 0, err
		}
		lo, hi := authz.PrefixRange(dc.Short)
		where, args = append(where, "o.scope_key >= ? AND o.scope_key < ?"), append(args, lo, hi)
	}
	if f.Q != "" {
		where, args = append(where, `(o.name LIKE ? ESCAPE '\' OR o.code LIKE ? ESCAPE '\')`), append(args, db.Like(f.Q), db.Like(f.Q))
	}
	if f.Kind != "" {
		where, args = append(where, "o.kind = ?"), append(args, f.Kind)
	}
	if f.DeptType != "" {
		where, args = append(where, "o.dept_type = ?"), append(args, f.DeptType)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM orgs o WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+orgCols+` FROM orgs o JOIN divisions d ON d.code = o.division_code
		WHERE `+cond+` ORDER BY o.scope_key, o.name, o.id LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *o)
	}
	return out, total, rows.Err()
}

package cases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Category is a component (部件) or event (事件) class of GB/T 30428.2 with
// what the loop needs: filing criteria, the responsible department by
// default, the handling deadline and the verification rule.
type Category struct {
	Code       string `json:"code" doc:"B (部件) or E (事件) + major class (2) + minor class (2)"`
	Kind       string `json:"kind" enum:"component,event"`
	MajorZh    string `json:"majorZh"`
	NameZh     string `json:"nameZh"`
	NameEn     string `json:"nameEn"`
	Dept       string `json:"dept" doc:"Default responsible department (deptType)"`
	Deadline   int    `json:"deadline" minimum:"1"`
	Unit       string `json:"unit" enum:"hours,work_hours,work_days"`
	Filing     string `json:"filing" doc:"Filing criteria (立案标准)"`
	VerifyRule string `json:"verifyRule" doc:"Verification rule (结案标准)"`
	Active     bool   `json:"active"`
	Version    int    `json:"version"`
	UpdatedBy  string `json:"updatedBy"`
	UpdatedAt  int64  `json:"updatedAt"`
}

// CategoryInput edits a category.
type CategoryInput struct {
	MajorZh    string `json:"majorZh" minLength:"1" maxLength:"16"`
	NameZh     string `json:"nameZh" minLength:"1" maxLength:"32"`
	NameEn     string `json:"nameEn" minLength:"1" maxLength:"64"`
	Dept       string `json:"dept" minLength:"1" maxLength:"16"`
	Deadline   int    `json:"deadline" minimum:"1" maximum:"1000"`
	Unit       string `json:"unit" enum:"hours,work_hours,work_days"`
	Filing     string `json:"filing" minLength:"1" maxLength:"500"`
	VerifyRule string `json:"verifyRule" minLength:"1" maxLength:"500"`
	Active     bool   `json:"active"`
}

var reCategory = regexp.MustCompile(`^[BE][0-9]{4}$`)

const catColumns = `code, kind, major_zh, name_zh, name_en, dept, deadline, unit, filing, verify_rule, active, version, updated_by, updated_at`

func scanCategory(sc interface{ Scan(...any) error }) (*Category, error) {
	var c Category
	var active int
	err := sc.Scan(&c.Code, &c.Kind, &c.MajorZh, &c.NameZh, &c.NameEn, &c.Dept, &c.Deadline, &c.Unit, &c.Filing, &c.VerifyRule, &active, &c.Version, &c.UpdatedBy, &c.UpdatedAt)
	c.Active = active != 0
	return &c, err
}

// parseCategories reads the embedded categories.tsv.
func parseCategories(tsv string) ([]Category, error) {
	var out []Category
	for i, line := range strings.Split(tsv, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 10 {
			return nil, fmt.Errorf("categories.tsv line %d: %d fields, want 10", i+1, len(f))
		}
		n, err := strconv.Atoi(f[6])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("categories.tsv line %d: deadline %q", i+1, f[6])
		}
		c := Category{Code: f[0], Kind: f[1], MajorZh: f[2], NameZh: f[3], NameEn: f[4], Dept: f[5], Deadline: n, Unit: f[7], Filing: f[8], VerifyRule: f[9], Active: true, Version: 1, UpdatedBy: "GB/T 30428.2"}
		if !reCategory.MatchString(c.Code) || !slices.Contains([]string{"hours", "work_hours", "work_days"}, c.Unit) {
			return nil, fmt.Errorf("categories.tsv line %d: code %q or unit %q", i+1, c.Code, c.Unit)
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Service) seedCategories(ctx context.Context) error {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM case_categories`).Scan(&n); err != nil || n > 0 {
		return err
	}
	cats, err := parseCategories(categoriesTSV)
	if err != nil {
		return err
	}
	now := s.nowMs()
	return s.db.InTx(ctx, func(ctx context.Context) error {
		for _, c := range cats {
			c.UpdatedAt = now
			if err := s.putCategory(ctx, &c); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Service) putCategory(ctx context.Context, c *Category) error {
	active := 0
	if c.Active {
		active = 1
	}
	_, err := s.db.Exec(ctx, `INSERT INTO case_categories (`+catColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET major_zh = excluded.major_zh, name_zh = excluded.name_zh, name_en = excluded.name_en, dept = excluded.dept,
		deadline = excluded.deadline, unit = excluded.unit, filing = excluded.filing, verify_rule = excluded.verify_rule, active = excluded.active,
		version = excluded.version, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		c.Code, c.Kind, c.MajorZh, c.NameZh, c.NameEn, c.Dept, c.Deadline, c.Unit, c.Filing, c.VerifyRule, active, c.Version, c.UpdatedBy, c.UpdatedAt)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `INSERT INTO case_category_versions (code, version, body, changed_by, changed_at) VALUES (?, ?, ?, ?, ?)`,
		c.Code, c.Version, mustJSON(c), c.UpdatedBy, c.UpdatedAt)
	return err
}

func (s *Service) loadCategories(ctx context.Context) error {
	rows, err := s.db.Query(ctx, `SELECT `+catColumns+` FROM case_categories`)
	if err != nil {
		return err
	}
	defer rows.Close()
	m := map[string]*Category{}
	for rows.Next() {
		c, err := scanCategory(rows)
		if err != nil {
			return err
		}
		m[c.Code] = c
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.catMu.Lock()
	s.cats = m
	s.catMu.Unlock()
	return nil
}

// category returns a category by code (active or not).
func (s *Service) category(code string) (*Category, bool) {
	s.catMu.RLock()
	defer s.catMu.RUnlock()
	c, ok := s.cats[code]
	return c, ok
}

// Categories lists the categories in code order.
func (s *Service) Categories(ctx context.Context, activeOnly bool) ([]Category, error) {
	if _, err := authz.Require(ctx, ""); err != nil {
		return nil, err
	}
	s.catMu.RLock()
	out := make([]Category, 0, len(s.cats))
	for _, c := range s.cats {
		if !activeOnly || c.Active {
			out = append(out, *c)
		}
	}
	s.catMu.RUnlock()
	slices.SortFunc(out, func(a, b Category) int { return strings.Compare(a.Code, b.Code) })
	return out, nil
}

// CategoryVersions lists every version of a category, newest first.
func (s *Service) CategoryVersions(ctx context.Context, code string) ([]map[string]any, error) {
	if _, err := authz.Require(ctx, authz.CasesRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT body FROM case_category_versions WHERE code = ? ORDER BY version DESC`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var m map[string]any
		_ = jsonUnmarshal(body, &m)
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errs.NotFound("category", code)
	}
	return out, rows.Err()
}

// PutCategory creates or edits a category (the operations centre); every
// edit is a new version, kept.
func (s *Service) PutCategory(ctx context.Context, code string, in CategoryInput) (*Category, error) {
	p, err := authz.Require(ctx, authz.CasesConfigure)
	if err != nil {
		return nil, err
	}
	if !reCategory.MatchString(code) {
		return nil, errs.Invalid("code", "pattern", "must be B or E followed by 4 digits (major and minor class)", "应为 B（部件）或 E（事件）加 4 位数字（大类、小类）")
	}
	if in.Deadline < 1 {
		return nil, errs.Invalid("deadline", "minimum", "must be at least 1", "至少为 1")
	}
	if !slices.Contains([]string{"hours", "work_hours", "work_days"}, in.Unit) {
		return nil, errs.Invalid("unit", "enum", "must be hours, work_hours or work_days", "应为 hours、work_hours 或 work_days")
	}
	if strings.TrimSpace(in.NameZh) == "" {
		return nil, errs.Invalid("nameZh", "required", "must not be empty", "不能为空")
	}
	if strings.TrimSpace(in.Dept) == "" {
		return nil, errs.Invalid("dept", "required", "must not be empty", "不能为空")
	}
	kind := "event"
	if code[0] == 'B' {
		kind = "component"
	}
	c := &Category{Code: code, Kind: kind, MajorZh: in.MajorZh, NameZh: in.NameZh, NameEn: in.NameEn, Dept: in.Dept, Deadline: in.Deadline, Unit: in.Unit,
		Filing: in.Filing, VerifyRule: in.VerifyRule, Active: in.Active, UpdatedBy: p.Name, UpdatedAt: s.nowMs()}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		var cur int
		err := s.db.QueryRow(ctx, `SELECT version FROM case_categories WHERE code = ?`, code).Scan(&cur)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		c.Version = cur + 1
		if err := s.putCategory(ctx, c); err != nil {
			return err
		}
		return s.evidence(ctx, p, "category.put", "case-category:"+code, c)
	})
	if err != nil {
		return nil, err
	}
	if err := s.loadCategories(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// AreaRule sends cases of a category inside a division to another
// department than the category's default.
type AreaRule struct {
	ID        string `json:"id"`
	Category  string `json:"category" doc:"Category code, or a prefix ending in * (E04*)"`
	Division  string `json:"division" doc:"Short division code (prefix of the case's grid code)"`
	Dept      string `json:"dept" doc:"Department (deptType) responsible there"`
	Note      string `json:"note"`
	CreatedBy string `json:"createdBy"`
	CreatedAt int64  `json:"createdAt"`
}

// NewAreaRule is the input of AddAreaRule.
type NewAreaRule struct {
	Category string `json:"category" maxLength:"5" doc:"Category code, or a prefix ending in * (E04*)"`
	Division string `json:"division" maxLength:"15" doc:"Short division code (prefix of the case's grid code)"`
	Dept     string `json:"dept" maxLength:"16" doc:"Department (deptType) responsible there"`
	Note     string `json:"note,omitempty" maxLength:"200"`
}

var (
	reRuleCategory = regexp.MustCompile(`^([BE][0-9]{4}|[BE][0-9]{0,3}\*)$`)
	reDivision     = regexp.MustCompile(`^[0-9]{6,15}$`)
)

// AreaRules lists the area rules.
func (s *Service) AreaRules(ctx context.Context) ([]AreaRule, error) {
	if _, err := authz.Require(ctx, authz.CasesRead); err != nil {
		return nil, err
	}
	return s.areaRules(ctx)
}

func (s *Service) areaRules(ctx context.Context) ([]AreaRule, error) {
	rows, err := s.db.Query(ctx, `SELECT id, category, division, dept, note, created_by, created_at FROM case_area_rules ORDER BY category, division`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AreaRule
	for rows.Next() {
		var r AreaRule
		if err := rows.Scan(&r.ID, &r.Category, &r.Division, &r.Dept, &r.Note, &r.CreatedBy, &r.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AddAreaRule adds an area rule.
func (s *Service) AddAreaRule(ctx context.Context, in NewAreaRule) (*AreaRule, error) {
	r := AreaRule{Category: in.Category, Division: in.Division, Dept: in.Dept, Note: in.Note}
	p, err := authz.Require(ctx, authz.CasesConfigure)
	if err != nil {
		return nil, err
	}
	if !reRuleCategory.MatchString(r.Category) {
		return nil, errs.Invalid("category", "pattern", "must be a category code or a prefix ending in *", "应为类别代码或以 * 结尾的前缀")
	}
	if !reDivision.MatchString(r.Division) {
		return nil, errs.Invalid("division", "pattern", "must be a short division code (6 to 15 digits)", "应为 6 至 15 位区划代码")
	}
	if !p.InScope(r.Division) {
		return nil, errs.Forbidden("division outside your region", "区划不在您的管辖范围内")
	}
	if strings.TrimSpace(r.Dept) == "" {
		return nil, errs.Invalid("dept", "required", "must not be empty", "不能为空")
	}
	r.ID, r.CreatedBy, r.CreatedAt = newID(), p.Name, s.nowMs()
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `INSERT INTO case_area_rules (id, category, division, dept, note, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Category, r.Division, r.Dept, r.Note, r.CreatedBy, r.CreatedAt); err != nil {
			return err
		}
		return s.evidence(ctx, p, "area-rule.add", "case-area-rule:"+r.ID, r)
	})
	if err != nil {
		return nil, err
	}
	s.forgetAreaRules()
	return &r, nil
}

// DeleteAreaRule removes an area rule.
func (s *Service) DeleteAreaRule(ctx context.Context, id string) error {
	p, err := authz.Require(ctx, authz.CasesConfigure)
	if err != nil {
		return err
	}
	defer s.forgetAreaRules()
	return s.db.InTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, `DELETE FROM case_area_rules WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFound("area rule", id)
		}
		return s.evidence(ctx, p, "area-rule.delete", "case-area-rule:"+id, map[string]string{"id": id})
	})
}

// deptFor picks the responsible department of a case: the component's
// owner, else the most specific area rule, else the category's default.
func (s *Service) deptFor(ctx context.Context, cat *Category, grid string, comp *ComponentRef) (string, string, error) {
	if comp != nil && comp.OwnerDept != "" {
		return comp.OwnerDept, "component owner", nil
	}
	rules, err := s.cachedAreaRules(ctx)
	if err != nil {
		return "", "", err
	}
	best, bestScore := "", -1
	for _, r := range rules {
		if !strings.HasPrefix(grid, r.Division) {
			continue
		}
		cs := 0
		switch {
		case r.Category == cat.Code:
			cs = 10
		case strings.HasSuffix(r.Category, "*") && strings.HasPrefix(cat.Code, strings.TrimSuffix(r.Category, "*")):
			cs = len(r.Category) - 1
		default:
			continue
		}
		if score := len(r.Division)*16 + cs; score > bestScore {
			best, bestScore = r.Dept, score
		}
	}
	if best != "" {
		return best, "area rule", nil
	}
	return cat.Dept, "category default", nil
}

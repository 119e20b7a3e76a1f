package identity

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Division levels.
const (
	LevelProvince  = "province"
	LevelCity      = "city"
	LevelCounty    = "county"
	LevelTownship  = "township"
	LevelCommunity = "community"
)

var levelsZh = map[string]string{
	LevelProvince: "省级", LevelCity: "市级", LevelCounty: "县级", LevelTownship: "乡镇（街道）级", LevelCommunity: "村（社区）级",
}

// DivisionCode is a parsed administrative division code.
type DivisionCode struct {
	Code   string // 12-digit statistical code
	Short  string // significant digits: 2, 4, 6, 9 or 12
	Level  string
	Parent string // 12-digit code of the parent, "" for a province
}

// ParseDivisionCode accepts a GB/T 2260 code (6 digits) or a statistical
// code (9 or 12 digits) and checks its structure. The error names the rule
// that failed.
func ParseDivisionCode(field, s string) (DivisionCode, error) {
	s = strings.TrimSpace(s)
	for _, c := range s {
		if c < '0' || c > '9' {
			return DivisionCode{}, errs.Invalid(field, "digits", "a division code has digits only", "行政区划代码只能包含数字")
		}
	}
	switch len(s) {
	case 6:
		s += "000000"
	case 9:
		s += "000"
	case 12:
	default:
		return DivisionCode{}, errs.Invalid(field, "length", "a division code has 6 (GB/T 2260), 9 or 12 (statistical) digits", "行政区划代码应为 6 位（GB/T 2260）或 9、12 位（统计用区划代码）")
	}
	prov, city, county, town, vill := s[0:2], s[2:4], s[4:6], s[6:9], s[9:12]
	if prov < "11" || prov > "82" {
		return DivisionCode{}, errs.Invalid(field, "province", "the first two digits must be a province code 11-82", "前两位应为 11-82 的省级代码")
	}
	d := DivisionCode{Code: s}
	switch {
	case vill != "000":
		d.Level, d.Short, d.Parent = LevelCommunity, s, s[:9]+"000"
	case town != "000":
		d.Level, d.Short, d.Parent = LevelTownship, s[:9], s[:6]+"000000"
	case county != "00":
		d.Level, d.Short, d.Parent = LevelCounty, s[:6], s[:4]+"00000000"
	case city != "00":
		d.Level, d.Short, d.Parent = LevelCity, s[:4], s[:2]+"0000000000"
	default:
		d.Level, d.Short = LevelProvince, s[:2]
	}
	// Every level above the code's own must be filled in.
	if d.Level != LevelProvince && (city == "00" || (d.Level != LevelCity && county == "00") || (d.Level == LevelCommunity && town == "000")) {
		return DivisionCode{}, errs.Invalid(field, "hierarchy", "every level above the code's own must be non-zero", "上级各层代码不能为零")
	}
	return d, nil
}

// Division is one node of the tree.
type Division struct {
	Code        string   `json:"code" doc:"12-digit statistical division code"`
	Short       string   `json:"short" doc:"Significant digits (2/4/6/9/12 by level)"`
	Name        string   `json:"name"`
	Level       string   `json:"level" enum:"province,city,county,township,community"`
	ParentCode  string   `json:"parentCode,omitempty"`
	HasChildren bool     `json:"hasChildren"`
	Lon         *float64 `json:"lon,omitempty" doc:"Centroid longitude (WGS84)"`
	Lat         *float64 `json:"lat,omitempty" doc:"Centroid latitude (WGS84)"`
}

// NewDivision is the input to CreateDivision.
type NewDivision struct {
	Code       string
	Name       string
	ParentCode string // optional; must match the code's structure
	Lon, Lat   *float64
	Boundary   string // GeoJSON geometry, optional
}

// DivisionFilter narrows ListDivisions.
type DivisionFilter struct {
	Parent string // 12-digit parent code; "" = top of the caller's scope
	Q      string
	Level  string
}

func validName(field, name string, max int) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", errs.Invalid(field, "required", "must not be empty", "不能为空")
	}
	if n := len([]rune(name)); n > max {
		return "", errs.Invalid(field, "maxLength", "is too long", "长度超过限制")
	}
	return name, nil
}

// CreateDivision adds a division under an existing parent.
func (s *Service) CreateDivision(ctx context.Context, in NewDivision) (*Division, error) {
	p, err := authz.Require(ctx, authz.DivisionsWrite)
	if err != nil {
		return nil, err
	}
	dc, err := ParseDivisionCode("code", in.Code)
	if err != nil {
		return nil, err
	}
	name, err := validName("name", in.Name, 64)
	if err != nil {
		return nil, err
	}
	if in.ParentCode != "" {
		pc, err := ParseDivisionCode("parentCode", in.ParentCode)
		if err != nil {
			return nil, err
		}
		if pc.Code != dc.Parent {
			return nil, errs.Invalid("parentCode", "parent", "the code "+dc.Code+" belongs under "+dc.Parent, "代码 "+dc.Code+" 的上级应为 "+dc.Parent)
		}
	}
	// A new division must lie strictly inside the caller's scope.
	if !p.InScope(dc.Short) || (!p.Nationwide && dc.Short == p.Scope) {
		return nil, errs.Forbidden("the division is outside your region", "该区划不在您的管辖范围内")
	}
	now := db.Millis(s.now())
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if dc.Parent != "" {
			var n int
			if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM divisions WHERE code = ?`, dc.Parent).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				field := "parentCode"
				if in.ParentCode == "" {
					field = "code" // the parent is implied by the code
				}
				return errs.Invalid(field, "parent", "the parent division "+dc.Parent+" does not exist", "上级区划 "+dc.Parent+" 不存在")
			}
		}
		var parent any
		if dc.Parent != "" {
			parent = dc.Parent
		}
		_, err := s.db.Exec(ctx, `INSERT INTO divisions (code, short, name, level, parent_code, centroid_lon, centroid_lat, boundary, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, dc.Code, dc.Short, name, dc.Level, parent, in.Lon, in.Lat, nullIfEmpty(in.Boundary), now, now)
		if db.IsUniqueViolation(err) {
			return errs.Conflict("code", "division "+dc.Code+" already exists", "区划 "+dc.Code+" 已存在")
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, "division.create", "division:"+dc.Code, map[string]any{"name": name})
	})
	if err != nil {
		return nil, err
	}
	return s.GetDivision(ctx, dc.Code)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// RenameDivision changes a division's name.
func (s *Service) RenameDivision(ctx context.Context, code, name string) (*Division, error) {
	p, err := authz.Require(ctx, authz.DivisionsWrite)
	if err != nil {
		return nil, err
	}
	dc, err := ParseDivisionCode("code", code)
	if err != nil {
		return nil, err
	}
	if name, err = validName("name", name, 64); err != nil {
		return nil, err
	}
	if !p.InScope(dc.Short) {
		return nil, errs.NotFound("division", dc.Code)
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		var old string
		if err := s.db.QueryRow(ctx, `SELECT name FROM divisions WHERE code = ?`, dc.Code).Scan(&old); errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("division", dc.Code)
		} else if err != nil {
			return err
		}
		if _, err := s.db.Exec(ctx, `UPDATE divisions SET name = ?, updated_at = ? WHERE code = ?`, name, db.Millis(s.now()), dc.Code); err != nil {
			return err
		}
		return s.audit(ctx, "division.rename", "division:"+dc.Code, map[string]any{"from": old, "to": name})
	})
	if err != nil {
		return nil, err
	}
	return s.GetDivision(ctx, dc.Code)
}

const divisionCols = `d.code, d.short, d.name, d.level, COALESCE(d.parent_code, ''), d.centroid_lon, d.centroid_lat,
	(SELECT COUNT(*) FROM divisions c WHERE c.parent_code = d.code)`

func scanDivision(sc interface{ Scan(...any) error }) (*Division, error) {
	var d Division
	var lon, lat sql.NullFloat64
	var children int
	if err := sc.Scan(&d.Code, &d.Short, &d.Name, &d.Level, &d.ParentCode, &lon, &lat, &children); err != nil {
		return nil, err
	}
	if lon.Valid && lat.Valid {
		d.Lon, d.Lat = &lon.Float64, &lat.Float64
	}
	d.HasChildren = children > 0
	return &d, nil
}

// GetDivision returns a division inside the caller's scope, or one of its
// ancestors (so a street's staff can see the path to their street).
func (s *Service) GetDivision(ctx context.Context, code string) (*Division, error) {
	p, err := authz.Require(ctx, authz.DivisionsRead)
	if err != nil {
		return nil, err
	}
	dc, err := ParseDivisionCode("code", code)
	if err != nil {
		return nil, err
	}
	if !p.InScope(dc.Short) && !strings.HasPrefix(p.Scope, dc.Short) {
		return nil, errs.NotFound("division", dc.Code)
	}
	d, err := scanDivision(s.db.QueryRow(ctx, `SELECT `+divisionCols+` FROM divisions d WHERE d.code = ?`, dc.Code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("division", dc.Code)
	}
	return d, err
}

// ListDivisions lists divisions inside the caller's scope: the children of
// Parent, or, without Parent, the caller's scope root (or everything that
// matches Q or Level when given).
func (s *Service) ListDivisions(ctx context.Context, f DivisionFilter, limit, offset int) ([]Division, int, error) {
	p, err := authz.Require(ctx, authz.DivisionsRead)
	if err != nil {
		return nil, 0, err
	}
	lo, hi := p.ScopeRange()
	where := []string{"d.short >= ? AND d.short < ?"}
	args := []any{lo, hi}
	switch {
	case f.Parent != "":
		pc, err := ParseDivisionCode("parent", f.Parent)
		if err != nil {
			return nil, 0, err
		}
		where, args = append(where, "d.parent_code = ?"), append(args, pc.Code)
	case f.Q == "" && f.Level == "":
		if p.Nationwide {
			where = append(where, "d.parent_code IS NULL")
		} else {
			where, args = append(where, "d.short = ?"), append(args, p.Scope)
		}
	}
	if f.Q != "" {
		where, args = append(where, `(d.name LIKE ? ESCAPE '\' OR d.code LIKE ? ESCAPE '\')`), append(args, db.Like(f.Q), db.Like(f.Q))
	}
	if f.Level != "" {
		where, args = append(where, "d.level = ?"), append(args, f.Level)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM divisions d WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+divisionCols+` FROM divisions d WHERE `+cond+` ORDER BY d.code LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Division
	for rows.Next() {
		d, err := scanDivision(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *d)
	}
	return out, total, rows.Err()
}

// divisionScope returns the short code of an existing division, or a
// field error naming field.
func (s *Service) divisionScope(ctx context.Context, field, code string) (DivisionCode, error) {
	dc, err := ParseDivisionCode(field, code)
	if err != nil {
		return dc, err
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM divisions WHERE code = ?`, dc.Code).Scan(&n); err != nil {
		return dc, err
	}
	if n == 0 {
		return dc, errs.Invalid(field, "exists", "division "+dc.Code+" does not exist", "区划 "+dc.Code+" 不存在")
	}
	return dc, nil
}

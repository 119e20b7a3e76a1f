package registry

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// ComponentStates are the states of a managed component.
var ComponentStates = []string{"normal", "damaged", "missing", "removed"}

// ComponentClass is a GB/T 30428.2 major/minor class of components.
type ComponentClass struct {
	Major       string `json:"major"`
	Minor       string `json:"minor"`
	NameZh      string `json:"nameZh"`
	NameEn      string `json:"nameEn"`
	MajorNameZh string `json:"majorNameZh"`
	MajorNameEn string `json:"majorNameEn"`
	OwnerDept   string `json:"ownerDept" doc:"Default owner department"`
}

// Component is a managed city component (部件).
type Component struct {
	Code      string  `json:"code" doc:"16 digits: district (6) + major class (2) + minor class (2) + serial (6)"`
	Major     string  `json:"major"`
	Minor     string  `json:"minor"`
	ClassName string  `json:"className"`
	MajorName string  `json:"majorName"`
	Name      string  `json:"name"`
	State     string  `json:"state" enum:"normal,damaged,missing,removed"`
	OwnerDept string  `json:"ownerDept" doc:"Owner department (deptType)"`
	OwnerName string  `json:"ownerName" doc:"Owner department's name"`
	Address   string  `json:"address"`
	GridCode  string  `json:"gridCode"`
	Lon       float64 `json:"lon"`
	Lat       float64 `json:"lat"`
	Sources   Sources `json:"sources"`
	Version   int     `json:"version"`
	UpdatedAt int64   `json:"updatedAt"`
}

// NewComponent is the input to register a component.
type NewComponent struct {
	Major     string   `json:"major" pattern:"^[0-9]{2}$"`
	Minor     string   `json:"minor" pattern:"^[0-9]{2}$"`
	Name      string   `json:"name,omitempty" maxLength:"64" doc:"Defaults to the class name"`
	State     string   `json:"state,omitempty" enum:"normal,damaged,missing,removed"`
	OwnerDept string   `json:"ownerDept,omitempty" maxLength:"16" doc:"Defaults to the class's owner department"`
	Address   string   `json:"address,omitempty" maxLength:"128"`
	Lon       *float64 `json:"lon,omitempty"`
	Lat       *float64 `json:"lat,omitempty"`
	GridCode  string   `json:"gridCode,omitempty" maxLength:"15"`
}

type componentRow struct {
	major, minor, name, state, owner, address, grid, className string
	lon, lat                                                   float64
}

// Classes lists the component classes.
func (s *Service) Classes(ctx context.Context) ([]ComponentClass, error) {
	if _, err := authz.Require(ctx, ""); err != nil {
		return nil, err
	}
	return s.classes(ctx)
}

func (s *Service) classes(ctx context.Context) ([]ComponentClass, error) {
	rows, err := s.db.Query(ctx, `SELECT major, minor, name_zh, name_en, major_zh, major_en, owner_dept FROM reg_component_classes ORDER BY major, minor`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ComponentClass
	for rows.Next() {
		var c ComponentClass
		if err := rows.Scan(&c.Major, &c.Minor, &c.NameZh, &c.NameEn, &c.MajorNameZh, &c.MajorNameEn, &c.OwnerDept); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Service) class(ctx context.Context, prefix, major, minor string) (*ComponentClass, error) {
	var c ComponentClass
	err := s.db.QueryRow(ctx, `SELECT major, minor, name_zh, name_en, major_zh, major_en, owner_dept FROM reg_component_classes WHERE major = ? AND minor = ?`, major, minor).
		Scan(&c.Major, &c.Minor, &c.NameZh, &c.NameEn, &c.MajorNameZh, &c.MajorNameEn, &c.OwnerDept)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.Invalid(prefix+"minor", "class", "no component class "+major+minor, "没有部件小类 "+major+minor)
	}
	return &c, err
}

func (s *Service) prepareComponent(ctx context.Context, in NewComponent, prefix string) (*componentRow, error) {
	cl, err := s.class(ctx, prefix, strings.TrimSpace(in.Major), strings.TrimSpace(in.Minor))
	if err != nil {
		return nil, err
	}
	c := &componentRow{major: cl.Major, minor: cl.Minor, className: cl.NameZh, name: cl.NameZh, state: "normal", owner: cl.OwnerDept}
	if in.Name != "" {
		if c.name, err = textOf(64)(prefix+"name", in.Name); err != nil {
			return nil, err
		}
	}
	if in.State != "" {
		if c.state, err = enumOf(ComponentStates...)(prefix+"state", in.State); err != nil {
			return nil, err
		}
	}
	if in.OwnerDept != "" {
		if c.owner, err = textOf(16)(prefix+"ownerDept", in.OwnerDept); err != nil {
			return nil, err
		}
	}
	if in.Address != "" {
		if c.address, err = textOf(128)(prefix+"address", in.Address); err != nil {
			return nil, err
		}
	}
	if c.grid, c.lon, c.lat, err = s.placeOf(ctx, prefix, in.Lon, in.Lat, in.GridCode); err != nil {
		return nil, err
	}
	return c, nil
}

// component inserts a prepared component with the next serial of its
// district and class.
func (w *writer) component(ctx context.Context, c *componentRow) error {
	_, err := w.componentCode(ctx, c)
	return err
}

func (w *writer) componentCode(ctx context.Context, c *componentRow) (string, error) {
	if err := w.grid(ctx, "gridCode", c.grid); err != nil {
		return "", err
	}
	code, err := w.nextSerial(ctx, "reg_components", "code", c.grid[:6]+c.major+c.minor, 6)
	if err != nil {
		return "", err
	}
	src := w.sources(componentFields)
	_, err = w.exec(ctx, `INSERT INTO reg_components (code, major, minor, name, state, owner_dept, owner_org_id, address, grid_code, scope_key, lon, lat, sources, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, code, c.major, c.minor, c.name, c.state, c.owner, c.address, c.grid, c.grid, c.lon, c.lat, src, w.now, w.now)
	return code, err
}

// CreateComponent registers a component in the caller's region.
func (s *Service) CreateComponent(ctx context.Context, in NewComponent) (*Component, error) {
	if _, err := authz.Require(ctx, authz.RegistryWrite); err != nil {
		return nil, err
	}
	c, err := s.prepareComponent(ctx, in, "")
	if err != nil {
		return nil, err
	}
	code, err := s.create(ctx, "registry.component.create", func(k string) string { return "component:" + k },
		func(ctx context.Context, w *writer) (string, error) { return w.componentCode(ctx, c) })
	if err != nil {
		return nil, err
	}
	return s.GetComponent(ctx, code)
}

const componentCols = `c.code, c.major, c.minor, k.name_zh, k.major_zh, c.name, c.state, c.owner_dept, c.address, c.grid_code, c.lon, c.lat, c.sources, c.version, c.updated_at, c.scope_key`

const componentFrom = ` FROM reg_components c JOIN reg_component_classes k ON k.major = c.major AND k.minor = c.minor`

func scanComponent(sc interface{ Scan(...any) error }) (*Component, string, error) {
	var c Component
	var src, scope string
	err := sc.Scan(&c.Code, &c.Major, &c.Minor, &c.ClassName, &c.MajorName, &c.Name, &c.State, &c.OwnerDept, &c.Address, &c.GridCode, &c.Lon, &c.Lat, &src, &c.Version, &c.UpdatedAt, &scope)
	c.Sources = decodeSources(src, componentFields)
	c.OwnerName = DeptName(c.OwnerDept)
	return &c, scope, err
}

// GetComponent returns a component of the caller's region (with its owner:
// the case module's lookup).
func (s *Service) GetComponent(ctx context.Context, code string) (*Component, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, err
	}
	c, scope, err := scanComponent(s.db.QueryRow(ctx, `SELECT `+componentCols+componentFrom+` WHERE c.code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("component", code)
	}
	if err != nil {
		return nil, err
	}
	if err := inScope(p, scope, "component", code); err != nil {
		return nil, err
	}
	return c, nil
}

// ComponentFilter narrows ListComponents.
type ComponentFilter struct {
	Within string
	Major  string
	Minor  string
	State  string
	Owner  string
	BBox   *[4]float64
	Q      string // code prefix, name or address contains
	// Since and Until bound the time of the last change.
	Since, Until *time.Time
}

// ListComponents lists components of the caller's region.
func (s *Service) ListComponents(ctx context.Context, f ComponentFilter, limit, offset int) ([]Component, int, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, 0, err
	}
	cond, args, err := scopeCond(p, f.Within)
	if err != nil {
		return nil, 0, err
	}
	cond = strings.ReplaceAll(cond, "scope_key", "c.scope_key")
	for _, eq := range []struct{ col, v string }{{"c.major", f.Major}, {"c.minor", f.Minor}, {"c.state", f.State}, {"c.owner_dept", f.Owner}} {
		if eq.v != "" {
			cond, args = cond+" AND "+eq.col+" = ?", append(args, eq.v)
		}
	}
	if f.BBox != nil {
		cond, args = cond+" AND c.lon >= ? AND c.lon <= ? AND c.lat >= ? AND c.lat <= ?", append(args, f.BBox[0], f.BBox[2], f.BBox[1], f.BBox[3])
	}
	if f.Since != nil {
		cond, args = cond+" AND c.updated_at >= ?", append(args, f.Since.UnixMilli())
	}
	if f.Until != nil {
		cond, args = cond+" AND c.updated_at <= ?", append(args, f.Until.UnixMilli())
	}
	if f.Q != "" {
		lo, hi := authz.PrefixRange(f.Q)
		cond, args = cond+` AND ((c.code >= ? AND c.code < ?) OR c.name LIKE ? ESCAPE '\' OR c.address LIKE ? ESCAPE '\')`, append(args, lo, hi, db.Like(f.Q), db.Like(f.Q))
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*)`+componentFrom+` WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+componentCols+componentFrom+` WHERE `+cond+` ORDER BY c.code LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Component
	for rows.Next() {
		c, _, err := scanComponent(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *c)
	}
	return out, total, rows.Err()
}

// deptNames are the department families (organisations' deptType).
var deptNames = map[string]string{
	"ga": "公安", "mz": "民政", "rs": "人社", "wj": "卫健", "scjg": "市场监管", "cg": "城管", "zj": "住建", "jt": "交通",
	"yj": "应急", "cz": "财政", "sw": "税务", "sj": "数据局", "cyzx": "城运中心", "jd": "街道办事处", "sq": "社区居委会", "system": "系统",
}

// DeptName returns the Chinese name of a department family, or the code.
func DeptName(code string) string {
	if n, ok := deptNames[code]; ok {
		return n
	}
	return code
}

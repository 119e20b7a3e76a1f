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
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// Entity kinds (组织): enterprises, individual businesses, social
// organisations and public institutions, keyed by their credit code.
var EntityKinds = []string{"enterprise", "individual", "social", "institution", "other"}

// EntityStatuses are registration states.
var EntityStatuses = []string{"active", "revoked", "cancelled", "moved-out"}

// Industry is a section of GB/T 4754-2017 (国民经济行业分类).
type Industry struct {
	Code   string `json:"code"`
	NameZh string `json:"nameZh"`
}

// Industries are the GB/T 4754-2017 sections.
var Industries = []Industry{
	{"A", "农、林、牧、渔业"}, {"B", "采矿业"}, {"C", "制造业"}, {"D", "电力、热力、燃气及水生产和供应业"},
	{"E", "建筑业"}, {"F", "批发和零售业"}, {"G", "交通运输、仓储和邮政业"}, {"H", "住宿和餐饮业"},
	{"I", "信息传输、软件和信息技术服务业"}, {"J", "金融业"}, {"K", "房地产业"}, {"L", "租赁和商务服务业"},
	{"M", "科学研究和技术服务业"}, {"N", "水利、环境和公共设施管理业"}, {"O", "居民服务、修理和其他服务业"},
	{"P", "教育"}, {"Q", "卫生和社会工作"}, {"R", "文化、体育和娱乐业"}, {"S", "公共管理、社会保障和社会组织"}, {"T", "国际组织"},
}

func industryCodes() []string {
	out := make([]string, len(Industries))
	for i, in := range Industries {
		out[i] = in.Code
	}
	return out
}

func industryName(code string) string {
	for _, in := range Industries {
		if in.Code == code {
			return in.NameZh
		}
	}
	return ""
}

// Entity is an enterprise or social organisation; the legal
// representative is masked unless the purpose allows legalRep.
type Entity struct {
	CreditCode   string   `json:"creditCode"`
	Name         string   `json:"name"`
	Kind         string   `json:"kind" enum:"enterprise,individual,social,institution,other"`
	TypeName     string   `json:"typeName" doc:"Organisation type from the credit code, e.g. 企业"`
	LegalRep     string   `json:"legalRep"`
	Industry     string   `json:"industry"`
	IndustryName string   `json:"industryName"`
	Address      string   `json:"address"`
	Status       string   `json:"status" enum:"active,revoked,cancelled,moved-out"`
	Established  string   `json:"established" doc:"YYYY-MM-DD"`
	GridCode     string   `json:"gridCode"`
	Lon          float64  `json:"lon"`
	Lat          float64  `json:"lat"`
	Sources      Sources  `json:"sources"`
	Version      int      `json:"version"`
	UpdatedAt    int64    `json:"updatedAt"`
	ClearFields  []string `json:"clearFields" nullable:"false"`
}

// NewEntity is the input to register an enterprise or organisation.
type NewEntity struct {
	CreditCode  string   `json:"creditCode" minLength:"18" maxLength:"18" doc:"GB 32100 unified social credit code"`
	Name        string   `json:"name" minLength:"1" maxLength:"100"`
	LegalRep    string   `json:"legalRep" minLength:"1" maxLength:"32"`
	Industry    string   `json:"industry" pattern:"^[A-T]$" doc:"GB/T 4754-2017 section"`
	Address     string   `json:"address" minLength:"1" maxLength:"128"`
	Status      string   `json:"status,omitempty" enum:"active,revoked,cancelled,moved-out"`
	Established string   `json:"established,omitempty" doc:"YYYY-MM-DD"`
	Lon         *float64 `json:"lon,omitempty"`
	Lat         *float64 `json:"lat,omitempty"`
	GridCode    string   `json:"gridCode,omitempty" maxLength:"15"`
}

type entityRow struct {
	code, name, kind, repMask, industry, address, status, established, grid string
	lon, lat                                                                float64
	rep                                                                     string
}

// kindOf maps a credit code's registration authority and type to a kind.
func kindOf(c idcode.CreditCode) string {
	switch {
	case c.Authority == '9' && c.Type == '2':
		return "individual"
	case c.Authority == '9':
		return "enterprise"
	case c.Authority == '5':
		return "social"
	case c.Authority == '1':
		return "institution"
	}
	return "other"
}

// prepareEntity validates a new entity without writing (the legal
// representative is encrypted at insert, bound to the credit code).
func (s *Service) prepareEntity(ctx context.Context, in NewEntity, prefix string) (*entityRow, error) {
	cc, err := idcode.ParseCreditCode(prefix+"creditCode", in.CreditCode)
	if err != nil {
		return nil, err
	}
	e := &entityRow{code: cc.Code, kind: kindOf(cc), status: "active"}
	if e.name, err = textOf(100)(prefix+"name", in.Name); err != nil {
		return nil, err
	}
	if e.rep, err = validName(prefix+"legalRep", in.LegalRep); err != nil {
		return nil, err
	}
	if e.industry, err = enumOf(industryCodes()...)(prefix+"industry", strings.TrimSpace(in.Industry)); err != nil {
		return nil, err
	}
	if e.address, err = textOf(128)(prefix+"address", in.Address); err != nil {
		return nil, err
	}
	if in.Status != "" {
		if e.status, err = enumOf(EntityStatuses...)(prefix+"status", in.Status); err != nil {
			return nil, err
		}
	}
	if in.Established != "" {
		t, err := time.Parse(time.DateOnly, in.Established)
		if err != nil || t.After(s.now()) || t.Year() < 1949 {
			return nil, errs.Invalid(prefix+"established", "date", "a date YYYY-MM-DD from 1949 to today", "应为 1949 年至今的日期（YYYY-MM-DD）")
		}
		e.established = t.Format(time.DateOnly)
	}
	if e.grid, e.lon, e.lat, err = s.placeOf(ctx, prefix, in.Lon, in.Lat, in.GridCode); err != nil {
		return nil, err
	}
	e.repMask = idcode.MaskName(e.rep)
	return e, nil
}

func (w *writer) entity(ctx context.Context, e *entityRow) error {
	if err := w.grid(ctx, "gridCode", e.grid); err != nil {
		return err
	}
	enc, err := w.s.encrypt(e.rep, "entity.legalRep:"+e.code)
	if err != nil {
		return err
	}
	src := w.sources(entityFields)
	_, err = w.exec(ctx, `INSERT INTO reg_entities (credit_code, name, kind, legal_rep_enc, legal_rep_mask, industry, address, status, established, grid_code, scope_key, lon, lat, sources, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, e.code, e.name, e.kind, enc, e.repMask, e.industry, e.address, e.status, e.established, e.grid, e.grid, e.lon, e.lat, src, w.now, w.now)
	if db.IsUniqueViolation(err) {
		return errs.Conflict("creditCode", "an organisation with this credit code is already registered", "该统一社会信用代码已登记")
	}
	return err
}

// CreateEntity registers an enterprise or organisation.
func (s *Service) CreateEntity(ctx context.Context, in NewEntity) (*Entity, error) {
	if _, err := authz.Require(ctx, authz.RegistryWrite); err != nil {
		return nil, err
	}
	e, err := s.prepareEntity(ctx, in, "")
	if err != nil {
		return nil, err
	}
	code, err := s.create(ctx, "registry.entity.create", func(k string) string { return "entity:" + k },
		func(ctx context.Context, w *writer) (string, error) { return e.code, w.entity(ctx, e) })
	if err != nil {
		return nil, err
	}
	return s.GetEntity(ctx, code, "")
}

const entityCols = `credit_code, name, kind, legal_rep_enc, legal_rep_mask, industry, address, status, established, grid_code, lon, lat, sources, version, updated_at, scope_key`

func (s *Service) scanEntity(sc interface{ Scan(...any) error }, v view) (*Entity, string, bool, error) {
	var e Entity
	var enc, src, scope string
	if err := sc.Scan(&e.CreditCode, &e.Name, &e.Kind, &enc, &e.LegalRep, &e.Industry, &e.Address, &e.Status, &e.Established, &e.GridCode, &e.Lon, &e.Lat, &src, &e.Version, &e.UpdatedAt, &scope); err != nil {
		return nil, "", false, err
	}
	e.Sources = decodeSources(src, entityFields)
	e.IndustryName = industryName(e.Industry)
	e.ClearFields = []string{}
	if cc, err := idcode.ParseCreditCode("creditCode", e.CreditCode); err == nil {
		e.TypeName = cc.TypeName
	}
	shown := false
	if v.shows("legalRep") {
		rep, err := s.decrypt(enc, "entity.legalRep:"+e.CreditCode)
		if err != nil {
			return nil, "", false, err
		}
		e.LegalRep, shown = rep, true
		e.ClearFields = append(e.ClearFields, "legalRep")
	}
	return &e, scope, shown, nil
}

// GetEntity returns an organisation of the caller's region.
func (s *Service) GetEntity(ctx context.Context, code, purpose string) (*Entity, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, err
	}
	v, err := s.viewFor(ctx, p, purpose)
	if err != nil {
		return nil, err
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	e, scope, shown, err := s.scanEntity(s.db.QueryRow(ctx, `SELECT `+entityCols+` FROM reg_entities WHERE credit_code = ?`, code), v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("organisation", code)
	}
	if err != nil {
		return nil, err
	}
	if err := inScope(p, scope, "organisation", code); err != nil {
		return nil, err
	}
	if shown {
		if err := s.disclose(ctx, v, []string{"entity:" + code}, []string{"legalRep"}); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// EntityFilter narrows ListEntities.
type EntityFilter struct {
	Within   string
	Kind     string
	Industry string
	Status   string
	Q        string // name contains or credit code
	Purpose  string
}

// ListEntities lists organisations of the caller's region.
func (s *Service) ListEntities(ctx context.Context, f EntityFilter, limit, offset int) ([]Entity, int, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, 0, err
	}
	v, err := s.viewFor(ctx, p, f.Purpose)
	if err != nil {
		return nil, 0, err
	}
	cond, args, err := scopeCond(p, f.Within)
	if err != nil {
		return nil, 0, err
	}
	for _, eq := range []struct{ col, v string }{{"kind", f.Kind}, {"industry", f.Industry}, {"status", f.Status}} {
		if eq.v != "" {
			cond, args = cond+" AND "+eq.col+" = ?", append(args, eq.v)
		}
	}
	if f.Q != "" {
		cond, args = cond+` AND (name LIKE ? ESCAPE '\' OR credit_code = ?)`, append(args, db.Like(f.Q), strings.ToUpper(f.Q))
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM reg_entities WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+entityCols+` FROM reg_entities WHERE `+cond+` ORDER BY scope_key, credit_code LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Entity
	var subjects []string
	for rows.Next() {
		e, _, shown, err := s.scanEntity(rows, v)
		if err != nil {
			return nil, 0, err
		}
		if shown {
			subjects = append(subjects, "entity:"+e.CreditCode)
		}
		out = append(out, *e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := s.disclose(ctx, v, subjects, []string{"legalRep"}); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

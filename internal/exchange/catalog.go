package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/exchange/quality"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// Sharing classes (国发〔2016〕51号).
const (
	Unconditional = "unconditional" // 无条件共享
	Conditional   = "conditional"   // 有条件共享
	NotShared     = "none"          // 不予共享
)

// Resource statuses.
const (
	Draft     = "draft"
	Published = "published"
	Retired   = "retired"
)

// Backends: where a resource's data lives.
const (
	Hosted   = "hosted"   // loaded into the platform (ex_rows)
	HTTPAPI  = "http"     // the provider's own system, called on the consumer's behalf
	Registry = "registry" // the base-data registry (people, enterprises, buildings, components)
)

// Item is one data item of a resource (数据项).
type Item struct {
	Name     string `json:"name" minLength:"1" maxLength:"40" pattern:"^[a-zA-Z][a-zA-Z0-9_]*$" doc:"Field name used in queries and answers"`
	NameZh   string `json:"nameZh" minLength:"1" maxLength:"40"`
	Type     string `json:"type" enum:"string,int,number,date,datetime,bool,idnumber,creditcode,division,phone,email"`
	Required bool   `json:"required,omitempty"`
	Key      bool   `json:"key,omitempty" doc:"The item records are looked up by (exactly one)"`
	Personal string `json:"personal,omitempty" enum:"personal,sensitive," doc:"Personal information (PIPL); sensitive personal information"`
	Mask     string `json:"mask,omitempty" enum:"id,name,phone,address,partial,hide," doc:"How the value is masked unless a grant allows it in clear (personal items default to partial)"`
}

// Resource is one catalog entry (GB/T 21063 core fields).
type Resource struct {
	ID            string         `json:"id"`
	Code          string         `json:"code" doc:"Resource code (资源代码)"`
	Node          string         `json:"node" doc:"Node holding the data ('' = this node)"`
	Name          string         `json:"name"`
	Class         string         `json:"class" enum:"base,subject,department" doc:"基础/主题/部门信息资源"`
	Category      string         `json:"category" doc:"Item/category/detail path, e.g. 人口/户籍/户籍人口"`
	ProviderOrg   string         `json:"providerOrg"`
	ProviderName  string         `json:"providerName"`
	ProviderCode  string         `json:"providerCode"`
	ProviderDept  string         `json:"providerDept"`
	Summary       string         `json:"summary"`
	Format        string         `json:"format" enum:"table,file,api"`
	Sharing       string         `json:"sharing" enum:"unconditional,conditional,none"`
	Conditions    string         `json:"conditions"`
	LegalBasis    string         `json:"legalBasis"`
	Method        string         `json:"method" doc:"api, bulk, subscription (comma list)"`
	Opening       string         `json:"opening" enum:"open,conditional,closed"`
	UpdateCycle   string         `json:"updateCycle" enum:"realtime,daily,weekly,monthly,quarterly,yearly,irregular"`
	ReleaseDate   string         `json:"releaseDate"`
	Related       []string       `json:"related" nullable:"false"`
	Grading       string         `json:"grading" enum:"core,important,general" doc:"GB/T 43697 data grading"`
	Backend       string         `json:"backend" enum:"hosted,http,registry"`
	BackendRef    string         `json:"backendRef,omitempty" doc:"http: URL with {key}; registry: dataset"`
	Items         []Item         `json:"items" nullable:"false"`
	Rules         []quality.Rule `json:"rules,omitempty" doc:"Quality rules (default: derived from the items)"`
	Status        string         `json:"status" enum:"draft,published,retired"`
	Version       int            `json:"version"`
	Quality       float64        `json:"quality" doc:"Latest quality score 0-100, -1 when never checked"`
	QualityAt     int64          `json:"qualityAt"`
	LastLoad      int64          `json:"lastLoad"`
	CreatedAt     int64          `json:"createdAt"`
	UpdatedAt     int64          `json:"updatedAt"`
	PersonalItems int            `json:"personalItems"`
}

// NewResource is the input to create or change a resource.
type NewResource struct {
	Code        string   `json:"code" minLength:"3" maxLength:"40" pattern:"^[0-9A-Za-z][0-9A-Za-z/._-]*$"`
	Name        string   `json:"name" minLength:"2" maxLength:"100"`
	Class       string   `json:"class" enum:"base,subject,department"`
	Category    string   `json:"category,omitempty" maxLength:"100"`
	ProviderOrg string   `json:"providerOrg,omitempty" maxLength:"36" doc:"Default: your organisation"`
	Summary     string   `json:"summary,omitempty" maxLength:"2000"`
	Format      string   `json:"format" enum:"table,file,api"`
	Sharing     string   `json:"sharing" enum:"unconditional,conditional,none"`
	Conditions  string   `json:"conditions,omitempty" maxLength:"500"`
	LegalBasis  string   `json:"legalBasis,omitempty" maxLength:"500"`
	Method      string   `json:"method,omitempty" maxLength:"40"`
	Opening     string   `json:"opening,omitempty" enum:"open,conditional,closed,"`
	UpdateCycle string   `json:"updateCycle" enum:"realtime,daily,weekly,monthly,quarterly,yearly,irregular"`
	ReleaseDate string   `json:"releaseDate,omitempty" maxLength:"10"`
	Related     []string `json:"related,omitempty" maxItems:"20"`
	Grading     string   `json:"grading" enum:"core,important,general"`
	Backend     string   `json:"backend" enum:"hosted,http,registry"`
	BackendRef  string   `json:"backendRef,omitempty" maxLength:"500"`
	Items       []Item   `json:"items" minItems:"1" maxItems:"100"`
	// Rules are the quality rules; empty means the defaults for the items.
	Rules []quality.Rule `json:"rules,omitempty" maxItems:"100"`
}

var methods = []string{"api", "bulk", "subscription"}

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// validate checks a resource's fields beyond the schema, naming the field.
func (in *NewResource) validate() error {
	keys := 0
	names := map[string]bool{}
	for i, it := range in.Items {
		f := fmt.Sprintf("items[%d]", i)
		if names[it.Name] {
			return errs.Invalid(f+".name", "unique", "duplicate item "+it.Name, "数据项重复："+it.Name)
		}
		names[it.Name] = true
		if it.Key {
			keys++
			if it.Personal == "" && (it.Type == "idnumber") {
				return errs.Invalid(f+".personal", "required", "an ID number is personal information", "身份证号属于个人信息")
			}
		}
		if it.Personal != "" && it.Mask == "" {
			in.Items[i].Mask = "partial"
		}
	}
	if keys != 1 {
		return errs.Invalid("items", "key", "exactly one item must be the key", "必须且只能有一个数据项作为查询键")
	}
	if in.Sharing == NotShared && strings.TrimSpace(in.LegalBasis) == "" {
		return errs.Invalid("legalBasis", "required", "a resource that is not shared needs its legal basis", "不予共享的资源必须写明法律依据")
	}
	if in.Sharing == Conditional && strings.TrimSpace(in.Conditions) == "" {
		return errs.Invalid("conditions", "required", "a conditional resource states its conditions", "有条件共享的资源必须写明共享条件")
	}
	if in.Method == "" {
		in.Method = "api"
	}
	for _, m := range strings.Split(in.Method, ",") {
		if !slices.Contains(methods, strings.TrimSpace(m)) {
			return errs.Invalid("method", "enum", "method must be api, bulk or subscription", "共享方式应为 api、bulk 或 subscription")
		}
	}
	if in.Opening == "" {
		in.Opening = "closed"
	}
	if in.ReleaseDate != "" {
		if _, err := time.Parse(time.DateOnly, in.ReleaseDate); err != nil || !datePattern.MatchString(in.ReleaseDate) {
			return errs.Invalid("releaseDate", "format", "must be YYYY-MM-DD", "应为 YYYY-MM-DD")
		}
	}
	switch in.Backend {
	case HTTPAPI:
		if !strings.HasPrefix(in.BackendRef, "http://") && !strings.HasPrefix(in.BackendRef, "https://") || !strings.Contains(in.BackendRef, "{key}") {
			return errs.Invalid("backendRef", "format", "an http backend needs a URL containing {key}", "接口方式须提供包含 {key} 的 URL")
		}
	case Registry:
		if !slices.Contains(RegistryDatasets, in.BackendRef) {
			return errs.Invalid("backendRef", "enum", "registry dataset must be one of "+strings.Join(RegistryDatasets, ", "), "基础库数据集应为 "+strings.Join(RegistryDatasets, "、"))
		}
	}
	if len(in.Rules) > 0 {
		if err := quality.ValidateRules(in.Rules, QualityItems(in.Items)); err != nil {
			return err
		}
	}
	return nil
}

// RegistryDatasets are the registry's datasets the exchange can publish.
var RegistryDatasets = []string{"people", "entities", "buildings", "components"}

// QualityItems describes items to the quality rules.
func QualityItems(items []Item) []quality.Item {
	out := make([]quality.Item, len(items))
	for i, it := range items {
		out[i] = quality.Item{Name: it.Name, Type: it.Type, Required: it.Required, Key: it.Key}
	}
	return out
}

// keyItem is the resource's key item.
func (r *Resource) keyItem() Item {
	for _, it := range r.Items {
		if it.Key {
			return it
		}
	}
	return Item{}
}

func (r *Resource) item(name string) (Item, bool) {
	for _, it := range r.Items {
		if it.Name == name {
			return it, true
		}
	}
	return Item{}, false
}

const resourceCols = `id, code, node, name, class, category, provider_org, provider_name, provider_code, provider_dept, summary, format,
	sharing, conditions, legal_basis, method, opening, update_cycle, release_date, related, grading, backend, backend_ref, items,
	status, version, quality, quality_at, last_load, rules, created_at, updated_at`

func scanResource(sc interface{ Scan(...any) error }) (*Resource, error) {
	var r Resource
	var related, items, rules string
	err := sc.Scan(&r.ID, &r.Code, &r.Node, &r.Name, &r.Class, &r.Category, &r.ProviderOrg, &r.ProviderName, &r.ProviderCode, &r.ProviderDept,
		&r.Summary, &r.Format, &r.Sharing, &r.Conditions, &r.LegalBasis, &r.Method, &r.Opening, &r.UpdateCycle, &r.ReleaseDate,
		&related, &r.Grading, &r.Backend, &r.BackendRef, &items, &r.Status, &r.Version, &r.Quality, &r.QualityAt, &r.LastLoad, &rules,
		&r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	r.Related = splitList(related)
	if err := json.Unmarshal([]byte(items), &r.Items); err != nil {
		return nil, fmt.Errorf("resource %s items: %w", r.Code, err)
	}
	if rules != "" {
		if err := json.Unmarshal([]byte(rules), &r.Rules); err != nil {
			return nil, fmt.Errorf("resource %s rules: %w", r.Code, err)
		}
	}
	for _, it := range r.Items {
		if it.Personal != "" {
			r.PersonalItems++
		}
	}
	return &r, nil
}

func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// resourceCache keeps resources by id for the access path; entries are
// dropped on local change and re-read after a second (other replicas).
type resourceCache struct {
	mu sync.RWMutex
	m  map[string]cachedResource
}

type cachedResource struct {
	r  *Resource
	at time.Time
}

func newResourceCache() *resourceCache { return &resourceCache{m: map[string]cachedResource{}} }

func (c *resourceCache) drop(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// clear drops every entry (a change to many resources at once).
func (c *resourceCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

const cacheFor = time.Second

// resource returns a resource by id or code, from the cache when fresh.
func (s *Service) resource(ctx context.Context, idOrCode string) (*Resource, error) {
	now := s.now()
	s.resources.mu.RLock()
	c, ok := s.resources.m[idOrCode]
	s.resources.mu.RUnlock()
	if ok && now.Sub(c.at) < cacheFor {
		return c.r, nil
	}
	r, err := scanResource(s.db.QueryRow(ctx, `SELECT `+resourceCols+` FROM ex_resources WHERE id = ? OR code = ? ORDER BY node LIMIT 1`, idOrCode, idOrCode))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("resource", idOrCode)
	}
	if err != nil {
		return nil, err
	}
	s.resources.mu.Lock()
	s.resources.m[idOrCode] = cachedResource{r, now}
	s.resources.mu.Unlock()
	return r, nil
}

// CreateResource adds a catalog entry as a draft of the caller's
// organisation (or, for the data bureau, of another provider).
func (s *Service) CreateResource(ctx context.Context, in NewResource) (*Resource, error) {
	p, err := authz.Require(ctx, authz.ExchangePublish)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	prov, err := s.providerOrg(ctx, p, in.ProviderOrg)
	if err != nil {
		return nil, err
	}
	now := s.nowMs()
	r := &Resource{ID: newID(), Code: in.Code, Status: Draft, Version: 1, Quality: -1, CreatedAt: now, UpdatedAt: now}
	applyInput(r, in, prov)
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `INSERT INTO ex_resources (`+resourceCols+`, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			append(resourceArgs(r), p.ID)...); err != nil {
			if db.IsUniqueViolation(err) {
				return errs.Conflict("code", "a resource with this code exists", "该资源代码已存在")
			}
			return err
		}
		if err := s.saveVersion(ctx, p, r); err != nil {
			return err
		}
		return s.evidence(ctx, p, "exchange.resource.create", "resource:"+r.Code, "", "", r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func applyInput(r *Resource, in NewResource, prov *Org) {
	r.Name, r.Class, r.Category, r.Summary, r.Format = in.Name, in.Class, in.Category, in.Summary, in.Format
	r.Sharing, r.Conditions, r.LegalBasis, r.Method, r.Opening = in.Sharing, in.Conditions, in.LegalBasis, in.Method, in.Opening
	r.UpdateCycle, r.ReleaseDate, r.Grading, r.Backend, r.BackendRef = in.UpdateCycle, in.ReleaseDate, in.Grading, in.Backend, in.BackendRef
	r.Related = in.Related
	if r.Related == nil {
		r.Related = []string{}
	}
	r.Items, r.Rules = in.Items, in.Rules
	r.ProviderOrg, r.ProviderName, r.ProviderDept = prov.ID, prov.Name, prov.DeptType
	r.ProviderCode = prov.DeptType
	if r.ProviderCode == "" {
		r.ProviderCode = prov.ID
	}
	r.PersonalItems = 0
	for _, it := range r.Items {
		if it.Personal != "" {
			r.PersonalItems++
		}
	}
}

func resourceArgs(r *Resource) []any {
	rules := ""
	if len(r.Rules) > 0 {
		rules = mustJSON(r.Rules)
	}
	return []any{r.ID, r.Code, r.Node, r.Name, r.Class, r.Category, r.ProviderOrg, r.ProviderName, r.ProviderCode, r.ProviderDept, r.Summary, r.Format,
		r.Sharing, r.Conditions, r.LegalBasis, r.Method, r.Opening, r.UpdateCycle, r.ReleaseDate, strings.Join(r.Related, ","), r.Grading,
		r.Backend, r.BackendRef, mustJSON(r.Items), r.Status, r.Version, r.Quality, r.QualityAt, r.LastLoad, rules, r.CreatedAt, r.UpdatedAt}
}

func (s *Service) saveVersion(ctx context.Context, p *authz.Principal, r *Resource) error {
	_, err := s.db.Exec(ctx, `INSERT INTO ex_resource_versions (resource_id, version, body, changed_by, changed_at) VALUES (?, ?, ?, ?, ?)`,
		r.ID, r.Version, mustJSON(r), p.ID, r.UpdatedAt)
	return err
}

// providerOrg is the organisation a resource is published for: the
// caller's own, or any for the data bureau (sj) and nationwide callers.
func (s *Service) providerOrg(ctx context.Context, p *authz.Principal, orgID string) (*Org, error) {
	if orgID == "" || orgID == p.OrgID {
		if p.OrgID == "" {
			return nil, errs.Invalid("providerOrg", "required", "name the providing organisation", "请指定提供部门")
		}
		return s.dir.Org(ctx, p.OrgID)
	}
	if !p.Nationwide {
		own, err := s.dir.Org(ctx, p.OrgID)
		if err != nil {
			return nil, err
		}
		if own.DeptType != "sj" {
			return nil, errs.Forbidden("only the data bureau publishes for another organisation", "只有数据主管部门可以代其他部门编目")
		}
	}
	o, err := s.dir.Org(ctx, orgID)
	if err != nil {
		return nil, errs.Invalid("providerOrg", "exists", "unknown organisation", "提供部门不存在")
	}
	return o, nil
}

// mayManage reports whether the caller manages the resource: its provider,
// the data bureau, or a nationwide caller.
func (s *Service) mayManage(ctx context.Context, p *authz.Principal, r *Resource) error {
	if p.Nationwide || p.OrgID == r.ProviderOrg {
		return nil
	}
	if own, err := s.dir.Org(ctx, p.OrgID); err == nil && (own.DeptType == "sj" || own.DeptType != "" && own.DeptType == r.ProviderDept) {
		return nil
	}
	return errs.Forbidden("only the providing department manages this resource", "只有提供部门可以管理该资源")
}

// UpdateResource changes a resource; a change of its items (the schema)
// makes a new version, and every version is kept.
func (s *Service) UpdateResource(ctx context.Context, id string, in NewResource, version int) (*Resource, error) {
	p, err := authz.Require(ctx, authz.ExchangePublish)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	r, err := s.getFresh(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayManage(ctx, p, r); err != nil {
		return nil, err
	}
	if version != 0 && version != r.Version {
		return nil, errs.Conflict("version", fmt.Sprintf("the resource changed (version %d, not %d)", r.Version, version), "资源已被他人修改，请刷新")
	}
	if in.Code != r.Code {
		return nil, errs.Invalid("code", "immutable", "the code of a resource does not change", "资源代码不可修改")
	}
	prov := &Org{ID: r.ProviderOrg, Name: r.ProviderName, DeptType: r.ProviderDept}
	if in.ProviderOrg != "" && in.ProviderOrg != r.ProviderOrg {
		if prov, err = s.providerOrg(ctx, p, in.ProviderOrg); err != nil {
			return nil, err
		}
	}
	old := r.Version
	applyInput(r, in, prov)
	r.Version++
	r.UpdatedAt = s.nowMs()
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		args := resourceArgs(r)
		res, err := s.db.Exec(ctx, `UPDATE ex_resources SET name=?, class=?, category=?, provider_org=?, provider_name=?, provider_code=?, provider_dept=?,
			summary=?, format=?, sharing=?, conditions=?, legal_basis=?, method=?, opening=?, update_cycle=?, release_date=?, related=?, grading=?,
			backend=?, backend_ref=?, items=?, rules=?, version=?, updated_at=? WHERE id=? AND version=?`,
			r.Name, r.Class, r.Category, r.ProviderOrg, r.ProviderName, r.ProviderCode, r.ProviderDept, r.Summary, r.Format, r.Sharing,
			r.Conditions, r.LegalBasis, r.Method, r.Opening, r.UpdateCycle, r.ReleaseDate, args[19], r.Grading, r.Backend, r.BackendRef,
			args[23], args[29], r.Version, r.UpdatedAt, r.ID, old)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.Conflict("version", "the resource changed meanwhile", "资源已被他人修改，请刷新")
		}
		if err := s.saveVersion(ctx, p, r); err != nil {
			return err
		}
		return s.evidence(ctx, p, "exchange.resource.update", "resource:"+r.Code, "", "", r)
	})
	if err != nil {
		return nil, err
	}
	s.resources.drop(r.ID)
	s.resources.drop(r.Code)
	return r, nil
}

// SetStatus publishes or retires a resource. Publishing runs its quality
// rules.
func (s *Service) SetStatus(ctx context.Context, id, status string) (*Resource, error) {
	p, err := authz.Require(ctx, authz.ExchangePublish)
	if err != nil {
		return nil, err
	}
	r, err := s.getFresh(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayManage(ctx, p, r); err != nil {
		return nil, err
	}
	if status != Published && status != Retired && status != Draft {
		return nil, errs.Invalid("status", "enum", "status must be draft, published or retired", "状态应为 draft、published 或 retired")
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `UPDATE ex_resources SET status = ?, updated_at = ? WHERE id = ?`, status, s.nowMs(), r.ID); err != nil {
			return err
		}
		return s.evidence(ctx, p, "exchange.resource."+status, "resource:"+r.Code, "", "", map[string]any{"code": r.Code, "version": r.Version})
	})
	if err != nil {
		return nil, err
	}
	s.resources.drop(r.ID)
	s.resources.drop(r.Code)
	r.Status = status
	if status == Published && r.Node == "" {
		if _, err := s.RunQuality(ctx, r.ID, "publish"); err != nil {
			s.log.Warn("exchange: quality on publish", "resource", r.Code, "err", err)
		}
		s.pushCatalog()
	}
	return s.getFresh(ctx, r.ID)
}

func (s *Service) getFresh(ctx context.Context, idOrCode string) (*Resource, error) {
	r, err := scanResource(s.db.QueryRow(ctx, `SELECT `+resourceCols+` FROM ex_resources WHERE id = ? OR code = ? ORDER BY node LIMIT 1`, idOrCode, idOrCode))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("resource", idOrCode)
	}
	return r, err
}

// GetResource returns one catalog entry. Drafts are seen only by those who
// manage them.
func (s *Service) GetResource(ctx context.Context, id string) (*Resource, error) {
	p, err := authz.Require(ctx, authz.ExchangeRead)
	if err != nil {
		return nil, err
	}
	r, err := s.getFresh(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status == Draft && s.mayManage(ctx, p, r) != nil {
		return nil, errs.NotFound("resource", id)
	}
	return r, nil
}

// Versions lists every version of a resource, newest first.
func (s *Service) Versions(ctx context.Context, id string) ([]Resource, error) {
	r, err := s.GetResource(ctx, id)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT body FROM ex_resource_versions WHERE resource_id = ? ORDER BY version DESC`, r.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Resource{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var v Resource
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CatalogFilter narrows the catalog.
type CatalogFilter struct {
	Q        string // name, code, summary or item name contains
	Dept     string // provider's department family
	Class    string
	Sharing  string
	Grading  string
	Status   string // default: published (plus your own drafts)
	Node     string // "local", "remote" or a node id
	Personal *bool  // has personal items
}

// Catalog lists resources.
func (s *Service) Catalog(ctx context.Context, f CatalogFilter, limit, offset int) ([]Resource, int, error) {
	p, err := authz.Require(ctx, authz.ExchangeRead)
	if err != nil {
		return nil, 0, err
	}
	where := []string{"1=1"}
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.Q != "" {
		like := db.Like(f.Q)
		add(`(name LIKE ? ESCAPE '\' OR code LIKE ? ESCAPE '\' OR summary LIKE ? ESCAPE '\' OR items LIKE ? ESCAPE '\' OR provider_name LIKE ? ESCAPE '\')`, like, like, like, like, like)
	}
	if f.Dept != "" {
		add("provider_dept = ?", f.Dept)
	}
	if f.Class != "" {
		add("class = ?", f.Class)
	}
	if f.Sharing != "" {
		add("sharing = ?", f.Sharing)
	}
	if f.Grading != "" {
		add("grading = ?", f.Grading)
	}
	switch f.Node {
	case "":
	case "local":
		add("node = ''")
	case "remote":
		add("node <> ''")
	default:
		add("node = ?", f.Node)
	}
	switch f.Status {
	case "":
		add("(status = 'published' OR (status = 'draft' AND provider_org = ?))", p.OrgID)
	case Draft:
		if !p.Nationwide {
			add("status = 'draft' AND provider_org = ?", p.OrgID)
		} else {
			add("status = 'draft'")
		}
	default:
		add("status = ?", f.Status)
	}
	if f.Personal != nil {
		if *f.Personal {
			add(`items LIKE '%"personal":%'`)
		} else {
			add(`items NOT LIKE '%"personal":%'`)
		}
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM ex_resources WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+resourceCols+` FROM ex_resources WHERE `+cond+` ORDER BY provider_dept, code LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Resource{}
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *r)
	}
	return out, total, rows.Err()
}

// maskValue applies an item's mask to a value.
func maskValue(it Item, v string) string {
	if v == "" {
		return ""
	}
	switch it.Mask {
	case "id":
		return idcode.MaskCitizenID(v)
	case "name":
		return idcode.MaskName(v)
	case "phone":
		return idcode.MaskPhone(v)
	case "address":
		r := []rune(v)
		if len(r) <= 6 {
			return strings.Repeat("*", len(r))
		}
		return string(r[:len(r)-6]) + "******"
	case "hide":
		return "******"
	case "partial":
		r := []rune(v)
		switch {
		case len(r) <= 1:
			return "*"
		case len(r) == 2:
			return string(r[:1]) + "*"
		default:
			keep := len(r) / 4
			if keep < 1 {
				keep = 1
			}
			return string(r[:keep]) + strings.Repeat("*", len(r)-2*keep) + string(r[len(r)-keep:])
		}
	}
	return v
}

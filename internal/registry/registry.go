// Package registry is the base-data foundation (数据底座): people and
// households (人), buildings, addresses and rooms (地), managed city
// components (物) and enterprises and social organisations (组织), kept
// once at their authoritative source and reused everywhere (一数一源、一源多用).
//
// Every field value carries its source department and time; a change keeps
// the old value in the record's history; a value from a department that is
// not the field's authority does not overwrite: it becomes a change routed
// to the authority (a conflict), as do grid workers' corrections and
// additions. Personal fields are encrypted at rest and masked in every read
// unless the caller states a purpose that allows them, and every clear read
// and every change is evidence for the ledger.
package registry

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrations are the module's schema steps (after identity's and geo's).
func Migrations() db.Migrations {
	return db.Migrations{Module: "registry", FS: db.Sub(migrationsFS, "migrations")}
}

// Tables lists the module's data tables, dependants first, for demo resets
// (reference data — classes, authorities, purposes — stays).
var Tables = []string{"reg_imports", "reg_grid_workers", "reg_changes", "reg_history", "reg_person_tags",
	"reg_people", "reg_households", "reg_entities", "reg_components", "reg_addresses", "reg_buildings"}

// Cipher encrypts personal fields and computes blind indexes.
type Cipher interface {
	Encrypt(plaintext, associatedData []byte) ([]byte, error)
	Decrypt(ciphertext, associatedData []byte) ([]byte, error)
	Blind(value []byte) []byte
}

// Emitter records events in the caller's transaction (the outbox).
type Emitter interface {
	Emit(ctx context.Context, ev bus.Event, subject string) error
}

// Locator finds the unit grid of a point (the geo module's spatial index).
type Locator interface {
	LocateGrid(ctx context.Context, lon, lat float64) (string, bool, error)
}

// GridRef is a unit grid as the registry needs it.
type GridRef struct {
	Code, Name string
	Lon, Lat   float64 // centre
}

// UserRef is an account as the registry needs it.
type UserRef struct {
	ID, Username, DisplayName string
	Scope                     string // short code of the account's division
	Roles                     []authz.Role
}

// Directory is what the registry asks the geo and identity modules (it
// never reads their tables): the unit grids, the department family of an
// organisation, accounts, and divisions and grids for the search box.
type Directory interface {
	Grids(ctx context.Context) (map[string]GridRef, error)
	DeptType(ctx context.Context, orgID string) (string, error)
	User(ctx context.Context, id string) (*UserRef, error)
	SearchPlaces(ctx context.Context, q string, limit int) ([]SearchHit, error)
}

// Deps are the service's collaborators.
type Deps struct {
	DB        *db.DB
	Cipher    Cipher
	Events    Emitter
	Locator   Locator
	Directory Directory
	Log       *slog.Logger
	Now       func() time.Time
}

// Service is the registry module.
type Service struct {
	db      *db.DB
	cipher  Cipher
	events  Emitter
	locator Locator
	dir     Directory
	log     *slog.Logger
	now     func() time.Time

	deptMu sync.Mutex
	depts  map[string]string // org id -> deptType

	jobs *jobs
}

// New builds the service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{db: d.DB, cipher: d.Cipher, events: d.Events, locator: d.Locator, dir: d.Directory, log: d.Log, now: d.Now,
		depts: map[string]string{}, jobs: newJobs()}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// Source is where the current value of a field came from.
type Source struct {
	Dept string `json:"dept" doc:"Department code (deptType) that provided the value"`
	At   int64  `json:"at" doc:"When, unix milliseconds"`
}

// Sources maps field names to their sources.
type Sources map[string]Source

func (s Sources) encode() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// decodeSources reads a stored source map. A record whose fields all came
// from one source is stored as {"*": source} (a fifth of a person's row
// otherwise); it is expanded here to the kind's fields.
func decodeSources(s string, fields []string) Sources {
	out := Sources{}
	_ = json.Unmarshal([]byte(s), &out)
	if all, ok := out["*"]; ok {
		delete(out, "*")
		for _, f := range fields {
			if _, ok := out[f]; !ok {
				out[f] = all
			}
		}
	}
	return out
}

// allSources gives every field the same source (stored compactly).
func allSources(_ []string, dept string, at int64) Sources {
	return Sources{"*": {Dept: dept, At: at}}
}

// Fields of each kind that carry a source.
var (
	buildingFields  = []string{"name", "road", "houseNo", "useType", "floors", "location"}
	componentFields = []string{"name", "state", "ownerDept", "address", "location"}
	entityFields    = []string{"name", "legalRep", "industry", "address", "status", "established", "location"}
	sourceFields    = map[string][]string{KindPerson: personFields, KindBuilding: buildingFields, KindComponent: componentFields, KindEntity: entityFields}
)

// encrypt seals a personal value, bound to its record and field.
func (s *Service) encrypt(value, ad string) (string, error) {
	if value == "" {
		return "", nil
	}
	ct, err := s.cipher.Encrypt([]byte(value), []byte(ad))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

func (s *Service) decrypt(enc, ad string) (string, error) {
	if enc == "" {
		return "", nil
	}
	ct, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", err
	}
	pt, err := s.cipher.Decrypt(ct, []byte(ad))
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// blind is the hex blind index of a value (equality lookups of encrypted
// identifiers, and the salted reference used for a person on the ledger).
func (s *Service) blind(kind, value string) string {
	in := make([]byte, 0, len(kind)+1+len(value))
	in = append(append(append(in, kind...), ':'), value...)
	return hex.EncodeToString(s.cipher.Blind(in)[:20]) // 40 hex digits
}

// PersonRef is the salted reference of a person on the ledger and in the
// data tracker: a keyed hash of the ID number, never the number itself.
func (s *Service) PersonRef(idNumber string) string { return "person:" + s.blind("id", idNumber) }

// deptOf returns the department code (deptType) of the caller's
// organisation: the source recorded with the values they write.
func (s *Service) deptOf(ctx context.Context, p *authz.Principal) (string, error) {
	if p == nil {
		return "", errs.Unauthenticated("login required", "请先登录")
	}
	if p.OrgID == "" {
		if p.Kind == authz.KindSystem {
			return "system", nil
		}
		return "", errs.Forbidden("your account belongs to no organisation, so it cannot be the source of base data", "账号未归属任何单位，不能作为基础数据的来源")
	}
	s.deptMu.Lock()
	d, ok := s.depts[p.OrgID]
	s.deptMu.Unlock()
	if ok {
		return d, nil
	}
	dt, err := s.dir.DeptType(ctx, p.OrgID)
	if err != nil {
		return "", err
	}
	if dt == "" {
		dt = "org:" + p.OrgID
	}
	s.deptMu.Lock()
	s.depts[p.OrgID] = dt
	s.deptMu.Unlock()
	return dt, nil
}

// inScope checks that a record's scope key lies in the caller's region; a
// record outside it is reported as not found.
func inScope(p *authz.Principal, scopeKey, kind, id string) error {
	if p.Nationwide {
		return nil
	}
	lo, hi := p.ScopeRange()
	if scopeKey < lo || scopeKey >= hi {
		return errs.NotFound(kind, id)
	}
	return nil
}

// scopeCond is the SQL condition of the caller's region on scope_key,
// optionally narrowed to a division or grid given by its code.
func scopeCond(p *authz.Principal, within string) (string, []any, error) {
	lo, hi := p.ScopeRange()
	cond, args := "scope_key >= ? AND scope_key < ?", []any{lo, hi}
	if within != "" {
		prefix, err := significant(within)
		if err != nil {
			return "", nil, err
		}
		l2, h2 := authz.PrefixRange(prefix)
		cond += " AND scope_key >= ? AND scope_key < ?"
		args = append(args, l2, h2)
	}
	return cond, args, nil
}

// significant returns the prefix of scope keys inside a division (6, 9 or
// 12 digits) or grid (15 digits).
func significant(code string) (string, error) {
	if strings.Trim(code, "0123456789") != "" || (len(code) != 6 && len(code) != 9 && len(code) != 12 && len(code) != 15) {
		return "", errs.Invalid("within", "division-or-grid", "give a division code (6, 9 or 12 digits) or a grid code (15 digits)", "请填写区划代码（6、9 或 12 位）或网格编码（15 位）")
	}
	if len(code) == 15 {
		return code, nil
	}
	c := (code + "000000000000")[:12]
	switch {
	case c[6:] == "000000":
		return c[:6], nil
	case c[9:] == "000":
		return c[:9], nil
	}
	return c, nil
}

// grid returns a known unit grid, or an error naming field.
func (s *Service) grid(ctx context.Context, field, code string) (GridRef, error) {
	if len(code) != 15 || strings.Trim(code, "0123456789") != "" {
		return GridRef{}, errs.Invalid(field, "grid-code", "a unit grid code has 15 digits", "网格编码应为 15 位数字")
	}
	all, err := s.dir.Grids(ctx)
	if err != nil {
		return GridRef{}, err
	}
	g, ok := all[code]
	if !ok {
		return GridRef{}, errs.Invalid(field, "exists", "no such unit grid", "网格不存在")
	}
	return g, nil
}

// checkGrid reports whether a grid is known.
func (s *Service) checkGrid(ctx context.Context, field, code string) error {
	_, err := s.grid(ctx, field, code)
	return err
}

// locate finds the grid of a point.
func (s *Service) locate(ctx context.Context, field string, lon, lat float64) (string, error) {
	if lon < -180 || lon > 180 || lat < -90 || lat > 90 || (lon == 0 && lat == 0) {
		return "", errs.Invalid(field, "coordinates", "longitude and latitude must be WGS84 degrees", "经纬度应为 WGS84 坐标")
	}
	if s.locator == nil {
		return "", errs.Invalid(field, "grid", "no spatial index to locate the point", "无法定位网格")
	}
	code, ok, err := s.locator.LocateGrid(ctx, lon, lat)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errs.Invalid(field, "grid", "the point lies in no unit grid", "该位置不在任何网格内")
	}
	return code, nil
}

// evidence emits a ledger record for a consequential action (in the
// caller's transaction when there is one).
func (s *Service) evidence(ctx context.Context, action, subject, purpose, basis string, payload any) error {
	if s.events == nil {
		return nil
	}
	p := authz.From(ctx)
	ev := Evidence{Action: action, Subject: subject, Purpose: purpose, Basis: basis, At: s.now().UTC(), RequestID: httpx.RequestID(ctx), Ref: newID()}
	if p != nil {
		ev.ActorKind, ev.ActorID, ev.ActorName, ev.OrgID = string(p.Kind), p.ID, p.Name, p.OrgID
	}
	b, _ := json.Marshal(payload)
	ev.Payload = b
	return s.events.Emit(ctx, ev, subject)
}

// Evidence is a consequential action of the registry, for the ledger: a
// change of base data, a routed change decided, an import, or a read of
// personal data in clear. Subjects are record references (person:<salted
// ref>, entity:<credit code>, component:<code>, building:<code>), never
// personal data; the payload is kept by the ledger as a hash only.
type Evidence struct {
	ActorKind string          `json:"actorKind"`
	ActorID   string          `json:"actorId"`
	ActorName string          `json:"actorName"`
	OrgID     string          `json:"orgId"`
	Action    string          `json:"action"`
	Subject   string          `json:"subject"`
	Purpose   string          `json:"purpose,omitempty"`
	Basis     string          `json:"basis,omitempty"`
	At        time.Time       `json:"at"`
	RequestID string          `json:"requestId,omitempty"`
	Ref       string          `json:"ref"`
	Payload   json.RawMessage `json:"payload,omitempty"`
}

// EventType implements bus.Event.
func (Evidence) EventType() string { return "registry.evidence" }

// create writes one new record as the caller's department, in a
// transaction with its evidence; write stores it and returns its key, and
// ref turns the key into the record's ledger subject.
func (s *Service) create(ctx context.Context, action string, ref func(key string) string, write func(ctx context.Context, w *writer) (string, error)) (string, error) {
	p, err := authz.Require(ctx, authz.RegistryWrite)
	if err != nil {
		return "", err
	}
	dept, err := s.deptOf(ctx, p)
	if err != nil {
		return "", err
	}
	var key string
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		w := s.newWriter(ctx, p, dept)
		defer w.close()
		var err error
		if key, err = write(ctx, w); err != nil {
			return err
		}
		return s.evidence(ctx, action, ref(key), "", "", map[string]any{"key": key, "source": dept})
	})
	return key, err
}

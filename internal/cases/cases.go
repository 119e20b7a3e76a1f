// Package cases is 一网统管: the closed loop for city events of GB/T
// 30428.8 — collect, file (立案), dispatch, handle, report back, verify on
// site and close (核查结案), evaluate — with returns (退单), postponements
// (延期), suspensions, rework (返工), merged duplicates and supervision
// (督办). Cases come from grid workers, citizens (portal and Open311
// GeoReport v2), hotline operators, IoT sensors over MQTT and video
// analytics. Smart dispatch (智能分拨) places a case in its grid, picks its
// category with a text classifier and its unit from the component's owner,
// the category's area rules and its default department. Handling clocks run
// in working time from dispatch. Every transition is attributed,
// time-stamped and evidence for the ledger.
package cases

import (
	"context"
	"embed"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/shuzhi-gov/shuzhi/internal/cases/classify"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/workcal"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

//go:embed categories.tsv
var categoriesTSV string

// Migrations are the module's schema steps (after identity, geo and registry).
func Migrations() db.Migrations {
	return db.Migrations{Module: "cases", FS: db.Sub(migrationsFS, "migrations")}
}

// Tables lists the module's data tables, dependants first, for demo resets
// (categories, rules and seed examples stay).
var Tables = []string{"case_notices", "case_reporters", "case_photos", "case_events", "cases", "case_counters", "case_area_rules"}

// State is where a case is in the loop.
type State string

// States of a case.
const (
	Reported   State = "reported"   // 待受理: collected, waiting for an operator
	Filed      State = "filed"      // 已立案: waiting for dispatch (the operator's queue)
	Dispatched State = "dispatched" // 处置中: with the unit, clock running
	Handled    State = "handled"    // 待核查: the unit reported back
	Closed     State = "closed"     // 已结案
	Rejected   State = "rejected"   // 不予立案
	Merged     State = "merged"     // 已合并 into another case
	Suspended  State = "suspended"  // 挂起: clock stopped
)

// OpenStates are the states of a case not yet closed.
var OpenStates = []State{Reported, Filed, Dispatched, Handled, Suspended}

// Channels a case can come from.
var Channels = []string{"grid", "portal", "open311", "hotline", "sensor", "video", "referral"}

// Ratings of a closed case.
var Ratings = []string{"satisfied", "basically", "dissatisfied"}

// Place is where a point lies, as the cases module needs it.
type Place struct {
	Grid, GridName           string
	Resp                     string
	Community, CommunityName string
	Street, StreetName       string
	District, DistrictName   string
}

// Unit is an organisation cases are dispatched to.
type Unit struct {
	ID, Name, DeptType, Division string
}

// ComponentRef is a managed component as the cases module needs it.
type ComponentRef struct {
	Code, Class, Name, OwnerDept, Grid, Address string
	Lon, Lat                                    float64
}

// Directory is what the module asks the geo, registry and identity modules
// (it never reads their tables).
type Directory interface {
	// Locate places a point in its unit grid; errs.NotFound outside every grid.
	Locate(ctx context.Context, lon, lat float64) (*Place, error)
	// Component looks up a managed component; errs.NotFound when unknown.
	Component(ctx context.Context, code string) (*ComponentRef, error)
	// UnitFor is the organisation of department family dept closest to the
	// division or grid code (its own level first, then up the tree).
	UnitFor(ctx context.Context, dept, code string) (*Unit, error)
	// Unit looks up an organisation.
	Unit(ctx context.Context, orgID string) (*Unit, error)
	// Places finds public places (divisions, grids, building addresses,
	// components, organisations) by name, address or code, city-wide, for
	// reporters who have no GPS: never people.
	Places(ctx context.Context, q string, limit int) ([]PlaceHit, error)
}

// PlaceHit is a public place with its point.
type PlaceHit struct {
	Kind string  `json:"kind" enum:"division,grid,building,address,component,entity"`
	Code string  `json:"code"`
	Name string  `json:"name"`
	Lon  float64 `json:"lon"`
	Lat  float64 `json:"lat"`
}

// Cipher encrypts reporters' personal data.
type Cipher interface {
	Encrypt(plaintext, associatedData []byte) ([]byte, error)
	Decrypt(ciphertext, associatedData []byte) ([]byte, error)
}

// Deps are the service's collaborators.
type Deps struct {
	DB        *db.DB
	Directory Directory
	Cipher    Cipher
	// Calendar is the working-day calendar (official holidays and make-up days).
	Calendar func(ctx context.Context) (*workcal.Calendar, error)
	Log      *slog.Logger
	Now      func() time.Time
	// AutoDispatch is the classifier confidence from which a case is
	// dispatched without an operator (default 0.6).
	AutoDispatch float64
}

// Service is the cases module.
type Service struct {
	db       *db.DB
	dir      Directory
	cipher   Cipher
	calendar func(ctx context.Context) (*workcal.Calendar, error)
	log      *slog.Logger
	now      func() time.Time
	auto     float64

	catMu sync.RWMutex
	cats  map[string]*Category

	modelMu sync.RWMutex
	model   *classify.Model

	intake     *batcher
	retraining atomic.Bool
	namer      Namer // names of division and grid codes (indicators)
	evKick     chan struct{}
	near       nearIndex // open cases of the last week, for duplicate checks
	areas      areaCache
}

// New builds the service; Init loads its reference data.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.AutoDispatch == 0 {
		d.AutoDispatch = 0.6
	}
	s := &Service{db: d.DB, dir: d.Directory, cipher: d.Cipher, calendar: d.Calendar, log: d.Log, now: d.Now, auto: d.AutoDispatch}
	s.evKick = make(chan struct{}, 1)
	s.intake = newBatcher(s)
	return s
}

// Init seeds the categories and the classifier's examples when the tables
// are empty, then loads the categories and trains the classifier.
func (s *Service) Init(ctx context.Context) error {
	if err := s.seedCategories(ctx); err != nil {
		return err
	}
	if err := s.seedExamples(ctx); err != nil {
		return err
	}
	if err := s.loadCategories(ctx); err != nil {
		return err
	}
	return s.Retrain(ctx)
}

// Close stops the intake batcher.
func (s *Service) Close() { s.intake.close() }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func (s *Service) nowMs() int64 { return s.now().UnixMilli() }

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

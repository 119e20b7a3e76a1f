// Package exchange is 共享交换: the catalog of government data resources
// (政务数据资源目录), providers that publish data hosted by the platform or
// served by their own systems, governed sharing — unconditional,
// conditional (the provider decides within 10 working days) and not
// shared — with grants that name the consumer, fields, purpose, legal
// basis, quota and expiry, governed access with masking, an access log
// written to the ledger in batches, the data tracker (数据使用记录) in which
// people see every use of their data and dispute it, quality rules, and
// federation of nodes at province, city, county and township level.
package exchange

import (
	"context"
	"embed"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/workcal"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrations are the module's schema steps (after identity and registry).
func Migrations() db.Migrations {
	return db.Migrations{Module: "exchange", FS: db.Sub(migrationsFS, "migrations")}
}

// Tables lists the module's tables, dependants first, for demo resets.
var Tables = []string{"ex_deliveries", "ex_subscriptions", "ex_disputes", "ex_subject_links", "ex_access_subjects", "ex_access",
	"ex_batches", "ex_epochs", "ex_grants", "ex_requests", "ex_quality_runs", "ex_rows", "ex_resource_versions", "ex_resources", "ex_nodes"}

// LogTables are the access log's tables, and the counts queries write
// (quota leases, accepted node signatures). Nothing writes them in the same
// transaction as other tables, so a SQLite deployment keeps them in a file
// of their own (db.Side), and the hosted data's readers keep their page
// caches.
var LogTables = []string{"ex_access", "ex_batches", "ex_epochs", "ex_access_subjects", "ex_journal", "ex_journals",
	"ex_quota_use", "ex_node_signatures", "ex_rate_use"}

// Org is an organisation as the exchange needs it.
type Org struct {
	ID, Name, DeptType, Division string
}

// Directory is what the exchange asks the identity module.
type Directory interface {
	// Org looks up an organisation; errs.NotFound when unknown.
	Org(ctx context.Context, id string) (*Org, error)
}

// Source serves the base-data registry's datasets (people, enterprises,
// buildings, components), published in the catalog by their authoritative
// departments. Values come back in clear: the exchange projects and masks
// them under the consumer's grant.
type Source interface {
	// Lookup returns one record by its key (ID number, credit code, code)
	// and the subject reference it concerns; errs.NotFound when absent.
	Lookup(ctx context.Context, dataset, key string) (values map[string]string, subject string, err error)
	// List returns records of a dataset in key order.
	List(ctx context.Context, dataset string, limit, offset int) (rows []SourceRow, total int, err error)
}

// SourceRow is one record of a source.
type SourceRow struct {
	Key, Subject string
	Values       map[string]string
	UpdatedAt    time.Time
}

// Cipher encrypts hosted data and computes blind indexes (the same field
// key as the registry's, so that subject references agree).
type Cipher interface {
	Encrypt(plaintext, associatedData []byte) ([]byte, error)
	Decrypt(ciphertext, associatedData []byte) ([]byte, error)
	Blind(value []byte) []byte
}

// Ledger appends the exchange's records (one per batch of accesses, one per
// decision) and proves them.
type Ledger interface {
	AppendRecord(ctx context.Context, r LedgerRecord) (index int64, leafHash string, err error)
	Hasher() merkle.Hasher
}

// LedgerRecord is what the exchange writes to the ledger.
type LedgerRecord struct {
	ActorKind, ActorID, ActorName, OrgID string
	Action, Subject, Purpose, Basis      string
	PayloadHash                          string // hex
	Ref, RequestID                       string
	At                                   time.Time
}

// Emitter records events in the caller's transaction (the outbox).
type Emitter interface {
	Emit(ctx context.Context, ev bus.Event, subject string) error
}

// Deps are the service's collaborators.
type Deps struct {
	DB        *db.DB
	Directory Directory
	Source    Source
	Cipher    Cipher
	Ledger    Ledger
	Events    Emitter
	Calendar  func(ctx context.Context) (*workcal.Calendar, error)
	Log       *slog.Logger
	Now       func() time.Time
	// HTTP calls providers' own systems and subscribers' webhooks.
	HTTP *http.Client
	// Node is this node's identity in the federation (optional).
	Node *NodeIdentity
}

// Service is the exchange module.
type Service struct {
	db     *db.DB
	dir    Directory
	source Source
	cipher Cipher
	ledger Ledger
	events Emitter
	cal    func(ctx context.Context) (*workcal.Calendar, error)
	log    *slog.Logger
	now    func() time.Time
	http   *http.Client
	node   *NodeIdentity

	resources *resourceCache
	grants    *grantCache
	limits    *limiter
	seen      *replayGuard
	rows      *rowReader
	leaves    *leafCache
	rec       *recorder
	index     *indexer
	kickBatch chan struct{}
	kickDeliv chan struct{}

	closeOnce sync.Once
}

// New builds the service and starts its access recorder.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	s := &Service{db: d.DB, dir: d.Directory, source: d.Source, cipher: d.Cipher, ledger: d.Ledger, events: d.Events,
		cal: d.Calendar, log: d.Log, now: d.Now, http: d.HTTP, node: d.Node,
		resources: newResourceCache(), grants: newGrantCache(), leaves: newLeafCache(), limits: newLimiter(), seen: newReplayGuard(),
		kickBatch: make(chan struct{}, 1), kickDeliv: make(chan struct{}, 1)}
	s.rows = newRowReader(d.DB, readSlots())
	s.index = newIndexer(s)
	s.rec = newRecorder(s)
	return s
}

// Close stops the access recorder after writing what is queued.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.flushQuota(ctx)
		cancel()
		s.rec.close()
		s.index.close()
	})
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func (s *Service) nowMs() int64 { return s.now().UnixMilli() }

// blind is the hex blind index of a value: the same function as the
// registry's, so "person:"+blind("id", number) names the same person.
func (s *Service) blind(kind, value string) string {
	in := make([]byte, 0, len(kind)+1+len(value))
	in = append(append(append(in, kind...), ':'), value...)
	return hex.EncodeToString(s.cipher.Blind(in)[:20]) // 40 hex digits
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Package identity is the module of administrative divisions, organisations,
// users, roles, sessions, API tokens and the administrative audit trail.
// Every read is limited to the caller's region scope and every change is
// audited, here in the service, whatever the client.
package identity

import (
	"context"
	"embed"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrations are the module's schema steps.
func Migrations() db.Migrations {
	return db.Migrations{Module: "identity", FS: db.Sub(migrationsFS, "migrations")}
}

// Tables lists the module's tables, children first, for demo resets.
var Tables = []string{"audit_log", "api_tokens", "sessions", "user_roles", "users", "orgs", "divisions"}

// FieldCipher encrypts personal fields at rest (AES-GCM or SM4-GCM).
type FieldCipher interface {
	Encrypt(plaintext, associatedData []byte) ([]byte, error)
	Decrypt(ciphertext, associatedData []byte) ([]byte, error)
}

// Passwords hashes and checks passwords (argon2id).
type Passwords struct {
	Hash   func(password string) (string, error)
	Verify func(encoded, password string) (ok, needsRehash bool, err error)
}

// AuditSink receives every audit record after it is stored, so that the
// ledger can take it over (nil: audit table only).
type AuditSink interface {
	Audited(ctx context.Context, e AuditEntry) error
}

// Policy holds the security settings.
type Policy struct {
	MaxFailedLogins int
	LockoutFor      time.Duration
	SessionTTL      time.Duration
}

// DefaultPolicy locks an account for 15 minutes after 5 failed logins.
var DefaultPolicy = Policy{MaxFailedLogins: 5, LockoutFor: 15 * time.Minute, SessionTTL: 8 * time.Hour}

// Service is the identity module.
type Service struct {
	db        *db.DB
	passwords Passwords
	fields    FieldCipher
	sink      AuditSink
	events    Emitter
	policy    Policy
	now       func() time.Time
	log       *slog.Logger
	// dummyHash is a real hash to verify against for unknown usernames, so
	// that a wrong username takes as long as a wrong password. Computed on
	// first use: argon2id costs tens of milliseconds at every start.
	dummyHash func() string
	tokens    tokenCache
}

// Deps are the service's collaborators.
type Deps struct {
	DB        *db.DB
	Passwords Passwords
	Fields    FieldCipher
	Sink      AuditSink
	Events    Emitter // nil: no events
	Policy    Policy
	Now       func() time.Time
	Log       *slog.Logger
}

// New builds the service.
func New(d Deps) (*Service, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Policy == (Policy{}) {
		d.Policy = DefaultPolicy
	}
	dummy := sync.OnceValue(func() string {
		h, err := d.Passwords.Hash("not-a-real-password-4f2a")
		if err != nil {
			return ""
		}
		return h
	})
	return &Service{db: d.DB, passwords: d.Passwords, fields: d.Fields, sink: d.Sink, events: d.Events, policy: d.Policy, now: d.Now, log: d.Log, dummyHash: dummy}, nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// System is the principal of the command line and of the demo seeder: all
// permissions, nationwide scope.
func System(name string) *authz.Principal {
	var perms []authz.Permission
	for _, r := range authz.Roles {
		perms = append(perms, authz.PermissionsOf([]authz.Role{r.Code})...)
	}
	return &authz.Principal{Kind: authz.KindSystem, ID: name, Name: name, DisplayName: name, Permissions: perms, Nationwide: true}
}

// scopeArgs are the bounds of the caller's region for a
// "scope_key >= ? AND scope_key < ?" filter.
func scopeArgs(p *authz.Principal) []any {
	lo, hi := p.ScopeRange()
	return []any{lo, hi}
}

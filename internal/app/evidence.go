package app

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/ledger"
	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/registry"
)

// recordAudit writes every audit entry of identity to the ledger. It runs
// as an idempotent bus consumer, after the entry's transaction committed:
// appending inside that transaction would hold SQLite's one write lock
// while waiting for the ledger's own commit, and would log actions that
// might still roll back.
func (s *Server) recordAudit() (stop func(), err error) {
	return bus.Subscribe(s.Bus, "ledger-identity-audit", func(ctx context.Context, env bus.Envelope, ev identity.Audited) error {
		_, err := s.Ledger.Append(ctx, auditRecord(s.Core, ev.Entry))
		return err
	}, db.Dedup{DB: s.DB}, bus.WithConcurrency(64)) // concurrent appends share ledger commits
}

// auditRecord turns an audit entry into a ledger record. The entry itself
// stays in identity's audit trail; the ledger keeps its hash.
func auditRecord(c *Core, e identity.AuditEntry) ledger.Record {
	payload, _ := json.Marshal(e)
	kind := e.ActorKind
	if kind == "" {
		kind = "anonymous"
	}
	subject := e.Subject
	if strings.HasSuffix(subject, ":") {
		subject += "unknown"
	}
	return ledger.Record{
		ActorKind: kind, ActorID: e.ActorID, ActorName: e.ActorName, OrgID: e.OrgID,
		Module: "identity", Action: e.Action, Subject: subject,
		Purpose: "administration", Basis: "GB/T 39477-2020 audit of administrative actions",
		Time: e.At, PayloadHash: hex.EncodeToString(c.Crypto.Hash(payload)), RequestID: e.RequestID, Ref: e.ID,
	}
}

// recordRegistry writes the registry's evidence (changes of base data,
// decisions, imports, clear reads of personal data) to the ledger.
func (s *Server) recordRegistry() (stop func(), err error) {
	return bus.Subscribe(s.Bus, "ledger-registry", func(ctx context.Context, env bus.Envelope, ev registry.Evidence) error {
		_, err := s.Ledger.Append(ctx, registryRecord(s.Core, ev))
		return err
	}, db.Dedup{DB: s.DB}, bus.WithConcurrency(64))
}

func registryRecord(c *Core, e registry.Evidence) ledger.Record {
	kind := e.ActorKind
	if kind == "" {
		kind = "system"
	}
	return ledger.Record{
		ActorKind: kind, ActorID: e.ActorID, ActorName: e.ActorName, OrgID: e.OrgID,
		Module: "registry", Action: e.Action, Subject: e.Subject, Purpose: e.Purpose, Basis: e.Basis,
		Time: e.At, PayloadHash: hex.EncodeToString(c.Crypto.Hash(e.Payload)), RequestID: e.RequestID, Ref: e.Ref,
	}
}

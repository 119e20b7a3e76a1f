package app

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/cases"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/ledger"
	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/workcal"
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

// caseLedger appends the cases module's evidence (every step of every
// case, changes of categories and rules), many records at once: the
// ledger group-commits concurrent appends.
type caseLedger struct{ s *Server }

func (l caseLedger) AppendEvidence(ctx context.Context, evs []cases.Evidence) error {
	errc := make(chan error, len(evs))
	sem := make(chan struct{}, 1024)
	for _, ev := range evs {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := l.s.Ledger.Append(ctx, casesRecord(l.s.Core, ev))
			errc <- err
		}()
	}
	var first error
	for range evs {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// caseEvidence runs the cases module's evidence pump.
func (s *Server) caseEvidence() (stop func(), err error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Cases.PumpEvidence(ctx, caseLedger{s})
	}()
	return func() {
		cancel()
		<-done
		// What the last requests wrote, before the ledger closes.
		fctx, fcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer fcancel()
		for {
			n, err := s.Cases.PumpOnce(fctx, caseLedger{s})
			if err != nil || n == 0 {
				return
			}
		}
	}, nil
}

func casesRecord(c *Core, e cases.Evidence) ledger.Record {
	kind := e.ActorKind
	if kind == "" {
		kind = "system"
	}
	return ledger.Record{
		ActorKind: kind, ActorID: e.ActorID, ActorName: e.ActorName, OrgID: e.OrgID,
		Module: "cases", Action: e.Action, Subject: e.Subject, Purpose: "case-handling", Basis: "GB/T 30428.8 案件办理",
		Time: e.At, PayloadHash: hex.EncodeToString(c.Crypto.Hash(e.Payload)), RequestID: e.RequestID, Ref: e.Ref,
	}
}

// recordCalendar writes changes of the working-day calendar (holidays,
// make-up days, working hours) to the ledger: they move statutory deadlines.
func (s *Server) recordCalendar() (stop func(), err error) {
	return bus.Subscribe(s.Bus, "ledger-calendar", func(ctx context.Context, env bus.Envelope, ev workcal.Changed) error {
		kind := ev.ActorKind
		if kind == "" {
			kind = "system"
		}
		_, err := s.Ledger.Append(ctx, ledger.Record{
			ActorKind: kind, ActorID: ev.ActorID, ActorName: ev.ActorName, OrgID: ev.OrgID,
			Module: "workcal", Action: ev.Action, Subject: ev.Subject, Purpose: "administration", Basis: "国务院办公厅关于部分节假日安排的通知",
			Time: ev.At, PayloadHash: hex.EncodeToString(s.Crypto.Hash(ev.Payload)), RequestID: ev.RequestID, Ref: ev.Ref,
		})
		return err
	}, db.Dedup{DB: s.DB})
}

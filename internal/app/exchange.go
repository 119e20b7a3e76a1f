package app

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/shuzhi-gov/shuzhi/internal/exchange"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/ledger"
	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/registry"
)

// exchangeDir answers the exchange's questions about organisations through
// identity (cached for a few seconds: refusals name the organisation).
type exchangeDir struct {
	ids *identity.Service

	mu   sync.Mutex
	orgs map[string]cachedOrg
}

type cachedOrg struct {
	o  *exchange.Org
	at time.Time
}

func (d *exchangeDir) Org(ctx context.Context, id string) (*exchange.Org, error) {
	if id == "" {
		return nil, errs.NotFound("organisation", id)
	}
	d.mu.Lock()
	c, ok := d.orgs[id]
	d.mu.Unlock()
	if ok && time.Since(c.at) < 5*time.Second {
		return c.o, nil
	}
	o, err := d.ids.GetOrg(sys(ctx), id)
	if err != nil {
		return nil, err
	}
	out := &exchange.Org{ID: o.ID, Name: o.Name, DeptType: o.DeptType, Division: o.DivisionCode}
	d.mu.Lock()
	if d.orgs == nil {
		d.orgs = map[string]cachedOrg{}
	}
	d.orgs[id] = cachedOrg{out, time.Now()}
	d.mu.Unlock()
	return out, nil
}

// exchangeSource serves the registry's datasets to the exchange, which
// governs every use (grant, fields, masking, quota, access record).
type exchangeSource struct{ reg *registry.Service }

var sharePrincipal = &authz.Principal{Kind: authz.KindSystem, ID: "exchange", Name: "exchange", Nationwide: true,
	Permissions: []authz.Permission{authz.RegistryShare}}

func (s exchangeSource) Lookup(ctx context.Context, dataset, key string) (map[string]string, string, error) {
	return s.reg.ShareLookup(authz.With(ctx, sharePrincipal), dataset, key)
}

func (s exchangeSource) List(ctx context.Context, dataset string, limit, offset int) ([]exchange.SourceRow, int, error) {
	rows, total, err := s.reg.ShareList(authz.With(ctx, sharePrincipal), dataset, limit, offset)
	out := make([]exchange.SourceRow, len(rows))
	for i, r := range rows {
		out[i] = exchange.SourceRow{Key: r.Key, Subject: r.Subject, Values: r.Values, UpdatedAt: r.UpdatedAt}
	}
	return out, total, err
}

// exchangeLedger appends the exchange's batch records and proves entries.
type exchangeLedger struct{ l *ledger.Log }

func (x exchangeLedger) AppendRecord(ctx context.Context, r exchange.LedgerRecord) (int64, string, error) {
	rc, err := x.l.Append(ctx, ledger.Record{ActorKind: r.ActorKind, ActorID: r.ActorID, ActorName: r.ActorName, OrgID: r.OrgID,
		Module: "exchange", Action: r.Action, Subject: r.Subject, Purpose: r.Purpose, Basis: r.Basis, Time: r.At,
		PayloadHash: r.PayloadHash, RequestID: r.RequestID, Ref: r.Ref})
	return rc.Index, rc.LeafHash, err
}

func (x exchangeLedger) Hasher() merkle.Hasher { return x.l.Hasher() }

// ProveEntry proves a ledger entry against the latest signed checkpoint;
// errs.ErrInvalid while the entry is not yet in a checkpoint.
func (x exchangeLedger) ProveEntry(ctx context.Context, index int64) (*exchange.EntryProof, error) {
	cp, err := x.l.LatestCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitN(string(cp), "\n", 4)
	if len(lines) < 3 {
		return nil, errs.Invalid("index", "checkpoint", "no checkpoint yet", "尚无检查点")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return nil, err
	}
	if index >= size {
		return nil, errs.Invalid("index", "checkpoint", "the entry is not in a checkpoint yet", "该条目尚未纳入检查点")
	}
	p, err := x.l.ProveInclusion(ctx, index, size)
	if err != nil {
		return nil, err
	}
	e, err := x.l.Entry(ctx, index)
	if err != nil {
		return nil, err
	}
	return &exchange.EntryProof{Index: index, Size: size, LeafHash: p.LeafHash, Entry: string(e.Data), Root: p.Root, Proof: p.Proof, Checkpoint: string(cp)}, nil
}

// recordExchange writes the exchange's evidence (catalog changes, requests,
// decisions, revocations, disputes, node registrations) to the ledger.
func (s *Server) recordExchange() (stop func(), err error) {
	return bus.Subscribe(s.Bus, "ledger-exchange", func(ctx context.Context, env bus.Envelope, ev exchange.Evidence) error {
		kind := ev.ActorKind
		if kind == "" {
			kind = "system"
		}
		_, err := s.Ledger.Append(ctx, ledger.Record{
			ActorKind: kind, ActorID: ev.ActorID, ActorName: ev.ActorName, OrgID: ev.OrgID,
			Module: "exchange", Action: ev.Action, Subject: ev.Subject, Purpose: ev.Purpose, Basis: ev.Basis,
			Time: ev.At, PayloadHash: hex.EncodeToString(s.Crypto.Hash(ev.Payload)), RequestID: ev.RequestID, Ref: ev.Ref,
		})
		return err
	}, db.Dedup{DB: s.DB}, bus.WithConcurrency(64))
}

// exchangeWorkers runs the exchange's batch pump (accesses to the ledger),
// webhook deliveries and deadline/quality watch.
func (s *Server) exchangeWorkers() (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){s.Exchange.PumpBatches, s.Exchange.Deliver, func(ctx context.Context) { s.Exchange.Watch(ctx, time.Minute) }} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx)
		}()
	}
	return func() {
		cancel()
		wg.Wait()
		// Batches the last queries wrote, before the ledger closes.
		fctx, fcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer fcancel()
		for {
			n, err := s.Exchange.PumpOnce(fctx)
			if err != nil || n == 0 {
				return
			}
		}
	}, nil
}

// exchangeBusLoad takes providers' loads of hosted resources from the bus:
// a message on shuzhi.exchange.load.<resource code> carries the provider
// system's API token (scope exchange:publish) and the records; a request
// gets the result (or the problem) as its reply.
func (s *Server) exchangeBusLoad() (func(), error) {
	sub, err := s.Bus.Conn().QueueSubscribe(exchange.LoadSubject+".>", "exchange-load", func(m *nats.Msg) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		res, err := s.busLoad(ctx, m)
		var reply []byte
		if err != nil {
			s.Log.Warn("exchange: load from the bus refused", "subject", m.Subject, "err", err)
			reply, _ = json.Marshal(map[string]string{"error": err.Error()})
		} else {
			reply, _ = json.Marshal(res)
		}
		if m.Reply != "" {
			_ = m.Respond(reply)
		}
	})
	if err != nil {
		return nil, err
	}
	return func() { _ = sub.Drain() }, nil
}

func (s *Server) busLoad(ctx context.Context, m *nats.Msg) (*exchange.LoadResult, error) {
	var in struct {
		Token string `json:"token"`
		exchange.LoadInput
	}
	if err := json.Unmarshal(m.Data, &in); err != nil {
		return nil, errs.Invalid("body", "json", "not a JSON load message", "不是 JSON 格式的装载消息")
	}
	p, err := s.Identity.Token(ctx, in.Token)
	if err != nil {
		return nil, err
	}
	code := strings.TrimPrefix(m.Subject, exchange.LoadSubject+".")
	return s.Exchange.Load(authz.With(ctx, p), code, in.LoadInput)
}

package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/nats-io/nats.go"

	"github.com/shuzhi-gov/shuzhi/internal/cases"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
	"github.com/shuzhi-gov/shuzhi/internal/platform/obs"
	"github.com/shuzhi-gov/shuzhi/internal/webui"
)

// Server is the running platform: core, bus and HTTP.
type Server struct {
	*Core
	Bus      *bus.Bus
	Metrics  *obs.Metrics
	API      huma.API
	http     *http.Server
	listener net.Listener
	stopping atomic.Bool
}

// NewServer starts the bus and builds the HTTP handler; Serve starts
// listening.
func NewServer(ctx context.Context, core *Core) (*Server, error) {
	bc, err := busConfig(core.Cfg, core.Log)
	if err != nil {
		return nil, err
	}
	b, err := bus.Open(ctx, bc, core.Log)
	if err != nil {
		return nil, fmt.Errorf("bus: %w", err)
	}
	// With the journal the exchange answers a query once its access record
	// is in the access journal, a file in the data directory (the records
	// move into the database in the background); without it, once the
	// record is committed. auto: on with SQLite; off with PostgreSQL, whose
	// replicas are meant to keep no state of their own.
	if core.Cfg.ExchangeJournal == "on" || (core.Cfg.ExchangeJournal == "auto" && core.DB.Dialect() == db.SQLite) {
		if err := core.Exchange.OpenJournal(ctx, filepath.Join(core.Cfg.DataDir, "exchange-journal")); err != nil {
			b.Close()
			return nil, fmt.Errorf("exchange: %w", err)
		}
	}
	s := &Server{Core: core, Bus: b, Metrics: obs.NewMetrics()}
	mux := http.NewServeMux()
	s.API = httpx.NewAPI(mux, FullVersion())
	s.routes(mux)
	s.http = &http.Server{
		Handler:           httpx.Stack(mux, core.Identity, core.Log, s.Metrics),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	return s, nil
}

// Meta describes the running platform to the UI.
type Meta struct {
	Version       string `json:"version"`
	CryptoProfile string `json:"cryptoProfile" enum:"intl,gm"`
	Database      string `json:"database" enum:"sqlite,postgres"`
	Demo          bool   `json:"demo"`
	MQTT          string `json:"mqtt,omitempty" doc:"MQTT listener address of the embedded broker"`
}

func (s *Server) routes(mux *http.ServeMux) {
	// Modules.
	s.Identity.Routes(s.API, identity.CookieOptions{Secure: s.Cfg.SecureCookies})
	s.Geo.Routes(s.API)
	s.Geo.MountOGC(mux, s.Registry.ComponentsCollection(), s.Cases.CasesCollection()) // OGC API - Features at /ogc/; other modules' collections go in as extra arguments
	s.Registry.Routes(s.API)
	s.Cases.Routes(s.API)
	s.Cases.MountOpen311(mux, s.Identity.Token) // Open311 GeoReport v2 at /open311/v2/; api_key is an API token
	s.Cases.StatsRoutes(s.API)
	s.Calendar.Routes(s.API)
	s.Exchange.Routes(s.API, exchangeLedger{l: s.Ledger})
	s.Exchange.MountFederation(mux) // node-to-node endpoints at /fed/v1/ (signed by node keys)
	s.Ledger.Routes(mux, s.API)

	httpx.Register(s.API, httpx.Op{Operation: huma.Operation{OperationID: "meta", Method: http.MethodGet, Path: "/api/v1/meta",
		Summary: "Version and settings of this platform", Tags: []string{"Platform"}}, Public: true},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[Meta], error) {
			return httpx.Reply(Meta{Version: FullVersion(), CryptoProfile: s.Crypto.Name(), Database: string(s.DB.Dialect()), Demo: s.Cfg.Demo, MQTT: s.Bus.MQTTAddr()}), nil
		})

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", s.Metrics.Handler())
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteProblem(w, r, http.StatusNotFound, errs.NotFound("endpoint", r.Method+" "+r.URL.Path))
	})
	mux.Handle("/", webui.Handler())
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"db": "ok", "bus": "ok"}
	status := http.StatusOK
	if s.stopping.Load() {
		checks["server"], status = "shutting down", http.StatusServiceUnavailable
	}
	if err := s.DB.Ping(ctx); err != nil {
		checks["db"], status = err.Error(), http.StatusServiceUnavailable
	}
	if err := s.Bus.Ping(ctx); err != nil {
		checks["bus"], status = err.Error(), http.StatusServiceUnavailable
	}
	state := "ready"
	if status != http.StatusOK {
		state = "not ready"
	}
	writeJSON(w, status, map[string]any{"status": state, "checks": checks})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Handler is the whole HTTP handler (for tests with httptest).
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Listen binds the configured address and returns the actual one.
func (s *Server) Listen() (string, error) {
	l, err := net.Listen("tcp", s.Cfg.Listen)
	if err != nil {
		return "", fmt.Errorf("listen %s: %w", s.Cfg.Listen, err)
	}
	s.listener = l
	if s.Cfg.PublicURL == "" {
		s.Exchange.SetNodeURL("http://" + l.Addr().String())
	}
	return l.Addr().String(), nil
}

// Serve serves until ctx is cancelled, then shuts down gracefully: readiness
// turns 503 at once, in-flight requests finish (up to ShutdownTimeout), then
// the bus and the database close.
func (s *Server) Serve(ctx context.Context) error {
	if s.listener == nil {
		if _, err := s.Listen(); err != nil {
			return err
		}
	}
	stopAll, err := s.startWorkers()
	if err != nil {
		s.closeAll()
		return err
	}
	defer stopAll()
	relayCtx, stopRelay := context.WithCancel(context.Background())
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		s.Outbox.Relay(relayCtx, s.Bus, 250*time.Millisecond, s.Log)
	}()
	defer func() { stopRelay(); <-relayDone }()
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	select {
	case err := <-errc:
		stopRelay()
		<-relayDone
		stopAll()
		s.closeAll()
		return err
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	s.Log.Info("shutting down", "timeout", s.Cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.Cfg.ShutdownTimeout)
	defer cancel()
	err = s.http.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	// Relay what the last requests emitted, then stop the relay.
	_, _ = s.Outbox.RelayOnce(sctx, s.Bus, 1024)
	stopRelay()
	<-relayDone
	stopAll()
	s.closeAll()
	return err
}

// startWorkers starts the bus consumers that write modules' evidence to the
// ledger, the sensors' MQTT intake and the cases' deadline watch; the
// returned function stops them all (idempotent).
func (s *Server) startWorkers() (func(), error) {
	var stops []func()
	var once sync.Once
	stopAll := func() {
		once.Do(func() {
			for i := len(stops) - 1; i >= 0; i-- {
				stops[i]()
			}
		})
	}
	for _, start := range []func() (func(), error){s.recordAudit, s.recordRegistry, s.caseEvidence, s.recordCalendar, s.sensorIntake, s.recordExchange, s.exchangeWorkers, s.exchangeBusLoad} {
		stop, err := start()
		if err != nil {
			stopAll()
			return nil, err
		}
		stops = append(stops, stop)
	}
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Cases.Watch(wctx, 30*time.Second)
	}()
	stops = append(stops, func() { cancel(); <-done })
	return stopAll, nil
}

// sensorIntake takes sensors' alarms from MQTT (through NATS, in a queue
// group so that one node handles each) into the cases module.
func (s *Server) sensorIntake() (func(), error) {
	ctx := authz.With(context.Background(), identity.System("sensor-gateway"))
	sub, err := s.Bus.Conn().QueueSubscribe(cases.SensorSubject, "cases-sensors", func(m *nats.Msg) {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		res, err := s.Cases.HandleSensorMessage(rctx, m.Subject, m.Data)
		switch {
		case err != nil:
			s.Log.Warn("sensor alarm rejected", "subject", m.Subject, "err", err)
		case res.Ignored != "":
			s.Log.Info("sensor alarm ignored", "subject", m.Subject, "why", res.Ignored)
		}
	})
	if err != nil {
		return nil, err
	}
	return func() { _ = sub.Drain() }, nil
}

func (s *Server) closeAll() {
	if err := s.Bus.Close(); err != nil {
		s.Log.Warn("bus close", "err", err)
	}
	if err := s.Core.Close(); err != nil {
		s.Log.Warn("db close", "err", err)
	}
}

// Describe is the start-up banner.
func (s *Server) Describe(addr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Shuzhi %s listening on http://%s\n", FullVersion(), addr)
	fmt.Fprintf(&b, "  database: %s   crypto: %s   bus: %s\n", s.DB.Dialect(), s.Crypto.Name(), busMode(s))
	if m := s.Bus.MQTTAddr(); m != "" {
		fmt.Fprintf(&b, "  MQTT: %s\n", m)
	}
	fmt.Fprintf(&b, "  API docs: http://%s/docs   OpenAPI: http://%s/openapi.json\n", addr, addr)
	return b.String()
}

func busMode(s *Server) string {
	if s.Cfg.NATS != "" {
		return "external NATS"
	}
	return "embedded NATS (JetStream)"
}

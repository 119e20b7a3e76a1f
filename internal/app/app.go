// Package app wires the platform together: it reads nothing global, builds
// every part from the configuration with constructors, and owns their
// lifecycle. cmd/shuzhi calls it; tests call it to start a real server.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/cases"
	"github.com/shuzhi-gov/shuzhi/internal/exchange"
	"github.com/shuzhi-gov/shuzhi/internal/geo"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/ledger"
	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/config"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/outbox"
	"github.com/shuzhi-gov/shuzhi/internal/platform/workcal"
	"github.com/shuzhi-gov/shuzhi/internal/registry"
)

// Version is set at build time with -ldflags "-X .../internal/app.Version=v1.2.3".
var Version = "dev"

// FullVersion adds the VCS revision when the build recorded one.
func FullVersion() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
	}
	return v
}

// Core is the part of the platform every command needs: database (migrated),
// keys and module services. It has no network listeners.
type Core struct {
	Cfg      *config.Config
	Log      *slog.Logger
	DB       *db.DB
	Crypto   *crypto.Profile
	Identity *identity.Service
	Geo      *geo.Service
	Registry *registry.Service
	Outbox   *outbox.Outbox
	Ledger   *ledger.Log
	Calendar *workcal.Service
	Cases    *cases.Service
	Exchange *exchange.Service
}

// Open builds the core: opens and migrates the database, loads or creates
// the keys, and constructs the module services.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Core, error) {
	if cfg.GCPercent > 0 && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(cfg.GCPercent)
	}
	setProcs(cfg.ExtraProcs)
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	d, err := db.Open(ctx, dbOptions(cfg))
	if err != nil {
		return nil, err
	}
	applied, err := d.Migrate(ctx, migrations())
	if err != nil {
		d.Close()
		return nil, err
	}
	for _, m := range applied {
		log.Info("migration applied", "module", m.Module, "version", m.Version, "name", m.Name)
	}
	prof, err := crypto.LoadOrCreate(filepath.Join(cfg.DataDir, "keys"), cfg.CryptoProfile, crypto.KeyFiles{Signing: cfg.SigningKeyFile, Field: cfg.FieldKeyFile})
	if err != nil {
		d.Close()
		return nil, err
	}
	ob := outbox.New(d)
	policy := identity.DefaultPolicy
	policy.SessionTTL = cfg.SessionTTL
	ids, err := identity.New(identity.Deps{
		DB:        d,
		Passwords: identity.Passwords{Hash: crypto.HashPassword, Verify: crypto.VerifyPassword},
		Fields:    prof.Fields(),
		Events:    ob,
		Policy:    policy,
		Log:       log,
	})
	if err != nil {
		d.Close()
		return nil, err
	}
	lg, err := ledger.Open(ctx, d, prof, ledger.Options{Origin: cfg.LedgerOrigin, CheckpointFile: CheckpointFile(cfg), Log: log})
	if err != nil {
		d.Close()
		return nil, err
	}
	g := geo.New(d)
	reg := registry.New(registry.Deps{DB: d, Cipher: prof.Fields(), Events: ob, Locator: gridLocator{g}, Directory: &directory{geo: g, ids: ids}, Log: log})
	if err := reg.RecoverImports(ctx); err != nil {
		d.Close()
		return nil, err
	}
	cal := workcal.New(d, ob, time.Now)
	cdir := &caseDirectory{geo: g, reg: reg, ids: ids}
	cs := cases.New(cases.Deps{DB: d, Directory: cdir, Cipher: prof.Fields(), Calendar: cal.Calendar, Log: log})
	cs.SetNamer(cdir.Names) // names of streets, communities and grids in the indicators
	if err := cs.Init(ctx); err != nil {
		cs.Close()
		d.Close()
		return nil, fmt.Errorf("cases: %w", err)
	}
	c := &Core{Cfg: cfg, Log: log, DB: d, Crypto: prof, Identity: ids, Geo: g, Registry: reg, Outbox: ob, Ledger: lg, Calendar: cal, Cases: cs}
	if c.Exchange, err = c.newExchange(); err != nil {
		cs.Close()
		d.Close()
		return nil, err
	}
	return c, nil
}

// newExchange builds the exchange service on the core's modules, with this
// node's federation identity when one is configured.
func (c *Core) newExchange() (*exchange.Service, error) {
	var node *exchange.NodeIdentity
	if c.Cfg.NodeID != "" {
		key, err := exchange.LoadNodeKey(filepath.Join(c.Cfg.DataDir, "keys"))
		if err != nil {
			return nil, err
		}
		node = &exchange.NodeIdentity{ID: c.Cfg.NodeID, Name: c.Cfg.NodeName, Level: c.Cfg.NodeLevel, URL: c.Cfg.PublicURL, Key: key}
		if node.Name == "" {
			node.Name = c.Cfg.NodeID
		}
	}
	return exchange.New(exchange.Deps{DB: c.DB, Directory: &exchangeDir{ids: c.Identity}, Source: exchangeSource{c.Registry}, Cipher: c.Crypto.Fields(),
		Ledger: exchangeLedger{l: c.Ledger}, Events: c.Outbox, Calendar: c.Calendar.Calendar, Log: c.Log, Node: node}), nil
}

// CheckpointFile is where the ledger keeps a copy of its latest signed
// checkpoint outside the database.
func CheckpointFile(cfg *config.Config) string {
	return filepath.Join(cfg.DataDir, "ledger", "checkpoint")
}

// Close stops the ledger (committing queued appends) and releases the
// database.
func (c *Core) Close() error {
	c.Exchange.Close()
	c.Cases.Close()
	lerr := c.Ledger.Close()
	if err := c.DB.Close(); err != nil {
		return err
	}
	return lerr
}

// ResetData deletes every row of every module's tables (demo reset). The
// schema and keys stay.
func (c *Core) ResetData(ctx context.Context) error {
	return c.DB.InTx(ctx, func(ctx context.Context) error {
		for _, t := range tables() {
			if _, err := c.DB.Exec(ctx, "DELETE FROM "+t); err != nil {
				return fmt.Errorf("reset %s: %w", t, err)
			}
		}
		for _, t := range []string{"bus_processed", "outbox"} { // platform tables
			if _, err := c.DB.Exec(ctx, "DELETE FROM "+t); err != nil {
				return err
			}
		}
		return nil
	})
}

// busConfig derives the bus settings. In demo mode MQTT is on, and a busy
// MQTT port (another broker on 1883) falls back to a free one.
func busConfig(cfg *config.Config, log *slog.Logger) (bus.Config, error) {
	bc := bus.Config{
		URL:                cfg.NATS,
		DataDir:            cfg.DataDir,
		Host:               "127.0.0.1",
		Port:               cfg.NATSPort,
		JetStreamMaxMemory: cfg.JSMaxMemory,
		JetStreamMaxStore:  cfg.JSMaxStore,
		// Consumers must keep up within a week; older events are dropped
		// (the database, not the stream, is the record).
		StreamMaxAge: 7 * 24 * time.Hour,
	}
	if cfg.NATS != "" || !(cfg.MQTT || cfg.Demo) {
		return bc, nil
	}
	host, port, err := net.SplitHostPort(cfg.MQTTListen)
	if err != nil {
		return bc, fmt.Errorf("mqtt-listen: %w", err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return bc, fmt.Errorf("mqtt-listen: bad port %q", port)
	}
	bc.Host = host
	bc.MQTTPort = n
	if n == 0 {
		bc.MQTTPort = -1
	}
	if cfg.Demo && n != 0 {
		l, err := net.Listen("tcp", cfg.MQTTListen)
		if err != nil {
			log.Warn("MQTT port busy, using a free port instead", "wanted", cfg.MQTTListen, "err", err)
			bc.MQTTPort = -1
		} else {
			l.Close()
		}
	}
	return bc, nil
}

// LogsSide is where SQLite keeps the two logs, the ledger and the
// exchange's access log: in a file of their own beside the database
// (shuzhi-logs.db). They are written many times a second, and each commit
// to a file makes every other connection drop its page cache of that file
// — of the main file, the hosted data that governed lookups read, the
// registry, the cases (docs/PERFORMANCE.md).
var LogsSide = db.Side{Schema: "logs", Tables: append(slices.Clone(ledger.LogTables), exchange.LogTables...)}

// dbOptions are the database settings of every command.
func dbOptions(cfg *config.Config) db.Options {
	side := LogsSide
	return db.Options{DSN: cfg.DB, DataDir: cfg.DataDir, Side: &side}
}

// OpenStore opens and migrates the database and loads the keys, without
// starting any module (for `ledger verify`, which must read a possibly
// damaged log without touching it).
func OpenStore(ctx context.Context, cfg *config.Config) (*db.DB, *crypto.Profile, error) {
	d, err := db.Open(ctx, dbOptions(cfg))
	if err != nil {
		return nil, nil, err
	}
	if _, err := d.Migrate(ctx, migrations()); err != nil {
		d.Close()
		return nil, nil, err
	}
	prof, err := crypto.LoadOrCreate(filepath.Join(cfg.DataDir, "keys"), cfg.CryptoProfile, crypto.KeyFiles{Signing: cfg.SigningKeyFile, Field: cfg.FieldKeyFile})
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, prof, nil
}

// defaultProcs is GOMAXPROCS as the runtime chose it, read before this
// process first changes it (Open may run more than once, e.g. in tests).
var defaultProcs = sync.OnceValue(func() int { return runtime.GOMAXPROCS(0) })

// setProcs sets GOMAXPROCS to the runtime's default plus extra, unless the
// GOMAXPROCS variable says otherwise. A goroutine in a blocking system call
// (an fsync in SQLite's WAL checkpoint takes 5-20 ms on a virtual disk)
// keeps its P until the runtime's monitor hands it off, which can take up
// to two of its ticks of up to 10 ms each; with 2 CPUs that leaves one P
// for everything else meanwhile (docs/PERFORMANCE.md, "Session 10").
func setProcs(extra int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	n := defaultProcs() + extra
	if runtime.GOMAXPROCS(0) != n {
		runtime.GOMAXPROCS(n)
	}
}

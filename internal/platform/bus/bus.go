// Package bus is Shuzhi's event bus: an embedded (in-process) or external
// NATS server with JetStream, typed domain events wrapped in an [Envelope],
// at-least-once publishing with de-duplication, and idempotent durable
// consumers (see [Publish] and [Subscribe]).
//
// Embedded mode (Config.URL empty) runs nats-server inside the Shuzhi
// process, stores JetStream data under Config.DataDir and can optionally
// expose an MQTT listener for field devices (MQTT topic "a/b" is NATS
// subject "a.b"). External mode connects to an existing NATS cluster.
package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults applied by [Open] to zero Config fields.
const (
	DefaultStream             = "SHUZHI"
	DefaultSubjectPrefix      = "shuzhi.events"
	DefaultHost               = "127.0.0.1"
	DefaultSource             = "shuzhi"
	DefaultJetStreamMaxMemory = 64 << 20 // 64 MiB
	DefaultJetStreamMaxStore  = 1 << 30  // 1 GiB
	DefaultDuplicateWindow    = 2 * time.Minute
)

// Config configures [Open].
type Config struct {
	// URL of an external NATS server or cluster (comma-separated URLs are
	// allowed). Empty runs an embedded nats-server in process.
	URL string
	// DataDir is the directory under which the embedded server keeps its
	// JetStream store (DataDir/nats/jetstream). Required in embedded mode.
	DataDir string
	// Host the embedded server's listeners bind to. Default 127.0.0.1.
	Host string
	// Port of the embedded server's NATS client listener. 0 = no client
	// listener (the bus uses an in-process connection); -1 = random free port.
	Port int
	// MQTTPort of the embedded server's MQTT listener. 0 = MQTT off;
	// -1 = random free port. See [Bus.MQTTAddr].
	MQTTPort int
	// JetStreamMaxMemory and JetStreamMaxStore cap the embedded server's
	// JetStream resources (defaults 64 MiB and 1 GiB). nats-server's own
	// defaults would claim most of the machine's memory and disk.
	JetStreamMaxMemory int64
	JetStreamMaxStore  int64
	// StreamMaxAge limits how long events are retained. 0 = unlimited.
	StreamMaxAge time.Duration
	// Stream is the JetStream stream name. Default "SHUZHI".
	Stream string
	// SubjectPrefix of event subjects; the stream captures SubjectPrefix+".>".
	// Default "shuzhi.events".
	SubjectPrefix string
	// DuplicateWindow for publish de-duplication by envelope ID. Default 2
	// minutes (capped to StreamMaxAge when that is shorter).
	DuplicateWindow time.Duration
	// Replicas of the stream (external clusters only). Default 1.
	Replicas int
	// Source is the default Envelope.Source of published events. Default "shuzhi".
	Source string
	// Name identifies this client connection (and the embedded server). Default "shuzhi".
	Name string
}

func (c Config) withDefaults() Config {
	if c.Host == "" {
		c.Host = DefaultHost
	}
	if c.JetStreamMaxMemory <= 0 {
		c.JetStreamMaxMemory = DefaultJetStreamMaxMemory
	}
	if c.JetStreamMaxStore <= 0 {
		c.JetStreamMaxStore = DefaultJetStreamMaxStore
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	c.SubjectPrefix = strings.TrimSuffix(c.SubjectPrefix, ".")
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.StreamMaxAge > 0 && c.DuplicateWindow > c.StreamMaxAge {
		c.DuplicateWindow = c.StreamMaxAge
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.Source == "" {
		c.Source = DefaultSource
	}
	if c.Name == "" {
		c.Name = "shuzhi"
	}
	return c
}

func (c Config) validate() error {
	if strings.ContainsAny(c.Stream, " \t\r\n.*>/\\") {
		return fmt.Errorf("bus: invalid stream name %q", c.Stream)
	}
	if err := validateSubject(c.SubjectPrefix); err != nil {
		return fmt.Errorf("bus: invalid subject prefix: %w", err)
	}
	if c.URL == "" {
		if c.DataDir == "" {
			return errors.New("bus: DataDir is required for the embedded NATS server")
		}
		if c.Port < -1 || c.Port > 65535 || c.MQTTPort < -1 || c.MQTTPort > 65535 {
			return errors.New("bus: invalid port")
		}
	}
	return nil
}

// Bus is a connection to NATS/JetStream, plus the embedded server when
// running in embedded mode. It is safe for concurrent use.
type Bus struct {
	cfg  Config
	log  *slog.Logger
	srv  *server.Server // nil in external mode
	nc   *nats.Conn
	js   jetstream.JetStream
	mqtt string // host:port or ""

	ctx    context.Context // cancelled by Close; parent of handler contexts
	cancel context.CancelFunc
	closed chan struct{} // closed by the NATS ClosedHandler

	mu        sync.Mutex
	subs      map[*subscription]struct{}
	closeOnce sync.Once
	closeErr  error

	stats counters
}

// Open starts (embedded mode) or connects to (external mode) NATS, and
// creates or updates the events stream. The logger may be nil.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Bus, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &Bus{
		cfg:    cfg,
		log:    log.With("component", "bus"),
		closed: make(chan struct{}),
		subs:   map[*subscription]struct{}{},
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())

	var err error
	if cfg.URL == "" {
		err = b.startEmbedded(ctx)
	} else {
		err = b.connectExternal(ctx)
	}
	if err == nil {
		b.js, err = jetstream.New(b.nc)
	}
	if err == nil {
		err = b.ensureStream(ctx)
	}
	if err != nil {
		b.shutdown()
		return nil, err
	}
	mode := "external"
	if b.srv != nil {
		mode = "embedded"
	}
	b.log.Info("event bus ready", "mode", mode, "stream", cfg.Stream,
		"subjects", cfg.SubjectPrefix+".>", "client_url", b.ClientURL(), "mqtt", b.mqtt)
	return b, nil
}

func timeoutFrom(ctx context.Context, def time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 {
			return d
		}
		return time.Millisecond
	}
	return def
}

func (b *Bus) startEmbedded(ctx context.Context) error {
	cfg := b.cfg
	opts := &server.Options{
		ServerName:         cfg.Name, // MQTT and JetStream want a stable, explicit name
		Host:               cfg.Host,
		Port:               cfg.Port,
		DontListen:         cfg.Port == 0,
		JetStream:          true,
		StoreDir:           filepath.Join(cfg.DataDir, "nats"),
		JetStreamMaxMemory: cfg.JetStreamMaxMemory,
		JetStreamMaxStore:  cfg.JetStreamMaxStore,
		NoSigs:             true,
	}
	if cfg.MQTTPort != 0 {
		opts.MQTT.Host = cfg.Host
		opts.MQTT.Port = cfg.MQTTPort // -1 = random, resolved by the server
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("bus: embedded nats-server: %w", err)
	}
	logger := &natsLogger{log: b.log.With("nats", "server")}
	srv.SetLoggerV2(logger, false, false, false)
	b.srv = srv
	srv.Start()
	if !srv.ReadyForConnections(timeoutFrom(ctx, 10*time.Second)) {
		return fmt.Errorf("bus: embedded nats-server not ready: %s", logger.fatalOr("timeout"))
	}
	if msg := logger.fatal(); msg != "" {
		return fmt.Errorf("bus: embedded nats-server: %s", msg)
	}
	if !srv.JetStreamEnabled() {
		return errors.New("bus: embedded nats-server: JetStream not enabled")
	}
	if cfg.MQTTPort != 0 {
		vz, err := srv.Varz(nil)
		if err != nil {
			return fmt.Errorf("bus: embedded nats-server: %w", err)
		}
		b.mqtt = net.JoinHostPort(vz.MQTT.Host, strconv.Itoa(vz.MQTT.Port))
	}
	nc, err := nats.Connect("", append(b.connOptions(),
		nats.InProcessServer(srv),
		nats.Timeout(timeoutFrom(ctx, 5*time.Second)),
	)...)
	if err != nil {
		return fmt.Errorf("bus: connect to embedded nats-server: %w", err)
	}
	b.nc = nc
	return nil
}

func (b *Bus) connectExternal(ctx context.Context) error {
	nc, err := nats.Connect(b.cfg.URL, append(b.connOptions(),
		nats.Timeout(timeoutFrom(ctx, 5*time.Second)),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(2*time.Second),
		nats.ReconnectJitter(500*time.Millisecond, 2*time.Second),
		nats.ReconnectBufSize(8<<20),
	)...)
	if err != nil {
		return fmt.Errorf("bus: connect to %s: %w", redactURL(b.cfg.URL), err)
	}
	b.nc = nc
	return nil
}

func (b *Bus) connOptions() []nats.Option {
	return []nats.Option{
		nats.Name(b.cfg.Name),
		nats.DrainTimeout(10 * time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			b.log.Warn("nats async error", "subject", subj, "err", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
	}
}

func redactURL(u string) string {
	// nats://user:pass@host -> nats://host; good enough for logs and errors.
	parts := strings.Split(u, ",")
	for i, p := range parts {
		if at := strings.LastIndex(p, "@"); at >= 0 {
			scheme := ""
			if k := strings.Index(p, "://"); k >= 0 && k < at {
				scheme = p[:k+3]
			}
			parts[i] = scheme + "***@" + p[at+1:]
		}
	}
	return strings.Join(parts, ",")
}

func (b *Bus) ensureStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, timeoutFrom(ctx, 10*time.Second))
	defer cancel()
	_, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        b.cfg.Stream,
		Description: "Shuzhi domain events",
		Subjects:    []string{b.cfg.SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      b.cfg.StreamMaxAge,
		Duplicates:  b.cfg.DuplicateWindow,
		Replicas:    b.cfg.Replicas,
	})
	if err != nil {
		return fmt.Errorf("bus: create or update stream %s: %w", b.cfg.Stream, err)
	}
	return nil
}

// Close stops all subscriptions, drains the connection and shuts down the
// embedded server. It is safe to call more than once.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		subs := make([]*subscription, 0, len(b.subs))
		for s := range b.subs {
			subs = append(subs, s)
		}
		b.mu.Unlock()
		for _, s := range subs {
			s.stop()
		}
		b.closeErr = b.shutdown()
	})
	return b.closeErr
}

func (b *Bus) shutdown() error {
	b.cancel()
	var err error
	if b.nc != nil {
		if derr := b.nc.Drain(); derr == nil {
			select {
			case <-b.closed:
			case <-time.After(15 * time.Second):
				err = errors.New("bus: timeout draining NATS connection")
				b.nc.Close()
			}
		} else if !b.nc.IsClosed() {
			b.nc.Close()
		}
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
	return err
}

// Ping checks readiness: a round trip to the server and a JetStream
// account info request. Without a deadline on ctx a 5 s timeout applies.
func (b *Bus) Ping(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("bus: nats round trip: %w", err)
	}
	if _, err := b.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("bus: jetstream: %w", err)
	}
	return nil
}

// MQTTAddr is the embedded MQTT listener's host:port, or "" when MQTT is off.
func (b *Bus) MQTTAddr() string { return b.mqtt }

// ClientURL is a URL other NATS clients can connect to: the embedded
// server's client listener ("" when it does not listen, Config.Port 0), or
// Config.URL in external mode.
func (b *Bus) ClientURL() string {
	if b.srv == nil {
		return b.cfg.URL
	}
	if b.cfg.Port == 0 {
		return ""
	}
	return b.srv.ClientURL()
}

// Conn is the underlying NATS connection (for request/reply, KV, etc.).
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream is the JetStream context of the connection.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Stream is the name of the events stream.
func (b *Bus) Stream() string { return b.cfg.Stream }

// SubjectFor is the NATS subject events of the given type are published on.
func (b *Bus) SubjectFor(eventType string) string { return b.cfg.SubjectPrefix + "." + eventType }

// Stats are cumulative counters of a [Bus] since Open.
type Stats struct {
	Published  uint64 // events accepted by JetStream (including duplicates)
	Duplicates uint64 // publishes JetStream dropped as duplicates
	Delivered  uint64 // messages delivered to subscriptions (including redeliveries)
	Handled    uint64 // handler successes (acked)
	Skipped    uint64 // already processed according to Dedup (acked without handling)
	Failed     uint64 // handler errors (nak'ed for redelivery, or terminated at MaxDeliver)
	Terminated uint64 // undecodable messages and messages that exhausted MaxDeliver
}

type counters struct {
	published, duplicates, delivered, handled, skipped, failed, terminated atomic.Uint64
}

// Stats returns a snapshot of the bus counters.
func (b *Bus) Stats() Stats {
	c := &b.stats
	return Stats{
		Published:  c.published.Load(),
		Duplicates: c.duplicates.Load(),
		Delivered:  c.delivered.Load(),
		Handled:    c.handled.Load(),
		Skipped:    c.skipped.Load(),
		Failed:     c.failed.Load(),
		Terminated: c.terminated.Load(),
	}
}

// natsLogger adapts nats-server logging to slog: notices become debug,
// debug/trace are dropped, fatal errors are recorded (the server must not
// exit the process) and logged as errors.
type natsLogger struct {
	log      *slog.Logger
	mu       sync.Mutex
	lastFail string
}

func (l *natsLogger) Noticef(format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...))
}
func (l *natsLogger) Warnf(format string, v ...any) { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Errorf(format string, v ...any) {
	l.log.Error(fmt.Sprintf(format, v...))
}
func (l *natsLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.mu.Lock()
	l.lastFail = msg
	l.mu.Unlock()
	l.log.Error(msg, "fatal", true)
}
func (l *natsLogger) Debugf(string, ...any) {}
func (l *natsLogger) Tracef(string, ...any) {}

func (l *natsLogger) fatal() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastFail
}

func (l *natsLogger) fatalOr(def string) string {
	if m := l.fatal(); m != "" {
		return m
	}
	return def
}

var _ io.Closer = (*Bus)(nil)

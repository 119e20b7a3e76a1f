// Package config reads Shuzhi's settings. Precedence, highest first:
// command-line flags, SHUZHI_* environment variables, the config file
// (--config or SHUZHI_CONFIG), built-in defaults. Every setting is described
// once, in Settings, which drives the flags, the environment names, the
// file keys and `shuzhi serve --help`.
package config

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the resolved configuration.
type Config struct {
	DataDir         string
	Listen          string
	DB              string
	NATS            string
	NATSPort        int
	MQTT            bool
	MQTTListen      string
	JSMaxMemory     int64
	JSMaxStore      int64
	CryptoProfile   string
	SigningKeyFile  string
	FieldKeyFile    string
	Demo            bool
	DemoSeed        int64
	DemoSize        int
	LogLevel        string
	LogFormat       string
	ShutdownTimeout time.Duration
	SessionTTL      time.Duration
	SecureCookies   bool
	LedgerOrigin    string
	NodeID          string
	NodeName        string
	NodeLevel       string
	PublicURL       string
	GCPercent       int
	ExtraProcs      int
	ExchangeJournal string
	ConfigFile      string
}

// Setting describes one configuration value.
type Setting struct {
	Name    string // flag name and file key
	Default string
	Help    string
	set     func(c *Config, v string) error
}

// Env is the environment variable of a setting.
func (s Setting) Env() string {
	return "SHUZHI_" + strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func integer(p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("must be an integer")
		}
		*p(c) = n
		return nil
	}
}

func size(p func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := ParseSize(v)
		if err != nil {
			return err
		}
		*p(c) = n
		return nil
	}
}

func boolean(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		*p(c) = b
		return nil
	}
}

func duration(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("must be a positive duration such as 30s or 8h")
		}
		*p(c) = d
		return nil
	}
}

// Settings lists every setting of `shuzhi serve`.
var Settings = []Setting{
	{"data-dir", "./data", "directory for the SQLite database, JetStream store and keys", str(func(c *Config) *string { return &c.DataDir })},
	{"listen", "127.0.0.1:8080", "HTTP listen address", str(func(c *Config) *string { return &c.Listen })},
	{"db", "", "PostgreSQL DSN (postgres://user@host:5432/db); empty uses SQLite in the data directory", str(func(c *Config) *string { return &c.DB })},
	{"nats", "", "external NATS URL(s), comma-separated; empty runs the embedded NATS server", str(func(c *Config) *string { return &c.NATS })},
	{"nats-port", "0", "embedded NATS client port on 127.0.0.1 for other tools (0: in-process only)", integer(func(c *Config) *int { return &c.NATSPort })},
	{"mqtt", "false", "enable the embedded NATS MQTT listener for sensors (always on with --demo)", boolean(func(c *Config) *bool { return &c.MQTT })},
	{"mqtt-listen", "127.0.0.1:1883", "MQTT listen address; with --demo a busy port falls back to a free one", str(func(c *Config) *string { return &c.MQTTListen })},
	{"js-max-memory", "64MiB", "JetStream memory limit of the embedded NATS server", size(func(c *Config) *int64 { return &c.JSMaxMemory })},
	{"js-max-store", "1GiB", "JetStream disk limit of the embedded NATS server", size(func(c *Config) *int64 { return &c.JSMaxStore })},
	{"crypto-profile", "intl", "cryptography profile: intl (Ed25519, SHA-256, AES-GCM) or gm (国密 SM2, SM3, SM4)", str(func(c *Config) *string { return &c.CryptoProfile })},
	{"signing-key-file", "", "PEM (PKCS#8) signing key to use instead of the generated one in <data-dir>/keys", str(func(c *Config) *string { return &c.SigningKeyFile })},
	{"field-key-file", "", "field-encryption master key file to use instead of the generated one", str(func(c *Config) *string { return &c.FieldKeyFile })},
	{"demo", "false", "seed the demo district (姑苏区) on start if it is missing", boolean(func(c *Config) *bool { return &c.Demo })},
	{"demo-seed", "20261123", "seed of the deterministic demo data", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("must be an integer")
		}
		c.DemoSeed = n
		return nil
	}},
	{"demo-size", "100000", "demo population size (1000 to 10000000); scales grids and staff", integer(func(c *Config) *int { return &c.DemoSize })},
	{"log-level", "info", "log level: debug, info, warn or error", str(func(c *Config) *string { return &c.LogLevel })},
	{"log-format", "text", "log format: text or json", str(func(c *Config) *string { return &c.LogFormat })},
	{"shutdown-timeout", "20s", "how long graceful shutdown waits for in-flight requests", duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"session-ttl", "8h", "lifetime of a browser session", duration(func(c *Config) *time.Duration { return &c.SessionTTL })},
	{"ledger-origin", "shuzhi.local/ledger", "name of this node's tamper-evident log (the checkpoint origin line); keep it stable and unique", str(func(c *Config) *string { return &c.LedgerOrigin })},
	{"node-id", "", "this node's id in the exchange federation (its division code, e.g. 320508); empty: a standalone node", str(func(c *Config) *string { return &c.NodeID })},
	{"node-name", "", "this node's name in the federation, e.g. 姑苏区共享交换节点", str(func(c *Config) *string { return &c.NodeName })},
	{"node-level", "county", "this node's level: province, city, county or township", str(func(c *Config) *string { return &c.NodeLevel })},
	{"public-url", "", "URL other nodes reach this one at (default: http://<listen address>)", str(func(c *Config) *string { return &c.PublicURL })},
	{"gc-percent", "400", "the Go garbage collector's target (GOGC) for this process: 400 trades some memory for fewer collections, which otherwise steal one of two cores under load; 0 keeps the runtime's default", integer(func(c *Config) *int { return &c.GCPercent })},
	{"extra-procs", "1", "Go processors beyond the CPUs the runtime would use (GOMAXPROCS = its default + this; the GOMAXPROCS variable wins): a goroutine blocked in a file sync (SQLite's WAL checkpoint, a journal's fsync) keeps its processor until the runtime takes it back, up to ~20 ms, and with 2 CPUs that halves the cores serving requests meanwhile; 0 keeps the runtime's default", integer(func(c *Config) *int { return &c.ExtraProcs })},
	{"exchange-journal", "auto", "answer governed queries once their access record is in a local journal file, moved into the database behind: on, off, or auto (on with SQLite, off with PostgreSQL; with PostgreSQL, on needs a data directory that outlives the process, see docs/EXCHANGE.md)", str(func(c *Config) *string { return &c.ExchangeJournal })},
	{"secure-cookies", "false", "mark cookies Secure (set when served over HTTPS)", boolean(func(c *Config) *bool { return &c.SecureCookies })},
}

// Load resolves the configuration from args (flags), the environment and
// the optional file. names limits the flags to a subset (nil: all).
func Load(fs *flag.FlagSet, args []string, env func(string) string) (*Config, error) {
	c := &Config{}
	for _, s := range Settings {
		if err := s.set(c, s.Default); err != nil {
			panic(fmt.Sprintf("default of %s: %v", s.Name, err))
		}
	}
	flags := map[string]*flagValue{}
	for _, s := range Settings {
		v := &flagValue{isBool: s.Default == "true" || s.Default == "false"}
		fs.Var(v, s.Name, fmt.Sprintf("%s (env %s, default %q)", s.Help, s.Env(), s.Default))
		flags[s.Name] = v
	}
	var file string
	fs.StringVar(&file, "config", "", "config file of `key = value` lines (env SHUZHI_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if file == "" {
		file = env("SHUZHI_CONFIG")
	}
	if file != "" {
		vals, err := readFile(file)
		if err != nil {
			return nil, err
		}
		for k, v := range vals {
			s, ok := find(k)
			if !ok {
				return nil, fmt.Errorf("config file %s: unknown setting %q", file, k)
			}
			if err := s.set(c, v); err != nil {
				return nil, fmt.Errorf("config file %s: %s: %v", file, k, err)
			}
		}
		c.ConfigFile = file
	}
	for _, s := range Settings {
		if v := env(s.Env()); v != "" {
			if err := s.set(c, v); err != nil {
				return nil, fmt.Errorf("%s: %v", s.Env(), err)
			}
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, s := range Settings {
		if set[s.Name] {
			if err := s.set(c, flags[s.Name].v); err != nil {
				return nil, fmt.Errorf("--%s: %v", s.Name, err)
			}
		}
	}
	return c, c.Validate()
}

// flagValue holds a flag's raw text; boolean settings may be given bare
// (--demo) like ordinary boolean flags.
type flagValue struct {
	v      string
	isBool bool
}

func (f *flagValue) String() string     { return f.v }
func (f *flagValue) Set(s string) error { f.v = s; return nil }
func (f *flagValue) IsBoolFlag() bool   { return f.isBool }

func find(name string) (Setting, bool) {
	for _, s := range Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// Validate checks values that parse but make no sense.
func (c *Config) Validate() error {
	switch c.CryptoProfile {
	case "intl", "gm":
	default:
		return fmt.Errorf("crypto-profile: must be intl or gm, got %q", c.CryptoProfile)
	}
	if c.DemoSize < 1000 || c.DemoSize > 10_000_000 {
		return fmt.Errorf("demo-size: must be between 1000 and 10000000, got %d", c.DemoSize)
	}
	if c.DataDir == "" {
		return fmt.Errorf("data-dir: must not be empty")
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		return fmt.Errorf("db: must be a postgres:// URL (leave empty for SQLite)")
	}
	if c.JSMaxMemory < 1<<20 || c.JSMaxStore < 1<<20 {
		return fmt.Errorf("js-max-memory and js-max-store: must be at least 1MiB")
	}
	switch c.ExchangeJournal {
	case "auto", "on", "off":
	default:
		return fmt.Errorf("exchange-journal: must be auto, on or off, got %q", c.ExchangeJournal)
	}
	if c.ExtraProcs < 0 || c.ExtraProcs > 64 {
		return fmt.Errorf("extra-procs: must be 0..64, got %d", c.ExtraProcs)
	}
	if c.NATSPort < 0 || c.NATSPort > 65535 {
		return fmt.Errorf("nats-port: must be 0..65535")
	}
	return nil
}

func readFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("config file %s line %d: want key = value", path, n)
		}
		v = strings.TrimSpace(v)
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		}
		out[strings.TrimSpace(k)] = v
	}
	return out, sc.Err()
}

// ParseSize parses sizes such as 64MiB, 1GiB, 512KiB or plain bytes.
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	s = strings.TrimSpace(s)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), 10, 64)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("must be a size such as 64MiB")
			}
			return n * u.mult, nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("must be a size such as 64MiB")
	}
	return n, nil
}

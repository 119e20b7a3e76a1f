package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T, args []string, env map[string]string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Load(fs, args, func(k string) string { return env[k] })
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "./data" || c.Listen != "127.0.0.1:8080" || c.DB != "" || c.NATS != "" || c.CryptoProfile != "intl" {
		t.Fatalf("defaults = %+v", c)
	}
	if c.JSMaxMemory != 64<<20 || c.JSMaxStore != 1<<30 {
		t.Fatalf("JetStream limits = %d %d", c.JSMaxMemory, c.JSMaxStore)
	}
	if c.ExtraProcs != 1 || c.GCPercent != 400 {
		t.Fatalf("extra-procs %d, gc-percent %d", c.ExtraProcs, c.GCPercent)
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "shuzhi.conf")
	if err := os.WriteFile(file, []byte("# comment\nlisten = 127.0.0.1:9000\ncrypto-profile = \"gm\"\ndemo-size = 5000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, []string{"--config", file, "--demo-size", "2000"}, map[string]string{"SHUZHI_LISTEN": "127.0.0.1:9100"})
	if err != nil {
		t.Fatal(err)
	}
	if c.CryptoProfile != "gm" {
		t.Errorf("file value lost: %q", c.CryptoProfile)
	}
	if c.Listen != "127.0.0.1:9100" {
		t.Errorf("env should beat file: %q", c.Listen)
	}
	if c.DemoSize != 2000 {
		t.Errorf("flag should beat file: %d", c.DemoSize)
	}
}

func TestRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown profile", []string{"--crypto-profile", "rsa"}, "crypto-profile"},
		{"bad size", []string{"--js-max-store", "lots"}, "js-max-store"},
		{"demo size out of range", []string{"--demo-size", "10"}, "demo-size"},
		{"db not postgres", []string{"--db", "mysql://x"}, "db"},
		{"bad duration", []string{"--session-ttl", "-1h"}, "session-ttl"},
		{"negative extra procs", []string{"--extra-procs", "-1"}, "extra-procs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, c.args, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want mention of %q", err, c.want)
			}
		})
	}
	t.Run("unknown key in file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "c.conf")
		_ = os.WriteFile(file, []byte("colour = red\n"), 0o600)
		if _, err := load(t, []string{"--config", file}, nil); err == nil || !strings.Contains(err.Error(), "colour") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestBareBooleanFlag(t *testing.T) {
	t.Parallel()
	c, err := load(t, []string{"--demo", "--mqtt=false"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Demo || c.MQTT {
		t.Fatalf("demo=%v mqtt=%v", c.Demo, c.MQTT)
	}
}

// Package apptest starts the real platform for tests: the same binary's
// server on a free loopback port, on SQLite or a fresh PostgreSQL database,
// with the demo district seeded, and HTTP clients that log in as demo users.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/app"
	"github.com/shuzhi-gov/shuzhi/internal/demo"
	"github.com/shuzhi-gov/shuzhi/internal/platform/config"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/obs"
)

// Env is a running platform.
type Env struct {
	Server *app.Server
	URL    string
	cancel context.CancelFunc
	done   chan error
}

// Start runs the platform on backend with the demo district (size 1000).
// extra are additional serve flags.
func Start(t testing.TB, backend db.Dialect, extra ...string) *Env {
	t.Helper()
	args := []string{"--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--demo", "--demo-size", "1000",
		"--mqtt-listen", "127.0.0.1:0", "--log-level", "warn", "--shutdown-timeout", "10s"}
	if backend == db.Postgres {
		args = append(args, "--db", dbtest.NewPGDatabase(t))
	}
	args = append(args, extra...)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg, err := config.Load(fs, args, func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := obs.NewLogger(testWriter{t}, "text", cfg.LogLevel)
	ctx := context.Background()
	core, err := app.Open(ctx, cfg, log)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, err := demo.Seed(ctx, demo.Services{DB: core.DB, Identity: core.Identity, Geo: core.Geo, Registry: core.Registry, Cases: core.Cases, Exchange: core.Exchange, HashPassword: crypto.HashPassword}, cfg.DemoSeed, cfg.DemoSize); err != nil {
		core.Close()
		t.Fatalf("demo: %v", err)
	}
	srv, err := app.NewServer(ctx, core)
	if err != nil {
		core.Close()
		t.Fatalf("server: %v", err)
	}
	addr, err := srv.Listen()
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	e := &Env{Server: srv, URL: "http://" + addr, cancel: cancel, done: make(chan error, 1)}
	go func() { e.done <- srv.Serve(sctx) }()
	t.Cleanup(func() { _ = e.Stop() })
	return e
}

// Stop shuts the server down gracefully and returns Serve's result.
func (e *Env) Stop() error {
	if e.cancel == nil {
		return nil
	}
	e.cancel()
	e.cancel = nil
	select {
	case err := <-e.done:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("server did not stop within 30s")
	}
}

// Done returns the channel that receives Serve's result (after Cancel).
func (e *Env) Cancel() <-chan error {
	e.cancel()
	e.cancel = nil
	return e.done
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Client is an HTTP client for one caller.
type Client struct {
	t      testing.TB
	base   string
	http   *http.Client
	csrf   string
	bearer string
	lang   string
}

// Anonymous returns a client without credentials.
func (e *Env) Anonymous(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: e.URL, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// Login returns a client logged in as a demo user.
func (e *Env) Login(t testing.TB, username string) *Client {
	t.Helper()
	c := e.Anonymous(t)
	r := c.Do("POST", "/api/v1/auth/login", map[string]string{"username": username, "password": demo.Password})
	if r.Status != 200 {
		t.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	var out struct{ CSRFToken string }
	r.JSON(&out)
	c.csrf = out.CSRFToken
	return c
}

// Bearer returns a client that authenticates with an API token.
func (e *Env) Bearer(t testing.TB, token string) *Client {
	c := e.Anonymous(t)
	c.bearer = token
	return c
}

// WithoutCSRF returns a copy that omits the CSRF header.
func (c *Client) WithoutCSRF() *Client { cc := *c; cc.csrf = ""; return &cc }

// Lang returns a copy that sends Accept-Language.
func (c *Client) Lang(l string) *Client { cc := *c; cc.lang = l; return &cc }

// Resp is a response read whole.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
	t      testing.TB
}

// JSON decodes the body into v, failing the test on error.
func (r *Resp) JSON(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Problem is an RFC 9457 body as tests read it.
type Problem struct {
	Type, Title, Detail, Code string
	Status                    int
	Errors                    []struct{ Field, Rule, Message string }
}

// Problem decodes a problem body and checks its content type.
func (r *Resp) Problem() Problem {
	r.t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		r.t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p Problem
	r.JSON(&p)
	if p.Status != r.Status || p.Type == "" || p.Title == "" {
		r.t.Fatalf("malformed problem (status %d): %s", r.Status, r.Body)
	}
	return p
}

// Do sends a request; body is JSON-encoded unless it is a string or []byte.
func (c *Client) Do(method, path string, body any) *Resp {
	c.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	return c.send(method, path, ct, rd)
}

// Upload sends raw bytes with the given content type.
func (c *Client) Upload(method, path, contentType string, data []byte) *Resp {
	c.t.Helper()
	return c.send(method, path, contentType, bytes.NewReader(data))
}

func (c *Client) send(method, path, ct string, rd io.Reader) *Resp {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &Resp{Status: res.StatusCode, Header: res.Header, Body: b, t: c.t}
}

// WithCSRF returns a copy of c that sends the given CSRF token.
func WithCSRF(c *Client, token string) *Client { cc := *c; cc.csrf = token; return &cc }

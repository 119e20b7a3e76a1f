package app_test

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
)

// A request in flight when shutdown starts completes; readiness turns 503
// while it does; Serve returns cleanly.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	e := apptest.Start(t, db.SQLite)
	started, release := make(chan struct{}), make(chan struct{})
	huma.Register(e.Server.API, huma.Operation{OperationID: "test-slow", Method: http.MethodGet, Path: "/test/slow"},
		func(ctx context.Context, _ *struct{}) (*struct{ Body string }, error) {
			close(started)
			<-release
			return &struct{ Body string }{Body: "finished"}, nil
		})
	type result struct {
		status int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		r, err := http.Get(e.URL + "/test/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		r.Body.Close()
		res <- result{status: r.StatusCode}
	}()
	<-started
	done := e.Cancel()
	// Wait until the server has begun shutting down: new connections are refused.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", e.URL[len("http://"):], time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still accepts connections 10s after shutdown began")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	default:
	}
	close(release)
	r := <-res
	if r.err != nil || r.status != 200 {
		t.Fatalf("in-flight request: status %d err %v", r.status, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// externalNATS returns the URL of a NATS server with JetStream other than
// the embedded one: the one CI runs on 127.0.0.1:4222, or one this test
// starts from Debian's nats-server.
func externalNATS(t *testing.T) string {
	t.Helper()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second); err == nil {
		c.Close()
		return "nats://127.0.0.1:4222"
	}
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Fatal("no NATS server on 127.0.0.1:4222 and no nats-server binary to start one (apt-get install nats-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", port, "-js", "-sd", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "nats://" + addr
}

func TestExternalNATSAndGMProfile(t *testing.T) {
	t.Parallel()
	url := externalNATS(t)
	e := apptest.Start(t, db.SQLite, "--nats", url, "--crypto-profile", "gm")
	a := e.Anonymous(t)
	if r := a.Do("GET", "/readyz", nil); r.Status != 200 {
		t.Fatalf("readyz with external NATS: %d %s", r.Status, r.Body)
	}
	var meta struct{ CryptoProfile, MQTT string }
	a.Do("GET", "/api/v1/meta", nil).JSON(&meta)
	if meta.CryptoProfile != "gm" || meta.MQTT != "" {
		t.Fatalf("meta = %+v (external NATS has no embedded MQTT)", meta)
	}
	// Personal fields are encrypted with SM4 in the 国密 profile: a user
	// created through the API round-trips with a masked phone.
	admin := e.Login(t, "sysadmin")
	r := admin.Do("POST", "/api/v1/users", map[string]any{"username": "gm.user", "displayName": "国密", "password": "Gm-profile-1", "divisionCode": pingjiang, "phone": "13800001111"})
	if r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if e.Server.Bus.ClientURL() == "" {
		t.Fatal("no bus connection")
	}
}

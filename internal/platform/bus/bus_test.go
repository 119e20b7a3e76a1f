package bus

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

const waitTimeout = 10 * time.Second

type userCreated struct {
	UserID string `json:"userId"`
	Name   string `json:"name"`
}

func (userCreated) EventType() string { return "identity.user.created" }

type orgRenamed struct {
	OrgID string `json:"orgId"`
}

func (*orgRenamed) EventType() string { return "identity.org.renamed" }

// syncWriter forwards log output to the test until the test's cleanups are done.
type syncWriter struct {
	mu   sync.Mutex
	w    io.Writer
	done bool
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	return w.w.Write(p)
}

func testLogger(t *testing.T) *slog.Logger {
	w := &syncWriter{w: t.Output()}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() }) // runs after later-registered cleanups
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func openEmbedded(t *testing.T, mod func(*Config)) *Bus {
	t.Helper()
	log := testLogger(t)
	cfg := Config{
		DataDir:            t.TempDir(),
		JetStreamMaxMemory: 8 << 20,
		JetStreamMaxStore:  64 << 20,
		StreamMaxAge:       time.Hour,
	}
	if mod != nil {
		mod(&cfg)
	}
	b, err := Open(testCtx(t), cfg, log)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// externalURL is SHUZHI_TEST_NATS_URL, else nats://127.0.0.1:4222 when it
// answers (CI), else a separate nats-server started for this test.
func externalURL(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("SHUZHI_TEST_NATS_URL"); u != "" {
		return u
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:4222", 300*time.Millisecond); err == nil {
		c.Close()
		return "nats://127.0.0.1:4222"
	}
	s, err := server.NewServer(&server.Options{
		ServerName:         "shuzhi-test-external",
		Host:               "127.0.0.1",
		Port:               -1,
		JetStream:          true,
		StoreDir:           t.TempDir(),
		JetStreamMaxMemory: 8 << 20,
		JetStreamMaxStore:  64 << 20,
		NoSigs:             true,
		NoLog:              true,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(waitTimeout) {
		t.Fatal("external test nats-server not ready")
	}
	return s.ClientURL()
}

// openExternal opens a Bus on url with a stream and subject prefix unique
// to the test, and deletes the stream at the end.
func openExternal(t *testing.T, url string) *Bus {
	t.Helper()
	id := NewID()
	cfg := Config{
		URL:           url,
		Stream:        "SHUZHI_TEST_" + id,
		SubjectPrefix: "shuzhi_test_" + strings.ToLower(id) + ".events",
		StreamMaxAge:  10 * time.Minute,
	}
	b, err := Open(testCtx(t), cfg, testLogger(t))
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.JetStream().DeleteStream(ctx, cfg.Stream); err != nil {
			t.Errorf("delete stream %s: %v", cfg.Stream, err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timeout waiting for %s", what)
		panic("unreachable")
	}
}

// eventually polls cond (for state that has no channel to wait on).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type delivery struct {
	env     Envelope
	ev      userCreated
	attempt int
}

// collectUntil receives deliveries until the one with envelope ID last.
func collectUntil(t *testing.T, ch <-chan delivery, last string) []delivery {
	t.Helper()
	var got []delivery
	for {
		d := recv(t, ch, "delivery of "+last)
		got = append(got, d)
		if d.env.ID == last {
			return got
		}
	}
}

func countID(ds []delivery, id string) int {
	n := 0
	for _, d := range ds {
		if d.env.ID == id {
			n++
		}
	}
	return n
}

// subscribeChan subscribes to userCreated and forwards deliveries to a channel.
func subscribeChan(t *testing.T, b *Bus, consumer string, dedup Dedup, fail func(attempt int) error, opts ...SubscribeOption) <-chan delivery {
	t.Helper()
	ch := make(chan delivery, 64)
	stop, err := Subscribe(b, consumer, func(ctx context.Context, env Envelope, ev userCreated) error {
		d, ok := DeliveryFrom(ctx)
		if !ok {
			return errors.New("no delivery info in context")
		}
		if fail != nil {
			if err := fail(d.Attempt); err != nil {
				return err
			}
		}
		ch <- delivery{env: env, ev: ev, attempt: d.Attempt}
		return nil
	}, dedup, opts...)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	t.Cleanup(stop)
	return ch
}

func publishRawEnvelope(t *testing.T, b *Bus, subject string, env Envelope, msgID string) {
	t.Helper()
	body, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(subject)
	msg.Header.Set("Nats-Msg-Id", msgID)
	msg.Data = body
	ack, err := b.JetStream().PublishMsg(testCtx(t), msg)
	if err != nil {
		t.Fatalf("raw publish: %v", err)
	}
	if ack.Duplicate {
		t.Fatalf("raw publish with Nats-Msg-Id %q was dropped as duplicate", msgID)
	}
}

// busCases run against both the embedded and an external server.
var busCases = []struct {
	name string
	run  func(t *testing.T, b *Bus)
}{
	{"round_trip", testRoundTrip},
	{"redelivered_after_handler_error", testRedelivery},
	{"same_envelope_id_published_twice_delivered_once", testDuplicatePublish},
	{"dedup_skips_same_envelope_with_other_msg_id", testDedupOtherMsgID},
	{"dedup_skips_already_marked_event", testDedupMarked},
	{"undecodable_message_terminated", testUndecodable},
	{"gives_up_after_max_deliver", testMaxDeliver},
	{"pointer_event_type", testPointerEvent},
}

func TestEmbedded(t *testing.T) {
	t.Parallel()
	for _, c := range busCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, openEmbedded(t, nil))
		})
	}
}

func TestExternal(t *testing.T) {
	t.Parallel()
	url := externalURL(t)
	t.Logf("external NATS: %s", url)
	for _, c := range busCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, openExternal(t, url))
		})
	}
}

func testRoundTrip(t *testing.T, b *Bus) {
	ctx := testCtx(t)
	ch := subscribeChan(t, b, "roundtrip", NewMemoryDedup(), nil)
	before := time.Now().Add(-time.Second)
	want := userCreated{UserID: "u-1", Name: "张三"}
	r, err := Publish(ctx, b, want, WithSubject("u-1"), WithSource("shuzhi/identity"))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if r.ID == "" || r.Duplicate || r.Sequence == 0 || r.Stream != b.Stream() {
		t.Fatalf("unexpected receipt %+v", r)
	}
	d := recv(t, ch, "event")
	if d.ev != want {
		t.Errorf("event = %+v, want %+v", d.ev, want)
	}
	e := d.env
	if e.ID != r.ID || e.Type != "identity.user.created" || e.Subject != "u-1" || e.Source != "shuzhi/identity" {
		t.Errorf("envelope = %+v", e)
	}
	if e.Time.Before(before) || e.Time.After(time.Now().Add(time.Second)) {
		t.Errorf("envelope time %v out of range", e.Time)
	}
	if d.attempt != 1 {
		t.Errorf("attempt = %d, want 1", d.attempt)
	}
	if err := b.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testRedelivery(t *testing.T, b *Bus) {
	var mu sync.Mutex
	calls := 0
	ch := subscribeChan(t, b, "flaky", NewMemoryDedup(), func(attempt int) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if attempt == 1 {
			return errors.New("transient failure")
		}
		return nil
	}, WithBackoff(10*time.Millisecond))
	r, err := Publish(testCtx(t), b, userCreated{UserID: "u-2"})
	if err != nil {
		t.Fatal(err)
	}
	d := recv(t, ch, "redelivered event")
	if d.env.ID != r.ID || d.attempt != 2 {
		t.Errorf("got id %s attempt %d, want %s attempt 2", d.env.ID, d.attempt, r.ID)
	}
	mu.Lock()
	if calls != 2 {
		t.Errorf("handler calls = %d, want 2", calls)
	}
	mu.Unlock()
	if s := b.Stats(); s.Failed != 1 {
		t.Errorf("stats %+v, want Failed 1", s)
	}
}

func testDuplicatePublish(t *testing.T, b *Bus) {
	ctx := testCtx(t)
	ch := subscribeChan(t, b, "dup", nil, nil)
	r1, err := Publish(ctx, b, userCreated{UserID: "u-3"}, WithID("evt-fixed"))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Publish(ctx, b, userCreated{UserID: "u-3"}, WithID("evt-fixed"))
	if err != nil {
		t.Fatal(err)
	}
	if r1.Duplicate || !r2.Duplicate || r2.Sequence != r1.Sequence {
		t.Errorf("receipts %+v %+v: want second to be a duplicate of the first", r1, r2)
	}
	last, err := Publish(ctx, b, userCreated{UserID: "sentinel"})
	if err != nil {
		t.Fatal(err)
	}
	got := collectUntil(t, ch, last.ID)
	if n := countID(got, "evt-fixed"); n != 1 {
		t.Errorf("evt-fixed delivered %d times, want 1", n)
	}
	if s := b.Stats(); s.Duplicates != 1 || s.Published != 3 {
		t.Errorf("stats %+v, want Duplicates 1, Published 3", s)
	}
}

// A retried publish that escapes JetStream's duplicate window (simulated
// with a different Nats-Msg-Id) must not run the handler twice.
func testDedupOtherMsgID(t *testing.T, b *Bus) {
	ctx := testCtx(t)
	dedup := NewMemoryDedup()
	ch := subscribeChan(t, b, "idem", dedup, nil)
	env, err := NewEnvelope(userCreated{UserID: "u-4"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PublishEnvelope(ctx, b, env); err != nil {
		t.Fatal(err)
	}
	publishRawEnvelope(t, b, b.SubjectFor(env.Type), env, env.ID+"-retry")
	last, err := Publish(ctx, b, userCreated{UserID: "sentinel"})
	if err != nil {
		t.Fatal(err)
	}
	got := collectUntil(t, ch, last.ID)
	if n := countID(got, env.ID); n != 1 {
		t.Errorf("handler ran %d times for %s, want 1", n, env.ID)
	}
	if s := b.Stats(); s.Skipped != 1 {
		t.Errorf("stats %+v, want Skipped 1", s)
	}
	if seen, _ := dedup.Seen(ctx, "idem", env.ID); !seen {
		t.Error("event not marked as seen")
	}
}

// An event already marked (handled, then redelivered because the ack was
// lost) is acked without running the handler.
func testDedupMarked(t *testing.T, b *Bus) {
	ctx := testCtx(t)
	dedup := NewMemoryDedup()
	if err := dedup.Mark(ctx, "marked", "evt-handled"); err != nil {
		t.Fatal(err)
	}
	ch := subscribeChan(t, b, "marked", dedup, nil)
	if _, err := Publish(ctx, b, userCreated{UserID: "u-5"}, WithID("evt-handled")); err != nil {
		t.Fatal(err)
	}
	last, err := Publish(ctx, b, userCreated{UserID: "sentinel"})
	if err != nil {
		t.Fatal(err)
	}
	got := collectUntil(t, ch, last.ID)
	if n := countID(got, "evt-handled"); n != 0 {
		t.Errorf("handler ran %d times for an already handled event", n)
	}
	if s := b.Stats(); s.Skipped != 1 {
		t.Errorf("stats %+v, want Skipped 1", s)
	}
}

func testUndecodable(t *testing.T, b *Bus) {
	ctx := testCtx(t)
	ch := subscribeChan(t, b, "strict", nil, nil)
	subj := b.SubjectFor(userCreated{}.EventType())
	if _, err := b.JetStream().Publish(ctx, subj, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	publishRawEnvelope(t, b, subj, Envelope{ID: "wrong-type", Type: "other.type", Data: json.RawMessage(`{}`)}, "wrong-type")
	last, err := Publish(ctx, b, userCreated{UserID: "sentinel"})
	if err != nil {
		t.Fatal(err)
	}
	if got := collectUntil(t, ch, last.ID); len(got) != 1 {
		t.Errorf("handler saw %d events, want only the sentinel", len(got))
	}
	if s := b.Stats(); s.Terminated != 2 {
		t.Errorf("stats %+v, want Terminated 2", s)
	}
}

func testMaxDeliver(t *testing.T, b *Bus) {
	attempts := make(chan int, 8)
	subscribeChan(t, b, "doomed", nil, func(attempt int) error {
		attempts <- attempt
		return errors.New("permanent failure")
	}, WithMaxDeliver(2), WithBackoff(10*time.Millisecond))
	if _, err := Publish(testCtx(t), b, userCreated{UserID: "u-6"}); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 2; want++ {
		if got := recv(t, attempts, "attempt"); got != want {
			t.Fatalf("attempt %d, want %d", got, want)
		}
	}
	eventually(t, "termination", func() bool { return b.Stats().Terminated == 1 })
	ci, err := b.JetStream().Consumer(testCtx(t), b.Stream(), "doomed")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "no pending acks", func() bool {
		info, err := ci.Info(testCtx(t))
		return err == nil && info.NumAckPending == 0
	})
}

func testPointerEvent(t *testing.T, b *Bus) {
	ch := make(chan *orgRenamed, 1)
	stop, err := Subscribe(b, "orgs", func(_ context.Context, _ Envelope, ev *orgRenamed) error {
		ch <- ev
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, err := Publish(testCtx(t), b, &orgRenamed{OrgID: "o-1"}); err != nil {
		t.Fatal(err)
	}
	if ev := recv(t, ch, "org event"); ev == nil || ev.OrgID != "o-1" {
		t.Errorf("event = %+v", ev)
	}
}

func TestEmbeddedAccessorsAndLifecycle(t *testing.T) {
	t.Parallel()
	t.Run("in_process_only", func(t *testing.T) {
		t.Parallel()
		b := openEmbedded(t, nil)
		if b.ClientURL() != "" || b.MQTTAddr() != "" {
			t.Errorf("ClientURL %q MQTTAddr %q, want both empty", b.ClientURL(), b.MQTTAddr())
		}
		if b.Conn() == nil || b.JetStream() == nil || b.Stream() != DefaultStream {
			t.Error("accessors not set")
		}
		if err := b.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := b.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := b.Ping(t.Context()); err == nil {
			t.Error("Ping after Close succeeded")
		}
	})
	t.Run("client_listener", func(t *testing.T) {
		t.Parallel()
		b := openEmbedded(t, func(c *Config) { c.Port = -1 })
		if !strings.HasPrefix(b.ClientURL(), "nats://127.0.0.1:") {
			t.Fatalf("ClientURL = %q", b.ClientURL())
		}
		nc, err := nats.Connect(b.ClientURL())
		if err != nil {
			t.Fatalf("connect to %s: %v", b.ClientURL(), err)
		}
		defer nc.Close()
		if _, err := nc.RTT(); err != nil {
			t.Error(err)
		}
	})
	t.Run("events_survive_restart", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		mod := func(c *Config) { c.DataDir = dir }
		b := openEmbedded(t, mod)
		r, err := Publish(testCtx(t), b, userCreated{UserID: "u-7"})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		b2 := openEmbedded(t, mod)
		if d := recv(t, subscribeChan(t, b2, "late", nil, nil), "persisted event"); d.env.ID != r.ID {
			t.Errorf("got %s, want %s", d.env.ID, r.ID)
		}
	})
	t.Run("invalid_config", func(t *testing.T) {
		t.Parallel()
		for name, cfg := range map[string]Config{
			"no_data_dir":    {},
			"bad_stream":     {DataDir: t.TempDir(), Stream: "a.b"},
			"bad_prefix":     {DataDir: t.TempDir(), SubjectPrefix: "a..b"},
			"bad_mqtt_port":  {DataDir: t.TempDir(), MQTTPort: -2},
			"unreachable_ex": {URL: "nats://127.0.0.1:1"},
		} {
			if b, err := Open(testCtx(t), cfg, nil); err == nil {
				b.Close()
				t.Errorf("%s: Open succeeded", name)
			}
		}
	})
	t.Run("new_id", func(t *testing.T) {
		t.Parallel()
		a, c := NewID(), NewID()
		if len(a) != 26 || a == c || a[:6] > c[:6] {
			t.Errorf("NewID: %q %q", a, c)
		}
	})
}

func TestMQTT(t *testing.T) {
	t.Parallel()
	b := openEmbedded(t, func(c *Config) { c.MQTTPort = -1 })
	addr := b.MQTTAddr()
	if addr == "" || strings.HasSuffix(addr, ":0") || strings.HasSuffix(addr, ":-1") {
		t.Fatalf("MQTTAddr = %q", addr)
	}
	sub, err := b.Conn().SubscribeSync("shuzhi.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	expect := func(t *testing.T, payload string) {
		t.Helper()
		msg, err := sub.NextMsg(waitTimeout)
		if err != nil {
			t.Fatalf("NATS subscriber: %v", err)
		}
		if string(msg.Data) != payload {
			t.Fatalf("payload %q, want %q", msg.Data, payload)
		}
	}

	t.Run("raw_connect_and_publish", func(t *testing.T) {
		mqttPublish(t, addr, "shuzhi/test", "hello from raw mqtt")
		expect(t, "hello from raw mqtt")
	})
	t.Run("mosquitto_pub", func(t *testing.T) {
		bin, err := exec.LookPath("mosquitto_pub")
		if err != nil {
			t.Skip("mosquitto_pub not installed (package mosquitto-clients); raw MQTT subtest covers the protocol")
		}
		host, port, _ := net.SplitHostPort(addr)
		out, err := exec.CommandContext(testCtx(t), bin, "-h", host, "-p", port, "-i", "shuzhi-test-pub",
			"-q", "1", "-t", "shuzhi/test", "-m", "hello from mosquitto").CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_pub: %v: %s", err, out)
		}
		expect(t, "hello from mosquitto")
	})
}

// mqttPublish speaks just enough MQTT 3.1.1: CONNECT/CONNACK, a QoS 1
// PUBLISH/PUBACK and DISCONNECT.
func mqttPublish(t *testing.T, addr, topic, payload string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(waitTimeout)); err != nil {
		t.Fatal(err)
	}
	str := func(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }
	packet := func(header byte, body []byte) []byte {
		p := []byte{header}
		for n := len(body); ; {
			d := byte(n % 128)
			if n /= 128; n > 0 {
				d |= 0x80
			}
			p = append(p, d)
			if n == 0 {
				break
			}
		}
		return append(p, body...)
	}
	expect := func(what string, want []byte) {
		t.Helper()
		got := make([]byte, len(want))
		if _, err := io.ReadFull(conn, got); err != nil {
			t.Fatalf("read %s: %v", what, err)
		}
		if string(got) != string(want) {
			t.Fatalf("%s = % x, want % x", what, got, want)
		}
	}

	connect := append(str("MQTT"), 4, 0x02, 0, 30) // level 4, clean session, keepalive 30s
	connect = append(connect, str("shuzhi-test-raw")...)
	if _, err := conn.Write(packet(0x10, connect)); err != nil {
		t.Fatal(err)
	}
	expect("CONNACK", []byte{0x20, 2, 0, 0})

	publish := append(str(topic), 0, 1) // packet id 1
	publish = append(publish, payload...)
	if _, err := conn.Write(packet(0x32, publish)); err != nil { // PUBLISH, QoS 1
		t.Fatal(err)
	}
	expect("PUBACK", []byte{0x40, 2, 0, 1})
	_, _ = conn.Write([]byte{0xE0, 0})
}

func TestConcurrentSubscription(t *testing.T) {
	t.Parallel()
	b := openEmbedded(t, nil)
	const n = 200
	var mu sync.Mutex
	got := map[int]int{}
	inflight, peak := 0, 0
	done := make(chan struct{})
	stop, err := Subscribe(b, "concurrent", func(ctx context.Context, env Envelope, ev concEvent) error {
		mu.Lock()
		inflight++
		peak = max(peak, inflight)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		inflight--
		got[ev.N]++
		if len(got) == n {
			close(done)
		}
		mu.Unlock()
		return nil
	}, NewMemoryDedup(), WithConcurrency(8))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := Publish(context.Background(), b, concEvent{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("handled %d of %d events", len(got), n)
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	for i, c := range got {
		if c != 1 {
			t.Fatalf("event %d handled %d times", i, c)
		}
	}
	if peak < 2 {
		t.Fatalf("handlers never ran concurrently (peak %d)", peak)
	}
}

type concEvent struct{ N int }

func (concEvent) EventType() string { return "test.concurrent" }

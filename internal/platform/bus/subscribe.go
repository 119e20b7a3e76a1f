package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Dedup records which events a consumer has processed, making handlers
// idempotent under at-least-once delivery. Implementations must be safe
// for concurrent use. A SQL implementation lives in the db package;
// [NewMemoryDedup] is for tests.
type Dedup interface {
	Seen(ctx context.Context, consumer, eventID string) (bool, error)
	Mark(ctx context.Context, consumer, eventID string) error
}

// MemoryDedup is an in-memory [Dedup] for tests. It never forgets.
type MemoryDedup struct {
	mu   sync.Mutex
	seen map[[2]string]struct{}
}

// NewMemoryDedup returns an empty in-memory [Dedup].
func NewMemoryDedup() *MemoryDedup { return &MemoryDedup{seen: map[[2]string]struct{}{}} }

// Seen reports whether Mark was called for consumer and eventID.
func (d *MemoryDedup) Seen(_ context.Context, consumer, eventID string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.seen[[2]string{consumer, eventID}]
	return ok, nil
}

// Mark records eventID as processed by consumer.
func (d *MemoryDedup) Mark(_ context.Context, consumer, eventID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen[[2]string{consumer, eventID}] = struct{}{}
	return nil
}

// Delivery describes the current delivery to a handler; see [DeliveryFrom].
type Delivery struct {
	Consumer  string
	Attempt   int    // 1 for the first delivery, 2 for the first redelivery, ...
	StreamSeq uint64 // stream sequence of the message
}

type deliveryKey struct{}

// DeliveryFrom returns the delivery information [Subscribe] puts into the
// handler's context.
func DeliveryFrom(ctx context.Context) (Delivery, bool) {
	d, ok := ctx.Value(deliveryKey{}).(Delivery)
	return d, ok
}

// SubscribeOption tunes [Subscribe].
type SubscribeOption func(*subOptions)

type subOptions struct {
	ackWait       time.Duration
	maxDeliver    int
	backoff       []time.Duration
	maxAckPending int
	eventType     string
	concurrency   int
}

// WithAckWait sets how long the server waits for an ack before redelivering
// (default 30 s). While a handler runs, the subscription keeps the message
// alive with progress acks every AckWait/2, so this only matters when a
// process dies mid-message.
func WithAckWait(d time.Duration) SubscribeOption { return func(o *subOptions) { o.ackWait = d } }

// WithMaxDeliver caps delivery attempts (default 10). After the last failed
// attempt the message is terminated and logged as an error.
func WithMaxDeliver(n int) SubscribeOption { return func(o *subOptions) { o.maxDeliver = n } }

// WithBackoff sets the redelivery delays after handler errors: the n-th
// failure waits delays[n-1] (the last value repeats). Default 1s, 5s, 30s,
// 2m, 10m.
func WithBackoff(delays ...time.Duration) SubscribeOption {
	return func(o *subOptions) { o.backoff = delays }
}

// WithMaxAckPending limits unacknowledged messages in flight for the
// consumer across all instances (default 256).
func WithMaxAckPending(n int) SubscribeOption { return func(o *subOptions) { o.maxAckPending = n } }

// WithEventType overrides the event type taken from T's zero value.
func WithEventType(t string) SubscribeOption { return func(o *subOptions) { o.eventType = t } }

// WithConcurrency handles up to n messages of the subscription at once (in
// no particular order), for handlers that wait on I/O, such as appends to
// the group-committing ledger. Default 1: one at a time, in stream order.
func WithConcurrency(n int) SubscribeOption { return func(o *subOptions) { o.concurrency = n } }

type subscription struct {
	b        *Bus
	consumer string
	cancel   context.CancelFunc
	cc       jetstream.ConsumeContext
	// closeWork ends the workers of a concurrent subscription.
	closeWork func()

	mu       sync.Mutex
	stopped  bool
	inflight sync.WaitGroup
	once     sync.Once
}

// stop stops fetching, cancels the handler context and waits for an
// in-flight handler to return. It must not be called from a handler.
func (s *subscription) stop() {
	s.once.Do(func() {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
		s.cancel()
		s.cc.Stop()
		s.inflight.Wait()
		if s.closeWork != nil {
			s.closeWork()
		}
		s.b.mu.Lock()
		delete(s.b.subs, s)
		s.b.mu.Unlock()
	})
}

func (s *subscription) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.inflight.Add(1)
	return true
}

// Subscribe consumes events of type T with a durable JetStream pull
// consumer named consumer (explicit ack; one consumer name per module and
// purpose; several processes with the same name share the work).
//
// Delivery is at-least-once. For each message: undecodable messages are
// terminated and logged; if dedup reports the envelope ID as seen, the
// message is acked without calling handle; otherwise handle runs, and on
// success the ID is marked in dedup and the message acked; on error (or
// panic) it is nak'ed with a backoff delay and redelivered later, up to
// MaxDeliver attempts. dedup may be nil (then only publish-side
// de-duplication applies). Messages of one subscription are handled one at
// a time, in stream order except for redeliveries.
//
// The handler's context is cancelled by stop or [Bus.Close]; it carries
// [DeliveryFrom] information. stop blocks until an in-flight handler has
// returned; do not call it from the handler.
func Subscribe[T Event](b *Bus, consumer string, handle func(ctx context.Context, env Envelope, ev T) error, dedup Dedup, opts ...SubscribeOption) (stop func(), err error) {
	if handle == nil {
		return nil, errors.New("bus: nil handler")
	}
	if consumer == "" || strings.ContainsAny(consumer, " \t\r\n.*>/\\") {
		return nil, fmt.Errorf("bus: invalid consumer name %q", consumer)
	}
	o := subOptions{
		ackWait:       30 * time.Second,
		maxDeliver:    10,
		backoff:       []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute},
		maxAckPending: 256,
	}
	for _, fn := range opts {
		fn(&o)
	}
	if o.eventType == "" {
		if o.eventType, err = eventTypeOf[T](); err != nil {
			return nil, err
		}
	}
	if err := validateSubject(o.eventType); err != nil {
		return nil, fmt.Errorf("bus: invalid event type: %w", err)
	}
	if len(o.backoff) == 0 {
		o.backoff = []time.Duration{time.Second}
	}
	subject := b.SubjectFor(o.eventType)

	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	cons, err := b.js.CreateOrUpdateConsumer(ctx, b.cfg.Stream, jetstream.ConsumerConfig{
		Durable:       consumer,
		Description:   "shuzhi " + o.eventType,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.ackWait,
		MaxDeliver:    o.maxDeliver,
		MaxAckPending: o.maxAckPending,
		FilterSubject: subject,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: create consumer %s on %s: %w", consumer, subject, err)
	}

	subCtx, subCancel := context.WithCancel(b.ctx)
	s := &subscription{b: b, consumer: consumer, cancel: subCancel}
	log := b.log.With("consumer", consumer, "type", o.eventType)
	h := &msgHandler[T]{s: s, log: log, handle: handle, dedup: dedup, opts: o, ctx: subCtx}

	deliver := func(msg jetstream.Msg) {
		if !s.enter() {
			return // stopping; the message is redelivered after AckWait
		}
		defer s.inflight.Done()
		h.process(msg)
	}
	pull := 16
	if o.concurrency > 1 {
		work := make(chan jetstream.Msg)
		for range o.concurrency {
			go func() {
				for msg := range work {
					h.process(msg)
					s.inflight.Done()
				}
			}()
		}
		s.closeWork = func() { close(work) }
		deliver = func(msg jetstream.Msg) {
			if !s.enter() {
				return
			}
			work <- msg
		}
		pull = max(pull, 2*o.concurrency)
	}
	s.cc, err = cons.Consume(deliver,
		jetstream.PullMaxMessages(pull),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if subCtx.Err() == nil {
				log.Warn("consume error", "err", err)
			}
		}))
	if err != nil {
		subCancel()
		return nil, fmt.Errorf("bus: consume %s: %w", consumer, err)
	}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	log.Debug("subscribed", "subject", subject)
	return s.stop, nil
}

// eventTypeOf calls EventType on T's zero value (a new value when T is a pointer type).
func eventTypeOf[T Event]() (typ string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bus: cannot determine event type of %s: %v (use WithEventType)", reflect.TypeFor[T](), r)
		}
	}()
	var zero T
	if rt := reflect.TypeFor[T](); rt.Kind() == reflect.Pointer {
		zero = reflect.New(rt.Elem()).Interface().(T)
	}
	return zero.EventType(), nil
}

type msgHandler[T Event] struct {
	s      *subscription
	log    *slog.Logger
	handle func(ctx context.Context, env Envelope, ev T) error
	dedup  Dedup
	opts   subOptions
	ctx    context.Context
}

func (h *msgHandler[T]) process(msg jetstream.Msg) {
	b := h.s.b
	consumer := h.s.consumer
	log := h.log
	b.stats.delivered.Add(1)

	var d Delivery
	d.Consumer = consumer
	if md, err := msg.Metadata(); err == nil {
		d.Attempt, d.StreamSeq = int(md.NumDelivered), md.Sequence.Stream
	}
	log = log.With("seq", d.StreamSeq, "attempt", d.Attempt)

	env, ev, err := decode[T](msg.Data(), h.opts.eventType)
	if err != nil {
		b.stats.terminated.Add(1)
		log.Error("terminating undecodable message", "subject", msg.Subject(), "err", err)
		if err := msg.Term(); err != nil { // not TermWithReason: servers < 2.10.4 ignore it
			log.Warn("term failed", "err", err)
		}
		return
	}
	log = log.With("id", env.ID)
	ctx := context.WithValue(h.ctx, deliveryKey{}, d)

	if h.dedup != nil {
		seen, err := h.dedup.Seen(ctx, consumer, env.ID)
		if err != nil {
			b.stats.failed.Add(1)
			log.Warn("dedup check failed; will retry", "err", err)
			h.retry(msg, d, log)
			return
		}
		if seen {
			b.stats.skipped.Add(1)
			log.Debug("already processed; acking")
			h.ack(msg, log)
			return
		}
	}

	if err := h.run(ctx, msg, env, ev); err != nil {
		b.stats.failed.Add(1)
		if h.opts.maxDeliver > 0 && d.Attempt >= h.opts.maxDeliver {
			b.stats.terminated.Add(1)
			log.Error("handler failed on last attempt; giving up", "err", err)
			if err := msg.Term(); err != nil {
				log.Warn("term failed", "err", err)
			}
			return
		}
		log.Warn("handler failed; will retry", "err", err)
		h.retry(msg, d, log)
		return
	}
	if h.dedup != nil {
		// The handler has done its work: record it even if we are stopping.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := h.dedup.Mark(mctx, consumer, env.ID)
		cancel()
		if err != nil {
			// Ack anyway: the work is done; a later duplicate may run the handler again.
			log.Error("dedup mark failed", "err", err)
		}
	}
	b.stats.handled.Add(1)
	h.ack(msg, log)
}

// run calls the handler, converting panics to errors and keeping the
// message alive with progress acks while it runs.
func (h *msgHandler[T]) run(ctx context.Context, msg jetstream.Msg, env Envelope, ev T) (err error) {
	done := make(chan struct{})
	defer close(done)
	if every := h.opts.ackWait / 2; every > 0 {
		go func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					_ = msg.InProgress()
				}
			}
		}()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return h.handle(ctx, env, ev)
}

func (h *msgHandler[T]) retry(msg jetstream.Msg, d Delivery, log *slog.Logger) {
	i := max(d.Attempt-1, 0)
	if i >= len(h.opts.backoff) {
		i = len(h.opts.backoff) - 1
	}
	if err := msg.NakWithDelay(h.opts.backoff[i]); err != nil {
		log.Warn("nak failed", "err", err)
	}
}

func (h *msgHandler[T]) ack(msg jetstream.Msg, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(h.ctx), 5*time.Second)
	defer cancel()
	if err := msg.DoubleAck(ctx); err != nil {
		log.Warn("ack failed; message may be redelivered", "err", err)
	}
}

func decode[T Event](data []byte, wantType string) (Envelope, T, error) {
	var env Envelope
	var ev T
	if err := json.Unmarshal(data, &env); err != nil {
		return env, ev, fmt.Errorf("envelope: %w", err)
	}
	if env.ID == "" {
		return env, ev, errors.New("envelope without id")
	}
	if env.Type != wantType {
		return env, ev, fmt.Errorf("event type %q, want %q", env.Type, wantType)
	}
	if err := json.Unmarshal(env.Data, &ev); err != nil {
		return env, ev, fmt.Errorf("event data: %w", err)
	}
	return env, ev, nil
}

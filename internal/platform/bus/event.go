package bus

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Event is a typed domain event. EventType is a dot-separated name such as
// "identity.user.created"; it must not depend on the receiver's fields (it
// is called on the zero value by [Subscribe]). Events are encoded as JSON.
type Event interface {
	EventType() string
}

// Envelope wraps every event on the bus (JSON, CloudEvents-like field names).
type Envelope struct {
	// ID is unique per event; it is the JetStream de-duplication key
	// (Nats-Msg-Id) and the consumer idempotency key ([Dedup]).
	ID string `json:"id"`
	// Type is the event type, e.g. "identity.user.created".
	Type string `json:"type"`
	// Time the event occurred (UTC).
	Time time.Time `json:"time"`
	// Source is the producing system or module, e.g. "shuzhi/identity".
	Source string `json:"source"`
	// Subject is the optional id of the domain object concerned.
	Subject string `json:"subject,omitempty"`
	// Data is the JSON encoding of the event.
	Data json.RawMessage `json:"data"`
}

// Receipt describes a publish acknowledged by JetStream.
type Receipt struct {
	ID        string // envelope ID
	Stream    string
	Sequence  uint64 // stream sequence (of the original message when Duplicate)
	Duplicate bool   // JetStream already had a message with this ID in the duplicate window
}

// PublishOption customises the envelope built by [Publish] and [NewEnvelope].
type PublishOption func(*Envelope)

// WithID sets the envelope ID. Use a stable ID (e.g. stored in an outbox
// row) so that retrying the publish of the same event is de-duplicated.
func WithID(id string) PublishOption { return func(e *Envelope) { e.ID = id } }

// WithSubject sets Envelope.Subject, the id of the domain object concerned.
func WithSubject(subject string) PublishOption { return func(e *Envelope) { e.Subject = subject } }

// WithSource overrides Envelope.Source (default Config.Source).
func WithSource(source string) PublishOption { return func(e *Envelope) { e.Source = source } }

// WithTime sets Envelope.Time (default now).
func WithTime(t time.Time) PublishOption { return func(e *Envelope) { e.Time = t } }

// NewEnvelope encodes ev into a new envelope with a fresh ID (unless
// [WithID] is given), the current time and the given source. Useful for a
// transactional outbox: store the envelope with the domain change, then
// relay it with [PublishEnvelope].
func NewEnvelope(ev Event, source string, opts ...PublishOption) (Envelope, error) {
	if ev == nil {
		return Envelope{}, errors.New("bus: nil event")
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return Envelope{}, fmt.Errorf("bus: encode %s: %w", ev.EventType(), err)
	}
	env := Envelope{Type: ev.EventType(), Time: time.Now().UTC(), Source: source, Data: data}
	for _, o := range opts {
		o(&env)
	}
	if env.ID == "" {
		env.ID = NewID()
	}
	return env, env.validate()
}

func (e Envelope) validate() error {
	if e.ID == "" || strings.ContainsAny(e.ID, "\r\n") || len(e.ID) > 256 {
		return fmt.Errorf("bus: invalid envelope id %q", e.ID)
	}
	if err := validateSubject(e.Type); err != nil {
		return fmt.Errorf("bus: invalid event type: %w", err)
	}
	return nil
}

// Publish wraps ev in an envelope and publishes it to
// "<SubjectPrefix>.<ev.EventType()>", waiting for the JetStream ack
// (at-least-once). The envelope ID is sent as Nats-Msg-Id, so JetStream
// drops a second publish with the same ID within the duplicate window.
func Publish(ctx context.Context, b *Bus, ev Event, opts ...PublishOption) (Receipt, error) {
	env, err := NewEnvelope(ev, b.cfg.Source, opts...)
	if err != nil {
		return Receipt{}, err
	}
	return PublishEnvelope(ctx, b, env)
}

// PublishEnvelope publishes a prepared envelope (see [NewEnvelope]) and
// waits for the JetStream ack. Without a deadline on ctx the JetStream
// default timeout (5 s) applies.
func PublishEnvelope(ctx context.Context, b *Bus, env Envelope) (Receipt, error) {
	if err := env.validate(); err != nil {
		return Receipt{}, err
	}
	if env.Time.IsZero() {
		env.Time = time.Now().UTC()
	}
	if env.Source == "" {
		env.Source = b.cfg.Source
	}
	body, err := json.Marshal(env)
	if err != nil {
		return Receipt{}, fmt.Errorf("bus: encode envelope: %w", err)
	}
	msg := nats.NewMsg(b.SubjectFor(env.Type))
	msg.Header.Set(jetstream.MsgIDHeader, env.ID)
	msg.Header.Set("Content-Type", "application/json")
	msg.Data = body
	ack, err := b.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(b.cfg.Stream))
	if err != nil {
		return Receipt{}, fmt.Errorf("bus: publish %s %s: %w", env.Type, env.ID, err)
	}
	b.stats.published.Add(1)
	if ack.Duplicate {
		b.stats.duplicates.Add(1)
		b.log.Debug("duplicate publish dropped", "type", env.Type, "id", env.ID, "seq", ack.Sequence)
	}
	return Receipt{ID: env.ID, Stream: ack.Stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// validateSubject checks a dot-separated subject (or event type) has no
// empty tokens, wildcards or whitespace.
func validateSubject(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n") {
			return fmt.Errorf("%q is not a valid subject", s)
		}
	}
	return nil
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns a new ULID: 26 Crockford base-32 characters, a 48-bit
// millisecond timestamp followed by 80 random bits, so IDs sort by time.
func NewID() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	_, _ = rand.Read(b[6:]) // never fails since Go 1.24
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// Package outbox makes domain events as durable as the changes they report:
// Emit writes the event in the caller's database transaction, and Relay
// publishes committed events to the bus, then deletes them. A crash between
// publishing and deleting republishes the event with the same id, which
// JetStream drops as a duplicate and idempotent consumers skip: delivery is
// at least once, never lost, never ahead of the commit.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
)

// Outbox stores events for the relay.
type Outbox struct {
	db     *db.DB
	notify chan struct{}
}

// New returns an outbox on d.
func New(d *db.DB) *Outbox { return &Outbox{db: d, notify: make(chan struct{}, 1)} }

// Emit records ev, about the domain object subject, in the context's
// transaction (or on its own when there is none).
func (o *Outbox) Emit(ctx context.Context, ev bus.Event, subject string) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("outbox: encode %s: %w", ev.EventType(), err)
	}
	_, err = o.db.Exec(ctx, `INSERT INTO outbox (id, type, subject, data, created_at) VALUES (?, ?, ?, ?, ?)`,
		bus.NewID(), ev.EventType(), subject, string(data), time.Now().UnixMilli())
	if err != nil {
		return err
	}
	select {
	case o.notify <- struct{}{}:
	default:
	}
	return nil
}

// Pending counts events not yet relayed.
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	var n int
	err := o.db.QueryRow(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n)
	return n, err
}

// Relay publishes events until ctx ends: at once when one is emitted in this
// process, and every interval otherwise (events from other replicas and the
// command line).
func (o *Outbox) Relay(ctx context.Context, b *bus.Bus, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := o.RelayOnce(ctx, b, 256)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("outbox relay", "err", err)
				}
				break
			}
			if n < 256 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-o.notify:
		case <-t.C:
		}
	}
}

// RelayOnce publishes up to limit events in id (time) order and deletes the
// published ones. It returns how many it published.
func (o *Outbox) RelayOnce(ctx context.Context, b *bus.Bus, limit int) (int, error) {
	rows, err := o.db.Query(ctx, `SELECT id, type, subject, data, created_at FROM outbox ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return 0, err
	}
	var envs []bus.Envelope
	for rows.Next() {
		var e bus.Envelope
		var data string
		var at int64
		if err := rows.Scan(&e.ID, &e.Type, &e.Subject, &data, &at); err != nil {
			rows.Close()
			return 0, err
		}
		e.Data, e.Time, e.Source = json.RawMessage(data), time.UnixMilli(at).UTC(), "shuzhi/"+strings.SplitN(e.Type, ".", 2)[0]
		envs = append(envs, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var done []any
	var perr error
	for _, e := range envs {
		if _, perr = bus.PublishEnvelope(ctx, b, e); perr != nil {
			break
		}
		done = append(done, e.ID)
	}
	// One statement deletes what was published (a failure before it means
	// a republish with the same ids: harmless).
	if len(done) > 0 {
		if _, err := o.db.Exec(ctx, `DELETE FROM outbox WHERE id IN (?`+strings.Repeat(", ?", len(done)-1)+`)`, done...); err != nil {
			return 0, err
		}
	}
	return len(done), perr
}

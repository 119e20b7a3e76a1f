package cases

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Evidence reaches the ledger through a table of its own rather than the
// bus: every step writes its evidence row in the step's transaction, and
// the pump appends what is waiting in batches (the ledger group-commits
// concurrent appends) and deletes it. For a surge of reports that is one
// insert per step instead of an outbox row, a JetStream message and a
// consumer's de-duplication row.

// Ledger appends the module's evidence to the tamper-evident log; it
// returns when every record is durably on the log.
type Ledger interface {
	AppendEvidence(ctx context.Context, evs []Evidence) error
}

// claimAfter is how long a claimed batch waits before another pump takes
// it again (its process may have died between append and delete).
const claimAfter = time.Minute

// pumpBatch bounds one batch.
const pumpBatch = 1024

// putEvidence stores evidence for the pump in the caller's transaction.
func (s *Service) putEvidence(ctx context.Context, ev Evidence) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `INSERT INTO case_evidence (id, body, created_at) VALUES (?, ?, ?)`, ev.Ref, string(b), s.nowMs())
	return err
}

// kickEvidence wakes the pump after a commit.
func (s *Service) kickEvidence() {
	select {
	case s.evKick <- struct{}{}:
	default:
	}
}

// PumpEvidence appends waiting evidence to the ledger until ctx ends: at
// once after a commit of this process, and every second otherwise (other
// replicas, batches left by a dead process).
func (s *Service) PumpEvidence(ctx context.Context, l Ledger) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for {
			n, err := s.PumpOnce(ctx, l)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("cases: evidence to the ledger", "err", err)
				}
				break
			}
			if n < pumpBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.evKick:
		case <-t.C:
		}
	}
}

// PumpOnce claims one batch, appends it and deletes it; it returns how many
// records it moved.
func (s *Service) PumpOnce(ctx context.Context, l Ledger) (int, error) {
	now := s.nowMs()
	var ids []string
	var evs []Evidence
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		ids, evs = ids[:0], evs[:0]
		rows, err := s.db.Query(ctx, `UPDATE case_evidence SET claimed_at = ? WHERE id IN
			(SELECT id FROM case_evidence WHERE claimed_at < ? ORDER BY created_at, id LIMIT ?) RETURNING id, body`, now, now-claimAfter.Milliseconds(), pumpBatch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, body string
			if err := rows.Scan(&id, &body); err != nil {
				return err
			}
			var ev Evidence
			if err := json.Unmarshal([]byte(body), &ev); err != nil {
				return err
			}
			ids, evs = append(ids, id), append(evs, ev)
		}
		return rows.Err()
	})
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	if err := l.AppendEvidence(ctx, evs); err != nil {
		return 0, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		for start := 0; start < len(ids); start += 500 {
			part := ids[start:min(len(ids), start+500)]
			args := make([]any, len(part))
			for i, id := range part {
				args[i] = id
			}
			if _, err := s.db.Exec(ctx, `DELETE FROM case_evidence WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+`)`, args...); err != nil {
				return err
			}
		}
		return nil
	})
	return len(evs), err
}

// PendingEvidence counts evidence not yet on the ledger.
func (s *Service) PendingEvidence(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM case_evidence`).Scan(&n)
	return n, err
}

package cases

import (
	"context"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/cases/classify"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
)

// The classifier is trained on the categories' examples (seeded from
// classify.SeedExamples) and on operators' corrections, all kept in
// case_examples; a correction retrains it within a second.

func (s *Service) seedExamples(ctx context.Context) error {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM case_examples WHERE source = 'seed'`).Scan(&n); err != nil || n > 0 {
		return err
	}
	now := s.nowMs()
	return s.db.InTx(ctx, func(ctx context.Context) error {
		for _, e := range classify.SeedExamples() {
			if _, err := s.db.Exec(ctx, `INSERT INTO case_examples (id, category, text, source, created_at) VALUES (?, ?, ?, 'seed', ?)`, newID(), e.Label, e.Text, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// Retrain trains the classifier on every stored example of an active
// category.
func (s *Service) Retrain(ctx context.Context) error {
	rows, err := s.db.Query(ctx, `SELECT category, text FROM case_examples`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var ex []classify.Example
	for rows.Next() {
		var e classify.Example
		if err := rows.Scan(&e.Label, &e.Text); err != nil {
			return err
		}
		if c, ok := s.category(e.Label); ok && c.Active {
			ex = append(ex, e)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	m := classify.Train(ex)
	s.modelMu.Lock()
	s.model = m
	s.modelMu.Unlock()
	return nil
}

// retrainSoon retrains in the background after a correction.
func (s *Service) retrainSoon() {
	if !s.retraining.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.retraining.Store(false)
		time.Sleep(200 * time.Millisecond) // let a burst of corrections land
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Retrain(ctx); err != nil {
			s.log.Warn("cases: retrain classifier", "err", err)
		}
	}()
}

func (s *Service) predict(text string) []classify.Scored {
	s.modelMu.RLock()
	m := s.model
	s.modelMu.RUnlock()
	if m == nil {
		return nil
	}
	return m.Predict(text)
}

// Classify proposes categories for a description (for intake screens).
func (s *Service) Classify(ctx context.Context, text string) ([]Candidate, error) {
	if _, err := authz.Require(ctx, authz.CasesReport); err != nil {
		return nil, err
	}
	out := []Candidate{}
	for _, sc := range s.predict(text) {
		name := ""
		if cat, ok := s.category(sc.Label); ok {
			name = cat.NameZh
		}
		out = append(out, Candidate{Code: sc.Label, Name: name, Confidence: sc.Confidence})
	}
	return out, nil
}

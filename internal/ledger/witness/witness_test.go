package witness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/shuzhi-gov/shuzhi/internal/ledger"
	"github.com/shuzhi-gov/shuzhi/internal/ledger/checkpoint"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

const origin = "shuzhi.test/witnessed"

// node is a log served over HTTP, as a Shuzhi node serves it.
type node struct {
	log *ledger.Log
	srv *httptest.Server
}

func newNode(t *testing.T, prof *crypto.Profile) *node {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, db.SQLite)
	if _, err := d.Migrate(ctx, []db.Migrations{ledger.Migrations()}); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, d, prof, ledger.Options{Origin: origin, CheckpointEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	l.Routes(mux, httpx.NewAPI(mux, "test"))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); l.Close() })
	return &node{log: l, srv: srv}
}

// grow appends count records tagged with tag, one after another (so each
// record and its attestation make exactly two entries), and waits for their
// checkpoint.
func (n *node) grow(t *testing.T, count int, tag string) {
	t.Helper()
	for i := range count {
		_, err := n.log.Append(context.Background(), ledger.Record{ActorKind: "system", ActorID: "t", ActorName: "t", Module: "test",
			Action: "grow", Subject: fmt.Sprintf("%s:%d", tag, i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := n.log.LatestCheckpoint(context.Background())
		if err == nil && strings.Contains(string(b), fmt.Sprintf("\n%d\n", n.log.Size())) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint at size %d", n.log.Size())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (n *node) witness(t *testing.T, dir string) *Witness {
	t.Helper()
	w, err := Open(Config{LogURL: n.srv.URL, Name: "audit.test/witness", Dir: dir, LogVKey: n.log.VerifierKey()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.log.AddWitness(context.Background(), w.VerifierKey()); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWitnessCosignsAGrowingLog(t *testing.T) {
	t.Parallel()
	prof, _ := crypto.NewEphemeral(crypto.ProfileIntl)
	a := newNode(t, prof)
	dir := t.TempDir()
	a.grow(t, 50, "a")
	w := a.witness(t, dir)
	res, err := w.Step(context.Background())
	if err != nil || !res.Cosigned || int64(res.Size) != a.log.Size() {
		t.Fatalf("first step: %+v %v", res, err)
	}
	a.grow(t, 70, "a2")
	res, err = w.Step(context.Background())
	if err != nil || !res.Grew || int64(res.Size) != a.log.Size() {
		t.Fatalf("second step: %+v %v", res, err)
	}
	// The log publishes the cosigned checkpoint; standard verification of
	// the witness line succeeds.
	signed, _ := a.log.LatestCheckpoint(context.Background())
	lv, _ := a.log.Verifier()
	wv, _ := checkpoint.ParseVerifierKey(w.VerifierKey())
	_, cosigs, err := checkpoint.Open(signed, lv, []note.Verifier{wv})
	if err != nil || len(cosigs) != 1 || cosigs[0].Name != "audit.test/witness" {
		t.Fatalf("published checkpoint cosignatures: %+v %v\n%s", cosigs, err, signed)
	}
	// A witness reopened from its directory continues where it left off.
	w2, err := Open(Config{LogURL: a.srv.URL, Name: "audit.test/witness", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a.grow(t, 10, "a3")
	if _, err := w2.Step(context.Background()); err != nil {
		t.Fatalf("reopened witness: %v", err)
	}
}

// A log operator who shows the witness a different tree (same key, same
// origin, different entries) is caught, whether the fork is the same size
// or larger, and so is a log rolled back to a smaller tree.
func TestWitnessDetectsSplitViewAndRollback(t *testing.T) {
	t.Parallel()
	prof, _ := crypto.NewEphemeral(crypto.ProfileIntl)
	honest := newNode(t, prof)
	honest.grow(t, 60, "honest")
	cases := []struct {
		name  string
		build func(n *node)
		want  func(error) bool
	}{
		{"fork of the same size", func(n *node) { n.grow(t, 60, "fork") }, func(err error) bool {
			var e *checkpoint.SplitViewError
			return errors.As(err, &e)
		}},
		{"larger fork", func(n *node) { n.grow(t, 90, "fork") }, func(err error) bool {
			var e *checkpoint.InconsistentError
			var s *checkpoint.SplitViewError
			return errors.As(err, &e) || errors.As(err, &s)
		}},
		{"rollback to a smaller tree", func(n *node) { n.grow(t, 20, "honest") }, func(err error) bool {
			var e *checkpoint.RollbackError
			return errors.As(err, &e)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			w := honest.witness(t, dir)
			if _, err := w.Step(context.Background()); err != nil {
				t.Fatal(err)
			}
			evil := newNode(t, prof)
			c.build(evil)
			t.Logf("honest size %d, other size %d", honest.log.Size(), evil.log.Size())
			w2, err := Open(Config{LogURL: evil.srv.URL, Name: "audit.test/witness", Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			_, _ = evil.log.AddWitness(context.Background(), w2.VerifierKey())
			_, err = w2.Step(context.Background())
			if !c.want(err) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			ws, _ := evil.log.Witnesses(context.Background())
			if len(ws) == 1 && ws[0].LastSize != 0 {
				t.Fatal("the witness cosigned the misbehaving log")
			}
		})
	}
}

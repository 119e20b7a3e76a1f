// Package witness is the client that other organisations run (`shuzhi
// witness`) to watch a Shuzhi ledger: it fetches the log's signed
// checkpoint, checks that the new tree extends the one it saw before (a
// consistency proof), cosigns it (C2SP tlog-cosignature) and sends the
// cosignature back to the log, which publishes it. A log that shows a tree
// inconsistent with what the witness saw before, or a smaller one, is
// reported as a split view or a rollback, and not cosigned.
package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/checkpoint"
	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
)

// Config configures a witness.
type Config struct {
	LogURL  string // base URL of the Shuzhi node, e.g. http://127.0.0.1:8080
	Name    string // the witness's key name, e.g. audit.gusu.gov.cn/witness
	Dir     string // keeps the witness key and what it saw
	LogVKey string // the log's verifier key; empty: trust and pin it on first use
	HTTP    *http.Client
	Now     func() time.Time
}

// state is what the witness remembers about the log.
type state struct {
	Origin string `json:"origin"`
	Hasher string `json:"hasher"`
	VKey   string `json:"vkey"`
	Size   uint64 `json:"size"`
	Root   string `json:"root"` // base64
}

// Witness watches one log.
type Witness struct {
	cfg      Config
	cosigner *checkpoint.Cosigner
	st       *state
}

// Open loads (or creates) the witness key and state in cfg.Dir.
func Open(cfg Config) (*Witness, error) {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.LogURL = strings.TrimRight(cfg.LogURL, "/")
	if cfg.Name == "" {
		return nil, errors.New("witness: a name is required (e.g. audit.example.gov.cn/witness)")
	}
	prof, err := crypto.LoadOrCreate(filepath.Join(cfg.Dir, "keys"), crypto.ProfileIntl, crypto.KeyFiles{})
	if err != nil {
		return nil, err
	}
	cs, err := checkpoint.NewCosigner(cfg.Name, prof.Ed25519Signer(), cfg.Now)
	if err != nil {
		return nil, err
	}
	w := &Witness{cfg: cfg, cosigner: cs}
	b, err := os.ReadFile(w.statePath())
	if err == nil {
		var st state
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("witness state %s: %w", w.statePath(), err)
		}
		w.st = &st
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return w, nil
}

// VerifierKey is the witness's public key, to register with the log
// (`shuzhi ledger witness-add --vkey ...`).
func (w *Witness) VerifierKey() string { return w.cosigner.VerifierKey() }

func (w *Witness) statePath() string { return filepath.Join(w.cfg.Dir, "state.json") }

// Result describes one step.
type Result struct {
	Size     uint64
	Cosigned bool
	Grew     bool
}

// Step fetches the log's checkpoint, checks it against what the witness saw
// before, cosigns it and submits the cosignature. A *checkpoint.SplitViewError,
// *checkpoint.RollbackError or *checkpoint.InconsistentError means the log
// misbehaved; the state is left unchanged and nothing is cosigned.
func (w *Witness) Step(ctx context.Context) (Result, error) {
	var keys struct {
		Origin string
		Hasher string
		Log    []struct{ Algorithm, VKey string }
	}
	if err := w.getJSON(ctx, "/api/v1/ledger/keys", &keys); err != nil {
		return Result{}, err
	}
	vkey := w.cfg.LogVKey
	if w.st != nil {
		if vkey != "" && vkey != w.st.VKey {
			return Result{}, fmt.Errorf("witness: the given log key differs from the one pinned in %s", w.statePath())
		}
		vkey = w.st.VKey
	}
	if vkey == "" {
		for _, k := range keys.Log {
			if k.Algorithm == crypto.AlgEd25519 {
				vkey = k.VKey // trust on first use; pinned from now on
			}
		}
	}
	lv, err := note.NewVerifier(vkey)
	if err != nil {
		return Result{}, fmt.Errorf("witness: log verifier key: %w", err)
	}
	text, err := w.get(ctx, "/ledger/checkpoint")
	if err != nil {
		return Result{}, err
	}
	cp, _, err := checkpoint.Open(text, lv, nil)
	if err != nil {
		return Result{}, fmt.Errorf("witness: the log's checkpoint does not verify: %w", err)
	}
	hasherName := keys.Hasher
	if w.st != nil {
		hasherName = w.st.Hasher
	}
	h, err := merkle.HasherByName(hasherName)
	if err != nil {
		return Result{}, err
	}
	var prev *checkpoint.Checkpoint
	if w.st != nil {
		root, err := merkle.ParseHash(w.st.Root)
		if err != nil {
			return Result{}, err
		}
		prev = &checkpoint.Checkpoint{Origin: w.st.Origin, Size: w.st.Size, Root: root}
	}
	wt, err := checkpoint.NewWitness(cp.Origin, prev)
	if err != nil {
		return Result{}, err
	}
	var proof [][32]byte
	if prev != nil && cp.Size > prev.Size && prev.Size > 0 {
		var cons struct{ Proof []string }
		if err := w.getJSON(ctx, fmt.Sprintf("/api/v1/ledger/proof/consistency?from=%d&to=%d", prev.Size, cp.Size), &cons); err != nil {
			return Result{}, err
		}
		for _, s := range cons.Proof {
			hh, err := merkle.ParseHash(s)
			if err != nil {
				return Result{}, err
			}
			proof = append(proof, hh)
		}
	}
	verify := func(p [][32]byte, oldSize int64, oldRoot [32]byte, newSize int64, newRoot [32]byte) error {
		tp := make(merkle.TreeProof, len(p))
		for i := range p {
			tp[i] = p[i]
		}
		return merkle.CheckTree(h, tp, newSize, newRoot, oldSize, oldRoot)
	}
	if err := wt.Check(prev, cp, proof, verify); err != nil {
		return Result{}, err
	}
	sig, err := w.cosigner.Cosign(cp)
	if err != nil {
		return Result{}, err
	}
	cosigned, err := checkpoint.AddCosignatures(text, sig)
	if err != nil {
		return Result{}, err
	}
	body, _ := json.Marshal(map[string]string{"checkpoint": string(cosigned)})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.LogURL+"/api/v1/ledger/cosignatures", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := w.cfg.HTTP.Do(req)
	if err != nil {
		return Result{}, err
	}
	rb, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("witness: the log refused the cosignature: %s %s", res.Status, rb)
	}
	grew := prev == nil || cp.Size > prev.Size
	w.st = &state{Origin: cp.Origin, Hasher: hasherName, VKey: vkey, Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root[:])}
	b, _ := json.MarshalIndent(w.st, "", "  ")
	if err := os.WriteFile(w.statePath()+".tmp", b, 0o600); err != nil {
		return Result{}, err
	}
	if err := os.Rename(w.statePath()+".tmp", w.statePath()); err != nil {
		return Result{}, err
	}
	return Result{Size: cp.Size, Cosigned: true, Grew: grew}, nil
}

func (w *Witness) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.cfg.LogURL+path, nil)
	if err != nil {
		return nil, err
	}
	res, err := w.cfg.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("witness: GET %s: %s %s", path, res.Status, b)
	}
	return b, nil
}

func (w *Witness) getJSON(ctx context.Context, path string, v any) error {
	b, err := w.get(ctx, path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

// Routes registers the public log endpoints: C2SP tlog-tiles under /ledger/
// (plain HTTP, binary) and JSON proofs, entries and keys under
// /api/v1/ledger (in the OpenAPI document). All are public: anyone may
// verify the log.
func (l *Log) Routes(mux *http.ServeMux, api huma.API) {
	mux.HandleFunc("GET /ledger/checkpoint", l.serveCheckpoint)
	mux.HandleFunc("GET /ledger/tile/", l.serveTile)

	op := func(id, method, path, summary string) huma.Operation {
		return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{"Ledger"}}
	}
	httpx.Register(api, httpx.Op{Operation: op("ledger-status", http.MethodGet, "/api/v1/ledger", "Log size, latest checkpoints and witnesses"), Public: true}, l.status)
	httpx.Register(api, httpx.Op{Operation: op("ledger-keys", http.MethodGet, "/api/v1/ledger/keys", "Public keys of the log, its witnesses and the attesting organisations"), Public: true}, l.keys)
	httpx.Register(api, httpx.Op{Operation: op("ledger-entry", http.MethodGet, "/api/v1/ledger/entries/{index}", "An entry by index"), Public: true}, l.entry)
	httpx.Register(api, httpx.Op{Operation: op("ledger-inclusion", http.MethodGet, "/api/v1/ledger/proof/inclusion", "Inclusion proof of an entry in the tree of a given size"), Public: true}, l.inclusion)
	httpx.Register(api, httpx.Op{Operation: op("ledger-consistency", http.MethodGet, "/api/v1/ledger/proof/consistency", "Consistency proof between two tree sizes"), Public: true}, l.consistency)
	httpx.Register(api, httpx.Op{Operation: op("ledger-cosign", http.MethodPost, "/api/v1/ledger/cosignatures", "A witness submits its cosignature of a checkpoint"), Public: true}, l.cosign)
}

func (l *Log) serveTile(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/ledger/")
	t, entries, err := merkle.ParsePath(path)
	if err != nil {
		httpx.WriteProblem(w, r, http.StatusNotFound, errs.NotFound("tile", path))
		return
	}
	data, full, err := l.tileBytes(r.Context(), t, entries)
	if err != nil {
		httpx.WriteProblem(w, r, http.StatusNotFound, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if full {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(data)
}

// tileBytes returns a hash tile or entry bundle of width t.W (256 = full).
// A stored tile wider than asked serves its prefix: tiles only grow.
func (l *Log) tileBytes(ctx context.Context, t merkle.Tile, entries bool) ([]byte, bool, error) {
	w := t.W
	if w == 0 {
		w = 256
	}
	notFound := errs.NotFound("tile", t.Path())
	if entries {
		var width int
		var data []byte
		err := l.db.QueryRow(ctx, `SELECT width, data FROM ledger_bundles WHERE n = ?`, t.N).Scan(&width, &data)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && width < w) {
			return nil, false, notFound
		}
		if err != nil {
			return nil, false, err
		}
		if width == w {
			return data, w == 256, nil
		}
		all, err := merkle.ParseBundle(data)
		if err != nil {
			return nil, false, err
		}
		b, err := merkle.MarshalBundle(all[:w])
		return b, false, err
	}
	tl, err := l.readTile(ctx, t.L, t.N)
	if err != nil {
		return nil, false, notFound
	}
	defer l.releaseTile(t.L, tl)
	if tl.width < w {
		return nil, false, notFound
	}
	return bytes.Clone(tl.data[:32*w]), w == 256, nil
}

func (l *Log) serveCheckpoint(w http.ResponseWriter, r *http.Request) {
	note, err := l.LatestCheckpoint(r.Context())
	if err != nil {
		httpx.WriteProblem(w, r, http.StatusNotFound, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(note)
}

type indexPath struct {
	Index int64 `path:"index" minimum:"0"`
}

func (l *Log) entry(ctx context.Context, in *indexPath) (*httpx.Body[*Entry], error) {
	e, err := l.Entry(ctx, in.Index)
	if err != nil {
		return nil, err
	}
	return httpx.Reply(e), nil
}

// Entry reads one entry.
func (l *Log) Entry(ctx context.Context, index int64) (*Entry, error) {
	if index < 0 || index >= l.Size() {
		return nil, errs.NotFound("entry", itoa(index))
	}
	var data []byte
	if err := l.db.QueryRow(ctx, `SELECT data FROM ledger_bundles WHERE n = ?`, index/256).Scan(&data); err != nil {
		return nil, err
	}
	all, err := merkle.ParseBundle(data)
	if err != nil {
		return nil, err
	}
	if int(index%256) >= len(all) {
		return nil, errs.NotFound("entry", itoa(index))
	}
	d := all[index%256]
	leaf := l.hasher.LeafHash(d)
	kind := KindRecord
	if strings.Contains(string(d), `"kind":"attestation"`) {
		kind = KindAttestation
	}
	return &Entry{Index: index, LeafHash: hex.EncodeToString(leaf[:]), Kind: kind, Data: d}, nil
}

// InclusionProof proves entry index is in the tree of the given size.
type InclusionProof struct {
	Index    int64    `json:"index"`
	Size     int64    `json:"size"`
	LeafHash string   `json:"leafHash"`
	Root     string   `json:"root" doc:"Root hash of the tree of this size (base64)"`
	Hasher   string   `json:"hasher" enum:"sha256,sm3"`
	Proof    []string `json:"proof" doc:"Sibling hashes, base64, leaf to root (RFC 6962 order)"`
}

type inclusionIn struct {
	Index int64 `query:"index" minimum:"0"`
	Size  int64 `query:"size" minimum:"0" doc:"Tree size (default: the latest checkpoint)"`
}

func (l *Log) inclusion(ctx context.Context, in *inclusionIn) (*httpx.Body[*InclusionProof], error) {
	p, err := l.ProveInclusion(ctx, in.Index, in.Size)
	if err != nil {
		return nil, err
	}
	return httpx.Reply(p), nil
}

// ConsistencyProof proves the tree of size To extends the tree of size From.
type ConsistencyProof struct {
	From     int64    `json:"from"`
	To       int64    `json:"to"`
	FromRoot string   `json:"fromRoot"`
	ToRoot   string   `json:"toRoot"`
	Hasher   string   `json:"hasher"`
	Proof    []string `json:"proof"`
}

type consistencyIn struct {
	From int64 `query:"from" minimum:"1"`
	To   int64 `query:"to" minimum:"0" doc:"Default: the latest checkpoint"`
}

func (l *Log) consistency(ctx context.Context, in *consistencyIn) (*httpx.Body[*ConsistencyProof], error) {
	p, err := l.ProveConsistency(ctx, in.From, in.To)
	if err != nil {
		return nil, err
	}
	return httpx.Reply(p), nil
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

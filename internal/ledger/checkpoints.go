package ledger

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/checkpoint"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

// maybeCheckpoint signs a checkpoint of the current tree when it has grown
// and the last one is older than CheckpointEvery (or at once when force).
func (l *Log) maybeCheckpoint(ctx context.Context, force bool) {
	l.mu.RLock()
	size, root, cpSize, last := l.size, l.root, l.cpSize, l.lastCP
	l.mu.RUnlock()
	if size == 0 || size == cpSize || (!force && l.opts.Now().Sub(last) < l.opts.CheckpointEvery) {
		return
	}
	if err := l.writeCheckpoint(ctx, size, root); err != nil {
		l.opts.Log.Error("ledger checkpoint", "err", err, "size", size)
	}
}

func (l *Log) writeCheckpoint(ctx context.Context, size int64, root [32]byte) error {
	signers, err := checkpoint.LogSigners(l.opts.Origin, l.prof)
	if err != nil {
		return err
	}
	cp := checkpoint.Checkpoint{Origin: l.opts.Origin, Size: uint64(size), Root: root}
	signed, err := checkpoint.Sign(cp, signers...)
	if err != nil {
		return err
	}
	now := l.opts.Now()
	if _, err := l.db.Exec(ctx, `INSERT INTO ledger_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING`,
		size, base64.StdEncoding.EncodeToString(root[:]), string(signed), now.UnixMilli()); err != nil {
		return err
	}
	if l.opts.CheckpointFile != "" {
		if err := writeFileAtomic(l.opts.CheckpointFile, signed); err != nil {
			return fmt.Errorf("checkpoint file: %w", err)
		}
	}
	l.mu.Lock()
	l.cpSize, l.cpRoot, l.lastCP = size, root, now
	l.mu.Unlock()
	return nil
}

// writeFileAtomic replaces path with data (write, fsync, rename).
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Verifier checks the log's checkpoint signature (Ed25519).
func (l *Log) Verifier() (note.Verifier, error) {
	return checkpoint.NewVerifier(l.opts.Origin, l.prof.Ed25519Signer().Public())
}

// VerifierKey is the log's public key in the signed-note format, for
// standard tlog clients.
func (l *Log) VerifierKey() string {
	k, _ := checkpoint.VerifierKey(l.opts.Origin, l.prof.Ed25519Signer().Public())
	return k
}

// LatestCheckpoint returns the newest signed checkpoint with the witness
// cosignatures gathered for it.
func (l *Log) LatestCheckpoint(ctx context.Context) ([]byte, error) {
	var size int64
	var text string
	err := l.db.QueryRow(ctx, `SELECT size, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&size, &text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("checkpoint", "latest")
	}
	if err != nil {
		return nil, err
	}
	lines, err := l.cosignatureLines(ctx, size)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return []byte(text), nil
	}
	return checkpoint.AddCosignatures([]byte(text), lines...)
}

func (l *Log) cosignatureLines(ctx context.Context, size int64) ([]note.Signature, error) {
	rows, err := l.db.Query(ctx, `SELECT line FROM ledger_cosignatures WHERE size = ? ORDER BY witness`, size)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []note.Signature
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		s, err := parseSigLine(line)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// parseSigLine reads "— <name> <base64>" (the signed-note signature line).
func parseSigLine(line string) (note.Signature, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "— ")
	name, b64sig, ok2 := strings.Cut(rest, " ")
	if !ok || !ok2 {
		return note.Signature{}, fmt.Errorf("malformed signature line %q", line)
	}
	raw, err := base64.StdEncoding.DecodeString(b64sig)
	if err != nil || len(raw) < 4 {
		return note.Signature{}, fmt.Errorf("malformed signature line %q", line)
	}
	hash := uint32(raw[0])<<24 | uint32(raw[1])<<16 | uint32(raw[2])<<8 | uint32(raw[3])
	return note.Signature{Name: name, Hash: hash, Base64: b64sig}, nil
}

// Witness is a registered witness.
type Witness struct {
	Name     string     `json:"name"`
	VKey     string     `json:"vkey" doc:"Verifier key of the witness (cosignature/v1)"`
	AddedAt  time.Time  `json:"addedAt"`
	LastSize int64      `json:"lastSize" doc:"Largest checkpoint size the witness has cosigned"`
	LastAt   *time.Time `json:"lastAt,omitempty"`
}

// AddWitness registers a witness by its verifier key.
func (l *Log) AddWitness(ctx context.Context, vkey string) (*Witness, error) {
	v, err := checkpoint.ParseVerifierKey(strings.TrimSpace(vkey))
	if err != nil {
		return nil, errs.Invalid("vkey", "format", err.Error(), "见证者公钥格式错误："+err.Error())
	}
	if _, ok := v.(*checkpoint.CosignatureVerifier); !ok {
		return nil, errs.Invalid("vkey", "type", "a witness key must be a cosignature/v1 key", "见证者公钥须为 cosignature/v1 类型")
	}
	_, err = l.db.Exec(ctx, `INSERT INTO ledger_witnesses (name, vkey, added_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET vkey = excluded.vkey`, v.Name(), strings.TrimSpace(vkey), l.opts.Now().UnixMilli())
	if err != nil {
		return nil, err
	}
	return &Witness{Name: v.Name(), VKey: strings.TrimSpace(vkey), AddedAt: l.opts.Now().UTC()}, nil
}

// Witnesses lists the registered witnesses and what they last cosigned.
func (l *Log) Witnesses(ctx context.Context) ([]Witness, error) {
	rows, err := l.db.Query(ctx, `SELECT w.name, w.vkey, w.added_at, COALESCE(MAX(c.size), 0), COALESCE(MAX(c.created_at), 0)
		FROM ledger_witnesses w LEFT JOIN ledger_cosignatures c ON c.witness = w.name GROUP BY w.name, w.vkey, w.added_at ORDER BY w.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Witness
	for rows.Next() {
		var w Witness
		var added, lastAt int64
		if err := rows.Scan(&w.Name, &w.VKey, &added, &w.LastSize, &lastAt); err != nil {
			return nil, err
		}
		w.AddedAt = time.UnixMilli(added).UTC()
		if lastAt > 0 {
			t := time.UnixMilli(lastAt).UTC()
			w.LastAt = &t
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Cosign accepts a checkpoint of this log cosigned by registered witnesses
// and stores their signature lines, to be published with it.
func (l *Log) Cosign(ctx context.Context, cosigned []byte) (int, error) {
	ws, err := l.Witnesses(ctx)
	if err != nil {
		return 0, err
	}
	var verifiers []note.Verifier
	for _, w := range ws {
		v, err := checkpoint.ParseVerifierKey(w.VKey)
		if err != nil {
			return 0, err
		}
		verifiers = append(verifiers, v)
	}
	lv, err := l.Verifier()
	if err != nil {
		return 0, err
	}
	cp, cosigs, err := checkpoint.Open(cosigned, lv, verifiers)
	if err != nil {
		return 0, errs.Invalid("checkpoint", "signature", err.Error(), "检查点签名无效："+err.Error())
	}
	var root string
	err = l.db.QueryRow(ctx, `SELECT root FROM ledger_checkpoints WHERE size = ?`, int64(cp.Size)).Scan(&root)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && root != base64.StdEncoding.EncodeToString(cp.Root[:])) {
		return 0, errs.Invalid("checkpoint", "unknown", "this log never published that checkpoint", "本账本从未发布该检查点")
	}
	if err != nil {
		return 0, err
	}
	n, err := note.Open(cosigned, note.VerifierList(append([]note.Verifier{lv}, verifiers...)...))
	if err != nil {
		return 0, errs.Invalid("checkpoint", "signature", err.Error(), "检查点签名无效")
	}
	stored := 0
	for _, c := range cosigs {
		for _, s := range n.Sigs {
			if s.Name == c.Name && s.Hash == c.KeyHash {
				if _, err := l.db.Exec(ctx, `INSERT INTO ledger_cosignatures (witness, size, line, created_at) VALUES (?, ?, ?, ?)
					ON CONFLICT (witness, size) DO NOTHING`, c.Name, int64(cp.Size), "— "+s.Name+" "+s.Base64, l.opts.Now().UnixMilli()); err != nil {
					return stored, err
				}
				stored++
			}
		}
	}
	if stored == 0 {
		return 0, errs.Invalid("checkpoint", "cosignature", "no cosignature of a registered witness", "没有已登记见证者的联署签名")
	}
	return stored, nil
}

// ---- HTTP handlers ----

// CheckpointInfo describes one stored checkpoint.
type CheckpointInfo struct {
	Size       int64     `json:"size"`
	Root       string    `json:"root"`
	CreatedAt  time.Time `json:"createdAt"`
	CosignedBy []string  `json:"cosignedBy" nullable:"false"`
}

// Status is the log at a glance.
type Status struct {
	Origin      string           `json:"origin"`
	Hasher      string           `json:"hasher" enum:"sha256,sm3"`
	Size        int64            `json:"size"`
	Checkpoints []CheckpointInfo `json:"checkpoints" nullable:"false"`
	Witnesses   []Witness        `json:"witnesses" nullable:"false"`
}

func (l *Log) status(ctx context.Context, _ *struct{}) (*httpx.Body[*Status], error) {
	st := &Status{Origin: l.opts.Origin, Hasher: l.hasher.Name(), Size: l.Size(), Checkpoints: []CheckpointInfo{}, Witnesses: []Witness{}}
	rows, err := l.db.Query(ctx, `SELECT size, root, created_at FROM ledger_checkpoints ORDER BY size DESC LIMIT 10`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c CheckpointInfo
		var at int64
		if err := rows.Scan(&c.Size, &c.Root, &at); err != nil {
			rows.Close()
			return nil, err
		}
		c.CreatedAt, c.CosignedBy = time.UnixMilli(at).UTC(), []string{}
		st.Checkpoints = append(st.Checkpoints, c)
	}
	rows.Close()
	for i := range st.Checkpoints {
		r, err := l.db.Query(ctx, `SELECT witness FROM ledger_cosignatures WHERE size = ? ORDER BY witness`, st.Checkpoints[i].Size)
		if err != nil {
			return nil, err
		}
		for r.Next() {
			var w string
			_ = r.Scan(&w)
			st.Checkpoints[i].CosignedBy = append(st.Checkpoints[i].CosignedBy, w)
		}
		r.Close()
	}
	ws, err := l.Witnesses(ctx)
	if err != nil {
		return nil, err
	}
	if ws != nil {
		st.Witnesses = ws
	}
	return httpx.Reply(st), nil
}

// LogKey is one of the log's public keys.
type LogKey struct {
	Algorithm string `json:"algorithm"`
	VKey      string `json:"vkey,omitempty" doc:"signed-note verifier key (Ed25519; use with golang.org/x/mod/sumdb/note)"`
	PEM       string `json:"pem"`
}

// Keys are the public keys needed to verify the log.
type Keys struct {
	Origin        string    `json:"origin"`
	Hasher        string    `json:"hasher"`
	Log           []LogKey  `json:"log"`
	Witnesses     []Witness `json:"witnesses" nullable:"false"`
	Organisations []OrgKey  `json:"organisations" nullable:"false"`
}

func (l *Log) keys(ctx context.Context, _ *struct{}) (*httpx.Body[*Keys], error) {
	ed := l.prof.Ed25519Signer().Public()
	k := &Keys{Origin: l.opts.Origin, Hasher: l.hasher.Name(), Witnesses: []Witness{}, Organisations: []OrgKey{}}
	k.Log = append(k.Log, LogKey{Algorithm: ed.Algorithm(), VKey: l.VerifierKey(), PEM: string(ed.PEM())})
	if s := l.prof.Signer(); s.Algorithm() != ed.Algorithm() {
		vk, _ := checkpoint.VerifierKey(l.opts.Origin, s.Public())
		k.Log = append(k.Log, LogKey{Algorithm: s.Algorithm(), VKey: vk, PEM: string(s.Public().PEM())})
	}
	ws, err := l.Witnesses(ctx)
	if err != nil {
		return nil, err
	}
	if ws != nil {
		k.Witnesses = ws
	}
	orgs, err := l.OrgKeys(ctx)
	if err != nil {
		return nil, err
	}
	if orgs != nil {
		k.Organisations = orgs
	}
	return httpx.Reply(k), nil
}

type cosignIn struct {
	Body struct {
		Checkpoint string `json:"checkpoint" minLength:"1" maxLength:"65536" doc:"The log's checkpoint with the witness's cosignature line(s)"`
	}
}

type cosignOut struct {
	Stored int `json:"stored"`
}

func (l *Log) cosign(ctx context.Context, in *cosignIn) (*httpx.Body[cosignOut], error) {
	n, err := l.Cosign(ctx, []byte(in.Body.Checkpoint))
	if err != nil {
		return nil, err
	}
	return httpx.Reply(cosignOut{Stored: n}), nil
}

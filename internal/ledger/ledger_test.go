package ledger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/checkpoint"
	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

const origin = "shuzhi.test/ledger"

func openLog(t *testing.T, d *db.DB, prof *crypto.Profile, cpFile string) *Log {
	t.Helper()
	l, err := Open(context.Background(), d, prof, Options{Origin: origin, CheckpointEvery: 20 * time.Millisecond, CheckpointFile: cpFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func record(i int, org string) Record {
	return Record{ActorKind: "user", ActorID: fmt.Sprintf("u%d", i%7), ActorName: "tester", OrgID: org, Module: "test",
		Action: "thing.do", Subject: fmt.Sprintf("thing:%d", i), Purpose: "测试", Basis: "rule-1", PayloadHash: "abcd", Ref: fmt.Sprint(i)}
}

// appendMany appends n records from w concurrent writers across 3 orgs.
func appendMany(t *testing.T, l *Log, n, w int) []Receipt {
	t.Helper()
	out, err := appendManyErr(l, n, w)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// appendManyErr is appendMany for a goroutine other than the test's.
func appendManyErr(l *Log, n, w int) ([]Receipt, error) {
	out := make([]Receipt, n)
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for g := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += w {
				r, err := l.Append(context.Background(), record(i, fmt.Sprintf("org%d", i%3)))
				if err != nil {
					errc <- err
					return
				}
				out[i] = r
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		return nil, err
	}
	return out, nil
}

func waitCheckpoint(t *testing.T, l *Log, size int64) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := l.LatestCheckpoint(context.Background())
		if err == nil {
			if cp, err := checkpoint.Parse(b[:bytes.Index(b, []byte("\n\n"))+1]); err == nil && int64(cp.Size) >= size {
				return b
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of size %d within 10s", size)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func migrations() []db.Migrations { return []db.Migrations{Migrations()} }

func TestLogAgainstTlog(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, migrations(), func(t *testing.T, d *db.DB) {
		prof, _ := crypto.NewEphemeral(crypto.ProfileIntl)
		l := openLog(t, d, prof, "")
		receipts := appendMany(t, l, 1500, 64)
		seen := map[int64]bool{}
		for _, r := range receipts {
			if seen[r.Index] {
				t.Fatalf("index %d given twice", r.Index)
			}
			seen[r.Index] = true
		}
		size := l.Size()
		signed := waitCheckpoint(t, l, size)

		// The checkpoint verifies with the standard note package and key format.
		v, err := note.NewVerifier(l.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open(signed, note.VerifierList(v))
		if err != nil {
			t.Fatalf("sumdb/note cannot verify the checkpoint: %v", err)
		}
		cp, err := checkpoint.Parse([]byte(n.Text))
		if err != nil || int64(cp.Size) != size {
			t.Fatalf("checkpoint %+v %v, size %d", cp, err, size)
		}
		tree := tlog.Tree{N: size, Hash: tlog.Hash(cp.Root)}

		// tlog reads our tiles, authenticating every one against the signed root.
		ctx := context.Background()
		reader := tlog.TileHashReader(tree, tileReader{l: l})
		for _, r := range receipts[:200] {
			proof, err := tlog.ProveRecord(size, r.Index, reader)
			if err != nil {
				t.Fatalf("tlog cannot prove %d from our tiles: %v", r.Index, err)
			}
			leaf, _ := hex.DecodeString(r.LeafHash)
			if err := tlog.CheckRecord(proof, size, tree.Hash, r.Index, tlog.Hash(leaf)); err != nil {
				t.Fatalf("entry %d: %v", r.Index, err)
			}
			ours, err := l.ProveInclusion(ctx, r.Index, size)
			if err != nil {
				t.Fatal(err)
			}
			if len(ours.Proof) != len(proof) {
				t.Fatalf("proof lengths differ: %d vs tlog %d", len(ours.Proof), len(proof))
			}
			for i := range proof {
				if ours.Proof[i] != base64.StdEncoding.EncodeToString(proof[i][:]) {
					t.Fatalf("entry %d: proof element %d differs from tlog's", r.Index, i)
				}
			}
			if ours.Root != base64.StdEncoding.EncodeToString(cp.Root[:]) {
				t.Fatal("proof root differs from the checkpoint")
			}
		}
		// Entries: every entry of bundle 0 hashes to the leaf in tile 0/0.
		data, _, err := l.tileBytes(ctx, merkle.Tile{L: 0, N: 0, W: 256}, true)
		if err != nil {
			t.Fatal(err)
		}
		entries, _ := merkle.ParseBundle(data)
		leaves, _ := tlog.TileHashReader(tree, tileReader{l: l}).ReadHashes([]int64{tlog.StoredHashIndex(0, 0), tlog.StoredHashIndex(0, 255)})
		if tlog.RecordHash(entries[0]) != leaves[0] || tlog.RecordHash(entries[255]) != leaves[1] {
			t.Fatal("entry bundle does not match the leaf hashes tlog authenticated")
		}
		// Consistency between an earlier checkpoint and the latest.
		small := receipts[0].Index + 1
		if small > size {
			small = size
		}
		cons, err := l.ProveConsistency(ctx, small, size)
		if err != nil {
			t.Fatal(err)
		}
		var tp tlog.TreeProof
		for _, s := range cons.Proof {
			b, _ := base64.StdEncoding.DecodeString(s)
			tp = append(tp, tlog.Hash(b))
		}
		old, _ := tlog.TreeHash(small, reader)
		if err := tlog.CheckTree(tp, size, tree.Hash, small, old); err != nil {
			t.Fatalf("consistency %d->%d: %v", small, size, err)
		}
		// Organisation attestations sign the records.
		checkAttestation(t, l, receipts[7])
		// The whole log verifies.
		rep, err := Verify(ctx, d, prof, origin, "")
		if err != nil || !rep.OK() || rep.Entries != size {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	})
}

// tileReader serves our tiles to tlog (which names them with height 8).
type tileReader struct{ l *Log }

func (tileReader) Height() int { return 8 }
func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		w := t.W
		if w == 256 {
			w = 0
		}
		b, _, err := r.l.tileBytes(context.Background(), merkle.Tile{L: t.L, N: t.N, W: t.W}, false)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
func (tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func checkAttestation(t *testing.T, l *Log, r Receipt) {
	t.Helper()
	ctx := context.Background()
	e, err := l.Entry(ctx, r.Attestation)
	if err != nil || e.Kind != KindAttestation {
		t.Fatalf("attestation %d: %+v %v", r.Attestation, e, err)
	}
	var a Attestation
	if err := json.Unmarshal(e.Data, &a); err != nil {
		t.Fatal(err)
	}
	if r.Index < a.First || r.Index >= a.First+a.Count {
		t.Fatalf("attestation covers %d..%d, not %d", a.First, a.First+a.Count-1, r.Index)
	}
	h := l.prof.NewHash()
	for i := a.First; i < a.First+a.Count; i++ {
		ei, _ := l.Entry(ctx, i)
		lh, _ := hex.DecodeString(ei.LeafHash)
		h.Write(lh)
	}
	if hex.EncodeToString(h.Sum(nil)) != a.Digest {
		t.Fatal("attestation digest does not cover the records")
	}
	keys, _ := l.OrgKeys(ctx)
	var pub *crypto.PublicKey
	for _, k := range keys {
		if k.OrgID == a.OrgID {
			der, _ := base64.StdEncoding.DecodeString(k.PublicKey)
			pub, _ = crypto.ParsePublicKey(der)
		}
	}
	if pub == nil {
		t.Fatalf("no public key for %s", a.OrgID)
	}
	sig, _ := base64.StdEncoding.DecodeString(a.Sig)
	a.Sig = ""
	msg, _ := canonical(a)
	if err := crypto.Verify(pub, msg, sig); err != nil {
		t.Fatalf("attestation signature: %v", err)
	}
}

func TestRestartContinues(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, migrations(), func(t *testing.T, d *db.DB) {
		prof, _ := crypto.NewEphemeral(crypto.ProfileIntl)
		ctx := context.Background()
		for round := range 3 {
			l, err := Open(ctx, d, prof, Options{Origin: origin, CheckpointEvery: 10 * time.Millisecond})
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			appendMany(t, l, 300+round*7, 8)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := Verify(ctx, d, prof, origin, "")
		if err != nil || !rep.OK() {
			t.Fatalf("verify after restarts: %+v %v", rep, err)
		}
		if rep.Checkpoints == 0 {
			t.Fatal("no checkpoints were written")
		}
	})
}

func TestGMProfileUsesSM3(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite)
	if _, err := d.Migrate(context.Background(), migrations()); err != nil {
		t.Fatal(err)
	}
	prof, _ := crypto.NewEphemeral(crypto.ProfileGM)
	l := openLog(t, d, prof, "")
	rs := appendMany(t, l, 600, 16)
	signed := waitCheckpoint(t, l, l.Size())
	if strings.Count(string(signed), "\n— ") != 2 {
		t.Fatalf("a 国密 checkpoint carries the Ed25519 and the SM2 signature:\n%s", signed)
	}
	ctx := context.Background()
	p, err := l.ProveInclusion(ctx, rs[5].Index, 0)
	if err != nil || p.Hasher != "sm3" {
		t.Fatalf("%+v %v", p, err)
	}
	var proof merkle.RecordProof
	for _, s := range p.Proof {
		h, _ := merkle.ParseHash(s)
		proof = append(proof, h)
	}
	root, _ := merkle.ParseHash(p.Root)
	leaf, _ := merkle.ParseHexHash(p.LeafHash)
	if err := merkle.CheckRecord(merkle.SM3, proof, p.Size, root, p.Index, leaf); err != nil {
		t.Fatalf("SM3 proof: %v", err)
	}
	if err := merkle.CheckRecord(merkle.SHA256, proof, p.Size, root, p.Index, leaf); err == nil {
		t.Fatal("an SM3 proof checks as SHA-256")
	}
	checkAttestation(t, l, rs[3])
	if rep, err := Verify(ctx, d, prof, origin, ""); err != nil || !rep.OK() {
		t.Fatalf("%+v %v", rep, err)
	}
}

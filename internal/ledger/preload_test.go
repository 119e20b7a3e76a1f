package ledger

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
	"golang.org/x/mod/sumdb/tlog"
)

// A reopened log holds its full upper tiles in memory from the start, and
// the proofs it gives with them are tlog's, against a root tlog computes
// from the entries alone.
func TestReopenPreloadsUpperTiles(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, migrations(), func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// Two full tiles of level 1 (2 x 65,536 entries) and a partial one.
		const size = 2*65536 + 300
		l, _, root := writtenLog(t, d, size, Options{})

		for n := range int64(2) {
			if !l.tiles.upper.has(1, n) {
				t.Fatalf("full tile 1/%d was not loaded at Open", n)
			}
		}
		if l.tiles.upper.has(1, 2) {
			t.Fatal("the partial tile 1/2 was cached")
		}
		for _, i := range []int64{0, 255, 256, 65535, 65536, 100000, 131071, 131072, size - 1} {
			if err := checkProof(ctx, l, i, size, root); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// writtenLog writes a log of size entries (writeEntries) and reopens it
// read-only with opts (Origin and ReadOnly set here); it returns the log,
// the stored hashes as tlog computes them, and tlog's root.
func writtenLog(t *testing.T, d *db.DB, size int, opts Options) (*Log, tlog.HashReader, tlog.Hash) {
	t.Helper()
	ctx := context.Background()
	prof, _ := crypto.NewEphemeral(crypto.ProfileIntl)
	l, err := Open(ctx, d, prof, Options{Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	storage := writeEntries(t, l, size)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	root, err := tlog.TreeHash(int64(size), storage)
	if err != nil {
		t.Fatal(err)
	}
	opts.Origin, opts.ReadOnly = origin, true
	if l, err = Open(ctx, d, prof, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, storage, root
}

// writeEntries appends entries 0..size-1 as the sequencer writes its
// batches (up to 65,536 at a time) and returns their stored hashes as tlog
// computes them from the entries alone.
func writeEntries(t testing.TB, l *Log, size int) tlog.HashReader {
	t.Helper()
	ctx := context.Background()
	var stored []tlog.Hash
	storage := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for done := 0; done < size; {
		k := min(65536, size-done)
		datas := make([][]byte, k)
		leaves := make([]merkle.Hash, k)
		for j := range k {
			r := record(done+j, "")
			data, err := r.Encode()
			if err != nil {
				t.Fatal(err)
			}
			hs, err := tlog.StoredHashes(int64(done+j), data, storage)
			if err != nil {
				t.Fatal(err)
			}
			stored = append(stored, hs...)
			datas[j], leaves[j] = data, l.hasher.LeafHash(data)
		}
		if err := l.write(ctx, datas, leaves); err != nil {
			t.Fatal(err)
		}
		done += k
	}
	return storage
}

// checkProof proves entry i in the tree of the given size and checks the
// proof with tlog against root.
func checkProof(ctx context.Context, l *Log, i, size int64, root tlog.Hash) error {
	p, err := l.ProveInclusion(ctx, i, size)
	if err != nil {
		return err
	}
	if p.Root != base64.StdEncoding.EncodeToString(root[:]) {
		return fmt.Errorf("entry %d: root differs from tlog's", i)
	}
	proof := make(tlog.RecordProof, len(p.Proof))
	for k, s := range p.Proof {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != len(tlog.Hash{}) {
			return fmt.Errorf("entry %d: proof element %d: %v", i, k, err)
		}
		copy(proof[k][:], b)
	}
	leaf, err := hex.DecodeString(p.LeafHash)
	if err != nil || len(leaf) != len(tlog.Hash{}) {
		return fmt.Errorf("entry %d: leaf hash %q", i, p.LeafHash)
	}
	if err := tlog.CheckRecord(proof, size, root, i, tlog.Hash(leaf)); err != nil {
		return fmt.Errorf("entry %d: %w", i, err)
	}
	return nil
}

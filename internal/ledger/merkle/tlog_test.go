package merkle

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// c2spPath turns a sumdb tile path ("tile/8/L/N...", "tile/8/data/N...")
// into the C2SP form ("tile/L/N...", "tile/entries/N...").
func c2spPath(p string) string {
	p = strings.Replace(p, "tile/8/data/", "tile/entries/", 1)
	return strings.Replace(p, "tile/8/", "tile/", 1)
}

func TestIndexMathMatchesTlog(t *testing.T) {
	t.Parallel()
	t.Run("split-all-small", func(t *testing.T) {
		t.Parallel()
		for i := int64(0); i < 300000; i++ {
			l1, n1 := SplitStoredHashIndex(i)
			l2, n2 := tlog.SplitStoredHashIndex(i)
			if l1 != l2 || n1 != n2 {
				t.Fatalf("SplitStoredHashIndex(%d) = %d, %d; tlog %d, %d", i, l1, n1, l2, n2)
			}
			if StoredHashIndex(l1, n1) != i {
				t.Fatalf("StoredHashIndex(SplitStoredHashIndex(%d)) = %d", i, StoredHashIndex(l1, n1))
			}
		}
	})
	t.Run("index-levels", func(t *testing.T) {
		t.Parallel()
		for level := 0; level < 40; level++ {
			for _, n := range sample(0, 1<<20, int64(level)) {
				if got, want := StoredHashIndex(level, n), tlog.StoredHashIndex(level, n); got != want {
					t.Fatalf("StoredHashIndex(%d, %d) = %d, tlog %d", level, n, got, want)
				}
			}
		}
	})
	t.Run("large", func(t *testing.T) {
		t.Parallel()
		for _, n := range []int64{1 << 40, 1<<40 - 1, 1<<50 + 12345, 1<<61 - 1, 1<<61 + 7} {
			for level := range 3 {
				x := StoredHashIndex(level, n>>uint(level))
				if want := tlog.StoredHashIndex(level, n>>uint(level)); x != want {
					t.Fatalf("StoredHashIndex(%d, %d) = %d, tlog %d", level, n, x, want)
				}
				l1, n1 := SplitStoredHashIndex(x)
				l2, n2 := tlog.SplitStoredHashIndex(x)
				if l1 != l2 || n1 != n2 || l1 != level {
					t.Fatalf("SplitStoredHashIndex(%d) = %d, %d; tlog %d, %d", x, l1, n1, l2, n2)
				}
			}
			if got, want := StoredHashCount(n), tlog.StoredHashCount(n); got != want {
				t.Fatalf("StoredHashCount(%d) = %d, tlog %d", n, got, want)
			}
		}
	})
	t.Run("count", func(t *testing.T) {
		t.Parallel()
		for n := int64(0); n < 100000; n++ {
			if got, want := StoredHashCount(n), tlog.StoredHashCount(n); got != want {
				t.Fatalf("StoredHashCount(%d) = %d, tlog %d", n, got, want)
			}
		}
	})
}

// compareWithTlog checks every function at tree size n against tlog, with
// both reading the same stored hashes.
func compareWithTlog(t *testing.T, n int64, mine memStore, theirs tlog.HashReader) {
	t.Helper()
	h := SHA256
	// Tree hash.
	th, err := TreeHash(h, n, mine)
	if err != nil {
		t.Fatal(err)
	}
	tth, err := tlog.TreeHash(n, theirs)
	if err != nil {
		t.Fatal(err)
	}
	if th != Hash(tth) {
		t.Fatalf("TreeHash(%d) = %v, tlog %v", n, th, tth)
	}
	if n == 0 {
		return
	}
	// The hashes stored when appending record n-1.
	leaf := h.LeafHash(recordData(n - 1))
	if Hash(tlog.RecordHash(recordData(n-1))) != leaf {
		t.Fatalf("LeafHash(record %d) differs from tlog.RecordHash", n-1)
	}
	sh, err := StoredHashes(h, n-1, leaf, mine)
	if err != nil {
		t.Fatal(err)
	}
	tsh, err := tlog.StoredHashesForRecordHash(n-1, tlog.Hash(leaf), theirs)
	if err != nil {
		t.Fatal(err)
	}
	if !equalHashes(sh, tsh) {
		t.Fatalf("StoredHashes(%d) = %v, tlog %v", n-1, sh, tsh)
	}
	start := StoredHashIndex(0, n-1)
	if !equalHashes(sh, mine[start:start+int64(len(sh))]) {
		t.Fatalf("StoredHashes(%d) differs from what the Builder stored", n-1)
	}
	// Inclusion proofs.
	for _, i := range sample(0, n, n) {
		p, err := ProveRecord(h, n, i, mine)
		if err != nil {
			t.Fatal(err)
		}
		tp, err := tlog.ProveRecord(n, i, theirs)
		if err != nil {
			t.Fatal(err)
		}
		if !equalHashes(p, tp) {
			t.Fatalf("ProveRecord(%d, %d) = %v, tlog %v", n, i, p, tp)
		}
		li := h.LeafHash(recordData(i))
		if err := tlog.CheckRecord(toTlog(p), n, tth, i, tlog.Hash(li)); err != nil {
			t.Fatalf("tlog.CheckRecord(our proof %d in %d): %v", i, n, err)
		}
		if err := CheckRecord(h, fromTlog(tp), n, th, i, li); err != nil {
			t.Fatalf("CheckRecord(tlog proof %d in %d): %v", i, n, err)
		}
	}
	// Consistency proofs.
	for _, m := range sample(1, n+1, n+7) {
		p, err := ProveTree(h, n, m, mine)
		if err != nil {
			t.Fatal(err)
		}
		tp, err := tlog.ProveTree(n, m, theirs)
		if err != nil {
			t.Fatal(err)
		}
		if !equalHashes(p, tp) {
			t.Fatalf("ProveTree(%d, %d) = %v, tlog %v", n, m, p, tp)
		}
		mh, err := TreeHash(h, m, mine)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(toTlog(p), n, tth, m, tlog.Hash(mh)); err != nil {
			t.Fatalf("tlog.CheckTree(our proof %d -> %d): %v", m, n, err)
		}
		if err := CheckTree(h, fromTlog(tp), n, th, m, mh); err != nil {
			t.Fatalf("CheckTree(tlog proof %d -> %d): %v", m, n, err)
		}
	}
	// Tiles: the same set, the same paths (minus the height), the same data.
	tiles := TileForStorage(n)
	ttiles := tlog.NewTiles(TileHeight, 0, n)
	if len(tiles) != len(ttiles) {
		t.Fatalf("TileForStorage(%d) has %d tiles, tlog.NewTiles %d", n, len(tiles), len(ttiles))
	}
	for i, tile := range tiles {
		tt := ttiles[i]
		if tile.L != tt.L || tile.N != tt.N || tile.W != tt.W {
			t.Fatalf("tile %d of %d: %+v, tlog %+v", i, n, tile, tt)
		}
		if got, want := tile.Path(), c2spPath(tt.Path()); got != want {
			t.Fatalf("Path() = %q, want %q", got, want)
		}
		if tile.L == 0 {
			data := tt
			data.L = -1
			if got, want := tile.EntriesPath(), c2spPath(data.Path()); got != want {
				t.Fatalf("EntriesPath() = %q, want %q", got, want)
			}
		}
		// Reading every tile of a large tree is slow; read the right edge
		// and a few more.
		if n > 2000 && i%17 != 0 && tile.W == TileWidth {
			continue
		}
		d, err := ReadTileData(h, tile, mine)
		if err != nil {
			t.Fatal(err)
		}
		td, err := tlog.ReadTileData(tt, theirs)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(d, td) {
			t.Fatalf("ReadTileData(%v) differs from tlog", tile)
		}
	}
	// Growing from a smaller tree.
	for _, old := range []int64{0, n / 2, n - 1} {
		got, want := NewTiles(old, n), tlog.NewTiles(TileHeight, old, n)
		if len(got) != len(want) {
			t.Fatalf("NewTiles(%d, %d) has %d tiles, tlog %d", old, n, len(got), len(want))
		}
		for i := range got {
			if got[i].L != want[i].L || got[i].N != want[i].N || got[i].W != want[i].W {
				t.Fatalf("NewTiles(%d, %d)[%d] = %+v, tlog %+v", old, n, i, got[i], want[i])
			}
		}
	}
}

// TestSHA256MatchesTlog compares every size 0..1100 against a tree that
// tlog built itself.
func TestSHA256MatchesTlog(t *testing.T) {
	t.Parallel()
	ts := tlogTree()
	mine := buildTree(SHA256, 1101).stored
	if !equalHashes(mine, ts) {
		t.Fatal("the Builder's stored hashes differ from tlog.StoredHashes")
	}
	for n := int64(0); n <= 1100; n++ {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			t.Parallel()
			compareWithTlog(t, n, mine[:StoredHashCount(n)], ts[:StoredHashCount(n)])
		})
	}
}

// TestSHA256MatchesTlogLarge checks sizes around larger powers of two and
// tile boundaries on a Builder-made tree that tlog reads too.
func TestSHA256MatchesTlogLarge(t *testing.T) {
	t.Parallel()
	big := bigTree(SHA256)
	for _, n := range []int64{2047, 2048, 2049, 4095, 4096, 4097, 32767, 32768, 32769, 65535, 65536, 65537, 65792, 69999, bigTreeSize} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			t.Parallel()
			s := big.stored[:StoredHashCount(n)]
			compareWithTlog(t, n, s, asTlog(s))
		})
	}
}

// TestHashesFromTilesMatchesTlog reads tiles through tlog.TileHashReader,
// which checks them against the tree hash, and through HashesFromTiles.
func TestHashesFromTilesMatchesTlog(t *testing.T) {
	t.Parallel()
	big := bigTree(SHA256)
	for _, n := range []int64{1, 255, 256, 257, 65535, 65536, 65537, bigTreeSize} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			t.Parallel()
			tm := newTileMap(t, SHA256, big.stored, n)
			th, err := TreeHash(SHA256, n, big.stored)
			if err != nil {
				t.Fatal(err)
			}
			tr := tlog.TileHashReader(tlog.Tree{N: n, Hash: tlog.Hash(th)}, tlogTiles{tm})
			mine := HashesFromTiles(SHA256, n, tm)
			for _, i := range sample(0, n, n) {
				tp, err := tlog.ProveRecord(n, i, tr)
				if err != nil {
					t.Fatalf("tlog.ProveRecord(%d, %d) from our tiles: %v", n, i, err)
				}
				p, err := ProveRecord(SHA256, n, i, mine)
				if err != nil {
					t.Fatal(err)
				}
				if !equalHashes(p, tp) {
					t.Fatalf("ProveRecord(%d, %d) from tiles differs from tlog's", n, i)
				}
			}
		})
	}
}

// tlogTiles serves a tileMap to tlog (height 8, sumdb tiles).
type tlogTiles struct{ m *tileMap }

func (tlogTiles) Height() int { return TileHeight }

func (r tlogTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	mine := make([]Tile, len(tiles))
	for i, t := range tiles {
		if t.H != TileHeight {
			return nil, fmt.Errorf("height %d", t.H)
		}
		mine[i] = Tile{L: t.L, N: t.N, W: t.W}
	}
	return r.m.ReadTiles(mine)
}

func (tlogTiles) SaveTiles([]tlog.Tile, [][]byte) {}

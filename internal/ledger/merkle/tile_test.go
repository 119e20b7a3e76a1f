package merkle

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestTilePaths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		tile    Tile
		path    string
		entries string
	}{
		{Tile{0, 0, 256}, "tile/0/000", "tile/entries/000"},
		{Tile{0, 0, 1}, "tile/0/000.p/1", "tile/entries/000.p/1"},
		{Tile{1, 7, 255}, "tile/1/007.p/255", "tile/entries/007.p/255"},
		{Tile{2, 999, 256}, "tile/2/999", "tile/entries/999"},
		{Tile{0, 1000, 256}, "tile/0/x001/000", "tile/entries/x001/000"},
		{Tile{0, 1234067, 256}, "tile/0/x001/x234/067", "tile/entries/x001/x234/067"},
		{Tile{3, 1234067, 17}, "tile/3/x001/x234/067.p/17", "tile/entries/x001/x234/067.p/17"},
		{Tile{63, maxTileN, 255}, "tile/63/x036/x028/x797/x018/x963/967.p/255", "tile/entries/x036/x028/x797/x018/x963/967.p/255"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			if got := tc.tile.Path(); got != tc.path {
				t.Fatalf("Path() = %q, want %q", got, tc.path)
			}
			if got := tc.tile.EntriesPath(); got != tc.entries {
				t.Fatalf("EntriesPath() = %q, want %q", got, tc.entries)
			}
			// tlog's path is the same with the height element.
			tt := tlog.Tile{H: 8, L: tc.tile.L, N: tc.tile.N, W: tc.tile.W}
			if got := c2spPath(tt.Path()); got != tc.path {
				t.Fatalf("tlog path %q", tt.Path())
			}
			got, err := ParseTilePath(tc.path)
			if err != nil || got != tc.tile {
				t.Fatalf("ParseTilePath(%q) = %+v, %v", tc.path, got, err)
			}
			got, entries, err := ParsePath(tc.entries)
			want := tc.tile
			want.L = 0
			if err != nil || !entries || got != want {
				t.Fatalf("ParsePath(%q) = %+v, %v, %v", tc.entries, got, entries, err)
			}
			if _, err := ParseEntriesPath(tc.path); err == nil {
				t.Fatalf("ParseEntriesPath accepted hash tile %q", tc.path)
			}
			if _, err := ParseTilePath(tc.entries); err == nil {
				t.Fatalf("ParseTilePath accepted entry bundle %q", tc.entries)
			}
		})
	}
}

func TestParseTilePathRejects(t *testing.T) {
	t.Parallel()
	for _, path := range []string{
		"",
		"tile",
		"tile/",
		"tile/0",
		"tile/0/",
		"/tile/0/000",
		"tiles/0/000",
		"tile/0/000/",
		"tile/0/0",
		"tile/0/00",
		"tile/0/0000",
		"tile/0/1",
		"tile/0/x000",
		"tile/0/001/000",   // missing x
		"tile/0/x000/001",  // non-canonical 1
		"tile/0/x001/x000", // x on the last group
		"tile/0/x1/000",
		"tile/0/xx01/000",
		"tile/0/-01",
		"tile/0/+01",
		"tile/0/ 01",
		"tile/0/0a1",
		"tile/00/000",
		"tile/01/000",
		"tile/64/000",
		"tile/100/000",
		"tile/-1/000",
		"tile/+1/000",
		"tile/a/000",
		"tile//000",
		"tile/8/0/000",    // sumdb form
		"tile/8/data/000", // sumdb form
		"tile/data/000",
		"tile/Entries/000",
		"tile/entries/",
		"tile/entries/1",
		"tile/0/000.p/",
		"tile/0/000.p/0",
		"tile/0/000.p/00",
		"tile/0/000.p/01",
		"tile/0/000.p/256",
		"tile/0/000.p/1000",
		"tile/0/000.p/-1",
		"tile/0/000.p/+1",
		"tile/0/000.p/1/",
		"tile/0/000.p/1.p/1",
		"tile/0/000.p",
		"tile/0/000.P/1",
		"tile/0/000p/1",
		"tile/0/x001.p/1/000",
		"tile/0/x036/x028/x797/x018/x963/968", // N*256 would overflow
		"tile/0/x999/x999/x999/x999/x999/x999/999",
		"tile/0/x001/x001/x001/x001/x001/x001/x001/001",
		"tile/0/000\x00",
		"tile\\0\\000",
	} {
		t.Run(fmt.Sprintf("%q", path), func(t *testing.T) {
			t.Parallel()
			tile, entries, err := ParsePath(path)
			if err == nil {
				t.Fatalf("ParsePath(%q) = %+v, entries=%v", path, tile, entries)
			}
			var pe *PathError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PathError", err)
			}
		})
	}
}

// TestHashesFromTiles keeps only the tiles (levels 0, 1 and 2) of a
// 70,000-record tree and answers everything from them.
func TestHashesFromTiles(t *testing.T) {
	t.Parallel()
	for _, h := range hashers {
		t.Run(h.Name(), func(t *testing.T) {
			t.Parallel()
			big := bigTree(h)
			const n = bigTreeSize
			tm := newTileMap(t, h, big.stored, n)
			levels := map[int]int{}
			for tile := range tm.tiles {
				levels[tile.L]++
			}
			// 273 full + 1 partial; 1 full + 1 partial (W=17); 1 partial (W=1).
			if len(tm.tiles) != 277 || levels[0] != 274 || levels[1] != 2 || levels[2] != 1 {
				t.Fatalf("tiles per level: %v", levels)
			}
			r := HashesFromTiles(h, n, tm)

			t.Run("every stored hash", func(t *testing.T) {
				t.Parallel()
				const chunk = 997
				for lo := int64(0); lo < StoredHashCount(n); lo += chunk {
					var idx []int64
					for x := lo; x < min(lo+chunk, StoredHashCount(n)); x++ {
						idx = append(idx, x)
					}
					got, err := r.ReadHashes(idx)
					if err != nil {
						t.Fatal(err)
					}
					if !equalHashes(got, big.stored[lo:lo+int64(len(idx))]) {
						t.Fatalf("hashes %d.. differ", lo)
					}
				}
			})
			t.Run("tree hashes", func(t *testing.T) {
				t.Parallel()
				for _, m := range sample(0, n+1, 5) {
					got, err := TreeHash(h, m, r)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := TreeHash(h, m, big.stored)
					if got != want {
						t.Fatalf("TreeHash(%d) from tiles differs", m)
					}
				}
			})
			for _, size := range []int64{1, 256, 257, 65535, 65536, 65537, n - 1, n} {
				t.Run(fmt.Sprintf("proofs/t=%d", size), func(t *testing.T) {
					t.Parallel()
					th, err := TreeHash(h, size, r)
					if err != nil {
						t.Fatal(err)
					}
					for _, i := range sample(0, size, size) {
						p, err := ProveRecord(h, size, i, r)
						if err != nil {
							t.Fatal(err)
						}
						want, _ := ProveRecord(h, size, i, big.stored)
						if !equalHashes(p, want) {
							t.Fatalf("ProveRecord(%d, %d) from tiles differs", size, i)
						}
						if err := CheckRecord(h, p, size, th, i, big.leaves[i]); err != nil {
							t.Fatal(err)
						}
					}
					for _, m := range sample(1, size+1, size) {
						p, err := ProveTree(h, size, m, r)
						if err != nil {
							t.Fatal(err)
						}
						mh, _ := TreeHash(h, m, big.stored)
						if err := CheckTree(h, p, size, th, m, mh); err != nil {
							t.Fatalf("CheckTree(%d -> %d): %v", m, size, err)
						}
					}
				})
			}
			t.Run("stored hashes for the next record", func(t *testing.T) {
				t.Parallel()
				// Appending record n-1 again needs only its left siblings.
				got, err := StoredHashes(h, n-1, big.leaves[n-1], r)
				if err != nil {
					t.Fatal(err)
				}
				start := StoredHashIndex(0, n-1)
				if !equalHashes(got, big.stored[start:]) {
					t.Fatal("StoredHashes from tiles differs")
				}
			})
		})
	}
}

// TestHashesFromTilesAtSize serves the tiles of a smaller tree.
func TestHashesFromTilesAtSize(t *testing.T) {
	t.Parallel()
	h := SM3
	big := bigTree(h)
	for _, n := range []int64{1, 2, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			t.Parallel()
			tm := newTileMap(t, h, big.stored, n)
			r := HashesFromTiles(h, n, tm)
			idx := make([]int64, StoredHashCount(n))
			for i := range idx {
				idx[i] = int64(i)
			}
			got, err := r.ReadHashes(idx)
			if err != nil {
				t.Fatal(err)
			}
			if !equalHashes(got, big.stored[:len(idx)]) {
				t.Fatal("hashes differ")
			}
			if tm.reads != 1 {
				t.Fatalf("%d ReadTiles calls for one ReadHashes", tm.reads)
			}
			if _, err := r.ReadHashes([]int64{StoredHashCount(n)}); err == nil {
				t.Fatal("read a hash beyond the tree")
			}
		})
	}
}

func TestHashesFromTilesErrors(t *testing.T) {
	t.Parallel()
	h := SHA256
	big := bigTree(h)
	const n = 1000
	good := newTileMap(t, h, big.stored, n)
	cases := []struct {
		name  string
		read  func([]Tile) ([][]byte, error)
		index int64
	}{
		{"negative index", good.ReadTiles, -1},
		{"beyond tree", good.ReadTiles, StoredHashCount(n)},
		{"reader error", func([]Tile) ([][]byte, error) { return nil, errors.New("boom") }, 5},
		{"too few tiles", func([]Tile) ([][]byte, error) { return nil, nil }, 5},
		{"short tile", func(ts []Tile) ([][]byte, error) {
			d, err := good.ReadTiles(ts)
			d[0] = d[0][:len(d[0])-1]
			return d, err
		}, 5},
		{"long tile", func(ts []Tile) ([][]byte, error) {
			d, err := good.ReadTiles(ts)
			d[0] = append(d[0][:len(d[0]):len(d[0])], make([]byte, 32)...)
			return d, err
		}, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := HashesFromTiles(h, n, TileReaderFunc(tc.read))
			if _, err := r.ReadHashes([]int64{tc.index}); err == nil {
				t.Fatal("no error")
			}
		})
	}
	t.Run("tampered tile fails proofs", func(t *testing.T) {
		t.Parallel()
		bad := &tileMap{tiles: map[Tile][]byte{}}
		for k, v := range good.tiles {
			bad.tiles[k] = v
		}
		tile := Tile{L: 0, N: 1, W: 256}
		d := append([]byte(nil), bad.tiles[tile]...)
		d[5*32] ^= 1 // leaf 261
		bad.tiles[tile] = d
		th, _ := TreeHash(h, n, big.stored)
		r := HashesFromTiles(h, n, bad)
		// Records of the tampered tile (other than 261 itself, whose proof
		// does not contain its own leaf) get proofs built from the bad leaf.
		// Records outside it read the tile's root from the level-1 tile,
		// which is intact: HashesFromTiles does not cross-check tiles.
		for i, fails := range map[int64]bool{256: true, 260: true, 262: true, 300: true, 511: true, 0: false, 255: false, 512: false, 999: false} {
			p, err := ProveRecord(h, n, i, r)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckRecord(h, p, n, th, i, big.leaves[i])
			if fails != errors.Is(err, ErrProofFailed) {
				t.Fatalf("record %d: proof from a tampered tile: %v", i, err)
			}
		}
	})
}

func TestReadTileDataErrors(t *testing.T) {
	t.Parallel()
	big := bigTree(SHA256)
	for _, tile := range []Tile{{0, 0, 0}, {0, 0, 257}, {-1, 0, 1}, {8, 0, 1}, {0, -1, 1}, {0, 300, 1}} {
		t.Run(strings.ReplaceAll(fmt.Sprintf("%+v", tile), " ", ","), func(t *testing.T) {
			t.Parallel()
			if _, err := ReadTileData(SHA256, tile, big.stored); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

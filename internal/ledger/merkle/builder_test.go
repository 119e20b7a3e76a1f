package merkle

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestBuilderOneByOne appends 5000 leaves one at a time, keeping the stored
// hashes with StoredHashes (independently of the Builder), and compares the
// Builder's root with TreeHash after every append.
func TestBuilderOneByOne(t *testing.T) {
	t.Parallel()
	for _, h := range hashers {
		t.Run(h.Name(), func(t *testing.T) {
			t.Parallel()
			b, err := NewBuilder(h, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			var store memStore
			for n := int64(0); n < 5000; n++ {
				leaf := h.LeafHash(recordData(n))
				hs, err := StoredHashes(h, n, leaf, store)
				if err != nil {
					t.Fatal(err)
				}
				store = append(store, hs...)
				if idx := b.Append(leaf); idx != n {
					t.Fatalf("Append returned %d, want %d", idx, n)
				}
				th, err := TreeHash(h, n+1, store)
				if err != nil {
					t.Fatal(err)
				}
				if b.Root() != th || b.Size() != n+1 {
					t.Fatalf("size %d: Builder root %v, TreeHash %v", n+1, b.Root(), th)
				}
				// The frontier is the hashes at FrontierIndexes.
				want, err := store.ReadHashes(FrontierIndexes(n + 1))
				if err != nil {
					t.Fatal(err)
				}
				if !equalHashes(b.Frontier(), want) {
					t.Fatalf("size %d: Frontier() differs from the stored hashes at FrontierIndexes", n+1)
				}
			}
		})
	}
}

// TestBuilderBatches appends random batches and checks the stored hashes
// AppendBatch returns, the roots, and restoring from the frontier and from
// the stored hashes (directly and from tiles).
func TestBuilderBatches(t *testing.T) {
	t.Parallel()
	for _, h := range hashers {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", h.Name(), seed), func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(seed, 42))
				ref := buildTree(h, 5000) // the same leaves, built in chunks
				b, _ := NewBuilder(h, 0, nil)
				var store memStore
				for b.Size() < 5000 {
					k := min(int64(rng.IntN(700)), 5000-b.Size())
					if rng.IntN(5) == 0 {
						k = int64(rng.IntN(3)) // tiny batches, including empty ones
					}
					old := b.Size()
					stored := b.AppendBatch(ref.leaves[old : old+k])
					if int64(len(stored)) != StoredHashCount(old+k)-StoredHashCount(old) {
						t.Fatalf("AppendBatch(%d..%d) returned %d hashes", old, old+k, len(stored))
					}
					for _, s := range stored {
						if s.Index != int64(len(store)) {
							t.Fatalf("AppendBatch index %d, want %d", s.Index, len(store))
						}
						store = append(store, s.Hash)
					}
					if !equalHashes(store, ref.stored[:len(store)]) {
						t.Fatalf("stored hashes after %d differ", b.Size())
					}
					th, err := TreeHash(h, b.Size(), store)
					if err != nil {
						t.Fatal(err)
					}
					if b.Root() != th {
						t.Fatalf("size %d: root %v, TreeHash %v", b.Size(), b.Root(), th)
					}
					if rng.IntN(4) == 0 {
						b = restore(t, h, b, store, rng)
					}
				}
			})
		}
	}
}

// restore replaces b by a Builder restored one of three ways, after checking
// they all agree.
func restore(t *testing.T, h Hasher, b *Builder, store memStore, rng *rand.Rand) *Builder {
	t.Helper()
	n := b.Size()
	fromFrontier, err := NewBuilder(h, n, b.Frontier())
	if err != nil {
		t.Fatal(err)
	}
	fromStore, err := BuilderFrom(h, n, store)
	if err != nil {
		t.Fatal(err)
	}
	tm := newTileMap(t, h, store, n)
	fromTiles, err := BuilderFrom(h, n, HashesFromTiles(h, n, tm))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*Builder{"frontier": fromFrontier, "stored hashes": fromStore, "tiles": fromTiles} {
		if r.Size() != n || r.Root() != b.Root() || !equalHashes(r.Frontier(), b.Frontier()) {
			t.Fatalf("size %d: Builder restored from %s differs", n, name)
		}
	}
	return []*Builder{fromFrontier, fromStore, fromTiles}[rng.IntN(3)]
}

func TestBuilderErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		h        Hasher
		size     int64
		frontier []Hash
	}{
		{"nil hasher", nil, 0, nil},
		{"negative size", SHA256, -1, nil},
		{"frontier too short", SHA256, 3, make([]Hash, 1)},
		{"frontier too long", SHA256, 4, make([]Hash, 2)},
		{"frontier for empty tree", SM3, 0, make([]Hash, 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewBuilder(tc.h, tc.size, tc.frontier); err == nil {
				t.Fatal("NewBuilder accepted it")
			}
		})
	}
	t.Run("BuilderFrom read error", func(t *testing.T) {
		t.Parallel()
		if _, err := BuilderFrom(SHA256, 5, memStore{}); err == nil {
			t.Fatal("BuilderFrom ignored the read error")
		}
	})
	t.Run("BuilderFrom empty", func(t *testing.T) {
		t.Parallel()
		b, err := BuilderFrom(SM3, 0, memStore{})
		if err != nil || b.Size() != 0 || b.Root() != SM3.EmptyHash() {
			t.Fatalf("BuilderFrom(0) = %v, %v", b, err)
		}
	})
	t.Run("frontier is a copy", func(t *testing.T) {
		t.Parallel()
		f := []Hash{{1}}
		b, _ := NewBuilder(SHA256, 1, f)
		f[0] = Hash{2}
		b.Frontier()[0] = Hash{3}
		if b.Root() != (Hash{1}) {
			t.Fatal("Builder shares its frontier")
		}
	})
}

// TestTileHashes checks that the tile hashes picked out of AppendBatch
// output rebuild exactly the tiles ReadTileData reads.
func TestTileHashes(t *testing.T) {
	t.Parallel()
	for _, h := range hashers {
		t.Run(h.Name(), func(t *testing.T) {
			t.Parallel()
			const n = 66000
			b, _ := NewBuilder(h, 0, nil)
			var store memStore
			levels := map[int][]byte{} // tree level 8L, concatenated
			for b.Size() < n {
				k := min(int64(1000+b.Size()%777), n-b.Size())
				leaves := make([]Hash, k)
				for i := range leaves {
					leaves[i] = h.LeafHash(recordData(b.Size() + int64(i)))
				}
				stored := b.AppendBatch(leaves)
				for _, s := range stored {
					store = append(store, s.Hash)
				}
				for _, th := range TileHashes(stored) {
					if int64(len(levels[th.L])) != th.Index*HashSize {
						t.Fatalf("tile hash L=%d Index=%d out of order", th.L, th.Index)
					}
					levels[th.L] = append(levels[th.L], th.Hash[:]...)
					if tile := th.Tile(); tile.N != th.Index/256 || int64(tile.W) != th.Index%256+1 {
						t.Fatalf("TileHash.Tile() = %+v for index %d", tile, th.Index)
					}
				}
			}
			for _, tile := range TileForStorage(n) {
				want, err := ReadTileData(h, tile, store)
				if err != nil {
					t.Fatal(err)
				}
				start := tile.N * TileWidth * HashSize
				if got := levels[tile.L][start : start+int64(tile.W)*HashSize]; string(got) != string(want) {
					t.Fatalf("tile %v differs", tile)
				}
			}
		})
	}
}

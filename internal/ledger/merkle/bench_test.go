package merkle

import (
	"fmt"
	"sync"
	"testing"
)

func BenchmarkHash(b *testing.B) {
	data := make([]byte, 256)
	for _, h := range hashers {
		b.Run(h.Name()+"/LeafHash-256B", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				h.LeafHash(data)
			}
		})
		b.Run(h.Name()+"/NodeHash", func(b *testing.B) {
			var x Hash
			for b.Loop() {
				x = h.NodeHash(x, x)
			}
		})
	}
}

// BenchmarkBuilderAppend is the sequencer's cost per leaf (leaf hash given).
func BenchmarkBuilderAppend(b *testing.B) {
	for _, h := range hashers {
		b.Run(h.Name(), func(b *testing.B) {
			bl, _ := NewBuilder(h, 0, nil)
			leaf := h.LeafHash([]byte("leaf"))
			b.ReportAllocs()
			for b.Loop() {
				bl.Append(leaf)
			}
		})
		b.Run(h.Name()+"/AppendBatch-1024", func(b *testing.B) {
			bl, _ := NewBuilder(h, 0, nil)
			leaves := make([]Hash, 1024)
			for i := range leaves {
				leaves[i] = h.LeafHash(recordData(int64(i)))
			}
			b.ReportAllocs()
			for b.Loop() {
				bl.AppendBatch(leaves)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(leaves)), "ns/leaf")
		})
	}
}

// benchTree is a large tree kept two ways: all stored hashes, and only the
// tile levels (tree levels 0, 8, 16) as the ledger's database keeps them.
type benchTree struct {
	n      int64
	root   Hash
	leaves func(i int64) Hash
	stored memStore // nil when not kept
	levels [][]byte // levels[L] = hashes of tree level 8L, concatenated
}

// ReadTiles serves tiles as subslices of levels (no copying).
func (t *benchTree) ReadTiles(tiles []Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		start := tile.N * TileWidth * HashSize
		end := start + int64(tile.W)*HashSize
		if tile.L >= len(t.levels) || end > int64(len(t.levels[tile.L])) {
			return nil, fmt.Errorf("no tile %v", tile)
		}
		out[i] = t.levels[tile.L][start:end:end]
	}
	return out, nil
}

func benchLeaf(h Hasher) func(int64) Hash {
	return func(i int64) Hash { return h.LeafHash(recordData(i)) }
}

// makeBenchTree builds a tree of n leaves with the Builder. keepStored keeps
// every stored hash (64 bytes per leaf) besides the tiles (32 bytes per leaf).
func makeBenchTree(h Hasher, n int64, keepStored bool) *benchTree {
	t := &benchTree{n: n, leaves: benchLeaf(h)}
	if keepStored {
		t.stored = make(memStore, 0, StoredHashCount(n))
	}
	for L := 0; n>>(8*L) > 0; L++ {
		t.levels = append(t.levels, make([]byte, 0, (n>>(8*L))*HashSize))
	}
	bl, _ := NewBuilder(h, 0, nil)
	leaves := make([]Hash, 1<<16)
	for lo := int64(0); lo < n; lo += int64(len(leaves)) {
		k := min(int64(len(leaves)), n-lo)
		for i := range k {
			leaves[i] = t.leaves(lo + i)
		}
		stored := bl.AppendBatch(leaves[:k])
		if keepStored {
			for _, s := range stored {
				t.stored = append(t.stored, s.Hash)
			}
		}
		for _, th := range TileHashes(stored) {
			t.levels[th.L] = append(t.levels[th.L], th.Hash[:]...)
		}
	}
	t.root = bl.Root()
	return t
}

var benchTrees sync.Map // "sha256" -> func() *benchTree

// getBenchTree returns the shared 1M-leaf tree, with every stored hash
// (64 MiB) and its tiles (32 MiB).
func getBenchTree(h Hasher) *benchTree {
	f, _ := benchTrees.LoadOrStore(h.Name(), sync.OnceValue(func() *benchTree { return makeBenchTree(h, benchTreeSize, true) }))
	return f.(func() *benchTree)()
}

const benchTreeSize = 1_000_000

// BenchmarkProveRecord proves records of a 1M- and a 10M-leaf tree. The
// trees are built only when the benchmark runs, so plain `go test` never
// builds them. "stored" reads precomputed stored hashes (the cost of the
// math alone); "tiles" reads only tiles through HashesFromTiles, recomputing
// up to 127 node hashes per proof hash inside a tile. The 10M trees keep
// only their tiles (320 MiB), one hasher at a time; -short skips the SM3 one
// (it takes about half a minute to build).
func BenchmarkProveRecord(b *testing.B) {
	for _, n := range []int64{benchTreeSize, 10_000_000} {
		for _, h := range hashers {
			if n > benchTreeSize && h != SHA256 && testing.Short() {
				continue
			}
			var tr *benchTree
			if n == benchTreeSize {
				tr = getBenchTree(h)
			} else {
				tr = makeBenchTree(h, n, false)
			}
			var readers []struct {
				name string
				r    HashReader
			}
			if tr.stored != nil {
				readers = append(readers, struct {
					name string
					r    HashReader
				}{"stored", tr.stored})
			}
			readers = append(readers, struct {
				name string
				r    HashReader
			}{"tiles", HashesFromTiles(h, n, tr)})
			for _, rd := range readers {
				b.Run(fmt.Sprintf("%s/n=%d/%s", h.Name(), n, rd.name), func(b *testing.B) {
					b.ReportAllocs()
					i := int64(12345)
					for b.Loop() {
						i = (i*1103515245 + 12345) % n
						if _, err := ProveRecord(h, n, i, rd.r); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			// A proof from the tiles must verify.
			p, err := ProveRecord(h, n, n-1000, HashesFromTiles(h, n, tr))
			if err != nil {
				b.Fatal(err)
			}
			if err := CheckRecord(h, p, n, tr.root, n-1000, tr.leaves(n-1000)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkProveTree(b *testing.B) {
	const n = benchTreeSize
	for _, h := range hashers {
		tr := getBenchTree(h)
		b.Run(fmt.Sprintf("%s/n=%d/tiles", h.Name(), n), func(b *testing.B) {
			r := HashesFromTiles(h, n, tr)
			b.ReportAllocs()
			m := int64(12345)
			for b.Loop() {
				m = (m*1103515245+12345)%(n-1) + 1
				if _, err := ProveTree(h, n, m, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCheckRecord(b *testing.B) {
	const n = benchTreeSize
	for _, h := range hashers {
		tr := getBenchTree(h)
		const i = 654321
		p, err := ProveRecord(h, n, i, tr.stored)
		if err != nil {
			b.Fatal(err)
		}
		leaf := tr.leaves(i)
		b.Run(fmt.Sprintf("%s/n=%d", h.Name(), n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := CheckRecord(h, p, n, tr.root, i, leaf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

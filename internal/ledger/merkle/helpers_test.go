package merkle

import (
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

var hashers = []Hasher{SHA256, SM3}

// memStore is a HashReader over a slice of stored hashes.
type memStore []Hash

func (s memStore) ReadHashes(indexes []int64) ([]Hash, error) {
	out := make([]Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(s)) {
			return nil, fmt.Errorf("memStore: index %d not stored (have %d)", x, len(s))
		}
		out[i] = s[x]
	}
	return out, nil
}

// tlogStore is the same for tlog.
type tlogStore []tlog.Hash

func (s tlogStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(s)) {
			return nil, fmt.Errorf("tlogStore: index %d not stored (have %d)", x, len(s))
		}
		out[i] = s[x]
	}
	return out, nil
}

// asTlog reads a memStore through tlog's interface.
func asTlog(s memStore) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		hs, err := s.ReadHashes(indexes)
		if err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(hs))
		for i := range hs {
			out[i] = tlog.Hash(hs[i])
		}
		return out, nil
	})
}

func toTlog(p []Hash) []tlog.Hash {
	out := make([]tlog.Hash, len(p))
	for i := range p {
		out[i] = tlog.Hash(p[i])
	}
	return out
}

func fromTlog(p []tlog.Hash) []Hash {
	out := make([]Hash, len(p))
	for i := range p {
		out[i] = Hash(p[i])
	}
	return out
}

func equalHashes[A, B ~[32]byte](a []A, b []B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if [32]byte(a[i]) != [32]byte(b[i]) {
			return false
		}
	}
	return true
}

// recordData is the content of record i in test trees.
func recordData(i int64) []byte {
	return binary.BigEndian.AppendUint64([]byte("record "), uint64(i))
}

// tree is a test tree: its leaf hashes and all its stored hashes.
type tree struct {
	h      Hasher
	leaves []Hash
	stored memStore
}

// buildTree builds a tree of n records with the Builder.
func buildTree(h Hasher, n int64) *tree {
	t := &tree{h: h, leaves: make([]Hash, n), stored: make(memStore, 0, StoredHashCount(n))}
	b, _ := NewBuilder(h, 0, nil)
	const chunk = 4096
	for lo := int64(0); lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		for i := lo; i < hi; i++ {
			t.leaves[i] = h.LeafHash(recordData(i))
		}
		for _, s := range b.AppendBatch(t.leaves[lo:hi]) {
			if s.Index != int64(len(t.stored)) {
				panic("AppendBatch indexes are not consecutive")
			}
			t.stored = append(t.stored, s.Hash)
		}
	}
	return t
}

var bigTrees sync.Map // Hasher name -> func() *tree

// bigTree returns a shared 70,000-record tree (levels 0, 1 and 2 of tiles).
func bigTree(h Hasher) *tree {
	f, _ := bigTrees.LoadOrStore(h.Name(), sync.OnceValue(func() *tree { return buildTree(h, bigTreeSize) }))
	return f.(func() *tree)()
}

const bigTreeSize = 70000

// tlogTree is a SHA-256 tree of 1101 records built by tlog itself.
var tlogTree = sync.OnceValue(func() tlogStore {
	var s tlogStore
	for i := int64(0); i <= 1100; i++ {
		hs, err := tlog.StoredHashes(i, recordData(i), s)
		if err != nil {
			panic(err)
		}
		s = append(s, hs...)
	}
	return s
})

// tileMap holds tiles by value, as the ledger's database does.
type tileMap struct {
	mu    sync.Mutex
	tiles map[Tile][]byte
	reads int
}

func newTileMap(t testing.TB, h Hasher, r HashReader, n int64) *tileMap {
	m := &tileMap{tiles: map[Tile][]byte{}}
	for _, tile := range TileForStorage(n) {
		data, err := ReadTileData(h, tile, r)
		if err != nil {
			t.Fatal(err)
		}
		m.tiles[tile] = data
	}
	return m
}

func (m *tileMap) ReadTiles(tiles []Tile) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		d, ok := m.tiles[t]
		if !ok {
			return nil, fmt.Errorf("tile %v not stored", t)
		}
		out[i] = d
	}
	return out, nil
}

// sample returns interesting values in [lo, hi): all of them when the range
// is small, else the ends, the middle, powers of two and some pseudo-random
// ones.
func sample(lo, hi int64, seed int64) []int64 {
	if hi-lo <= 40 {
		var out []int64
		for i := lo; i < hi; i++ {
			out = append(out, i)
		}
		return out
	}
	set := map[int64]bool{}
	for _, x := range []int64{lo, lo + 1, lo + 2, (lo + hi) / 2, hi - 3, hi - 2, hi - 1} {
		set[x] = true
	}
	for p := int64(1); p < hi; p *= 2 {
		for _, x := range []int64{p - 1, p, p + 1} {
			if x >= lo && x < hi {
				set[x] = true
			}
		}
	}
	x := uint64(seed)*0x9E3779B97F4A7C15 + 1
	for range 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		set[lo+int64(x%uint64(hi-lo))] = true
	}
	out := make([]int64, 0, len(set))
	for x := range set {
		out = append(out, x)
	}
	return out
}

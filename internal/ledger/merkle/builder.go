package merkle

import (
	"fmt"
	"math/bits"
)

// IndexedHash is a stored hash with its tlog stored-hash index.
type IndexedHash struct {
	Index int64
	Hash  Hash
}

// Split returns the subtree the hash belongs to: Index ==
// StoredHashIndex(level, n).
func (ih IndexedHash) Split() (level int, n int64) { return SplitStoredHashIndex(ih.Index) }

// Builder grows a tree in memory for the sequencer. It keeps only the
// frontier (the roots of the complete subtrees of the right edge, one per set
// bit of the size), so appending needs no reads. A Builder is not safe for
// concurrent use.
type Builder struct {
	h        Hasher
	size     int64
	frontier []Hash // largest (leftmost) subtree first
	root     Hash
	rootOK   bool
}

// NewBuilder returns a Builder for a tree of the given size whose frontier
// is frontier (as Frontier returns it, or the hashes at FrontierIndexes(size)).
// A new tree is NewBuilder(h, 0, nil).
func NewBuilder(h Hasher, size int64, frontier []Hash) (*Builder, error) {
	if h == nil {
		return nil, fmt.Errorf("merkle: nil Hasher")
	}
	if size < 0 {
		return nil, fmt.Errorf("merkle: invalid tree size %d", size)
	}
	if want := bits.OnesCount64(uint64(size)); len(frontier) != want {
		return nil, fmt.Errorf("merkle: a tree of size %d has a frontier of %d hashes, got %d", size, want, len(frontier))
	}
	f := make([]Hash, len(frontier), 64)
	copy(f, frontier)
	return &Builder{h: h, size: size, frontier: f}, nil
}

// BuilderFrom restores a Builder for a tree of the given size by reading its
// frontier (FrontierIndexes(size)) from r, e.g. HashesFromTiles.
func BuilderFrom(h Hasher, size int64, r HashReader) (*Builder, error) {
	if size < 0 {
		return nil, fmt.Errorf("merkle: invalid tree size %d", size)
	}
	var f []Hash
	if idx := FrontierIndexes(size); len(idx) > 0 {
		var err error
		if f, err = readHashes(r, idx); err != nil {
			return nil, err
		}
	}
	return NewBuilder(h, size, f)
}

// Hasher returns the tree's hasher.
func (b *Builder) Hasher() Hasher { return b.h }

// Size returns the number of leaves.
func (b *Builder) Size() int64 { return b.size }

// Frontier returns a copy of the frontier, to persist and later pass to
// NewBuilder. Its hashes are the stored hashes at FrontierIndexes(Size()).
func (b *Builder) Frontier() []Hash {
	f := make([]Hash, len(b.frontier))
	copy(f, b.frontier)
	return f
}

// Root returns the root hash of the current tree.
func (b *Builder) Root() Hash {
	if b.rootOK {
		return b.root
	}
	if len(b.frontier) == 0 {
		b.root = b.h.EmptyHash()
	} else {
		x := b.frontier[len(b.frontier)-1]
		for i := len(b.frontier) - 2; i >= 0; i-- {
			x = b.h.NodeHash(b.frontier[i], x)
		}
		b.root = x
	}
	b.rootOK = true
	return b.root
}

// Append adds a leaf and returns its index (the old size).
func (b *Builder) Append(leafHash Hash) int64 {
	return b.append(leafHash, nil)
}

// append adds a leaf; if stored is non-nil the stored hashes it creates are
// appended to *stored.
func (b *Builder) append(leafHash Hash, stored *[]IndexedHash) int64 {
	n := b.size
	if n == 1<<63-1 {
		panic("merkle: tree is full")
	}
	x := leafHash
	var idx int64
	if stored != nil {
		idx = recordStart(n)
		*stored = append(*stored, IndexedHash{idx, x})
	}
	// Each trailing 1-bit of n is a complete subtree the new leaf closes.
	for s := n; s&1 == 1; s >>= 1 {
		last := len(b.frontier) - 1
		x = b.h.NodeHash(b.frontier[last], x)
		b.frontier = b.frontier[:last]
		if stored != nil {
			idx++
			*stored = append(*stored, IndexedHash{idx, x})
		}
	}
	b.frontier = append(b.frontier, x)
	b.size = n + 1
	b.rootOK = false
	return n
}

// AppendBatch appends the leaves and returns the hashes to store, exactly
// what StoredHashes returns for each leaf in turn. Their indexes are
// consecutive, from StoredHashIndex(0, old size) to
// StoredHashCount(new size)-1. TileHashes picks out the ones tiles hold.
func (b *Builder) AppendBatch(leaves []Hash) []IndexedHash {
	if len(leaves) == 0 {
		return nil
	}
	n := int64(len(leaves))
	stored := make([]IndexedHash, 0, recordStart(b.size+n)-recordStart(b.size))
	for _, l := range leaves {
		b.append(l, &stored)
	}
	return stored
}

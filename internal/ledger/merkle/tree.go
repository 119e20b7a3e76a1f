package merkle

import (
	"errors"
	"fmt"
	"math/bits"
)

// HashReader reads stored hashes by index (see StoredHashIndex). It must
// return exactly one hash per index, in order, or an error.
type HashReader interface {
	ReadHashes(indexes []int64) ([]Hash, error)
}

// HashReaderFunc adapts a function to HashReader.
type HashReaderFunc func(indexes []int64) ([]Hash, error)

// ReadHashes calls f(indexes).
func (f HashReaderFunc) ReadHashes(indexes []int64) ([]Hash, error) { return f(indexes) }

// ErrProofFailed is returned when a proof does not verify.
var ErrProofFailed = errors.New("merkle: invalid transparency proof")

func readHashes(r HashReader, indexes []int64) ([]Hash, error) {
	hashes, err := r.ReadHashes(indexes)
	if err != nil {
		return nil, err
	}
	if len(hashes) != len(indexes) {
		return nil, fmt.Errorf("merkle: ReadHashes(%d indexes) = %d hashes", len(indexes), len(hashes))
	}
	return hashes, nil
}

// StoredHashes returns the hashes to store when appending record n with the
// given leaf hash to a tree of n records: the leaf hash, then the hash of
// every complete subtree the leaf closes, bottom up. They go at consecutive
// indexes starting at StoredHashIndex(0, n). r must be able to read the
// stored hashes of records 0..n-1. Like tlog.StoredHashesForRecordHash.
func StoredHashes(h Hasher, n int64, leafHash Hash, r HashReader) ([]Hash, error) {
	if n < 0 {
		return nil, fmt.Errorf("merkle: invalid record number %d", n)
	}
	m := bits.TrailingZeros64(uint64(n + 1))
	hashes := make([]Hash, 1, m+1)
	hashes[0] = leafHash
	if m == 0 {
		return hashes, nil
	}
	// The left siblings: subtree n>>i - 1 of level i, read top level first
	// (the order tlog asks for them).
	indexes := make([]int64, m)
	for i := range m {
		indexes[m-1-i] = StoredHashIndex(i, n>>uint(i)-1)
	}
	old, err := readHashes(r, indexes)
	if err != nil {
		return nil, err
	}
	x := leafHash
	for i := range m {
		x = h.NodeHash(old[m-1-i], x)
		hashes = append(hashes, x)
	}
	return hashes, nil
}

// TreeHash returns the root hash of the tree of the first n records.
func TreeHash(h Hasher, n int64, r HashReader) (Hash, error) {
	if n < 0 {
		return Hash{}, fmt.Errorf("merkle: invalid tree size %d", n)
	}
	if n == 0 {
		return h.EmptyHash(), nil
	}
	indexes := subTreeIndex(0, n, nil)
	hashes, err := readHashes(r, indexes)
	if err != nil {
		return Hash{}, err
	}
	th, rest := subTreeHash(h, 0, n, hashes)
	if len(rest) != 0 {
		panic("merkle: bad index math in TreeHash")
	}
	return th, nil
}

// subTreeIndex appends the stored-hash indexes of the complete subtrees
// covering leaves [lo, hi), largest first. lo must be aligned to the first
// (largest) subtree, which holds whenever [lo, hi) is a node range of the
// RFC 6962 decomposition.
func subTreeIndex(lo, hi int64, need []int64) []int64 {
	for lo < hi {
		level := bits.Len64(uint64(hi-lo)) - 1 // largest 2^level <= hi-lo
		k := int64(1) << uint(level)
		if lo&(k-1) != 0 {
			panic("merkle: bad math in subTreeIndex")
		}
		need = append(need, StoredHashIndex(level, lo>>uint(level)))
		lo += k
	}
	return need
}

// subTreeHash consumes the hashes subTreeIndex(lo, hi) asked for and
// combines them right to left into the hash of [lo, hi).
func subTreeHash(h Hasher, lo, hi int64, hashes []Hash) (Hash, []Hash) {
	num := bits.OnesCount64(uint64(hi - lo)) // aligned lo: one subtree per set bit
	if num == 0 || len(hashes) < num {
		panic("merkle: bad index math in subTreeHash")
	}
	x := hashes[num-1]
	for i := num - 2; i >= 0; i-- {
		x = h.NodeHash(hashes[i], x)
	}
	return x, hashes[num:]
}

// RecordProof is an inclusion proof: sibling hashes from the leaf up.
type RecordProof []Hash

// TreeProof is a consistency proof between two tree sizes.
type TreeProof []Hash

// ProveRecord returns the proof that record n is in the tree of size t.
func ProveRecord(h Hasher, t, n int64, r HashReader) (RecordProof, error) {
	if t < 0 || n < 0 || n >= t {
		return nil, fmt.Errorf("merkle: invalid inputs in ProveRecord(t=%d, n=%d)", t, n)
	}
	indexes := leafProofIndex(0, t, n, nil)
	if len(indexes) == 0 {
		return RecordProof{}, nil
	}
	hashes, err := readHashes(r, indexes)
	if err != nil {
		return nil, err
	}
	p := make(RecordProof, 0, bits.Len64(uint64(t)))
	p, rest := leafProof(h, 0, t, n, hashes, p)
	if len(rest) != 0 {
		panic("merkle: bad index math in ProveRecord")
	}
	return p, nil
}

func leafProofIndex(lo, hi, n int64, need []int64) []int64 {
	if lo+1 == hi {
		return need
	}
	if k := maxpow2(hi - lo); n < lo+k {
		need = leafProofIndex(lo, lo+k, n, need)
		need = subTreeIndex(lo+k, hi, need)
	} else {
		need = subTreeIndex(lo, lo+k, need)
		need = leafProofIndex(lo+k, hi, n, need)
	}
	return need
}

// leafProof consumes hashes in leafProofIndex order and appends the proof
// (deepest sibling first) to p.
func leafProof(h Hasher, lo, hi, n int64, hashes []Hash, p RecordProof) (RecordProof, []Hash) {
	if lo+1 == hi {
		return p, hashes
	}
	var th Hash
	if k := maxpow2(hi - lo); n < lo+k {
		p, hashes = leafProof(h, lo, lo+k, n, hashes, p)
		th, hashes = subTreeHash(h, lo+k, hi, hashes)
	} else {
		th, hashes = subTreeHash(h, lo, lo+k, hashes)
		p, hashes = leafProof(h, lo+k, hi, n, hashes, p)
	}
	return append(p, th), hashes
}

// CheckRecord verifies that p proves the record with leaf hash leafHash is
// record n of the tree of size t with root th.
func CheckRecord(h Hasher, p RecordProof, t int64, th Hash, n int64, leafHash Hash) error {
	if t < 0 || n < 0 || n >= t {
		return fmt.Errorf("merkle: invalid inputs in CheckRecord(t=%d, n=%d)", t, n)
	}
	x, err := runRecordProof(h, p, 0, t, n, leafHash)
	if err != nil {
		return err
	}
	if x != th {
		return ErrProofFailed
	}
	return nil
}

func runRecordProof(h Hasher, p RecordProof, lo, hi, n int64, leaf Hash) (Hash, error) {
	if lo+1 == hi {
		if len(p) != 0 {
			return Hash{}, ErrProofFailed
		}
		return leaf, nil
	}
	if len(p) == 0 {
		return Hash{}, ErrProofFailed
	}
	last := p[len(p)-1]
	if k := maxpow2(hi - lo); n < lo+k {
		x, err := runRecordProof(h, p[:len(p)-1], lo, lo+k, n, leaf)
		if err != nil {
			return Hash{}, err
		}
		return h.NodeHash(x, last), nil
	} else {
		x, err := runRecordProof(h, p[:len(p)-1], lo+k, hi, n, leaf)
		if err != nil {
			return Hash{}, err
		}
		return h.NodeHash(last, x), nil
	}
}

// ProveTree returns the proof that the tree of size n is a prefix of the
// tree of size t (1 <= n <= t).
func ProveTree(h Hasher, t, n int64, r HashReader) (TreeProof, error) {
	if t < 1 || n < 1 || n > t {
		return nil, fmt.Errorf("merkle: invalid inputs in ProveTree(t=%d, n=%d)", t, n)
	}
	indexes := treeProofIndex(0, t, n, nil)
	if len(indexes) == 0 {
		return TreeProof{}, nil
	}
	hashes, err := readHashes(r, indexes)
	if err != nil {
		return nil, err
	}
	p := make(TreeProof, 0, 2*bits.Len64(uint64(t)))
	p, rest := treeProof(h, 0, t, n, hashes, p)
	if len(rest) != 0 {
		panic("merkle: bad index math in ProveTree")
	}
	return p, nil
}

func treeProofIndex(lo, hi, n int64, need []int64) []int64 {
	if n == hi {
		if lo == 0 {
			return need
		}
		return subTreeIndex(lo, hi, need)
	}
	if k := maxpow2(hi - lo); n <= lo+k {
		need = treeProofIndex(lo, lo+k, n, need)
		need = subTreeIndex(lo+k, hi, need)
	} else {
		need = subTreeIndex(lo, lo+k, need)
		need = treeProofIndex(lo+k, hi, n, need)
	}
	return need
}

func treeProof(h Hasher, lo, hi, n int64, hashes []Hash, p TreeProof) (TreeProof, []Hash) {
	if n == hi {
		if lo == 0 {
			return p, hashes
		}
		th, hashes := subTreeHash(h, lo, hi, hashes)
		return append(p, th), hashes
	}
	var th Hash
	if k := maxpow2(hi - lo); n <= lo+k {
		p, hashes = treeProof(h, lo, lo+k, n, hashes, p)
		th, hashes = subTreeHash(h, lo+k, hi, hashes)
	} else {
		th, hashes = subTreeHash(h, lo, lo+k, hashes)
		p, hashes = treeProof(h, lo+k, hi, n, hashes, p)
	}
	return append(p, th), hashes
}

// CheckTree verifies that p proves the tree of size n with root nh is a
// prefix of the tree of size t with root th.
func CheckTree(h Hasher, p TreeProof, t int64, th Hash, n int64, nh Hash) error {
	if t < 1 || n < 1 || n > t {
		return fmt.Errorf("merkle: invalid inputs in CheckTree(t=%d, n=%d)", t, n)
	}
	oh, nth, err := runTreeProof(h, p, 0, t, n, nh)
	if err != nil {
		return err
	}
	if oh != nh || nth != th {
		return ErrProofFailed
	}
	return nil
}

// runTreeProof returns the recomputed hash of [lo, n) (the old tree's part)
// and of [lo, hi) (the new tree's part).
func runTreeProof(h Hasher, p TreeProof, lo, hi, n int64, old Hash) (Hash, Hash, error) {
	if n == hi {
		if lo == 0 {
			if len(p) != 0 {
				return Hash{}, Hash{}, ErrProofFailed
			}
			return old, old, nil
		}
		if len(p) != 1 {
			return Hash{}, Hash{}, ErrProofFailed
		}
		return p[0], p[0], nil
	}
	if len(p) == 0 {
		return Hash{}, Hash{}, ErrProofFailed
	}
	last := p[len(p)-1]
	if k := maxpow2(hi - lo); n <= lo+k {
		oh, th, err := runTreeProof(h, p[:len(p)-1], lo, lo+k, n, old)
		if err != nil {
			return Hash{}, Hash{}, err
		}
		return oh, h.NodeHash(th, last), nil
	} else {
		oh, th, err := runTreeProof(h, p[:len(p)-1], lo+k, hi, n, old)
		if err != nil {
			return Hash{}, Hash{}, err
		}
		return h.NodeHash(last, oh), h.NodeHash(last, th), nil
	}
}

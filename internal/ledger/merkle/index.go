package merkle

import "math/bits"

// StoredHashIndex returns the index, in tlog's stored-hash numbering, of the
// hash of the n-th subtree of 2^level leaves (leaves n<<level to
// ((n+1)<<level)-1). It equals tlog.StoredHashIndex.
//
// Record m's hashes are stored when it is appended, so the stored hashes of
// records 0..m-1 occupy indexes 0..StoredHashIndex(0, m)-1. Counting the
// hashes stored before the subtree's last leaf m = ((n+1)<<level)-1 gives
// sum_k floor(m/2^k) = 2m - popcount(m), then level more for the subtrees
// that leaf closes below this one.
func StoredHashIndex(level int, n int64) int64 {
	m := (n+1)<<uint(level) - 1
	return 2*m - int64(bits.OnesCount64(uint64(m))) + int64(level)
}

// recordStart is StoredHashIndex(0, n): the first stored index of record n
// and the number of hashes stored for records 0..n-1.
func recordStart(n int64) int64 {
	return 2*n - int64(bits.OnesCount64(uint64(n)))
}

// SplitStoredHashIndex is the inverse of StoredHashIndex: index =
// StoredHashIndex(level, n). It equals tlog.SplitStoredHashIndex.
func SplitStoredHashIndex(index int64) (level int, n int64) {
	if index < 0 {
		panic("merkle: negative stored hash index")
	}
	// The record r whose append stored index is the largest r with
	// recordStart(r) <= index. recordStart(r) is in [2r-63, 2r], so r is in
	// [index/2, index/2+32).
	lo, hi := index/2, index/2+32 // recordStart(lo) <= index < recordStart(hi)
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if recordStart(mid) <= index {
			lo = mid
		} else {
			hi = mid
		}
	}
	level = int(index - recordStart(lo))
	return level, lo >> uint(level)
}

// StoredHashCount returns the number of stored hashes of a tree of n
// records (tlog.StoredHashCount).
func StoredHashCount(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return recordStart(n)
}

// maxpow2 returns the largest power of two strictly less than n (n >= 2):
// the RFC 6962 split point of a range of n leaves.
func maxpow2(n int64) int64 {
	if n < 2 {
		panic("merkle: bad math in maxpow2")
	}
	return 1 << uint(bits.Len64(uint64(n-1))-1)
}

// FrontierIndexes returns the stored-hash indexes of the complete subtrees
// that make up a tree of size n (its "right edge"), largest (leftmost)
// first: one per set bit of n. They are what a Builder needs to continue the
// tree and what TreeHash combines.
func FrontierIndexes(n int64) []int64 {
	return subTreeIndex(0, n, make([]int64, 0, bits.OnesCount64(uint64(n))))
}

package ledger

import (
	"context"
	"encoding/base64"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// checkpointSize is the size of the latest checkpoint (proofs default to it,
// so that they verify against what a client can fetch and check).
func (l *Log) checkpointSize() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cpSize
}

// rootAt is the root of the tree of size n: the latest checkpoint's when n
// is its size (no hashing), else recomputed from stored hashes.
func (l *Log) rootAt(n int64, r merkle.HashReader) (merkle.Hash, error) {
	l.mu.RLock()
	cpSize, cpRoot := l.cpSize, l.cpRoot
	l.mu.RUnlock()
	if n == cpSize && n > 0 {
		return cpRoot, nil
	}
	return merkle.TreeHash(l.hasher, n, r)
}

func b64(hs []merkle.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

// ProveInclusion proves entry index is in the tree of the given size (0:
// the latest checkpoint's size).
func (l *Log) ProveInclusion(ctx context.Context, index, size int64) (*InclusionProof, error) {
	if size == 0 {
		size = l.checkpointSize()
	}
	if size > l.Size() {
		return nil, errs.Invalid("size", "maximum", "the tree is smaller than that", "树的规模小于该值")
	}
	if index < 0 || index >= size {
		return nil, errs.Invalid("index", "range", "the index must be below the tree size", "序号必须小于树的规模")
	}
	r := l.hashReader(ctx)
	proof, err := merkle.ProveRecord(l.hasher, size, index, r)
	if err != nil {
		return nil, err
	}
	root, err := l.rootAt(size, r)
	if err != nil {
		return nil, err
	}
	leaf, err := r.ReadHashes([]int64{merkle.StoredHashIndex(0, index)})
	if err != nil {
		return nil, err
	}
	return &InclusionProof{Index: index, Size: size, LeafHash: hexHash(leaf[0]), Root: base64.StdEncoding.EncodeToString(root[:]),
		Hasher: l.hasher.Name(), Proof: b64(proof)}, nil
}

// ProveConsistency proves the tree of size to extends the tree of size from
// (to 0: the latest checkpoint's size).
func (l *Log) ProveConsistency(ctx context.Context, from, to int64) (*ConsistencyProof, error) {
	if to == 0 {
		to = l.checkpointSize()
	}
	if to > l.Size() {
		return nil, errs.Invalid("to", "maximum", "the tree is smaller than that", "树的规模小于该值")
	}
	if from < 1 || from > to {
		return nil, errs.Invalid("from", "range", "from must be between 1 and to", "from 应在 1 与 to 之间")
	}
	r := l.hashReader(ctx)
	proof, err := merkle.ProveTree(l.hasher, to, from, r)
	if err != nil {
		return nil, err
	}
	fr, err := l.rootAt(from, r)
	if err != nil {
		return nil, err
	}
	tr, err := l.rootAt(to, r)
	if err != nil {
		return nil, err
	}
	return &ConsistencyProof{From: from, To: to, FromRoot: base64.StdEncoding.EncodeToString(fr[:]), ToRoot: base64.StdEncoding.EncodeToString(tr[:]),
		Hasher: l.hasher.Name(), Proof: b64(proof)}, nil
}

func hexHash(h merkle.Hash) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 64)
	for i, c := range h {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(b)
}

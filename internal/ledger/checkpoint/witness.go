package checkpoint

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
)

// ConsistencyVerifier checks an RFC 6962 consistency proof that the tree of
// oldSize leaves with root oldRoot is a prefix of the tree of newSize leaves
// with root newRoot (0 < oldSize < newSize). With golang.org/x/mod/sumdb/tlog:
//
//	func(p [][32]byte, oldSize int64, oldRoot [32]byte, newSize int64, newRoot [32]byte) error {
//		proof := make(tlog.TreeProof, len(p))
//		for i := range p {
//			proof[i] = tlog.Hash(p[i])
//		}
//		return tlog.CheckTree(proof, newSize, newRoot, oldSize, oldRoot)
//	}
//
// Note tlog.CheckTree's argument order: the larger tree comes first.
type ConsistencyVerifier = func(proof [][HashSize]byte, oldSize int64, oldRoot [HashSize]byte, newSize int64, newRoot [HashSize]byte) error

// Witness is a witness's view of one log, identified by its origin: the last
// checkpoint it accepted (and may have cosigned). It does no I/O and does not
// check signatures: verify the log's signature on a checkpoint (with
// [Verify]) before passing it to [Witness.Check], and persist [Witness.Last]
// after every accepted checkpoint, before cosigning it. A Witness is safe
// for concurrent use.
type Witness struct {
	origin string

	mu   sync.Mutex
	last *Checkpoint
}

// NewWitness returns the witness state for the log origin, resuming from
// last (nil for a log never seen before).
func NewWitness(origin string, last *Checkpoint) (*Witness, error) {
	if origin == "" {
		return nil, errors.New("checkpoint: witness: empty origin")
	}
	w := &Witness{origin: origin}
	if last != nil {
		if last.Origin != origin {
			return nil, &OriginMismatchError{Want: origin, Got: last.Origin}
		}
		w.last = clone(last)
	}
	return w, nil
}

// Origin is the log this witness follows.
func (w *Witness) Origin() string { return w.origin }

// Last returns a copy of the last accepted checkpoint, or nil if none.
func (w *Witness) Last() *Checkpoint {
	w.mu.Lock()
	defer w.mu.Unlock()
	return clone(w.last)
}

// Check decides whether next (whose log signature the caller verified) may
// be accepted, and if so makes it the witness's last checkpoint.
//
// prev is the checkpoint the submitter believes the witness holds, the one
// consistencyProof starts from (nil for none, as in the "old 0" of
// c2sp.org/tlog-witness). If it is not the witness's last checkpoint, Check
// returns a *[ConflictError] carrying the witness's actual state, so the
// submitter can retry with a proof from there. Then, compared with the last
// checkpoint:
//
//   - a different origin is an *[OriginMismatchError];
//   - no last checkpoint: next is accepted without a proof (trust on first
//     use);
//   - a smaller size is a *[RollbackError];
//   - the same size and a different root is a *[SplitViewError]; the same
//     root is accepted (nothing changes);
//   - a larger size needs a consistency proof that verify accepts (an empty
//     proof from the empty tree); otherwise it is an *[InconsistentError].
//
// The state changes only when Check returns nil.
func (w *Witness) Check(prev *Checkpoint, next Checkpoint, consistencyProof [][HashSize]byte, verify ConsistencyVerifier) error {
	if next.Origin != w.origin {
		return &OriginMismatchError{Want: w.origin, Got: next.Origin}
	}
	if prev != nil && prev.Origin != w.origin {
		return &OriginMismatchError{Want: w.origin, Got: prev.Origin}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	last := w.last
	if !sameTree(prev, last) {
		return &ConflictError{Origin: w.origin, Have: clone(last), Claimed: clone(prev)}
	}
	if last == nil {
		w.last = clone(&next)
		return nil
	}
	switch {
	case next.Size < last.Size:
		return &RollbackError{Origin: w.origin, Prev: *clone(last), Next: *clone(&next)}
	case next.Size == last.Size:
		if next.Root != last.Root {
			return &SplitViewError{Origin: w.origin, Size: next.Size, PrevRoot: last.Root, NextRoot: next.Root}
		}
		return nil
	}
	if err := checkConsistency(last, &next, consistencyProof, verify); err != nil {
		return &InconsistentError{Origin: w.origin, Prev: *clone(last), Next: *clone(&next), Err: err}
	}
	w.last = clone(&next)
	return nil
}

func checkConsistency(old, next *Checkpoint, proof [][HashSize]byte, verify ConsistencyVerifier) error {
	if old.Size == 0 {
		// Every tree extends the empty tree; RFC 9162 proofs from size 0 are
		// empty.
		if len(proof) != 0 {
			return fmt.Errorf("consistency proof from the empty tree must be empty, have %d hashes", len(proof))
		}
		return nil
	}
	if next.Size > math.MaxInt64 {
		return fmt.Errorf("tree size %d is too large", next.Size)
	}
	if verify == nil {
		return errors.New("no consistency proof verifier")
	}
	return verify(proof, int64(old.Size), old.Root, int64(next.Size), next.Root)
}

// sameTree reports whether a and b are both nil or have the same size and
// root.
func sameTree(a, b *Checkpoint) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Size == b.Size && a.Root == b.Root
}

func clone(c *Checkpoint) *Checkpoint {
	if c == nil {
		return nil
	}
	d := *c
	d.Extensions = slices.Clone(c.Extensions)
	return &d
}

// OriginMismatchError reports a checkpoint for a different log than the
// witness follows.
type OriginMismatchError struct {
	Want, Got string
}

func (e *OriginMismatchError) Error() string {
	return fmt.Sprintf("origin mismatch: witness follows log %q, checkpoint is for %q", e.Want, e.Got)
}

// ConflictError reports that the submitter's idea of the witness's last
// checkpoint (Claimed) is not what the witness holds (Have; nil for none).
// It is not evidence of misbehaviour: the submitter should retry from Have.
type ConflictError struct {
	Origin        string
	Have, Claimed *Checkpoint
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflict: witness holds %s for log %s, submitter assumed %s", describe(e.Have), e.Origin, describe(e.Claimed))
}

// RollbackError reports a checkpoint smaller than one the witness already
// accepted for the same log.
type RollbackError struct {
	Origin     string
	Prev, Next Checkpoint
}

func (e *RollbackError) Error() string {
	return fmt.Sprintf("rollback detected: log %s showed size %d root %s before and size %d root %s now",
		e.Origin, e.Prev.Size, encodeRoot(e.Prev.Root), e.Next.Size, encodeRoot(e.Next.Root))
}

// SplitViewError reports two different roots for the same tree size: the
// log signed two incompatible views of itself.
type SplitViewError struct {
	Origin             string
	Size               uint64
	PrevRoot, NextRoot [HashSize]byte
}

func (e *SplitViewError) Error() string {
	return fmt.Sprintf("split view detected: log %s showed size %d root %s before and root %s now",
		e.Origin, e.Size, encodeRoot(e.PrevRoot), encodeRoot(e.NextRoot))
}

// InconsistentError reports a larger checkpoint that was not proven to
// extend the last accepted one: the consistency proof was missing or
// invalid (Err says why). Unless the proof was damaged in transit, a valid
// signature on Next means the log forked.
type InconsistentError struct {
	Origin     string
	Prev, Next Checkpoint
	Err        error
}

func (e *InconsistentError) Error() string {
	return fmt.Sprintf("inconsistent checkpoint: log %s size %d root %s is not proven to extend size %d root %s seen before: %v",
		e.Origin, e.Next.Size, encodeRoot(e.Next.Root), e.Prev.Size, encodeRoot(e.Prev.Root), e.Err)
}

func (e *InconsistentError) Unwrap() error { return e.Err }

func describe(c *Checkpoint) string {
	if c == nil {
		return "no checkpoint"
	}
	return fmt.Sprintf("size %d root %s", c.Size, encodeRoot(c.Root))
}

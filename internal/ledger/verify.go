package ledger

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/checkpoint"
	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"golang.org/x/mod/sumdb/tlog"
)

// Problem is one inconsistency found by Verify. Index is the first entry
// concerned (-1 when none is).
type Problem struct {
	Index int64  `json:"index"`
	What  string `json:"what"`
}

// Report is the result of Verify.
type Report struct {
	Size        int64     `json:"size"`
	Entries     int64     `json:"entries"`
	Checkpoints int       `json:"checkpoints"`
	Problems    []Problem `json:"problems"`
}

// OK reports whether nothing was wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(index int64, format string, args ...any) {
	if len(r.Problems) < 10000 {
		r.Problems = append(r.Problems, Problem{Index: index, What: fmt.Sprintf(format, args...)})
	}
}

// Verify recomputes the whole tree from the stored entries and compares it
// with every stored hash tile and every signed checkpoint, and with the
// checkpoint copy kept outside the database (checkpointFile, optional).
// Changed, removed or reordered entries and edited hashes are reported by
// entry index. It reads the database only.
func Verify(ctx context.Context, d *db.DB, prof *crypto.Profile, origin, checkpointFile string) (*Report, error) {
	h := HasherFor(prof)
	rep := &Report{}
	if err := d.QueryRow(ctx, `SELECT COALESCE(MAX(size), 0) FROM ledger_state`).Scan(&rep.Size); err != nil {
		return nil, err
	}
	// Checkpoints to check against recomputed roots, smallest first.
	type cpRow struct {
		size int64
		root string
		note string
	}
	var cps []cpRow
	rows, err := d.Query(ctx, `SELECT size, root, note FROM ledger_checkpoints ORDER BY size`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c cpRow
		if err := rows.Scan(&c.size, &c.root, &c.note); err != nil {
			rows.Close()
			return nil, err
		}
		cps = append(cps, c)
	}
	rows.Close()
	lv, err := checkpoint.NewVerifier(origin, prof.Ed25519Signer().Public())
	if err != nil {
		return nil, err
	}
	roots := map[int64]merkle.Hash{}
	want := map[int64]bool{}
	for _, c := range cps {
		want[c.size] = true
	}
	var fileCP *checkpoint.Checkpoint
	if checkpointFile != "" {
		if b, err := os.ReadFile(checkpointFile); err == nil {
			cp, err := checkpoint.Verify(b, lv)
			if err != nil {
				rep.add(-1, "the checkpoint file %s does not verify with the log key: %v", checkpointFile, err)
			} else {
				fileCP = &cp
				want[int64(cp.Size)] = true
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}

	// Stored tiles, read level by level as the recomputation reaches them.
	tiles := map[[2]int64]*tile{}
	storedTile := func(L int, n int64) *tile {
		k := [2]int64{int64(L), n}
		if t, ok := tiles[k]; ok {
			return t
		}
		var width int
		var data, interior []byte
		err := d.QueryRow(ctx, `SELECT width, data, interior FROM ledger_tiles WHERE level = ? AND n = ?`, L, n).Scan(&width, &data, &interior)
		var t *tile
		if err == nil {
			t, _ = parseTile(width, data, interior)
		}
		tiles[k] = t // nil: missing or malformed
		return t
	}
	b, _ := merkle.NewBuilder(h, 0, nil)
	var badLeaves []int64 // sorted
	coveredBad := func(level int, n int64) bool {
		lo, hi := n<<level, (n+1)<<level
		i := sort.Search(len(badLeaves), func(i int) bool { return badLeaves[i] >= lo })
		return i < len(badLeaves) && badLeaves[i] < hi
	}
	reportedTiles := map[[2]int64]bool{}
	check := func(s merkle.IndexedHash) {
		level, n := tlog.SplitStoredHashIndex(s.Index)
		L, sub := level/8, level%8
		tn := (n << sub) >> 8
		t := storedTile(L, tn)
		first := n << level
		if t == nil {
			if !reportedTiles[[2]int64{int64(L), tn}] {
				reportedTiles[[2]int64{int64(L), tn}] = true
				rep.add(first, "hash tile %d/%d is missing or malformed", L, tn)
			}
			return
		}
		pos := n - tn*int64(256>>sub)
		if pos >= int64(t.count(sub)) {
			return // beyond what this tile stored; the size check reports it
		}
		if t.hash(sub, int(pos)) == s.Hash {
			return
		}
		if level == 0 {
			badLeaves = append(badLeaves, n)
			rep.add(n, "entry %d does not match its stored leaf hash: changed, removed or reordered", n)
			return
		}
		if !coveredBad(level, n) {
			rep.add(first, "stored hash at level %d index %d (entries %d..%d) differs from the recomputed one", level, n, first, ((n+1)<<level)-1)
		}
	}
	var next int64
	brows, err := d.Query(ctx, `SELECT n, width, data FROM ledger_bundles ORDER BY n`)
	if err != nil {
		return nil, err
	}
	defer brows.Close()
	for brows.Next() {
		var n int64
		var width int
		var data []byte
		if err := brows.Scan(&n, &width, &data); err != nil {
			return nil, err
		}
		if n*256 != next {
			rep.add(next, "entry bundle %d is missing (entries %d..%d)", next/256, next, n*256-1)
			// Leaves are missing: the rest cannot line up; keep counting.
		}
		entries, err := merkle.ParseBundle(data)
		if err != nil {
			rep.add(n*256, "entry bundle %d is malformed: %v", n, err)
			continue
		}
		if len(entries) != width {
			rep.add(n*256+int64(min(len(entries), width)), "entry bundle %d holds %d entries but records width %d: entries removed or added", n, len(entries), width)
		}
		if n*256+int64(len(entries)) < rep.Size && len(entries) < 256 {
			rep.add(n*256+int64(len(entries)), "entry bundle %d holds %d entries, 256 expected: entries %d.. removed", n, len(entries), n*256+int64(len(entries)))
		}
		for _, e := range entries {
			for _, s := range b.AppendBatch([]merkle.Hash{h.LeafHash(e)}) {
				check(s)
			}
			next++
			if want[next] {
				roots[next] = b.Root()
			}
		}
	}
	if err := brows.Err(); err != nil {
		return nil, err
	}
	rep.Entries = next
	if next > rep.Size {
		// A live log: appends committed after the size was read, and the
		// bundles (read by one later statement, one snapshot) hold them.
		// They are verified like the rest; only entries beyond the size
		// the log has now are out of place.
		var now int64
		if err := d.QueryRow(ctx, `SELECT COALESCE(MAX(size), 0) FROM ledger_state`).Scan(&now); err != nil {
			return nil, err
		}
		if next <= now {
			rep.Size = next
		}
	}
	if next != rep.Size {
		rep.add(min(next, rep.Size), "the log's size is %d but the stored bundles hold %d entries", rep.Size, next)
	}
	var badRoots []int64
	for _, c := range cps {
		rep.Checkpoints++
		cp, err := checkpoint.Verify([]byte(c.note), lv)
		if err != nil {
			rep.add(-1, "checkpoint of size %d: signature does not verify: %v", c.size, err)
			continue
		}
		if int64(cp.Size) != c.size || base64.StdEncoding.EncodeToString(cp.Root[:]) != c.root {
			rep.add(-1, "checkpoint of size %d: the signed note says size %d root %x", c.size, cp.Size, cp.Root)
		}
		root, ok := roots[c.size]
		if !ok {
			rep.add(min(c.size, next), "checkpoint of size %d is larger than the %d stored entries: entries missing (rolled back?)", c.size, next)
			continue
		}
		if root != cp.Root {
			badRoots = append(badRoots, c.size)
		}
	}
	if len(badRoots) > 0 {
		rep.add(-1, "%d signed checkpoints (sizes %d to %d) have roots that differ from the roots recomputed from the stored entries",
			len(badRoots), badRoots[0], badRoots[len(badRoots)-1])
	}
	if fileCP != nil {
		size := int64(fileCP.Size)
		if root, ok := roots[size]; !ok {
			rep.add(min(size, next), "the checkpoint file (outside the database) is signed at size %d but the database holds %d entries: the database was rolled back or entries removed", size, next)
		} else if root != fileCP.Root {
			rep.add(-1, "the checkpoint file's signed root at size %d differs from the database's: the database was replaced", size)
		}
	}
	return rep, nil
}

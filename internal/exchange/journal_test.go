package exchange

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// replayAll opens the journal in dir and returns the records after from
// with their end positions.
func replayAll(t *testing.T, dir string, from journalPos) (*journal, []string, []journalPos) {
	t.Helper()
	j, err := openJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	var recs []string
	var ends []journalPos
	if _, err := j.replay(from, func(data []byte, end journalPos) error {
		recs = append(recs, string(data))
		ends = append(ends, end)
		return nil
	}); err != nil {
		j.close()
		t.Fatal(err)
	}
	return j, recs, ends
}

func appendRecs(t *testing.T, j *journal, recs ...string) []journalPos {
	t.Helper()
	bs := make([][]byte, len(recs))
	for i, r := range recs {
		bs[i] = []byte(r)
	}
	ends, err := j.append(bs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ends
}

// TestJournalAppendOrder: what an append's callback queues is in journal
// order even when many goroutines append at once (the ingester marks the
// journal position of the last record it moved in, so a record queued
// after one that follows it in the journal would be skipped at a replay).
func TestJournalAppendOrder(t *testing.T) {
	j, _, _ := replayAll(t, t.TempDir(), journalPos{})
	defer j.close()
	j.max = 4096 // rotate often: positions cross files
	var mu sync.Mutex
	var queued []journalPos
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 200 {
				if _, err := j.append([][]byte{[]byte(fmt.Sprintf("w%d-%d", w, i))}, func(ends []journalPos) {
					mu.Lock()
					queued = append(queued, ends...)
					mu.Unlock()
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if len(queued) != 16*200 {
		t.Fatalf("%d records queued, want %d", len(queued), 16*200)
	}
	for i := 1; i < len(queued); i++ {
		if !queued[i-1].before(queued[i]) {
			t.Fatalf("queued out of journal order at %d: %v then %v", i, queued[i-1], queued[i])
		}
	}
	if queued[len(queued)-1].gen == queued[0].gen {
		t.Fatal("the appends never crossed into a new file")
	}
}

// TestJournalReplay: records come back in order after a restart, from any
// stored position; a torn last frame (a write cut short by a kill) is cut
// off, and what is appended after the restart follows the last whole
// frame, so it is replayed too.
func TestJournalReplay(t *testing.T) {
	dir := t.TempDir()
	j, recs, _ := replayAll(t, dir, journalPos{})
	if len(recs) != 0 {
		t.Fatalf("a new journal replayed %q", recs)
	}
	e1 := appendRecs(t, j, "a", "bb")
	e2 := appendRecs(t, j, "ccc")
	if !e1[0].before(e1[1]) || !e1[1].before(e2[0]) {
		t.Fatalf("positions out of order: %v %v", e1, e2)
	}
	j.close()

	j, recs, ends := replayAll(t, dir, journalPos{})
	if !slices.Equal(recs, []string{"a", "bb", "ccc"}) || ends[2] != e2[0] {
		t.Fatalf("replayed %q ending %v, want a bb ccc ending %v", recs, ends, e2[0])
	}
	j.close()
	j, recs, _ = replayAll(t, dir, e1[1])
	if !slices.Equal(recs, []string{"ccc"}) {
		t.Fatalf("replayed from after bb: %q", recs)
	}
	j.close()

	// Half a frame at the end, as a kill in the middle of a write leaves.
	f, err := os.OpenFile(j.path(e2[0].gen), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{9, 0, 0, 0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	j, err = openJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	cut, err := j.replay(e2[0], func(data []byte, _ journalPos) error {
		t.Fatalf("a torn frame was replayed: %q", data)
		return nil
	})
	if err != nil || cut != 6 {
		t.Fatalf("replay over a torn frame: cut %d bytes (want 6), %v", cut, err)
	}
	appendRecs(t, j, "dddd")
	j.close()
	j, recs, _ = replayAll(t, dir, e2[0])
	defer j.close()
	if !slices.Equal(recs, []string{"dddd"}) {
		t.Fatalf("after the torn frame: %q, want dddd", recs)
	}
}

// TestJournalCorruption: a changed byte inside an earlier file (not its
// torn end) is an error, not a silent skip.
func TestJournalCorruption(t *testing.T) {
	dir := t.TempDir()
	j, _, _ := replayAll(t, dir, journalPos{})
	j.max = 16 // a new file after every append
	appendRecs(t, j, "first record")
	appendRecs(t, j, "second record")
	gens, _ := j.gens()
	j.close()
	if len(gens) != 2 {
		t.Fatalf("%d files, want 2", len(gens))
	}
	p := j.path(gens[0])
	b, _ := os.ReadFile(p)
	b[10] ^= 1
	if err := os.WriteFile(p, b, 0o640); err != nil {
		t.Fatal(err)
	}
	j2, err := openJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.close()
	if _, err := j2.replay(journalPos{}, func([]byte, journalPos) error { return nil }); err == nil {
		t.Fatal("a damaged record in an earlier file was not reported")
	}
}

// TestJournalRotation: appends move to a new file past the size limit;
// release removes the files before a generation, and a replay from a
// position in a later file skips (and removes) the earlier ones.
func TestJournalRotation(t *testing.T) {
	dir := t.TempDir()
	j, _, _ := replayAll(t, dir, journalPos{})
	j.max = 100
	var all []string
	var ends []journalPos
	for i := range 20 {
		r := fmt.Sprintf("record %02d with some padding", i)
		all = append(all, r)
		ends = append(ends, appendRecs(t, j, r)...)
	}
	gens, _ := j.gens()
	if len(gens) < 5 {
		t.Fatalf("%d files after 20 appends of 35 bytes with a 100-byte limit", len(gens))
	}
	j.close()
	j, recs, _ := replayAll(t, dir, journalPos{})
	if !slices.Equal(recs, all) {
		t.Fatalf("replay across files: %q", recs)
	}
	j.release(ends[10].gen)
	after, _ := j.gens()
	if after[0] != ends[10].gen {
		t.Fatalf("files %v after release(%d)", after, ends[10].gen)
	}
	j.close()
	j, recs, _ = replayAll(t, dir, ends[15])
	defer j.close()
	if !slices.Equal(recs, all[16:]) {
		t.Fatalf("replay from record 15's end: %q", recs)
	}
	if left, _ := j.gens(); left[0] != ends[15].gen {
		t.Fatalf("files %v left after replaying from generation %d", left, ends[15].gen)
	}
}

// TestJournalLock: a second process (here: a second open) cannot use the
// same journal.
func TestJournalLock(t *testing.T) {
	dir := t.TempDir()
	j, err := openJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openJournal(dir); err == nil {
		t.Fatal("the journal was opened twice")
	}
	j.close()
	j, err = openJournal(dir)
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	j.close()
	if _, err := os.Stat(filepath.Join(dir, "LOCK")); err != nil {
		t.Fatal(err)
	}
}

// TestJournalID: a journal keeps the id it was first given (its row in
// ex_journals); only the first open reports it fresh.
func TestJournalID(t *testing.T) {
	dir := t.TempDir()
	j, err := openJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	id := j.id
	if id == "" || !j.fresh {
		t.Fatalf("first open: id %q fresh %v", id, j.fresh)
	}
	j.close()
	j, err = openJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	if j.id != id || j.fresh {
		t.Fatalf("reopen: id %q fresh %v, want %q and not fresh", j.id, j.fresh, id)
	}
	other := t.TempDir()
	k, err := openJournal(other)
	if err != nil {
		t.Fatal(err)
	}
	defer k.close()
	if k.id == id {
		t.Fatal("two journals share an id")
	}
}

// TestJournalPositionPastEnd: when the stored position lies past what the
// files hold (a file removed outside Shuzhi), new records go to a new file,
// so a later replay from that position does not skip them.
func TestJournalPositionPastEnd(t *testing.T) {
	dir := t.TempDir()
	j, _, _ := replayAll(t, dir, journalPos{})
	ends := appendRecs(t, j, "one", "two")
	j.close()
	if err := os.Remove(j.path(ends[1].gen)); err != nil {
		t.Fatal(err)
	}
	j, recs, _ := replayAll(t, dir, ends[1])
	if len(recs) != 0 {
		t.Fatalf("replayed %q from a removed file", recs)
	}
	after := appendRecs(t, j, "three")
	j.close()
	if !ends[1].before(after[0]) {
		t.Fatalf("new record at %v, not after the stored position %v", after[0], ends[1])
	}
	j, recs, _ = replayAll(t, dir, ends[1])
	defer j.close()
	if !slices.Equal(recs, []string{"three"}) {
		t.Fatalf("replayed %q, want three", recs)
	}
}

package exchange

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The access journal (SQLite by default; PostgreSQL with --exchange-journal
// on). A query's access record is
// appended to a local file with one write and the query answered; the
// records are then moved into the access tables (ex_access, ex_batches) in
// the background, many per transaction, together with the journal position
// they reach (ex_journal). The file is on the same disk as the SQLite
// database and written the way SQLite's WAL is with synchronous=NORMAL (no
// fsync per write): a record a query was answered with survives the
// process being killed, and after a restart the records past the stored
// position are moved in before anything reads the access log.
//
// Files are dir/access-<gen, 16 hex digits>.log, each a sequence of frames:
// 4 bytes little-endian length, 4 bytes CRC-32C of the payload, the payload
// (an access record's canonical JSON, its leaf data). A new file is started
// when the current one passes journalFileMax; files wholly moved in are
// removed.

// journalFileMax is the size at which appends move to a new file.
const journalFileMax = 64 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// journalPos is a position in the journal: a file's generation and an
// offset in it.
type journalPos struct{ gen, off int64 }

func (p journalPos) before(q journalPos) bool {
	return p.gen < q.gen || (p.gen == q.gen && p.off < q.off)
}

type journal struct {
	dir  string
	max  int64
	lock *os.File // dir/LOCK, flock'ed while open
	// id names this journal in the database (ex_journals), so that several
	// processes sharing a PostgreSQL database each keep their own
	// position; fresh is true when the id was made by this open.
	id    string
	fresh bool

	mu   sync.Mutex
	f    *os.File
	gen  int64
	size int64
	buf  []byte
}

// openJournal locks dir (creating it); a second process on the same data
// directory gets an error.
func openJournal(dir string) (*journal, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("access journal: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("access journal: %w", err)
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		return nil, fmt.Errorf("access journal %s is in use by another process: %w", dir, err)
	}
	id, fresh, err := journalID(dir)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("access journal: %w", err)
	}
	return &journal{dir: dir, max: journalFileMax, lock: lock, id: id, fresh: fresh}, nil
}

// journalID reads the journal's id from dir/ID, or makes one (written to a
// temporary file, synced and renamed, so that a crash leaves no half id).
func journalID(dir string) (id string, fresh bool, err error) {
	path := filepath.Join(dir, "ID")
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id == "" {
			return "", false, fmt.Errorf("%s is empty", path)
		}
		return id, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	id = newID()
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return "", false, err
	}
	if _, err := f.WriteString(id + "\n"); err != nil {
		f.Close()
		return "", false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", false, err
	}
	if err := f.Close(); err != nil {
		return "", false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", false, err
	}
	return id, true, nil
}

func (j *journal) path(gen int64) string {
	return filepath.Join(j.dir, fmt.Sprintf("access-%016x.log", gen))
}

// gens lists the journal files' generations in order.
func (j *journal) gens() ([]int64, error) {
	ents, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, e := range ents {
		name, ok := strings.CutPrefix(e.Name(), "access-")
		if !ok {
			continue
		}
		name, ok = strings.CutSuffix(name, ".log")
		if !ok {
			continue
		}
		g, err := strconv.ParseInt(name, 16, 64)
		if err == nil {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out, nil
}

// replay calls fn with every record after from, in order, with the
// position just past it; then it opens the last file for appending, cut
// back to its last whole frame (a write the process was killed in the
// middle of was never acknowledged), and removes files before from. It
// returns how many bytes it cut.
func (j *journal) replay(from journalPos, fn func(data []byte, end journalPos) error) (cut int64, err error) {
	gens, err := j.gens()
	if err != nil {
		return 0, fmt.Errorf("access journal: %w", err)
	}
	for i, g := range gens {
		last := i == len(gens)-1
		if g < from.gen {
			if err := os.Remove(j.path(g)); err != nil {
				return 0, fmt.Errorf("access journal: %w", err)
			}
			continue
		}
		b, err := os.ReadFile(j.path(g))
		if err != nil {
			return 0, fmt.Errorf("access journal: %w", err)
		}
		off := int64(0)
		if g == from.gen {
			off = min(from.off, int64(len(b)))
		}
		for {
			data, n := frameAt(b, off)
			if n == 0 {
				break
			}
			off += n
			if err := fn(data, journalPos{g, off}); err != nil {
				return 0, err
			}
		}
		if off < int64(len(b)) && !last {
			return 0, fmt.Errorf("access journal: %s is damaged at offset %d (not its end)", j.path(g), off)
		}
		if last {
			f, err := os.OpenFile(j.path(g), os.O_RDWR, 0o640)
			if err != nil {
				return 0, fmt.Errorf("access journal: %w", err)
			}
			// Cut a torn last frame; keep everything from an earlier
			// position that was already moved in.
			valid := validEnd(b)
			if err := f.Truncate(valid); err != nil {
				f.Close()
				return 0, fmt.Errorf("access journal: %w", err)
			}
			j.f, j.gen, j.size = f, g, valid
			cut = int64(len(b)) - valid
		}
	}
	// Offsets only grow within a file: if the stored position lies past the
	// end of the file (it was removed or cut outside Shuzhi), new records go
	// to a new file rather than below that position.
	if j.f == nil || (j.gen == from.gen && j.size < from.off) {
		return cut, j.rotate(max(from.gen+1, j.gen+1, 1))
	}
	return cut, nil
}

// frameAt decodes the frame at off; n = 0 when there is no whole, intact
// frame there.
func frameAt(b []byte, off int64) (data []byte, n int64) {
	if int64(len(b))-off < 8 {
		return nil, 0
	}
	l := int64(binary.LittleEndian.Uint32(b[off:]))
	sum := binary.LittleEndian.Uint32(b[off+4:])
	if int64(len(b))-off-8 < l {
		return nil, 0
	}
	data = b[off+8 : off+8+l]
	if crc32.Checksum(data, castagnoli) != sum {
		return nil, 0
	}
	return data, 8 + l
}

// validEnd is the end of the last whole frame of b.
func validEnd(b []byte) int64 {
	off := int64(0)
	for {
		_, n := frameAt(b, off)
		if n == 0 {
			return off
		}
		off += n
	}
}

// rotate starts file gen for appends.
func (j *journal) rotate(gen int64) error {
	f, err := os.OpenFile(j.path(gen), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("access journal: %w", err)
	}
	if j.f != nil {
		j.f.Close()
	}
	j.f, j.gen, j.size = f, gen, 0
	return nil
}

// append writes the records in one write and returns the position after
// each; then, if not nil, runs with the positions before the next append
// begins (so that what it queues is in journal order).
func (j *journal) append(records [][]byte, then func(ends []journalPos)) ([]journalPos, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil, errors.New("access journal: closed")
	}
	if j.size >= j.max {
		if err := j.rotate(j.gen + 1); err != nil {
			return nil, err
		}
	}
	j.buf = j.buf[:0]
	ends := make([]journalPos, len(records))
	for i, r := range records {
		j.buf = binary.LittleEndian.AppendUint32(j.buf, uint32(len(r)))
		j.buf = binary.LittleEndian.AppendUint32(j.buf, crc32.Checksum(r, castagnoli))
		j.buf = append(j.buf, r...)
		ends[i] = journalPos{j.gen, j.size + int64(len(j.buf))}
	}
	n, err := j.f.WriteAt(j.buf, j.size)
	if err != nil {
		// A partial write is cut off, so that the next frame starts
		// where this one did.
		if n > 0 {
			_ = j.f.Truncate(j.size)
		}
		return nil, fmt.Errorf("access journal: %w", err)
	}
	j.size += int64(n)
	if then != nil {
		then(ends)
	}
	return ends, nil
}

// release removes the files before gen (their records are moved in).
func (j *journal) release(gen int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	gens, err := j.gens()
	if err != nil {
		return
	}
	for _, g := range gens {
		if g < gen && g != j.gen {
			_ = os.Remove(j.path(g))
		}
	}
}

func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var err error
	if j.f != nil {
		err = j.f.Close()
		j.f = nil
	}
	if j.lock != nil {
		_ = j.lock.Close()
		j.lock = nil
	}
	return err
}

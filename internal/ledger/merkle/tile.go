package merkle

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	// TileHeight is the C2SP tlog-tiles tile height: a tile spans 8 tree
	// levels and holds the hashes of its bottom level.
	TileHeight = 8
	// TileWidth is the number of hashes in a full tile (and of entries in a
	// full entry bundle).
	TileWidth = 1 << TileHeight
	// maxTileLevel is the largest tile level of a tree with an int64 size
	// (tree levels up to 62).
	maxTileLevel = 7
	// maxTileN bounds tile numbers so that N*256+W fits in an int64.
	maxTileN = (1<<63 - 1) >> TileHeight
)

// Tile is a C2SP tlog-tiles tile: the hashes of tree level TileHeight*L at
// positions TileWidth*N to TileWidth*N+W-1. W is 1..256; W < 256 is a
// partial tile (the right edge of a level). The same (N, W) also names entry
// bundle N, which holds records TileWidth*N to TileWidth*N+W-1.
type Tile struct {
	L int   // tile level, 0..63 in paths (0..7 for int64 tree sizes)
	N int64 // tile number within the level
	W int   // width, 1..256
}

// Path returns "tile/<L>/<N>[.p/<W>]", N written as 3-digit groups, all but
// the last prefixed with "x" (1234067 -> "x001/x234/067").
func (t Tile) Path() string {
	b := make([]byte, 0, 40)
	b = append(b, "tile/"...)
	b = strconv.AppendInt(b, int64(t.L), 10)
	return string(appendNW(b, t.N, t.W))
}

// EntriesPath returns the path of the entry bundle with the same N and W,
// "tile/entries/<N>[.p/<W>]". L is ignored; bundle N goes with level-0 tile N.
func (t Tile) EntriesPath() string {
	b := make([]byte, 0, 40)
	b = append(b, "tile/entries"...)
	return string(appendNW(b, t.N, t.W))
}

// String returns the path.
func (t Tile) String() string { return t.Path() }

func appendNW(b []byte, n int64, w int) []byte {
	var groups [7]int64 // an int64 has at most 19 digits
	k := 0
	for {
		groups[k] = n % 1000
		n /= 1000
		k++
		if n <= 0 {
			break
		}
	}
	for i := k - 1; i >= 0; i-- {
		b = append(b, '/')
		if i > 0 {
			b = append(b, 'x')
		}
		g := groups[i]
		if g < 0 {
			g = -g // only for an invalid negative N; never parses back
		}
		b = append(b, byte('0'+g/100), byte('0'+g/10%10), byte('0'+g%10))
	}
	if w != TileWidth {
		b = append(b, ".p/"...)
		b = strconv.AppendInt(b, int64(w), 10)
	}
	return b
}

// ParseTilePath parses a hash tile path "tile/<L>/<N>[.p/<W>]". It accepts
// only the canonical form Path produces: L in 0..63 without leading zeros,
// N in 3-digit groups with "x" on all but the last, W in 1..255 without
// leading zeros for a partial tile.
func ParseTilePath(path string) (Tile, error) {
	t, entries, err := ParsePath(path)
	if err != nil {
		return Tile{}, err
	}
	if entries {
		return Tile{}, &PathError{path, "an entry bundle, not a hash tile"}
	}
	return t, nil
}

// ParseEntriesPath parses an entry bundle path "tile/entries/<N>[.p/<W>]".
// The returned Tile has L = 0.
func ParseEntriesPath(path string) (Tile, error) {
	t, entries, err := ParsePath(path)
	if err != nil {
		return Tile{}, err
	}
	if !entries {
		return Tile{}, &PathError{path, "a hash tile, not an entry bundle"}
	}
	return t, nil
}

// ParsePath parses a hash tile or entry bundle path; entries reports which.
func ParsePath(path string) (t Tile, entries bool, err error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return Tile{}, false, &PathError{path, `not under "tile/"`}
	}
	first, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return Tile{}, false, &PathError{path, "no tile number"}
	}
	if first == "entries" {
		entries = true
	} else {
		l, ok := parseDecimal(first, 2)
		if !ok || l > 63 {
			return Tile{}, false, &PathError{path, "bad tile level"}
		}
		t.L = int(l)
	}
	t.W = TileWidth
	if nPart, wPart, ok := strings.Cut(rest, ".p/"); ok {
		w, ok := parseDecimal(wPart, 3)
		if !ok || w < 1 || w >= TileWidth {
			return Tile{}, false, &PathError{path, "bad partial tile width"}
		}
		t.W = int(w)
		rest = nPart
	}
	// N: "xDDD/" * k, then "DDD".
	groups := 0
	for {
		g, tail, more := strings.Cut(rest, "/")
		if more {
			if len(g) != 4 || g[0] != 'x' {
				return Tile{}, false, &PathError{path, "bad tile number"}
			}
			g = g[1:]
		} else if len(g) != 3 {
			return Tile{}, false, &PathError{path, "bad tile number"}
		}
		d, ok := parse3(g)
		if !ok {
			return Tile{}, false, &PathError{path, "bad tile number"}
		}
		groups++
		if groups > 7 || t.N > (maxTileN-d)/1000 {
			return Tile{}, false, &PathError{path, "tile number too large"}
		}
		t.N = t.N*1000 + d
		if !more {
			break
		}
		rest = tail
	}
	// Only the canonical form: no zero leading groups ("x000/001" is 1).
	want := t.Path()
	if entries {
		want = t.EntriesPath()
	}
	if want != path {
		return Tile{}, false, &PathError{path, "not canonical"}
	}
	return t, entries, nil
}

// parseDecimal parses 1..maxDigits decimal digits without leading zeros.
func parseDecimal(s string, maxDigits int) (int64, bool) {
	if len(s) == 0 || len(s) > maxDigits || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

func parse3(s string) (int64, bool) {
	var v int64
	for i := 0; i < 3; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// PathError reports a malformed tile or entry bundle path.
type PathError struct {
	Path   string
	Reason string
}

func (e *PathError) Error() string {
	return fmt.Sprintf("merkle: malformed tile path %q: %s", e.Path, e.Reason)
}

// TileForStorage returns every tile of a tree of size n: for each tile level
// with at least one hash, the full tiles and, if the level's hash count is
// not a multiple of 256, the partial right-edge tile. Level-0 tiles also
// name the entry bundles. It equals tlog.NewTiles(8, 0, n) (without H).
func TileForStorage(n int64) []Tile {
	return NewTiles(0, n)
}

// NewTiles returns the tiles that a tree of size newSize has and a tree of
// size oldSize did not have in that form: new full tiles and each level's
// grown partial tile (tlog.NewTiles). These are the tiles to write after
// growing the tree from oldSize to newSize.
func NewTiles(oldSize, newSize int64) []Tile {
	var tiles []Tile
	for L := 0; L <= maxTileLevel && newSize>>(TileHeight*uint(L)) > 0; L++ {
		oldN := oldSize >> (TileHeight * uint(L))
		newN := newSize >> (TileHeight * uint(L))
		if oldN >= newN {
			continue
		}
		for n := oldN >> TileHeight; n < newN>>TileHeight; n++ {
			tiles = append(tiles, Tile{L: L, N: n, W: TileWidth})
		}
		n := newN >> TileHeight
		if w := int(newN - n<<TileHeight); w > 0 {
			tiles = append(tiles, Tile{L: L, N: n, W: w})
		}
	}
	return tiles
}

// tileWidthAt returns the width tile (L, N) has in a tree of size n, or 0 if
// the tree does not reach it.
func tileWidthAt(L int, N, n int64) int {
	c := n >> (TileHeight * uint(L)) // hashes at tree level 8L
	w := c - N<<TileHeight
	if w <= 0 {
		return 0
	}
	return int(min(w, TileWidth))
}

func (t Tile) valid() error {
	if t.L < 0 || t.L > maxTileLevel || t.N < 0 || t.N > maxTileN || t.W < 1 || t.W > TileWidth {
		return fmt.Errorf("merkle: invalid tile L=%d N=%d W=%d", t.L, t.N, t.W)
	}
	return nil
}

// ReadTileData returns the contents of tile t: the W hashes of tree level
// 8*L at positions 256*N.. concatenated (tlog.ReadTileData).
func ReadTileData(h Hasher, t Tile, r HashReader) ([]byte, error) {
	if err := t.valid(); err != nil {
		return nil, err
	}
	size := h.Size()
	indexes := make([]int64, t.W)
	start := t.N << TileHeight
	for i := range indexes {
		indexes[i] = StoredHashIndex(TileHeight*t.L, start+int64(i))
	}
	hashes, err := readHashes(r, indexes)
	if err != nil {
		return nil, err
	}
	data := make([]byte, 0, t.W*size)
	for i := range hashes {
		data = append(data, hashes[i][:size]...)
	}
	return data, nil
}

// TileHash is a hash that belongs in a tile: the hash at position Index of
// tree level 8*L, i.e. entry Index%256 of tile (L, Index/256).
type TileHash struct {
	L     int
	Index int64
	Hash  Hash
}

// Tile returns the tile holding the hash, with the smallest width that does.
func (th TileHash) Tile() Tile {
	return Tile{L: th.L, N: th.Index >> TileHeight, W: int(th.Index&(TileWidth-1)) + 1}
}

// TileHashes returns, in order, the stored hashes that tiles hold (those of
// tree levels 0, 8, 16, ...), e.g. out of Builder.AppendBatch, so the caller
// can extend its tiles without reading anything back.
func TileHashes(stored []IndexedHash) []TileHash {
	var out []TileHash
	for _, s := range stored {
		level, n := SplitStoredHashIndex(s.Index)
		if level%TileHeight == 0 {
			out = append(out, TileHash{L: level / TileHeight, Index: n, Hash: s.Hash})
		}
	}
	return out
}

// TileReader reads tiles. It must return one []byte per tile, of exactly
// W*32 bytes (the tile's first W hashes; a longer stored tile is cut by the
// reader), or an error.
type TileReader interface {
	ReadTiles(tiles []Tile) ([][]byte, error)
}

// TileReaderFunc adapts a function to TileReader.
type TileReaderFunc func(tiles []Tile) ([][]byte, error)

// ReadTiles calls f(tiles).
func (f TileReaderFunc) ReadTiles(tiles []Tile) ([][]byte, error) { return f(tiles) }

// HashesFromTiles returns a HashReader that answers any stored-hash index of
// a tree of size n (or of any smaller tree: stored hashes never change) by
// reading only tiles of that tree — tree levels 0, 8, 16, ... — and
// recomputing the levels in between from at most 128 tile hashes. It asks tr
// for the tiles as a tree of size n has them (TileForStorage(n)): full
// tiles, and the right-edge partial tile of each level with its width at n.
// Set n to the size the stored tiles describe, not to a smaller size being
// proved. Unlike tlog.TileHashReader it does not check the tiles against a
// tree root; proofs built from bad tiles fail verification.
func HashesFromTiles(h Hasher, n int64, tr TileReader) HashReader {
	return &tileHashReader{h: h, n: n, tr: tr}
}

type tileHashReader struct {
	h  Hasher
	n  int64
	tr TileReader
}

func (r *tileHashReader) ReadHashes(indexes []int64) ([]Hash, error) {
	type loc struct {
		tile     int // index into tiles
		off, cnt int // hashes [off, off+cnt) of the tile
	}
	locs := make([]loc, len(indexes))
	var tiles []Tile
	var seen map[Tile]int
	for i, x := range indexes {
		if x < 0 || x >= StoredHashCount(r.n) {
			return nil, fmt.Errorf("merkle: stored hash %d is not in the tree of size %d", x, r.n)
		}
		level, k := SplitStoredHashIndex(x)
		L, sub := level/TileHeight, level%TileHeight
		first := k << uint(sub) // position at tree level 8L
		t := Tile{L: L, N: first >> TileHeight}
		t.W = tileWidthAt(L, t.N, r.n)
		off := int(first & (TileWidth - 1))
		cnt := 1 << uint(sub)
		if off+cnt > t.W { // cannot happen for an index below StoredHashCount(n)
			return nil, fmt.Errorf("merkle: bad math in HashesFromTiles: index %d, tile %v", x, t)
		}
		j := -1
		switch {
		case len(tiles) > 0 && tiles[len(tiles)-1] == t:
			j = len(tiles) - 1
		case seen != nil:
			if jj, ok := seen[t]; ok {
				j = jj
			}
		default:
			for jj := range tiles {
				if tiles[jj] == t {
					j = jj
					break
				}
			}
			if len(tiles) >= 16 { // switch to a map for long index lists
				seen = make(map[Tile]int, 2*len(tiles))
				for jj, tt := range tiles {
					seen[tt] = jj
				}
			}
		}
		if j < 0 {
			j = len(tiles)
			tiles = append(tiles, t)
			if seen != nil {
				seen[t] = j
			}
		}
		locs[i] = loc{j, off, cnt}
	}
	data, err := r.tr.ReadTiles(tiles)
	if err != nil {
		return nil, err
	}
	if len(data) != len(tiles) {
		return nil, fmt.Errorf("merkle: ReadTiles(%d tiles) = %d tiles", len(tiles), len(data))
	}
	size := r.h.Size()
	for i, t := range tiles {
		if len(data[i]) != t.W*size {
			return nil, fmt.Errorf("merkle: ReadTiles: tile %v has %d bytes, want %d", t, len(data[i]), t.W*size)
		}
	}
	hashes := make([]Hash, len(indexes))
	var scratch []Hash
	for i, l := range locs {
		d := data[l.tile][l.off*size : (l.off+l.cnt)*size]
		if l.cnt == 1 {
			copy(hashes[i][:], d)
			continue
		}
		if scratch == nil {
			scratch = make([]Hash, TileWidth/2)
		}
		// Pair up the cnt (a power of two) hashes level by level.
		for j := 0; j < l.cnt/2; j++ {
			var a, b Hash
			copy(a[:], d[2*j*size:])
			copy(b[:], d[(2*j+1)*size:])
			scratch[j] = r.h.NodeHash(a, b)
		}
		for m := l.cnt / 2; m > 1; m /= 2 {
			for j := 0; j < m/2; j++ {
				scratch[j] = r.h.NodeHash(scratch[2*j], scratch[2*j+1])
			}
		}
		hashes[i] = scratch[0]
	}
	return hashes, nil
}

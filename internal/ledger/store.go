package ledger

import (
	"container/list"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"golang.org/x/mod/sumdb/tlog"
)

// tile is a stored tile as its raw bytes: data holds the width hashes of
// its bottom level, interior the hashes of the 7 levels above, level by
// level (width>>1 hashes, then width>>2, ...). Hashes are read in place by
// offset (hash), never copied out as a whole.
//
// A full tile read from the database lives in a buffer of its cache's
// (pooled); refs counts who holds it — the cache while it is cached, and
// each reader between readTile and release — so that the buffer goes back
// to the cache's free list only when nobody can read it any more.
type tile struct {
	width    int
	data     []byte
	interior []byte
	buf      []byte // the cache's buffer data and interior are in, if pooled
	refs     atomic.Int32
}

// fullTileBytes is a full tile's data and interior together.
const fullTileBytes = 32*256 + 32*(256-2)

// parseTile checks the stored columns and wraps them (without copying).
func parseTile(width int, data, interior []byte) (*tile, error) {
	if width < 1 || width > 256 || len(data) != 32*width {
		return nil, fmt.Errorf("tile data is %d bytes for width %d", len(data), width)
	}
	if len(interior) < interiorOffset(width, 8) {
		return nil, fmt.Errorf("tile interior is %d bytes, too short for width %d", len(interior), width)
	}
	t := &tile{width: width, data: data, interior: interior}
	t.refs.Store(1)
	return t, nil
}

// interiorOffset is where tree level sub (1..8) of a tile of the given
// width starts in its interior (interiorOffset(w, 8) is the interior's size).
func interiorOffset(width, sub int) int {
	off := 0
	for s := 1; s < sub; s++ {
		off += 32 * (width >> s)
	}
	return off
}

// count is the number of hashes the tile holds at tree level sub (0..7).
func (t *tile) count(sub int) int { return t.width >> sub }

// hash returns hash pos of tree level sub; pos must be below count(sub).
func (t *tile) hash(sub int, pos int) merkle.Hash {
	var h merkle.Hash
	if sub == 0 {
		copy(h[:], t.data[32*pos:])
	} else {
		copy(h[:], t.interior[interiorOffset(t.width, sub)+32*pos:])
	}
	return h
}

// tileCache keeps full (immutable) tiles, least recently used out first,
// and the buffers of tiles it let go of for the next reads: a cold proof
// then reads its leaf tile into memory the process has touched before
// instead of into fresh pages (each a page fault; see PERFORMANCE.md).
type tileCache struct {
	mu     sync.Mutex
	max    int
	ll     *list.List
	items  map[[2]int64]*list.Element
	free   [][]byte
	reused int // buffers handed out again (tests)
}

// maxFreeTiles bounds the free list: tiles come back one per eviction and
// go out one per read, so a few are enough.
const maxFreeTiles = 16

type cacheItem struct {
	key [2]int64
	t   *tile
}

func newTileCache(max int) *tileCache {
	return &tileCache{max: max, ll: list.New(), items: map[[2]int64]*list.Element{}}
}

// get returns tile (L, n) if cached, held for the caller: release it.
func (c *tileCache) get(L int, n int64) *tile {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[[2]int64{int64(L), n}]; ok {
		c.ll.MoveToFront(e)
		t := e.Value.(*cacheItem).t
		t.refs.Add(1) // the cache's own reference keeps it above zero
		return t
	}
	return nil
}

// has reports whether tile (L, n) is cached, without holding it.
func (c *tileCache) has(L int, n int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.items[[2]int64{int64(L), n}]
	return ok
}

// put caches t (which the caller still holds) unless tile (L, n) is cached
// already, and lets go of the least recently used tiles beyond max.
func (c *tileCache) put(L int, n int64, t *tile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := [2]int64{int64(L), n}
	if _, ok := c.items[k]; ok {
		return
	}
	t.refs.Add(1)
	c.items[k] = c.ll.PushFront(&cacheItem{key: k, t: t})
	for c.ll.Len() > c.max {
		e := c.ll.Back()
		c.ll.Remove(e)
		old := e.Value.(*cacheItem).t
		delete(c.items, e.Value.(*cacheItem).key)
		if old.refs.Add(-1) == 0 {
			c.recycleLocked(old)
		}
	}
}

// release lets go of a tile from get or readTile.
func (c *tileCache) release(t *tile) {
	if t.refs.Add(-1) == 0 && t.buf != nil {
		c.mu.Lock()
		c.recycleLocked(t)
		c.mu.Unlock()
	}
}

func (c *tileCache) recycleLocked(t *tile) {
	if t.buf != nil && len(c.free) < maxFreeTiles {
		c.free = append(c.free, t.buf)
	}
	t.data, t.interior, t.buf = nil, nil, nil // a reader that did not hold it fails loudly
}

// buffer returns a buffer for a full tile: one let go of, or a new one.
func (c *tileCache) buffer() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := len(c.free); k > 0 {
		b := c.free[k-1]
		c.free = c.free[:k-1]
		c.reused++
		return b
	}
	return make([]byte, fullTileBytes)
}

// tileCaches keeps level-0 tiles and the tiles above in separate caches, so
// that proofs spread over many leaf tiles never push out the few upper
// tiles every proof needs (at 10M entries: 153 tiles of level 1, one of
// level 2).
type tileCaches struct {
	leaf, upper *tileCache
}

func newTileCaches(max int) tileCaches {
	return tileCaches{leaf: newTileCache(max), upper: newTileCache(max)}
}

func (c tileCaches) of(L int) *tileCache {
	if L == 0 {
		return c.leaf
	}
	return c.upper
}

func (c tileCaches) get(L int, n int64) *tile { return c.of(L).get(L, n) }

func (c tileCaches) has(L int, n int64) bool { return c.of(L).has(L, n) }

func (c tileCaches) put(L int, n int64, t *tile) { c.of(L).put(L, n, t) }

const tileQuery = `SELECT width, data, interior FROM ledger_tiles WHERE level = ? AND n = ?`

// readTile returns tile (L, n) as stored, held for the caller until
// releaseTile; full tiles come from the cache.
func (l *Log) readTile(ctx context.Context, L int, n int64) (*tile, error) {
	if t := l.tiles.get(L, n); t != nil {
		return t, nil
	}
	st, err := l.db.Prepared(ctx, tileQuery) // parsing it costs as much as running it on SQLite
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, L, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("tile %d/%d not stored", L, n)
	}
	// The driver's bytes, copied once into one buffer for the tile: a
	// recycled one for a full tile.
	var width int
	var data, interior sql.RawBytes
	if err := rows.Scan(&width, &data, &interior); err != nil {
		return nil, err
	}
	var buf []byte
	pooled := width == 256 && len(data)+len(interior) == fullTileBytes
	if pooled {
		buf = l.tiles.of(L).buffer()
		copy(buf[copy(buf, data):], interior)
	} else {
		// Not zeroed first: appending to a slice whose capacity is its
		// length makes append allocate anew (the driver's memory is left
		// alone) and copy into memory it does not clear (make would).
		buf = append(data[:len(data):len(data)], interior...)
	}
	t, err := parseTile(width, buf[:len(data):len(data)], buf[len(data):])
	if err != nil {
		return nil, fmt.Errorf("tile %d/%d: %w", L, n, err)
	}
	if pooled {
		t.buf = buf
	}
	if err := rows.Close(); err != nil {
		l.tiles.of(L).release(t)
		return nil, err
	}
	if width == 256 {
		l.tiles.put(L, n, t)
	}
	return t, nil
}

// releaseTile lets go of a tile from readTile.
func (l *Log) releaseTile(L int, t *tile) { l.tiles.of(L).release(t) }

// preloadUpper fills the upper-tile cache with the full tiles of levels 1
// and above, the top ones first, as far as the cache holds them. Every proof
// needs one tile of each of these levels; they are 1/256 of the tiles (at 10M
// entries 154 tiles, 2.4 MiB), so the first proofs after a start need not
// read them one by one.
func (l *Log) preloadUpper(ctx context.Context) error {
	rows, err := l.db.Query(ctx, `SELECT level, n, width, data, interior FROM ledger_tiles
		WHERE level >= 1 AND width = 256 ORDER BY level DESC, n DESC LIMIT ?`, l.tiles.upper.max)
	if err != nil {
		return fmt.Errorf("ledger: preload tiles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var L, width int
		var n int64
		var data, interior []byte
		if err := rows.Scan(&L, &n, &width, &data, &interior); err != nil {
			return fmt.Errorf("ledger: preload tiles: %w", err)
		}
		t, err := parseTile(width, data, interior)
		if err != nil {
			return fmt.Errorf("ledger: tile %d/%d: %w", L, n, err)
		}
		l.tiles.put(L, n, t)
		l.releaseTile(L, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger: preload tiles: %w", err)
	}
	return nil
}

// hashReader answers stored-hash indexes (tlog layout) from tiles: the
// right edge from the sequencer's memory, full tiles from the cache, the rest
// from the database (one read per tile, however many hashes it answers).
func (l *Log) hashReader(ctx context.Context) merkle.HashReader {
	return l.hashReaderLocking(ctx, true)
}

// hashReaderLocking is hashReader; lock false is for a caller that holds
// l.mu already or runs before anything else can use the log (load).
func (l *Log) hashReaderLocking(ctx context.Context, lock bool) merkle.HashReader {
	return merkle.HashReaderFunc(func(indexes []int64) ([]merkle.Hash, error) {
		out := make([]merkle.Hash, len(indexes))
		// First the right edge, under one read lock.
		var rest []int
		var at [64]hashLoc
		locs := at[:0]
		if len(indexes) > len(at) {
			locs = make([]hashLoc, 0, len(indexes))
		}
		if lock {
			l.mu.RLock()
		}
		for i, idx := range indexes {
			level, n := tlog.SplitStoredHashIndex(idx)
			L, sub := level/8, level%8
			tn := (n << sub) >> 8
			w := hashLoc{L: L, sub: sub, tn: tn, pos: int(n - tn*int64(256>>sub))}
			locs = append(locs, w)
			if h, ok := l.edgeHashLocked(w.L, w.tn, w.sub, w.pos); ok {
				out[i] = h
				continue
			}
			rest = append(rest, i)
		}
		if lock {
			l.mu.RUnlock()
		}
		// Then the tiles, each read once per call and held until its end.
		var hold [8]heldTile
		held, err := l.tileHashes(ctx, rest, locs, out, hold[:0])
		for _, h := range held {
			l.releaseTile(h.L, h.t)
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	})
}

// hashLoc is where a stored hash is: tile (L, tn), tree level sub of the
// tile, position pos in that level.
type hashLoc struct {
	L, sub int
	tn     int64
	pos    int
}

type heldTile struct {
	L  int
	tn int64
	t  *tile
}

// tileHashes answers out[i] for each i in rest from the tiles, and returns
// held with the tiles it read appended, for the caller to let go of (also
// after an error).
func (l *Log) tileHashes(ctx context.Context, rest []int, locs []hashLoc, out []merkle.Hash, held []heldTile) ([]heldTile, error) {
	for _, i := range rest {
		w := locs[i]
		var t *tile
		for k := len(held) - 1; k >= 0; k-- {
			if h := held[k]; h.L == w.L && h.tn == w.tn {
				t = h.t
				break
			}
		}
		if t == nil || w.pos >= t.count(w.sub) {
			var err error
			if t, err = l.readTile(ctx, w.L, w.tn); err != nil {
				return held, err
			}
			held = append(held, heldTile{w.L, w.tn, t})
		}
		if w.pos >= t.count(w.sub) {
			return held, fmt.Errorf("hash %d at level %d is not stored yet", int64(w.pos)+w.tn*int64(256>>w.sub), 8*w.L+w.sub)
		}
		out[i] = t.hash(w.sub, w.pos)
	}
	return held, nil
}

// edgeHash reads a hash from the in-memory right-edge tile of tile level L
// when that tile is tile n and already holds the hash. Hashes never change
// once written, so the edge can run ahead of the size being proved.
func (l *Log) edgeHash(L int, n int64, sub int, pos int64) (merkle.Hash, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.edgeHashLocked(L, n, sub, int(pos))
}

func (l *Log) edgeHashLocked(L int, n int64, sub int, pos int) (merkle.Hash, bool) {
	if L >= len(l.edges) {
		return merkle.Hash{}, false
	}
	e := l.edges[L]
	if e.n != n || pos >= len(e.subs[sub]) {
		return merkle.Hash{}, false
	}
	return e.subs[sub][pos], true
}

// orgKeys holds each acting organisation's signing key, created on first
// use and stored encrypted with the field key. The platform itself ("")
// signs with the log's own key.
type orgKeys struct {
	db   *db.DB
	prof *crypto.Profile
	mu   sync.Mutex
	keys map[string]crypto.Signer
}

func (k *orgKeys) signer(ctx context.Context, org string) (crypto.Signer, error) {
	if org == "" {
		return k.prof.Signer(), nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, ok := k.keys[org]; ok {
		return s, nil
	}
	var enc string
	err := k.db.QueryRow(ctx, `SELECT private_enc FROM ledger_org_keys WHERE org_id = ?`, org).Scan(&enc)
	switch {
	case err == nil:
		ct, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, err
		}
		der, err := k.prof.Fields().Decrypt(ct, []byte("ledger_org_keys:"+org))
		if err != nil {
			return nil, fmt.Errorf("ledger: key of organisation %s: %w", org, err)
		}
		s, err := crypto.ParseSigner(der)
		if err != nil {
			return nil, err
		}
		k.keys[org] = s
		return s, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	s, err := k.prof.GenerateSigner()
	if err != nil {
		return nil, err
	}
	der, err := crypto.MarshalSigner(s)
	if err != nil {
		return nil, err
	}
	ct, err := k.prof.Fields().Encrypt(der, []byte("ledger_org_keys:"+org))
	if err != nil {
		return nil, err
	}
	_, err = k.db.Exec(ctx, `INSERT INTO ledger_org_keys (org_id, alg, key_id, public_key, private_enc, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id) DO NOTHING`, org, s.Algorithm(), s.Public().ID(), base64.StdEncoding.EncodeToString(s.Public().Bytes()),
		base64.StdEncoding.EncodeToString(ct), time.Now().UnixMilli())
	if err != nil {
		return nil, err
	}
	k.keys[org] = s
	return s, nil
}

// OrgKey is an organisation's public attestation key.
type OrgKey struct {
	OrgID     string `json:"orgId"`
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"keyId"`
	PublicKey string `json:"publicKey" doc:"PKIX DER, base64"`
}

// OrgKeys lists the organisations' public keys.
func (l *Log) OrgKeys(ctx context.Context) ([]OrgKey, error) {
	rows, err := l.db.Query(ctx, `SELECT org_id, alg, key_id, public_key FROM ledger_org_keys ORDER BY org_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OrgKey
	for rows.Next() {
		var k OrgKey
		if err := rows.Scan(&k.OrgID, &k.Algorithm, &k.KeyID, &k.PublicKey); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

package ledger

import (
	"container/list"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/crypto"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"golang.org/x/mod/sumdb/tlog"
)

// tile is a stored tile parsed into its 8 levels.
type tile struct {
	width int
	subs  [8][]merkle.Hash
}

func parseTile(width int, data, interior []byte) (*tile, error) {
	if len(data) != 32*width {
		return nil, fmt.Errorf("tile data is %d bytes for width %d", len(data), width)
	}
	t := &tile{width: width}
	t.subs[0] = make([]merkle.Hash, width)
	for i := range width {
		copy(t.subs[0][i][:], data[32*i:])
	}
	off := 0
	for sub := 1; sub < 8; sub++ {
		k := width >> sub
		if len(interior) < off+32*k {
			return nil, fmt.Errorf("tile interior is %d bytes, too short for width %d", len(interior), width)
		}
		t.subs[sub] = make([]merkle.Hash, k)
		for i := range k {
			copy(t.subs[sub][i][:], interior[off+32*i:])
		}
		off += 32 * k
	}
	return t, nil
}

// tileCache keeps full (immutable) tiles, least recently used out first.
type tileCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[[2]int64]*list.Element
}

type cacheItem struct {
	key [2]int64
	t   *tile
}

func newTileCache(max int) *tileCache {
	return &tileCache{max: max, ll: list.New(), items: map[[2]int64]*list.Element{}}
}

func (c *tileCache) get(L int, n int64) *tile {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[[2]int64{int64(L), n}]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*cacheItem).t
	}
	return nil
}

func (c *tileCache) put(L int, n int64, t *tile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := [2]int64{int64(L), n}
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.ll.PushFront(&cacheItem{key: k, t: t})
	for c.ll.Len() > c.max {
		e := c.ll.Back()
		c.ll.Remove(e)
		delete(c.items, e.Value.(*cacheItem).key)
	}
}

// readTile returns tile (L, n) as stored; full tiles come from the cache.
func (l *Log) readTile(ctx context.Context, L int, n int64) (*tile, error) {
	if t := l.tiles.get(L, n); t != nil {
		return t, nil
	}
	var width int
	var data, interior []byte
	err := l.db.QueryRow(ctx, `SELECT width, data, interior FROM ledger_tiles WHERE level = ? AND n = ?`, L, n).Scan(&width, &data, &interior)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("tile %d/%d not stored", L, n)
	}
	if err != nil {
		return nil, err
	}
	t, err := parseTile(width, data, interior)
	if err != nil {
		return nil, fmt.Errorf("tile %d/%d: %w", L, n, err)
	}
	if width == 256 {
		l.tiles.put(L, n, t)
	}
	return t, nil
}

// hashReader answers stored-hash indexes (tlog layout) from tiles: the
// right edge from the sequencer's memory, full tiles from the cache, the rest
// from the database (one read per tile, however many hashes it answers).
func (l *Log) hashReader(ctx context.Context) merkle.HashReader {
	return merkle.HashReaderFunc(func(indexes []int64) ([]merkle.Hash, error) {
		out := make([]merkle.Hash, len(indexes))
		var tiles map[[2]int64]*tile
		for i, idx := range indexes {
			level, n := tlog.SplitStoredHashIndex(idx)
			L, sub := level/8, level%8
			tn := (n << sub) >> 8
			pos := n - tn*int64(256>>sub)
			if h, ok := l.edgeHash(L, tn, sub, pos); ok {
				out[i] = h
				continue
			}
			t := tiles[[2]int64{int64(L), tn}]
			if t == nil || pos >= int64(len(t.subs[sub])) {
				var err error
				if t, err = l.readTile(ctx, L, tn); err != nil {
					return nil, err
				}
				if tiles == nil {
					tiles = map[[2]int64]*tile{}
				}
				tiles[[2]int64{int64(L), tn}] = t
			}
			if pos >= int64(len(t.subs[sub])) {
				return nil, fmt.Errorf("hash %d at level %d is not stored yet", n, level)
			}
			out[i] = t.subs[sub][pos]
		}
		return out, nil
	})
}

// edgeHash reads a hash from the in-memory right-edge tile of tile level L
// when that tile is tile n and already holds the hash. Hashes never change
// once written, so the edge can run ahead of the size being proved.
func (l *Log) edgeHash(L int, n int64, sub int, pos int64) (merkle.Hash, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if L >= len(l.edges) {
		return merkle.Hash{}, false
	}
	e := l.edges[L]
	if e.n != n || pos >= int64(len(e.subs[sub])) {
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

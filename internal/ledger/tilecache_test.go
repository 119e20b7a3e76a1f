package ledger

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/shuzhi-gov/shuzhi/internal/ledger/merkle"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
	"golang.org/x/mod/sumdb/tlog"
)

// Proofs and tile downloads at once through a leaf-tile cache of three
// tiles: tiles are let go of while others read them, and their buffers are
// read into again. Every proof must still check with tlog and every served
// tile equal tlog's, and buffers must have been reused (or this tested
// nothing).
func TestTileBuffersRecycled(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, migrations(), func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const tiles = 40
		const size = tiles*256 + 17
		l, storage, root := writtenLog(t, d, size, Options{TileCache: 3})

		var wg sync.WaitGroup
		errc := make(chan error, 6)
		for w := range 6 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 1))
				for range 200 {
					if w%3 == 0 {
						n := rng.Int64N(tiles)
						got, _, err := l.tileBytes(ctx, merkle.Tile{L: 0, N: n, W: 256}, false)
						if err != nil {
							errc <- err
							return
						}
						want, err := tlog.ReadTileData(tlog.Tile{H: 8, L: 0, N: n, W: 256}, storage)
						if err != nil {
							errc <- err
							return
						}
						if !bytes.Equal(got, want) {
							errc <- fmt.Errorf("tile 0/%d differs from tlog's", n)
							return
						}
						continue
					}
					if err := checkProof(ctx, l, rng.Int64N(size), size, root); err != nil {
						errc <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
		l.tiles.leaf.mu.Lock()
		reused, cached := l.tiles.leaf.reused, l.tiles.leaf.ll.Len()
		l.tiles.leaf.mu.Unlock()
		if reused == 0 {
			t.Fatal("no tile buffer was reused")
		}
		if cached != 3 {
			t.Fatalf("%d leaf tiles cached, want 3", cached)
		}
	})
}

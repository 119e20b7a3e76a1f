package geo_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shuzhi-gov/shuzhi/internal/geo"
)

// Benchmarks of point-to-grid lookups at 10,000 grids: the in-process index
// against PostGIS (ST_Contains with a GiST index) on the same polygons.
//
//	go test ./internal/geo/ -run '^$' -bench 'Locate|PostGIS' -benchmem
//
// Every benchmark reports ns/lookup and lookups/s, so the per-point query,
// the 1,000-point batch query and the index compare directly.

const (
	latticeN     = 100 // latticeN × latticeN grids
	latticeW     = 120.50
	latticeS     = 31.00
	latticeCell  = 0.002 // degrees (~190 m × 220 m)
	benchPoints  = 1 << 16
	postgisBatch = 1000
)

// lattice is the shared test tiling: 10,000 irregular, mostly concave
// polygons without gaps or overlaps. The corners of a 100 × 100 lattice are
// jittered by up to 20 % of a cell, and every cell edge gets two extra
// vertices pushed sideways by up to 8 %; neighbours share each edge vertex
// for vertex (as the demo district's grids do).
var lattice = sync.OnceValue(func() []geo.IndexItem {
	rng := mrand.New(mrand.NewPCG(2026, 11))
	n := latticeN
	corner := make([][2]float64, (n+1)*(n+1))
	for i := 0; i <= n; i++ {
		for j := 0; j <= n; j++ {
			jx, jy := (rng.Float64()-0.5)*0.4, (rng.Float64()-0.5)*0.4
			corner[i*(n+1)+j] = [2]float64{latticeW + (float64(i)+jx)*latticeCell, latticeS + (float64(j)+jy)*latticeCell}
		}
	}
	at := func(i, j int) [2]float64 { return corner[i*(n+1)+j] }
	// bends[e] are the two interior vertices of edge e, from its first to
	// its second endpoint (edges keyed by their endpoints' lattice ids).
	type edgeKey struct{ a, b int }
	bends := map[edgeKey][2][2]float64{}
	edge := func(i1, j1, i2, j2 int) [][2]float64 {
		a, b := i1*(n+1)+j1, i2*(n+1)+j2
		rev := a > b
		if rev {
			a, b = b, a
		}
		k := edgeKey{a, b}
		v, ok := bends[k]
		if !ok {
			p, q := corner[a], corner[b]
			dx, dy := q[0]-p[0], q[1]-p[1]
			for t := range 2 {
				f := float64(t+1) / 3
				off := (rng.Float64() - 0.5) * 0.16 // of the edge length, sideways
				v[t] = [2]float64{p[0] + f*dx - off*dy, p[1] + f*dy + off*dx}
			}
			bends[k] = v
		}
		if rev {
			return [][2]float64{v[1], v[0]}
		}
		return [][2]float64{v[0], v[1]}
	}
	items := make([]geo.IndexItem, 0, n*n)
	for i := range n {
		for j := range n {
			ring := [][2]float64{at(i, j)}
			ring = append(ring, edge(i, j, i+1, j)...)
			ring = append(ring, at(i+1, j))
			ring = append(ring, edge(i+1, j, i+1, j+1)...)
			ring = append(ring, at(i+1, j+1))
			ring = append(ring, edge(i+1, j+1, i, j+1)...)
			ring = append(ring, at(i, j+1))
			ring = append(ring, edge(i, j+1, i, j)...)
			ring = append(ring, at(i, j))
			k := i*n + j // 100 streets × 10 communities × 100 grids
			code := fmt.Sprintf("320508%03d%03d%03d", 1+k/1000, 1+k/100%10, 1+k%100)
			items = append(items, geo.IndexItem{Code: code, Geometry: []byte(geo.Polygon(ring))})
		}
	}
	return items
})

// latticePoints are random points inside the lattice's extent (a few fall
// in the jagged margin outside every polygon, as real lookups would).
var latticePoints = sync.OnceValue(func() [][2]float64 {
	rng := mrand.New(mrand.NewPCG(7, 7))
	span := float64(latticeN) * latticeCell
	pts := make([][2]float64, benchPoints)
	for i := range pts {
		pts[i] = [2]float64{latticeW + rng.Float64()*span, latticeS + rng.Float64()*span}
	}
	return pts
})

func reportLookups(b *testing.B, lookups int) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(lookups)
	b.ReportMetric(ns, "ns/lookup")
	b.ReportMetric(1e9/ns, "lookups/s")
}

func BenchmarkLocate(b *testing.B) {
	ix, err := geo.NewIndex(lattice())
	if err != nil {
		b.Fatal(err)
	}
	pts := latticePoints()
	b.Run("grids=10000/build", func(b *testing.B) { // NewIndex: parse, R-tree, cell table
		for b.Loop() {
			if _, err := geo.NewIndex(lattice()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("grids=10000", func(b *testing.B) {
		found, n := 0, 0
		for b.Loop() {
			p := pts[n&(benchPoints-1)]
			if _, ok := ix.Locate(p[0], p[1]); ok {
				found++
			}
			n++
		}
		reportLookups(b, n)
		if found < n*9/10 {
			b.Fatalf("only %d of %d points found", found, n)
		}
	})
	b.Run("grids=10000/rtree-only", func(b *testing.B) {
		n := 0
		for b.Loop() {
			p := pts[n&(benchPoints-1)]
			ix.LocateTree(p[0], p[1])
			n++
		}
		reportLookups(b, n)
	})
	b.Run("grids=10000/parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := mrand.IntN(benchPoints)
			for pb.Next() {
				p := pts[i&(benchPoints-1)]
				ix.Locate(p[0], p[1])
				i++
			}
		})
		reportLookups(b, b.N)
	})
}

// postgis opens the benchmark's PostgreSQL connection (SHUZHI_TEST_PG,
// default the test server) with the 10,000 polygons loaded into table g of a
// throwaway schema (GiST-indexed, analysed); the schema is dropped at the
// end. It skips when the server or the postgis extension is not available.
// It returns the DSN and the schema for more connections.
func postgis(b *testing.B) (conn *pgx.Conn, dsn, schema string) {
	dsn = os.Getenv("SHUZHI_TEST_PG")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Skipf("PostgreSQL not reachable at %s: %v", dsn, err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	var available, installed bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'),
		EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')`).Scan(&available, &installed); err != nil {
		b.Fatal(err)
	}
	if !available {
		b.Skip("the postgis extension is not available on this server (scripts/deps.sh bench installs it)")
	}
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	schema = "shz_bench_" + hex.EncodeToString(rb[:])
	mustExec := func(sql string, args ...any) {
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec("CREATE SCHEMA " + schema)
	b.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	})
	if !installed {
		// In the throwaway schema, so that dropping it removes the extension.
		mustExec("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA " + schema)
	}
	mustExec("SET search_path TO " + schema + ", public")
	// The planner overestimates the batch query, and JIT compilation would
	// add ~7 ms to each one; lookups like these run without it.
	mustExec("SET jit = off")
	items := lattice()
	codes, geoms := make([]string, len(items)), make([]string, len(items))
	for i, it := range items {
		codes[i], geoms[i] = it.Code, string(it.Geometry)
	}
	mustExec(`CREATE TABLE g (code TEXT PRIMARY KEY, geom geometry(Polygon, 4326) NOT NULL)`)
	mustExec(`INSERT INTO g SELECT c, ST_SetSRID(ST_GeomFromGeoJSON(j), 4326) FROM unnest($1::text[], $2::text[]) AS t(c, j)`, codes, geoms)
	mustExec(`CREATE INDEX g_geom ON g USING gist (geom)`)
	mustExec(`ANALYZE g`)
	var version string
	if err := conn.QueryRow(ctx, `SELECT postgis_lib_version()`).Scan(&version); err == nil {
		b.Logf("PostGIS %s, %d polygons", version, len(items))
	}
	return conn, dsn, schema
}

// pointQuery is the per-point lookup.
const pointQuery = `SELECT code FROM g WHERE ST_Contains(geom, ST_SetSRID(ST_Point($1, $2), 4326))`

func BenchmarkPostGISContains(b *testing.B) {
	conn, dsn, schema := postgis(b)
	pts := latticePoints()
	ctx := context.Background()
	b.Run("per-point", func(b *testing.B) {
		n := 0
		for b.Loop() {
			p := pts[n&(benchPoints-1)]
			var code string
			if err := conn.QueryRow(ctx, pointQuery, p[0], p[1]).Scan(&code); err != nil && err != pgx.ErrNoRows {
				b.Fatal(err)
			}
			n++
		}
		reportLookups(b, n)
	})
	b.Run("per-point/parallel", func(b *testing.B) {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			b.Fatal(err)
		}
		cfg.MaxConns = int32(2 * runtime.GOMAXPROCS(0))
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, "SET search_path TO "+schema+", public; SET jit = off")
			return err
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		b.SetParallelism(2) // 2 × GOMAXPROCS goroutines, one connection each
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := mrand.IntN(benchPoints)
			for pb.Next() {
				p := pts[i&(benchPoints-1)]
				var code string
				if err := pool.QueryRow(ctx, pointQuery, p[0], p[1]).Scan(&code); err != nil && err != pgx.ErrNoRows {
					b.Error(err)
					return
				}
				i++
			}
		})
		reportLookups(b, b.N)
	})
	b.Run(fmt.Sprintf("batch=%d", postgisBatch), func(b *testing.B) {
		lons, lats := make([]float64, postgisBatch), make([]float64, postgisBatch)
		n := 0
		for b.Loop() {
			for i := range postgisBatch {
				p := pts[(n+i)&(benchPoints-1)]
				lons[i], lats[i] = p[0], p[1]
			}
			rows, err := conn.Query(ctx, `SELECT p.i, g.code FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(lon, lat, i)
				JOIN g ON ST_Contains(g.geom, ST_SetSRID(ST_Point(p.lon, p.lat), 4326))`, lons, lats)
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for rows.Next() {
				var i int64
				var code string
				if err := rows.Scan(&i, &code); err != nil {
					b.Fatal(err)
				}
				got++
			}
			if err := rows.Err(); err != nil {
				b.Fatal(err)
			}
			if got < postgisBatch*9/10 {
				b.Fatalf("batch found %d of %d points", got, postgisBatch)
			}
			n += postgisBatch
		}
		reportLookups(b, n)
	})
}

// TestLatticeTiles checks the benchmark's polygons: every sample point is
// in exactly one polygon (brute force over all 10,000), and the index
// agrees.
func TestLatticeTiles(t *testing.T) {
	items := lattice()
	ix, err := geo.NewIndex(items)
	if err != nil {
		t.Fatal(err)
	}
	var single []*geo.Index
	for _, it := range items {
		one, err := geo.NewIndex([]geo.IndexItem{it})
		if err != nil {
			t.Fatal(err)
		}
		single = append(single, one)
	}
	pts := latticePoints()[:1000]
	inside := 0
	for _, p := range pts {
		var hits []string
		for _, one := range single {
			if c, ok := one.Locate(p[0], p[1]); ok {
				hits = append(hits, c)
			}
		}
		got, ok := ix.Locate(p[0], p[1])
		if tgot, tok := ix.LocateTree(p[0], p[1]); tgot != got || tok != ok {
			t.Fatalf("point %v: cell table says %q %v, R-tree %q %v", p, got, ok, tgot, tok)
		}
		switch {
		case len(hits) > 1:
			t.Fatalf("point %v is in %d polygons: %v", p, len(hits), hits)
		case len(hits) == 1 && (!ok || got != hits[0]):
			t.Fatalf("point %v: index says %q %v, brute force %s", p, got, ok, hits[0])
		case len(hits) == 0 && ok:
			t.Fatalf("point %v: index says %s, brute force none", p, got)
		}
		inside += len(hits)
	}
	if inside < len(pts)*9/10 {
		t.Fatalf("only %d of %d points inside", inside, len(pts))
	}
}

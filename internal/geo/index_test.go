package geo_test

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/shuzhi-gov/shuzhi/internal/demo/district"
	"github.com/shuzhi-gov/shuzhi/internal/geo"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

func polygonJSON(rings [][][2]float64) string {
	s := `{"type":"Polygon","coordinates":[`
	for i, r := range rings {
		if i > 0 {
			s += ","
		}
		s += ringJSON(r)
	}
	return s + "]}"
}

func ringJSON(r [][2]float64) string {
	s := "["
	for i, p := range r {
		if i > 0 {
			s += ","
		}
		s += "[" + ftoa(p[0]) + "," + ftoa(p[1]) + "]"
	}
	return s + "]"
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func mustIndex(t *testing.T, items ...geo.IndexItem) *geo.Index {
	t.Helper()
	ix, err := geo.NewIndex(items)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// expect checks Locate, and the R-tree path without the cell table.
func expect(t *testing.T, ix *geo.Index, lon, lat float64, want string) {
	t.Helper()
	for path, locate := range map[string]func(float64, float64) (string, bool){"cells": ix.Locate, "tree": ix.LocateTree} {
		got, ok := locate(lon, lat)
		if want == "" {
			if ok {
				t.Errorf("%s (%g, %g): got %s, want none", path, lon, lat, got)
			}
			continue
		}
		if !ok || got != want {
			t.Errorf("%s (%g, %g): got %q (%v), want %s", path, lon, lat, got, ok, want)
		}
	}
}

func TestIndexConcave(t *testing.T) {
	// A U open to the north: the notch (1..2 × 1..3) is outside.
	u := [][2]float64{{0, 0}, {3, 0}, {3, 3}, {2, 3}, {2, 1}, {1, 1}, {1, 3}, {0, 3}, {0, 0}}
	ix := mustIndex(t, geo.IndexItem{Code: "U", Geometry: []byte(geo.Polygon(u))})
	expect(t, ix, 0.5, 2.5, "U")   // west arm
	expect(t, ix, 2.5, 2.5, "U")   // east arm
	expect(t, ix, 1.5, 0.5, "U")   // base
	expect(t, ix, 1.5, 2, "")      // in the notch: inside the bounding box, outside the polygon
	expect(t, ix, 1.5, 1.0001, "") // just above the notch's floor
	expect(t, ix, 5, 5, "")        // far away
	expect(t, ix, -0.1, 1, "")     // just west
	if ix.Len() != 1 {
		t.Fatalf("Len = %d", ix.Len())
	}
}

func TestIndexHole(t *testing.T) {
	outer := [][2]float64{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}
	hole := [][2]float64{{1, 1}, {1, 3}, {3, 3}, {3, 1}, {1, 1}} // clockwise, as RFC 7946 wants
	island := [][2]float64{{1, 1}, {3, 1}, {3, 3}, {1, 3}, {1, 1}}
	ring := geo.IndexItem{Code: "ring", Geometry: []byte(polygonJSON([][][2]float64{outer, hole}))}
	ix := mustIndex(t, ring)
	expect(t, ix, 0.5, 0.5, "ring")
	expect(t, ix, 2, 2, "") // in the hole
	expect(t, ix, 3.5, 2, "ring")
	// With the island that fills the hole, the hole's points are the island's.
	ix = mustIndex(t, ring, geo.IndexItem{Code: "island", Geometry: []byte(geo.Polygon(island))})
	expect(t, ix, 2, 2, "island")
	expect(t, ix, 0.5, 3.5, "ring")
	// Points on the hole's edge belong to exactly one of the two.
	for _, p := range [][2]float64{{1, 2}, {3, 2}, {2, 1}, {2, 3}, {1, 1}, {3, 3}, {1, 3}, {3, 1}} {
		if _, ok := ix.Locate(p[0], p[1]); !ok {
			t.Errorf("point %v on the hole's edge is in neither polygon", p)
		}
	}
}

func TestIndexMultiPolygon(t *testing.T) {
	mp := `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,6],[5,5]],[[5.2,5.2],[5.2,5.8],[5.8,5.8],[5.8,5.2],[5.2,5.2]]]]}`
	ix := mustIndex(t, geo.IndexItem{Code: "mp", Geometry: []byte(mp)})
	expect(t, ix, 0.5, 0.5, "mp")
	expect(t, ix, 5.1, 5.5, "mp")
	expect(t, ix, 5.5, 5.5, "") // hole of the second part
	expect(t, ix, 3, 3, "")     // between the parts
}

// TestIndexSharedEdges: points exactly on shared edges and vertices, axis-
// aligned and diagonal, are each in exactly one polygon, always the same.
func TestIndexSharedEdges(t *testing.T) {
	sq := func(x, y float64) []byte {
		return []byte(geo.Polygon([][2]float64{{x, y}, {x + 1, y}, {x + 1, y + 1}, {x, y + 1}, {x, y}}))
	}
	items := []geo.IndexItem{
		{Code: "SW", Geometry: sq(0, 0)}, {Code: "SE", Geometry: sq(1, 0)},
		{Code: "NW", Geometry: sq(0, 1)}, {Code: "NE", Geometry: sq(1, 1)},
		// Two triangles sharing the diagonal (3,0)-(4,1), in opposite directions.
		{Code: "T1", Geometry: []byte(geo.Polygon([][2]float64{{3, 0}, {4, 0}, {4, 1}, {3, 0}}))},
		{Code: "T2", Geometry: []byte(geo.Polygon([][2]float64{{3, 0}, {4, 1}, {3, 1}, {3, 0}}))},
	}
	ix := mustIndex(t, items...)
	singles := map[string]*geo.Index{}
	for _, it := range items {
		singles[it.Code] = mustIndex(t, it)
	}
	points := [][2]float64{
		{1, 0.5}, {1, 1.5}, {0.5, 1}, {1.5, 1}, {1, 1}, // shared edges and the vertex of four squares
		{3.5, 0.5}, {3.25, 0.25}, {3.75, 0.75}, {3.125, 0.125}, // on the shared diagonal
	}
	for _, p := range points {
		n, owner := 0, ""
		for code, one := range singles {
			if _, ok := one.Locate(p[0], p[1]); ok {
				n++
				owner = code
			}
		}
		if n != 1 {
			t.Errorf("point %v is in %d polygons, want exactly 1", p, n)
			continue
		}
		expect(t, ix, p[0], p[1], owner)
		for range 3 { // deterministic
			expect(t, ix, p[0], p[1], owner)
		}
	}
	// The rule: a point on an edge belongs to the polygon east (or north) of it.
	expect(t, ix, 1, 0.5, "SE")
	expect(t, ix, 0.5, 1, "NW")
	expect(t, ix, 1, 1, "NE")
}

func TestIndexOverlapSmallestCodeWins(t *testing.T) {
	a := []byte(geo.Polygon([][2]float64{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}))
	b := []byte(geo.Polygon([][2]float64{{1, 1}, {3, 1}, {3, 3}, {1, 3}, {1, 1}}))
	ix := mustIndex(t, geo.IndexItem{Code: "b", Geometry: b}, geo.IndexItem{Code: "a", Geometry: a})
	expect(t, ix, 1.5, 1.5, "a")
	expect(t, ix, 2.5, 2.5, "b")
}

func TestIndexErrors(t *testing.T) {
	good := []byte(geo.Polygon([][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 0}}))
	for name, items := range map[string][]geo.IndexItem{
		"point":     {{Code: "x", Geometry: []byte(`{"type":"Point","coordinates":[1,2]}`)}},
		"not json":  {{Code: "x", Geometry: []byte(`{`)}},
		"short":     {{Code: "x", Geometry: []byte(`{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,0]]]}`)}},
		"range":     {{Code: "x", Geometry: []byte(`{"type":"Polygon","coordinates":[[[0,0],[200,0],[1,1],[0,0]]]}`)}},
		"no code":   {{Geometry: good}},
		"duplicate": {{Code: "x", Geometry: good}, {Code: "x", Geometry: good}},
	} {
		if _, err := geo.NewIndex(items); err == nil {
			t.Errorf("%s: no error", name)
		} else if c := errs.CodeOf(err); c != errs.CodeInvalid && c != errs.CodeConflict {
			t.Errorf("%s: error %v (code %q)", name, err, c)
		}
	}
	var e *errs.Error
	if _, err := geo.NewIndex([]geo.IndexItem{{Code: "320508018001001", Geometry: []byte(`{"type":"LineString","coordinates":[[0,0],[1,1]]}`)}}); !errors.As(err, &e) || e.Fields[0].Rule != "geometryType" {
		t.Errorf("line string: %v", err)
	}
	// Unclosed rings are closed.
	ix := mustIndex(t, geo.IndexItem{Code: "open", Geometry: []byte(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`)})
	expect(t, ix, 0.5, 0.5, "open")
}

// TestIndexMatchesDemoDistrict compares the index with the demo district's
// own (linear, independent) point-in-grid search on random points.
func TestIndexMatchesDemoDistrict(t *testing.T) {
	d, err := district.Build(1, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]geo.IndexItem, 0, len(d.Grids))
	for _, g := range d.Grids {
		items = append(items, geo.IndexItem{Code: g.Code, Geometry: []byte(geo.Polygon(g.Ring))})
	}
	ix := mustIndex(t, items...)
	if ix.Len() != len(d.Grids) {
		t.Fatalf("Len %d, want %d", ix.Len(), len(d.Grids))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	e := district.Extent
	found := 0
	for range 20_000 {
		lon := e[0] - 0.005 + rng.Float64()*(e[2]-e[0]+0.01)
		lat := e[1] - 0.005 + rng.Float64()*(e[3]-e[1]+0.01)
		want, wok := d.Locate(lon, lat)
		got, ok := ix.Locate(lon, lat)
		tgot, tok := ix.LocateTree(lon, lat)
		if ok != wok || (ok && got != want.Code) || tok != ok || tgot != got {
			t.Fatalf("(%v, %v): index %q %v (tree %q %v), district %q %v", lon, lat, got, ok, tgot, tok, want.Code, wok)
		}
		if ok {
			found++
		}
	}
	if found == 0 {
		t.Fatal("no point found")
	}
	if b, ok := ix.Bounds(); !ok || b[0] < e[0]-1e-9 || b[2] > e[2]+1e-9 {
		t.Errorf("bounds %v outside the district's extent %v", b, e)
	}
}

// TestIndexCrowdedCells: a dense cluster far from another polygon makes
// cells much larger than the polygons; crowded cells go to the R-tree.
func TestIndexCrowdedCells(t *testing.T) {
	const n, size = 60, 0.0002 // 60 × 60 squares of 0.0002°
	var items []geo.IndexItem
	code := func(i, j int) string { return "c" + strconv.Itoa(1000+i) + strconv.Itoa(1000+j) }
	for i := range n {
		for j := range n {
			x, y := 120+float64(i)*size, 31+float64(j)*size
			items = append(items, geo.IndexItem{Code: code(i, j), Geometry: []byte(geo.Polygon([][2]float64{{x, y}, {x + size, y}, {x + size, y + size}, {x, y + size}, {x, y}}))})
		}
	}
	items = append(items, geo.IndexItem{Code: "far", Geometry: []byte(geo.Polygon([][2]float64{{130, 40}, {131, 40}, {131, 41}, {130, 41}, {130, 40}}))})
	ix := mustIndex(t, items...)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		i, j := rng.IntN(n), rng.IntN(n)
		x := 120 + (float64(i)+0.05+0.9*rng.Float64())*size
		y := 31 + (float64(j)+0.05+0.9*rng.Float64())*size
		expect(t, ix, x, y, code(i, j))
	}
	expect(t, ix, 130.5, 40.5, "far")
	expect(t, ix, 125, 35, "")
}

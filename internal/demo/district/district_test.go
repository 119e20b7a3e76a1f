package district

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func mustBuild(tb testing.TB, seed int64, size int) *District {
	tb.Helper()
	d, err := Build(seed, size)
	if err != nil {
		tb.Fatalf("Build(%d, %d): %v", seed, size, err)
	}
	return d
}

func TestBuildDeterministic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		seed, seed2 int64
		same        bool
	}{
		{"same_seed", 7, 7, true},
		{"negative_seed", -3, -3, true},
		{"other_seed", 7, 8, false},
		{"zero_vs_one", 0, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := mustBuild(t, tt.seed, DefaultSize), mustBuild(t, tt.seed2, DefaultSize)
			if got := reflect.DeepEqual(a, b); got != tt.same {
				t.Fatalf("Build(%d) equal to Build(%d): %v, want %v", tt.seed, tt.seed2, got, tt.same)
			}
			if !tt.same && reflect.DeepEqual(a.Communities()[0].Ring, b.Communities()[0].Ring) &&
				reflect.DeepEqual(a.Streets()[0].Ring, b.Streets()[0].Ring) {
				t.Errorf("seeds %d and %d give the same geometry", tt.seed, tt.seed2)
			}
		})
	}
}

func TestBuildSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		size     int
		wantErr  bool
		wantSize int
	}{
		{"zero_means_default", 0, false, DefaultSize},
		{"min", MinSize, false, MinSize},
		{"max", MaxSize, false, MaxSize},
		{"below_min", MinSize - 1, true, 0},
		{"above_max", MaxSize + 1, true, 0},
		{"negative", -5, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Build(1, tt.size)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidSize) || !strings.Contains(err.Error(), fmt.Sprint(tt.size)) ||
					!strings.Contains(err.Error(), "between 1000 and 10000000") {
					t.Fatalf("Build(1, %d) error = %v, want ErrInvalidSize naming the size and the range", tt.size, err)
				}
				return
			}
			if err != nil || d.Size != tt.wantSize {
				t.Fatalf("Build(1, %d) = size %v, %v; want %d", tt.size, d, err, tt.wantSize)
			}
		})
	}
}

func TestGridsPerCommunity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		size int
		f    float64
		want int
	}{
		{"default_mean", DefaultSize, 1, 8},
		{"default_low", DefaultSize, 0.5, 4},
		{"default_high", DefaultSize, 1.4999, 12},
		{"min_size_clamped", MinSize, 1.4999, MinGrids},
		{"quadruple_size", 4 * DefaultSize, 1, 16},
		{"max_size_clamped", MaxSize, 0.5, MaxGrids},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := GridsPerCommunity(tt.size, tt.f); got != tt.want {
				t.Errorf("GridsPerCommunity(%d, %v) = %d, want %d", tt.size, tt.f, got, tt.want)
			}
		})
	}
}

// TestSizeChangesGrids checks the documented effect of size: per-community
// grid counts in range, non-decreasing in size, and community polygons unchanged.
func TestSizeChangesGrids(t *testing.T) {
	t.Parallel()
	sizes := []struct {
		name     string
		size     int
		min, max int
	}{
		{"min", MinSize, MinGrids, MinGrids},
		{"ten_thousand", 10_000, MinGrids, 4},
		{"default", DefaultSize, 4, 12},
		{"million", 1_000_000, 13, 38},
		{"max", MaxSize, MaxGrids, MaxGrids},
	}
	base := mustBuild(t, 5, DefaultSize)
	prev := map[string]int{}
	for _, tt := range sizes {
		d := mustBuild(t, 5, tt.size)
		t.Run(tt.name, func(t *testing.T) {
			counts := map[string]int{}
			for _, g := range d.Grids {
				counts[g.Community]++
			}
			for i, c := range d.Communities() {
				n := counts[c.Code]
				if n < tt.min || n > tt.max {
					t.Errorf("%s: %d grids, want %d..%d", c.Name, n, tt.min, tt.max)
				}
				if n < prev[c.Code] {
					t.Errorf("%s: %d grids, fewer than %d at a smaller size", c.Name, n, prev[c.Code])
				}
				if !reflect.DeepEqual(c.Ring, base.Communities()[i].Ring) {
					t.Errorf("%s: ring changed with size", c.Name)
				}
			}
			prev = counts
		})
	}
}

func TestGeometry(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 20260101} {
		t.Run(fmt.Sprint("seed_", seed), func(t *testing.T) {
			t.Parallel()
			d := mustBuild(t, seed, DefaultSize)
			checkGeometry(t, d)
		})
	}
	t.Run("size_max", func(t *testing.T) {
		t.Parallel()
		checkGeometry(t, mustBuild(t, 3, MaxSize))
	})
}

func checkGeometry(t *testing.T, d *District) {
	t.Helper()
	county := d.County()
	area := func(r [][2]float64) float64 { return SignedArea(r) }
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12+1e-9*math.Abs(b) }

	checkRing := func(what string, r [][2]float64) {
		if len(r) < 5 || r[0] != r[len(r)-1] {
			t.Errorf("%s: ring not closed or too short: %v", what, r)
		}
		if area(r) <= 0 {
			t.Errorf("%s: ring not counter-clockwise (area %g)", what, area(r))
		}
		for _, p := range r {
			if p[0] < Extent[0] || p[0] > Extent[2] || p[1] < Extent[1] || p[1] > Extent[3] {
				t.Errorf("%s: vertex %v outside the extent", what, p)
			}
		}
	}
	checkRing("county", county.Ring)
	if !PointInRing(county.Ring, county.Centroid[0], county.Centroid[1]) {
		t.Errorf("county centroid outside its ring")
	}

	// Areas: children tile their parent exactly.
	childArea := map[string]float64{}
	for _, div := range d.Divisions[3:] {
		checkRing(div.Code, div.Ring)
		childArea[div.Parent] += area(div.Ring)
		p, _ := d.Division(div.Parent)
		if !PointInRing(div.Ring, div.Centroid[0], div.Centroid[1]) || !PointInRing(p.Ring, div.Centroid[0], div.Centroid[1]) {
			t.Errorf("%s: centroid %v outside its ring or its parent's", div.Name, div.Centroid)
		}
	}
	for _, g := range d.Grids {
		checkRing(g.Code, g.Ring)
		childArea[g.Community+"/grids"] += area(g.Ring)
		c, _ := d.Division(g.Community)
		s, _ := d.Division(g.Street)
		if c.Parent != s.Code {
			t.Errorf("%s: street %s is not the community's parent", g.Code, g.Street)
		}
		for _, r := range [][][2]float64{g.Ring, c.Ring, s.Ring} {
			if !PointInRing(r, g.Centroid[0], g.Centroid[1]) {
				t.Errorf("%s: centroid %v outside its own, community or street ring", g.Code, g.Centroid)
			}
		}
	}
	for _, div := range d.Divisions[2:] {
		key := div.Code
		if div.Level == LevelCommunity {
			key += "/grids"
		}
		if !near(childArea[key], area(div.Ring)) {
			t.Errorf("%s: children cover %g deg², want %g", div.Name, childArea[key], area(div.Ring))
		}
	}

	// Sampled points: each lies in exactly one street, community and grid,
	// consistent with each other and with Locate.
	rng := rand.New(rand.NewPCG(99, uint64(d.Seed)))
	streets, comms := d.Streets(), d.Communities()
	for range 3000 {
		lon := Extent[0] + rng.Float64()*(Extent[2]-Extent[0])
		lat := Extent[1] + rng.Float64()*(Extent[3]-Extent[1])
		in := func(rings func(yield func([][2]float64, string) bool)) (n int, code string) {
			for r, c := range rings {
				if PointInRing(r, lon, lat) {
					n, code = n+1, c
				}
			}
			return n, code
		}
		ns, st := in(func(y func([][2]float64, string) bool) {
			for _, s := range streets {
				y(s.Ring, s.Code)
			}
		})
		nc, cm := in(func(y func([][2]float64, string) bool) {
			for _, c := range comms {
				y(c.Ring, c.Code)
			}
		})
		ng, gc := in(func(y func([][2]float64, string) bool) {
			for _, g := range d.Grids {
				y(g.Ring, g.Code)
			}
		})
		if ns != 1 || nc != 1 || ng != 1 {
			t.Fatalf("point (%v, %v) in %d streets, %d communities, %d grids; want 1 each", lon, lat, ns, nc, ng)
		}
		g, ok := d.Locate(lon, lat)
		if !ok || g.Code != gc || g.Community != cm || g.Street != st {
			t.Fatalf("point (%v, %v): grid %s in %s/%s, Locate gave %+v", lon, lat, gc, cm, st, g)
		}
	}
	if _, ok := d.Locate(Extent[0]-0.01, Extent[1]); ok {
		t.Errorf("Locate outside the district found a grid")
	}

	// Neighbouring communities share edges vertex for vertex.
	for _, a := range comms {
		for _, b := range comms {
			if a.Code == b.Code {
				continue
			}
			for _, p := range a.Ring {
				if onBoundary(b.Ring, p) && !slices.Contains(b.Ring, p) {
					t.Errorf("vertex %v of %s lies on an edge of %s but is not one of its vertices", p, a.Name, b.Name)
				}
			}
		}
	}
}

// onBoundary reports whether p lies on an axis-parallel edge of ring.
func onBoundary(ring [][2]float64, p [2]float64) bool {
	for i := 0; i+1 < len(ring); i++ {
		a, b := ring[i], ring[i+1]
		if a[0] == b[0] && p[0] == a[0] && p[1] >= min(a[1], b[1]) && p[1] <= max(a[1], b[1]) ||
			a[1] == b[1] && p[1] == a[1] && p[0] >= min(a[0], b[0]) && p[0] <= max(a[0], b[0]) {
			return true
		}
	}
	return false
}

func TestGridCodes(t *testing.T) {
	t.Parallel()
	d := mustBuild(t, 11, DefaultSize)
	seen := map[string]bool{}
	for _, c := range d.Communities() {
		t.Run(c.Short, func(t *testing.T) {
			grids := d.GridsOf(c.Code)
			if len(grids) == 0 {
				t.Fatal("no grids")
			}
			for i, g := range grids {
				if len(g.Code) != 15 || strings.Trim(g.Code, "0123456789") != "" || !strings.HasPrefix(g.Code, c.Code) {
					t.Errorf("grid code %q: want 15 digits starting with %s", g.Code, c.Code)
				}
				if want := fmt.Sprintf("%03d", i+1); g.Code[12:] != want || g.Seq != i+1 {
					t.Errorf("grid %d: code %s seq %d, want sequence %s", i, g.Code, g.Seq, want)
				}
				if want := fmt.Sprintf("%s第%d网格", c.Name, i+1); g.Name != want {
					t.Errorf("grid name %q, want %q", g.Name, want)
				}
				if seen[g.Code] {
					t.Errorf("duplicate grid code %s", g.Code)
				}
				seen[g.Code] = true
				if got, ok := d.Grid(g.Code); !ok || got.Code != g.Code {
					t.Errorf("Grid(%s) not found", g.Code)
				}
				if i == 0 {
					continue
				}
				// West to east within a row, then north to south.
				p, q := bbox(grids[i-1].Ring), bbox(g.Ring)
				sameRow := p.n == q.n && p.s == q.s && q.w == p.e
				nextRow := q.n == p.s && q.w == bbox(c.Ring).w
				if !sameRow && !nextRow {
					t.Errorf("%s follows %s but is neither east of it in the same row nor first of the next row", g.Code, grids[i-1].Code)
				}
			}
		})
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	d := mustBuild(t, 1, DefaultSize)
	tests := []struct {
		name, code string
		ok         bool
		wantName   string
		children   int
	}{
		{"county_short", "320508", true, "姑苏区", 8},
		{"county_full", "320508000000", true, "姑苏区", 8},
		{"street_short", "320508018", true, "平江街道", 25},
		{"street_full", "320508021000", true, "双塔街道", 21},
		{"community", "320508018025", true, "拙政园社区", 0},
		{"city", "3205", true, "苏州市", 1},
		{"unknown_street", "320508001", false, "", 0},
		{"other_district", "320505", false, "", 0},
		{"garbage", "x", false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			div, ok := d.Division(tt.code)
			if ok != tt.ok || div.Name != tt.wantName {
				t.Fatalf("Division(%q) = %q, %v; want %q, %v", tt.code, div.Name, ok, tt.wantName, tt.ok)
			}
			if n := len(d.Children(tt.code)); n != tt.children {
				t.Errorf("Children(%q): %d, want %d", tt.code, n, tt.children)
			}
		})
	}
	if _, ok := d.Grid("320508018025999"); ok {
		t.Error("Grid found a code that does not exist")
	}
	if g := d.GridsOf("bad"); g != nil {
		t.Errorf("GridsOf(bad) = %v", g)
	}
}

func TestGeoJSON(t *testing.T) {
	t.Parallel()
	d := mustBuild(t, 1, DefaultSize)
	tests := []struct {
		level   string
		want    int
		wantErr bool
	}{
		{LevelCounty, 1, false},
		{LevelTownship, 8, false},
		{LevelCommunity, 171, false},
		{LevelGrid, len(d.Grids), false},
		{LevelProvince, 0, true},
		{"nonsense", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			t.Parallel()
			b, err := d.GeoJSON(tt.level)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			var fc struct {
				Type     string
				Features []struct {
					Type       string
					Properties struct{ Code, Name string }
					Geometry   struct {
						Type        string
						Coordinates [][][2]float64
					}
				}
			}
			if err := json.Unmarshal(b, &fc); err != nil {
				t.Fatal(err)
			}
			if fc.Type != "FeatureCollection" || len(fc.Features) != tt.want {
				t.Fatalf("type %q with %d features, want FeatureCollection with %d", fc.Type, len(fc.Features), tt.want)
			}
			f := fc.Features[0]
			if f.Type != "Feature" || f.Geometry.Type != "Polygon" || f.Properties.Name == "" || SignedArea(f.Geometry.Coordinates[0]) <= 0 {
				t.Errorf("bad first feature %+v", f)
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	for b.Loop() {
		if _, err := Build(1, DefaultSize); err != nil {
			b.Fatal(err)
		}
	}
}

// Package district describes the demo district of the platform: the real
// 苏州市姑苏区 (Suzhou, Jiangsu; code 320508) with its real streets (街道,
// 9-digit statistical codes) and communities (社区/村, 12-digit codes) taken
// from the published lists (see Source), plus synthetic but plausible
// geography generated deterministically from a seed: street, community and
// unit-grid (万米单元网格) polygons that tile the district's approximate real
// extent, and a 15-digit code for every grid.
//
// The geography is NOT the real boundary of any division: it is a recursive
// rectangle partition of the district's bounding box, meant for maps,
// point-in-area lookups and grid assignment in demos and tests.
//
// Codes: every division has a canonical 12-digit statistical code (Division.Code,
// e.g. province 320000000000, county 320508000000, street 320508017000,
// community 320508017003) and a short code of its significant digits
// (Division.Short: 32, 3205, 320508, 320508017, 320508017003). Unit grids have
// 15 digits: district(6) + street(3) + community(3) + sequence(3), sequences
// numbered west to east, north to south (as DB11/T 2157-2023).
package district

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
)

// Size limits: the size passed to Build is the target demo population.
const (
	DefaultSize = 100_000
	MinSize     = 1_000
	MaxSize     = 10_000_000
)

// Grid counts per community (see Build).
const (
	GridsAtDefault = 8  // mean grids per community at DefaultSize
	MinGrids       = 2  // per community
	MaxGrids       = 40 // per community
)

// Extent is the approximate real extent of 姑苏区 in WGS84 degrees
// (west, south, east, north): about 9.0 km × 8.9 km ≈ 80 km², against an
// official area of about 83 km². It runs from 虎丘/白洋湾 in the north-west to
// 吴门桥 south of the city moat.
var Extent = [4]float64{120.565, 31.270, 120.660, 31.350}

// ErrInvalidSize is returned (wrapped) by Build for a size outside [MinSize, MaxSize].
var ErrInvalidSize = errors.New("invalid size")

// Division is one administrative division.
type Division struct {
	Code         string       `json:"code"`         // 12-digit statistical code
	Short        string       `json:"short"`        // significant digits: 2, 4, 6, 9 or 12
	Name         string       `json:"name"`         // display name: "平江街道", "路南社区", "梅巷村"
	OfficialName string       `json:"officialName"` // as published: "路南社区居委会", "梅巷村委会"
	Level        string       `json:"level"`        // province|city|county|township|community
	Parent       string       `json:"parentCode"`   // 12-digit code of the parent, "" for the province
	Ring         [][2]float64 `json:"ring"`         // closed CCW exterior ring [lon, lat]; nil for province and city
	Centroid     [2]float64   `json:"centroid"`     // [lon, lat]; approximate reference point for province and city
}

// Grid is one unit grid (万米单元网格).
type Grid struct {
	Code      string       `json:"code"` // 15 digits: community code (12) + sequence (3)
	Seq       int          `json:"seq"`  // 1-based, west to east, north to south
	Name      string       `json:"name"` // "路南社区第3网格"
	Community string       `json:"communityCode"`
	Street    string       `json:"streetCode"`
	Ring      [][2]float64 `json:"ring"`
	Centroid  [2]float64   `json:"centroid"`
}

// District is a built demo district.
type District struct {
	Seed int64
	Size int
	// Divisions: province, city, county, then streets, then communities,
	// each group in code order.
	Divisions []Division
	// Grids, in code order (grouped by community).
	Grids []Grid

	byCode     map[string]int
	gridByCode map[string]int
	gridBoxes  []rect
}

// Approximate reference points for the levels without a ring: the centre of
// the bounding box of Jiangsu and of Suzhou.
var refPoints = map[string][2]float64{
	LevelProvince: {119.16, 32.94},
	LevelCity:     {120.63, 31.41},
}

// streetLayout places the real streets roughly where they are: rows from north
// to south, streets in a row from west to east. Weights are the number of
// communities times densityFactor (outer streets are less dense).
var streetLayout = [][]string{
	{"320508022", "320508017", "320508023"}, // 虎丘, 白洋湾, 苏锦
	{"320508019", "320508018"},              // 金阊, 平江
	{"320508020", "320508021"},              // 沧浪, 双塔
	{"320508024"},                           // 吴门桥, south of the moat
}

var densityFactor = map[string]float64{
	"320508017": 1.8, // 白洋湾
	"320508022": 1.4, // 虎丘
	"320508023": 1.1, // 苏锦
}

// PCG stream constants, so that different parts of the geography draw from
// independent streams of the same seed.
const (
	streamLayout    = 0x5354_5245_4554 // street layout
	streamCommunity = 0x434f_4d4d      // community partition, xor code hash
	streamGrid      = 0x4752_4944      // grid partition, xor code hash
)

func rngFor(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

func codeHash(code string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(code))
	return h.Sum64()
}

// GridsPerCommunity returns the number of unit grids of one community for a
// population size and a community factor f in [0.5, 1.5):
//
//	clamp(round(GridsAtDefault × √(size / DefaultSize) × f), MinGrids, MaxGrids)
//
// At DefaultSize this is 4..12 grids per community; at 1,000 all communities
// have 2; from about 1.6 million most have 40. The count is non-decreasing in size.
func GridsPerCommunity(size int, f float64) int {
	n := math.Round(GridsAtDefault * math.Sqrt(float64(size)/DefaultSize) * f)
	return int(max(MinGrids, min(MaxGrids, n)))
}

// Build builds the demo district for a seed and a target population size
// (0 means DefaultSize; otherwise it must be in [MinSize, MaxSize]).
//
// The result depends only on (seed, size): all randomness comes from
// math/rand/v2 PCG generators seeded with the seed. Street and community
// polygons depend on the seed only; size changes only the unit grids. Each
// community gets GridsPerCommunity(size, f) grids, with f drawn per community
// from the seed.
func Build(seed int64, size int) (*District, error) {
	if size == 0 {
		size = DefaultSize
	}
	if size < MinSize || size > MaxSize {
		return nil, fmt.Errorf("district: size %d must be between %d and %d (0 means %d): %w",
			size, MinSize, MaxSize, DefaultSize, ErrInvalidSize)
	}
	recs, err := records()
	if err != nil {
		return nil, err
	}
	d := &District{Seed: seed, Size: size, byCode: map[string]int{}, gridByCode: map[string]int{}}

	// Divisions from the data, grouped by level.
	var top, streets, comms []Division
	children := map[string][]string{} // street short -> community shorts
	for _, r := range recs {
		code, _ := Canonical(r.short)
		div := Division{Code: code, Short: r.short, Name: displayName(r.name), OfficialName: r.name, Level: LevelOf(code)}
		if r.parent != "" {
			div.Parent, _ = Canonical(r.parent)
		}
		switch div.Level {
		case LevelTownship:
			streets = append(streets, div)
		case LevelCommunity:
			comms = append(comms, div)
			children[r.parent] = append(children[r.parent], r.short)
		default:
			top = append(top, div)
		}
	}
	byShort := func(a, b Division) int { return cmp.Compare(a.Code, b.Code) }
	slices.SortStableFunc(top, byShort)
	slices.SortStableFunc(streets, byShort)
	slices.SortStableFunc(comms, byShort)

	// Street rectangles.
	county := rect{w: Extent[0], s: Extent[1], e: Extent[2], n: Extent[3]}
	streetRects := layoutStreets(county, streets, children, rngFor(seed, streamLayout))

	// Community rectangles, per street, each street with its own stream.
	commRects := make(map[string]rect, len(comms))
	for _, st := range streets {
		kids := children[st.Short]
		if len(kids) == 0 {
			continue
		}
		w := make([]float64, len(kids))
		for i := range w {
			w[i] = 1
		}
		rng := rngFor(seed, streamCommunity^codeHash(st.Short))
		for i, r := range splitRecursive(streetRects[st.Short], jittered(rng, w, 0.35), rng, 0.15) {
			commRects[kids[i]] = r
		}
	}

	// Grid rectangles, per community, each with its own stream.
	type gridRect struct {
		comm Division
		seq  int
		r    rect
	}
	var grids []gridRect
	for _, c := range comms {
		rng := rngFor(seed, streamGrid^codeHash(c.Short))
		n := GridsPerCommunity(size, 0.5+rng.Float64())
		for i, r := range splitRows(commRects[c.Short], n, rng, 0.2) {
			grids = append(grids, gridRect{comm: c, seq: i + 1, r: r})
		}
	}

	// Rings that share edges vertex for vertex within each level.
	sr := make([]rect, 0, len(streets))
	for _, st := range streets {
		sr = append(sr, streetRects[st.Short])
	}
	streetRinger := newRinger(sr)
	cr := make([]rect, 0, len(comms))
	for _, c := range comms {
		cr = append(cr, commRects[c.Short])
	}
	commRinger := newRinger(cr)
	gr := make([]rect, len(grids))
	for i, g := range grids {
		gr[i] = g.r
	}
	gridRinger := newRinger(gr)

	for i := range top {
		if top[i].Level == LevelCounty {
			top[i].Ring = streetRinger.ring(county)
			top[i].Centroid = Centroid(top[i].Ring)
		} else {
			top[i].Centroid = refPoints[top[i].Level]
		}
	}
	for i := range streets {
		streets[i].Ring = streetRinger.ring(streetRects[streets[i].Short])
		streets[i].Centroid = Centroid(streets[i].Ring)
	}
	for i := range comms {
		comms[i].Ring = commRinger.ring(commRects[comms[i].Short])
		comms[i].Centroid = Centroid(comms[i].Ring)
	}
	d.Divisions = slices.Concat(top, streets, comms)
	for i, div := range d.Divisions {
		d.byCode[div.Code] = i
	}

	d.Grids = make([]Grid, len(grids))
	d.gridBoxes = gr
	for i, g := range grids {
		ring := gridRinger.ring(g.r)
		d.Grids[i] = Grid{
			Code:      fmt.Sprintf("%s%03d", g.comm.Code, g.seq),
			Seq:       g.seq,
			Name:      fmt.Sprintf("%s第%d网格", g.comm.Name, g.seq),
			Community: g.comm.Code,
			Street:    g.comm.Parent,
			Ring:      ring,
			Centroid:  Centroid(ring),
		}
		d.gridByCode[d.Grids[i].Code] = i
	}
	return d, nil
}

// layoutStreets places the streets in the county box: by streetLayout when it
// names exactly the streets in the data, otherwise by recursive splitting.
// Areas are proportional to community counts (times densityFactor), jittered.
func layoutStreets(county rect, streets []Division, children map[string][]string, rng *rand.Rand) map[string]rect {
	weight := func(short string) float64 {
		f := densityFactor[short]
		if f == 0 {
			f = 1
		}
		return float64(max(1, len(children[short]))) * f
	}
	out := make(map[string]rect, len(streets))
	want := map[string]bool{}
	for _, st := range streets {
		want[st.Short] = true
	}
	n := 0
	for _, row := range streetLayout {
		for _, s := range row {
			if want[s] {
				n++
			}
		}
	}
	if n == len(streets) && n == len(slices.Concat(streetLayout...)) {
		rowW := make([]float64, len(streetLayout))
		for i, row := range streetLayout {
			for _, s := range row {
				rowW[i] += weight(s)
			}
		}
		for i, rowRect := range bands(county, jittered(rng, rowW, 0.1), true) {
			row := streetLayout[i]
			w := make([]float64, len(row))
			for j, s := range row {
				w[j] = weight(s)
			}
			for j, r := range bands(rowRect, jittered(rng, w, 0.15), false) {
				out[row[j]] = r
			}
		}
		return out
	}
	w := make([]float64, len(streets))
	for i, st := range streets {
		w[i] = weight(st.Short)
	}
	for i, r := range splitRecursive(county, w, rng, 0.15) {
		out[streets[i].Short] = r
	}
	return out
}

// filter returns the divisions of one level, in order.
func (d *District) filter(level string) []Division {
	var out []Division
	for _, div := range d.Divisions {
		if div.Level == level {
			out = append(out, div)
		}
	}
	return out
}

// County returns the district itself (姑苏区).
func (d *District) County() Division { return d.filter(LevelCounty)[0] }

// Streets returns the streets (township level), in code order.
func (d *District) Streets() []Division { return d.filter(LevelTownship) }

// Communities returns the communities and villages, in code order.
func (d *District) Communities() []Division { return d.filter(LevelCommunity) }

// Division looks a division up by its 12-digit or short code.
func (d *District) Division(code string) (Division, bool) {
	full, err := Canonical(code)
	if err != nil {
		return Division{}, false
	}
	i, ok := d.byCode[full]
	if !ok {
		return Division{}, false
	}
	return d.Divisions[i], true
}

// Children returns the direct children of a division (12-digit or short code), in order.
func (d *District) Children(code string) []Division {
	full, err := Canonical(code)
	if err != nil {
		return nil
	}
	var out []Division
	for _, div := range d.Divisions {
		if div.Parent == full {
			out = append(out, div)
		}
	}
	return out
}

// Grid looks a unit grid up by its 15-digit code.
func (d *District) Grid(code string) (Grid, bool) {
	i, ok := d.gridByCode[code]
	if !ok {
		return Grid{}, false
	}
	return d.Grids[i], true
}

// GridsOf returns the grids of a community (12-digit or short code), in sequence order.
func (d *District) GridsOf(community string) []Grid {
	full, err := Canonical(community)
	if err != nil {
		return nil
	}
	var out []Grid
	for _, g := range d.Grids {
		if g.Community == full {
			out = append(out, g)
		}
	}
	return out
}

// Locate returns the unit grid containing the point (lon, lat), if any; its
// Community and Street fields give the divisions.
func (d *District) Locate(lon, lat float64) (Grid, bool) {
	for i, b := range d.gridBoxes {
		if b.contains(lon, lat) && PointInRing(d.Grids[i].Ring, lon, lat) {
			return d.Grids[i], true
		}
	}
	return Grid{}, false
}

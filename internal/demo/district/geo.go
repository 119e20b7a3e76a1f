package district

import (
	"math"
	"math/rand/v2"
	"slices"
)

// rect is an axis-aligned box in WGS84 degrees: west, south, east, north.
type rect struct{ w, s, e, n float64 }

// Approximate metres per degree at the latitude of the demo district.
const (
	metresPerDegLat = 110_940.0
	metresPerDegLon = 111_320.0 * 0.8543 // cos(31.31°)
)

func (r rect) widthM() float64  { return (r.e - r.w) * metresPerDegLon }
func (r rect) heightM() float64 { return (r.n - r.s) * metresPerDegLat }

// round6 rounds a coordinate to 1e-6 degree (about 0.1 m). Cut lines are
// rounded once and the same float64 is used by the polygons on both sides,
// so shared edges are bit-identical.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// jittered returns the weights multiplied by independent factors drawn
// uniformly from [1-j, 1+j).
func jittered(rng *rand.Rand, weights []float64, j float64) []float64 {
	out := make([]float64, len(weights))
	for i, w := range weights {
		out[i] = w * (1 - j + 2*j*rng.Float64())
	}
	return out
}

// bands cuts r into len(weights) parallel strips whose sizes are proportional
// to weights. With northToSouth the strips are stacked from north to south,
// otherwise they run from west to east. The outer edges are r's edges exactly.
func bands(r rect, weights []float64, northToSouth bool) []rect {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	out := make([]rect, len(weights))
	acc := 0.0
	prev := r.w
	if northToSouth {
		prev = r.n
	}
	for i, w := range weights {
		acc += w
		last := i == len(weights)-1
		if northToSouth {
			next := r.s
			if !last {
				next = round6(r.n - (r.n-r.s)*acc/total)
			}
			out[i] = rect{w: r.w, s: next, e: r.e, n: prev}
			prev = next
		} else {
			next := r.e
			if !last {
				next = round6(r.w + (r.e-r.w)*acc/total)
			}
			out[i] = rect{w: prev, s: r.s, e: next, n: r.n}
			prev = next
		}
	}
	return out
}

// splitRecursive tiles r with len(weights) rectangles whose areas are roughly
// proportional to the (jittered) weights: the list is halved by weight, the
// box is cut across its longer side (in metres) with the first half to the
// west or north, and both halves recurse. Output order follows input order.
func splitRecursive(r rect, weights []float64, rng *rand.Rand, jitter float64) []rect {
	if len(weights) == 1 {
		return []rect{r}
	}
	total := 0.0
	for _, w := range weights {
		total += w
	}
	k, acc, best := 1, 0.0, math.Inf(1)
	for i := 0; i < len(weights)-1; i++ {
		acc += weights[i]
		if d := math.Abs(acc - total/2); d < best {
			k, best = i+1, d
		}
	}
	left := sum(weights[:k])
	two := jittered(rng, []float64{left, total - left}, jitter)
	halves := bands(r, two, r.heightM() > r.widthM())
	return append(splitRecursive(halves[0], weights[:k], rng, jitter),
		splitRecursive(halves[1], weights[k:], rng, jitter)...)
}

// splitRows tiles r with n cells laid out in rows (north to south), each row
// split into columns (west to east), cells numbered in reading order. The
// row count keeps cells roughly square; row heights and column widths are
// jittered.
func splitRows(r rect, n int, rng *rand.Rand, jitter float64) []rect {
	rows := int(math.Round(math.Sqrt(float64(n) * r.heightM() / r.widthM())))
	rows = max(1, min(rows, n))
	counts := make([]float64, rows)
	for i := range counts {
		counts[i] = float64(n / rows)
		if i < n%rows {
			counts[i]++
		}
	}
	out := make([]rect, 0, n)
	for i, row := range bands(r, jittered(rng, counts, jitter), true) {
		cols := make([]float64, int(counts[i]))
		for j := range cols {
			cols[j] = 1
		}
		out = append(out, bands(row, jittered(rng, cols, jitter), false)...)
	}
	return out
}

func sum(xs []float64) float64 {
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t
}

// ringer builds closed, counter-clockwise rings for a set of rectangles that
// tile a region, inserting the corners of neighbouring rectangles that lie on
// an edge (T-junctions), so that neighbours share edges vertex for vertex.
type ringer struct {
	ysOnX map[float64][]float64 // corner latitudes on each meridian x
	xsOnY map[float64][]float64 // corner longitudes on each parallel y
}

func newRinger(rs []rect) *ringer {
	g := &ringer{ysOnX: map[float64][]float64{}, xsOnY: map[float64][]float64{}}
	for _, r := range rs {
		for _, x := range [2]float64{r.w, r.e} {
			g.ysOnX[x] = append(g.ysOnX[x], r.s, r.n)
		}
		for _, y := range [2]float64{r.s, r.n} {
			g.xsOnY[y] = append(g.xsOnY[y], r.w, r.e)
		}
	}
	for k, v := range g.ysOnX {
		slices.Sort(v)
		g.ysOnX[k] = slices.Compact(v)
	}
	for k, v := range g.xsOnY {
		slices.Sort(v)
		g.xsOnY[k] = slices.Compact(v)
	}
	return g
}

// between returns the values of sorted vs strictly between lo and hi.
func between(vs []float64, lo, hi float64) []float64 {
	i, _ := slices.BinarySearch(vs, lo)
	j, _ := slices.BinarySearch(vs, hi)
	for i < j && vs[i] <= lo {
		i++
	}
	return vs[i:j]
}

func (g *ringer) ring(r rect) [][2]float64 {
	ring := [][2]float64{{r.w, r.s}}
	for _, x := range between(g.xsOnY[r.s], r.w, r.e) { // south edge, eastwards
		ring = append(ring, [2]float64{x, r.s})
	}
	ring = append(ring, [2]float64{r.e, r.s})
	for _, y := range between(g.ysOnX[r.e], r.s, r.n) { // east edge, northwards
		ring = append(ring, [2]float64{r.e, y})
	}
	ring = append(ring, [2]float64{r.e, r.n})
	top := between(g.xsOnY[r.n], r.w, r.e)
	for i := len(top) - 1; i >= 0; i-- { // north edge, westwards
		ring = append(ring, [2]float64{top[i], r.n})
	}
	ring = append(ring, [2]float64{r.w, r.n})
	left := between(g.ysOnX[r.w], r.s, r.n)
	for i := len(left) - 1; i >= 0; i-- { // west edge, southwards
		ring = append(ring, [2]float64{r.w, left[i]})
	}
	return append(ring, [2]float64{r.w, r.s})
}

// SignedArea returns the planar signed area of a closed ring in square
// degrees: positive for a counter-clockwise ring (RFC 7946 exterior).
func SignedArea(ring [][2]float64) float64 {
	a := 0.0
	for i := 0; i+1 < len(ring); i++ {
		a += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
	}
	return a / 2
}

// Centroid returns the planar area centroid [lon, lat] of a closed ring,
// rounded to 1e-6 degree. It returns the vertex mean for a degenerate ring.
func Centroid(ring [][2]float64) [2]float64 {
	var a, cx, cy float64
	for i := 0; i+1 < len(ring); i++ {
		p, q := ring[i], ring[i+1]
		c := p[0]*q[1] - q[0]*p[1]
		a += c
		cx += (p[0] + q[0]) * c
		cy += (p[1] + q[1]) * c
	}
	if a == 0 {
		var m [2]float64
		for _, p := range ring {
			m[0] += p[0] / float64(len(ring))
			m[1] += p[1] / float64(len(ring))
		}
		return [2]float64{round6(m[0]), round6(m[1])}
	}
	return [2]float64{round6(cx / (3 * a)), round6(cy / (3 * a))}
}

// PointInRing reports whether the point (lon, lat) lies inside the closed
// ring, by ray casting. Points exactly on an edge may be reported either way,
// but for polygons that tile a region a point is reported inside exactly one
// of them.
func PointInRing(ring [][2]float64, lon, lat float64) bool {
	inside := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		xi, yi := ring[i][0], ring[i][1]
		xj, yj := ring[j][0], ring[j][1]
		if (yi > lat) != (yj > lat) && lon < (xj-xi)*(lat-yi)/(yj-yi)+xi {
			inside = !inside
		}
	}
	return inside
}

// bbox returns the bounding box of a ring.
func bbox(ring [][2]float64) rect {
	b := rect{w: math.Inf(1), s: math.Inf(1), e: math.Inf(-1), n: math.Inf(-1)}
	for _, p := range ring {
		b.w, b.e = min(b.w, p[0]), max(b.e, p[0])
		b.s, b.n = min(b.s, p[1]), max(b.n, p[1])
	}
	return b
}

func (r rect) contains(lon, lat float64) bool {
	return lon >= r.w && lon <= r.e && lat >= r.s && lat <= r.n
}

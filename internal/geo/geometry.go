package geo

import (
	"encoding/json"
	"math"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Bounds is a bounding box in WGS84 degrees: west, south, east, north.
type Bounds [4]float64

// emptyBounds is the identity of Extend.
func emptyBounds() Bounds {
	return Bounds{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
}

// Empty reports whether b holds no point.
func (b Bounds) Empty() bool { return b[0] > b[2] || b[1] > b[3] }

// Extend grows b to include the point.
func (b *Bounds) Extend(x, y float64) {
	b[0], b[1] = min(b[0], x), min(b[1], y)
	b[2], b[3] = max(b[2], x), max(b[3], y)
}

// Union grows b to include o.
func (b *Bounds) Union(o Bounds) {
	if o.Empty() {
		return
	}
	b.Extend(o[0], o[1])
	b.Extend(o[2], o[3])
}

// Intersects reports whether the boxes share a point (edges included).
func (b Bounds) Intersects(o Bounds) bool {
	return b[0] <= o[2] && o[0] <= b[2] && b[1] <= o[3] && o[1] <= b[3]
}

// shape is a parsed areal geometry: every ring of every polygon as closed,
// flat [x0 y0 x1 y1 ...] coordinates. The point-in-polygon test treats all
// rings alike (even-odd), which is exact for polygons with holes and for
// multipolygons whose parts do not overlap (as RFC 7946 requires).
type shape struct {
	rings  [][]float64
	bounds Bounds
}

// parseShape reads a GeoJSON Polygon or MultiPolygon with lon/lat
// coordinates. field names the input in errors.
func parseShape(field string, geom []byte) (*shape, error) {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(geom, &g); err != nil {
		return nil, errs.Invalid(field, "geojson", "is not a GeoJSON geometry", "不是有效的 GeoJSON 几何")
	}
	var polys [][][][]float64
	switch g.Type {
	case "Polygon":
		var p [][][]float64
		if err := json.Unmarshal(g.Coordinates, &p); err != nil {
			return nil, errs.Invalid(field, "geojson", "has malformed Polygon coordinates", "Polygon 坐标格式错误")
		}
		polys = [][][][]float64{p}
	case "MultiPolygon":
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil {
			return nil, errs.Invalid(field, "geojson", "has malformed MultiPolygon coordinates", "MultiPolygon 坐标格式错误")
		}
	default:
		return nil, errs.Invalid(field, "geometryType", "must be a GeoJSON Polygon or MultiPolygon", "应为 GeoJSON Polygon 或 MultiPolygon")
	}
	s := &shape{bounds: emptyBounds()}
	for _, p := range polys {
		if len(p) == 0 {
			return nil, errs.Invalid(field, "geojson", "has a polygon without rings", "多边形缺少环")
		}
		for _, ring := range p {
			flat, err := flatRing(field, ring)
			if err != nil {
				return nil, err
			}
			for i := 0; i < len(flat); i += 2 {
				s.bounds.Extend(flat[i], flat[i+1])
			}
			s.rings = append(s.rings, flat)
		}
	}
	if len(s.rings) == 0 {
		return nil, errs.Invalid(field, "geojson", "has no rings", "几何中没有环")
	}
	return s, nil
}

// flatRing checks one ring and returns it closed and flattened.
func flatRing(field string, ring [][]float64) ([]float64, error) {
	flat := make([]float64, 0, 2*len(ring)+2)
	for _, pt := range ring {
		if len(pt) < 2 {
			return nil, errs.Invalid(field, "geojson", "has a position with fewer than two numbers", "坐标位置少于两个数")
		}
		x, y := pt[0], pt[1]
		if math.IsNaN(x) || math.IsNaN(y) || x < -180 || x > 180 || y < -90 || y > 90 {
			return nil, errs.Invalid(field, "range", "has a position outside lon [-180, 180], lat [-90, 90]", "坐标超出经度 [-180, 180]、纬度 [-90, 90] 范围")
		}
		flat = append(flat, x, y)
	}
	if n := len(flat); n >= 2 && (flat[0] != flat[n-2] || flat[1] != flat[n-1]) {
		flat = append(flat, flat[0], flat[1]) // close it
	}
	if len(flat) < 8 {
		return nil, errs.Invalid(field, "geojson", "has a ring with fewer than four positions", "环的坐标少于四个")
	}
	return flat, nil
}

// ringsContain is the even-odd crossing test of the point over closed flat
// rings. Each edge is taken bottom-up whatever its direction in the ring, and
// a crossing counts when the edge spans y half-open (lower <= y < upper) and
// the point lies strictly left of it. So the test is that of the point nudged
// by an infinitesimal (+dx, +dy), dy << dx, which lies on no edge: of polygons
// that share edges vertex for vertex, a point on a shared edge or vertex is
// inside exactly one, and both sides evaluate the same edge with the same
// operands, so rounding cannot make it zero or two.
func ringsContain(rings [][]float64, x, y float64) bool {
	in := false
	for _, r := range rings {
		for i := 2; i+1 < len(r); i += 2 {
			ax, ay, bx, by := r[i-2], r[i-1], r[i], r[i+1]
			if (ay > y) == (by > y) {
				continue
			}
			if ay > by {
				ax, ay, bx, by = bx, by, ax, ay
			}
			if (bx-ax)*(y-ay)-(by-ay)*(x-ax) > 0 {
				in = !in
			}
		}
	}
	return in
}

// GeometryBounds returns the bounding box of any GeoJSON geometry (every
// number pair in its coordinates, recursively; GeometryCollection members
// too). ok is false for null, empty or malformed geometry.
func GeometryBounds(geom []byte) (b Bounds, ok bool) {
	var g struct {
		Type        string            `json:"type"`
		Coordinates any               `json:"coordinates"`
		Geometries  []json.RawMessage `json:"geometries"`
	}
	if len(geom) == 0 || json.Unmarshal(geom, &g) != nil {
		return b, false
	}
	b = emptyBounds()
	walkPositions(g.Coordinates, &b)
	for _, m := range g.Geometries {
		if mb, ok := GeometryBounds(m); ok {
			b.Union(mb)
		}
	}
	return b, !b.Empty()
}

func walkPositions(v any, b *Bounds) {
	arr, ok := v.([]any)
	if !ok {
		return
	}
	if len(arr) >= 2 {
		x, okx := arr[0].(float64)
		y, oky := arr[1].(float64)
		if okx && oky {
			b.Extend(x, y)
			return
		}
	}
	for _, e := range arr {
		walkPositions(e, b)
	}
}

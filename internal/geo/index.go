package geo

import (
	"cmp"
	"encoding/json"
	"errors"
	"math"
	"slices"

	"github.com/tidwall/rtree"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// IndexItem is one polygon to index: its code (a grid code) and its GeoJSON
// Polygon or MultiPolygon geometry in WGS84 lon/lat, holes allowed.
type IndexItem struct {
	Code     string
	Geometry json.RawMessage
}

// Index answers "which polygon contains this point" in memory: an R-tree of
// bounding boxes (tidwall/rtree) narrows the candidates, an exact even-odd
// crossing test on the rings decides. A uniform cell table filled from the
// R-tree at build time (cells.go) answers most lookups without walking the
// tree. It is immutable once built and safe for concurrent use. A point on
// an edge shared by two polygons is in exactly one of them (see
// ringsContain); should polygons overlap, the one with the smallest code
// wins, so the answer never depends on tree order.
type Index struct {
	tree   rtree.RTreeGN[float64, int32]
	items  []indexed // sorted by code; the tree stores positions in it
	bounds Bounds
	cells  *cellTable
}

type indexed struct {
	rings  [][]float64 // first: the hot field of a lookup
	bounds Bounds
	code   string
}

// NewIndex parses and indexes the polygons. Codes must be unique and
// non-empty; a bad geometry is reported with its code.
func NewIndex(items []IndexItem) (*Index, error) {
	ix := &Index{items: make([]indexed, 0, len(items)), bounds: emptyBounds()}
	for _, it := range items {
		if it.Code == "" {
			return nil, errs.Invalid("code", "required", "every indexed polygon needs a code", "每个多边形都需要编码")
		}
		s, err := parseShape("geometry", it.Geometry)
		if err != nil {
			var e *errs.Error
			if errors.As(err, &e) {
				e.Message = it.Code + ": " + e.Message
				e.MessageZh = it.Code + ": " + e.MessageZh
			}
			return nil, err
		}
		ix.items = append(ix.items, indexed{code: it.Code, rings: s.rings, bounds: s.bounds})
	}
	slices.SortFunc(ix.items, func(a, b indexed) int { return cmp.Compare(a.code, b.code) })
	for i := 1; i < len(ix.items); i++ {
		if ix.items[i].code == ix.items[i-1].code {
			return nil, errs.Conflict("code", "duplicate polygon code "+ix.items[i].code, "多边形编码重复："+ix.items[i].code)
		}
	}
	if len(ix.items) > math.MaxInt32 {
		return nil, errs.Invalid("items", "maxItems", "too many polygons", "多边形过多")
	}
	for _, it := range ix.items {
		ix.bounds.Union(it.bounds)
	}
	// Insert along a Hilbert curve: neighbours in the tree's nodes are
	// neighbours on the ground, so a point query visits few nodes.
	order := make([]int32, len(ix.items))
	keys := make([]uint64, len(ix.items))
	for i, it := range ix.items {
		order[i] = int32(i)
		b := it.bounds
		keys[i] = hilbertKey(ix.bounds, (b[0]+b[2])/2, (b[1]+b[3])/2)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(keys[a], keys[b]) })
	for _, i := range order {
		b := ix.items[i].bounds
		ix.tree.Insert([2]float64{b[0], b[1]}, [2]float64{b[2], b[3]}, i)
	}
	ix.buildCells()
	return ix, nil
}

// hilbertKey is the position of (x, y) on a Hilbert curve of order 16 over
// the box.
func hilbertKey(box Bounds, x, y float64) uint64 {
	const side = 1 << 16
	scale := func(v, lo, hi float64) uint32 {
		if hi <= lo {
			return 0
		}
		return uint32(min(max((v-lo)/(hi-lo)*(side-1), 0), side-1))
	}
	hx, hy := scale(x, box[0], box[2]), scale(y, box[1], box[3])
	var d uint64
	for s := uint32(side / 2); s > 0; s /= 2 {
		var rx, ry uint32
		if hx&s != 0 {
			rx = 1
		}
		if hy&s != 0 {
			ry = 1
		}
		d += uint64(s) * uint64(s) * uint64((3*rx)^ry)
		if ry == 0 { // rotate the quadrant
			if rx == 1 {
				hx, hy = side-1-hx, side-1-hy
			}
			hx, hy = hy, hx
		}
	}
	return d
}

// Locate returns the code of the polygon containing the point (lon, lat).
// It does not allocate.
func (ix *Index) Locate(lon, lat float64) (code string, ok bool) {
	if i := ix.locate(lon, lat); i >= 0 {
		return ix.items[i].code, true
	}
	return "", false
}

// locate returns the position of the containing polygon, or -1.
func (ix *Index) locate(lon, lat float64) int32 {
	if ix.cells != nil {
		if i, done := ix.cells.locate(ix, lon, lat); done {
			return i
		}
	}
	return ix.locateTree(lon, lat)
}

// locateTree is locate by a walk down the R-tree.
func (ix *Index) locateTree(lon, lat float64) int32 {
	best := int32(-1)
	p := [2]float64{lon, lat}
	ix.tree.Search(p, p, func(_, _ [2]float64, i int32) bool {
		if (best < 0 || i < best) && ringsContain(ix.items[i].rings, lon, lat) {
			best = i
		}
		return true
	})
	return best
}

// Len is the number of polygons.
func (ix *Index) Len() int { return len(ix.items) }

// Bounds is the bounding box of all polygons (ok is false when empty).
func (ix *Index) Bounds() (b Bounds, ok bool) { return ix.bounds, !ix.bounds.Empty() }

package geo

import (
	"math"
	"slices"
)

// cellTable is a lookup table in front of the R-tree: a uniform grid of
// cells over the index's extent, each listing (ascending) the polygons whose
// bounding box meets the cell, as the R-tree reports them. A lookup then
// costs one multiplication per axis and a couple of exact tests instead of
// a walk down the tree (whose 64-entry nodes are scanned linearly: about
// three quarters of a tree lookup's time at 10,000 grids). Cells with too
// many candidates (sparse data with dense clusters) are marked, and their
// points go to the R-tree.
type cellTable struct {
	x0, y0, kx, ky float64 // origin and cells per degree
	nx, ny         int
	start          []int32  // candidates of cell k: ids[start[k]:start[k+1]]
	ids            []int32  // positions in Index.items
	crowded        []uint64 // bitset: the cell's points go to the R-tree
}

// maxCellCandidates is the largest candidate list a cell keeps.
const maxCellCandidates = 24

// buildCells sizes cells at half the mean bounding box of the polygons
// (about two candidates per cell for a tiling), at most 8 cells per polygon
// plus 4096, and 4M, in all.
func (ix *Index) buildCells() {
	n := len(ix.items)
	b := ix.bounds
	if n == 0 || b.Empty() {
		return
	}
	var mw, mh float64
	for _, it := range ix.items {
		mw += it.bounds[2] - it.bounds[0]
		mh += it.bounds[3] - it.bounds[1]
	}
	mw, mh = mw/float64(n)/2, mh/float64(n)/2
	w, h := b[2]-b[0], b[3]-b[1]
	if mw <= 0 || mh <= 0 || w <= 0 || h <= 0 {
		return
	}
	nx, ny := math.Ceil(w/mw), math.Ceil(h/mh)
	if limit := math.Min(float64(8*n+4096), 1<<22); nx*ny > limit { // coarser, same aspect
		f := math.Sqrt(limit / (nx * ny))
		nx, ny = math.Max(1, math.Floor(nx*f)), math.Max(1, math.Floor(ny*f))
	}
	c := &cellTable{x0: b[0], y0: b[1], nx: int(nx), ny: int(ny), kx: nx / w, ky: ny / h}
	cells := c.nx * c.ny
	c.start = make([]int32, cells+1)
	c.crowded = make([]uint64, (cells+63)/64)
	// A cell's box is widened by a hair, so a point that rounding puts in
	// the neighbouring cell still finds every polygon whose box holds it.
	ex, ey := 1e-9*w+1e-12, 1e-9*h+1e-12
	var buf []int32
	for k := range cells {
		cx, cy := k%c.nx, k/c.nx
		lo := [2]float64{b[0] + float64(cx)/c.kx - ex, b[1] + float64(cy)/c.ky - ey}
		hi := [2]float64{b[0] + float64(cx+1)/c.kx + ex, b[1] + float64(cy+1)/c.ky + ey}
		buf = buf[:0]
		ix.tree.Search(lo, hi, func(_, _ [2]float64, i int32) bool {
			buf = append(buf, i)
			return len(buf) <= maxCellCandidates
		})
		if len(buf) > maxCellCandidates {
			c.crowded[k/64] |= 1 << (k % 64)
			buf = buf[:0]
		}
		slices.Sort(buf)
		c.ids = append(c.ids, buf...)
		c.start[k+1] = int32(len(c.ids))
	}
	ix.cells = c
}

// locate finds the polygon containing the point through the cell table;
// done is false when the point's cell is crowded (ask the R-tree).
func (c *cellTable) locate(ix *Index, x, y float64) (i int32, done bool) {
	fx, fy := (x-c.x0)*c.kx, (y-c.y0)*c.ky
	// Outside the extent of every polygon (NaN fails too).
	if !(fx >= 0 && fy >= 0 && fx <= float64(c.nx) && fy <= float64(c.ny)) {
		return -1, true
	}
	cx, cy := min(int(fx), c.nx-1), min(int(fy), c.ny-1)
	k := cy*c.nx + cx
	if c.crowded[k/64]&(1<<(k%64)) != 0 {
		return -1, false
	}
	// Ascending positions: the first polygon that holds the point has the
	// smallest code.
	for _, id := range c.ids[c.start[k]:c.start[k+1]] {
		it := &ix.items[id]
		bb := &it.bounds
		if x >= bb[0] && x <= bb[2] && y >= bb[1] && y <= bb[3] && ringsContain(it.rings, x, y) {
			return id, true
		}
	}
	return -1, true
}

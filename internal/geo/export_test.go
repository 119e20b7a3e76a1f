package geo

// LocateTree exposes the R-tree path of Locate (without the cell table) to
// the external tests and benchmarks.
func (ix *Index) LocateTree(lon, lat float64) (string, bool) {
	if i := ix.locateTree(lon, lat); i >= 0 {
		return ix.items[i].code, true
	}
	return "", false
}

//go:build !race

package geo_test

import (
	"testing"

	"github.com/shuzhi-gov/shuzhi/internal/geo"
)

// TestLocateDoesNotAllocate (built without -race, which allocates).
func TestLocateDoesNotAllocate(t *testing.T) {
	ix, err := geo.NewIndex(lattice())
	if err != nil {
		t.Fatal(err)
	}
	pts := latticePoints()
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		p := pts[i%len(pts)]
		ix.Locate(p[0], p[1])
		i++
	}); n != 0 {
		t.Fatalf("Locate allocates %v times per call", n)
	}
}

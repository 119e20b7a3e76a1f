//go:build !race

package merkle

import "testing"

// TestAllocations checks hashing and appending do not allocate. It is built
// only without the race detector, whose sync.Pool drops items on purpose. It is not
// parallel: testing.AllocsPerRun refuses to run in parallel tests.
func TestAllocations(t *testing.T) {
	short, long := make([]byte, 40), make([]byte, 4000)
	for _, h := range hashers {
		t.Run(h.Name(), func(t *testing.T) {
			var x Hash
			for name, f := range map[string]func(){
				"LeafHash/short": func() { x = h.LeafHash(short) },
				"LeafHash/long":  func() { x = h.LeafHash(long) },
				"NodeHash":       func() { x = h.NodeHash(x, x) },
			} {
				if a := testing.AllocsPerRun(200, f); a != 0 {
					t.Errorf("%s: %v allocations", name, a)
				}
			}
			b, _ := NewBuilder(h, 0, nil)
			if a := testing.AllocsPerRun(5000, func() { b.Append(x) }); a != 0 {
				t.Errorf("Builder.Append: %v allocations", a)
			}
		})
	}
}

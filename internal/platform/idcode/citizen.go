package idcode

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// CitizenID is a parsed citizen ID number (公民身份号码, GB 11643-1999).
type CitizenID struct {
	Number   string    // canonical 18-char form, uppercase X
	Division string    // 6 digits: the division of household registration
	Birth    time.Time // UTC midnight of the birth date
	Sex      string    // "M" or "F"
	Seq      string    // 3 digits; odd for men, even for women
	Upgraded bool      // input was a 15-digit legacy number
}

// now is the clock used for "not in the future"; tests replace it.
var now = time.Now

// chinaTime is China Standard Time. Birth dates are calendar dates in China,
// so "today" is taken there, independent of the server's time zone.
var chinaTime = time.FixedZone("CST", 8*60*60)

// citizenWeights are the GB 11643 weights 2^(17-i) mod 11 of the first 17 digits.
var citizenWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// citizenChecks maps the weighted sum mod 11 to the check character.
const citizenChecks = "10X98765432"

// countyLessCities are prefecture-level cities with no county-level
// divisions; their residents' ID numbers carry the city's own code.
var countyLessCities = map[string]bool{
	"441900": true, // 东莞市
	"442000": true, // 中山市
	"460400": true, // 儋州市
	"620200": true, // 嘉峪关市
}

// CitizenIDCheck returns the GB 11643 check character ('0'-'9' or 'X') of
// the first 17 digits of a citizen ID number, or 0 when first17 is not
// exactly 17 ASCII digits.
func CitizenIDCheck(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if !isDigit(c) {
			return 0
		}
		sum += int(c-'0') * citizenWeights[i]
	}
	return citizenChecks[sum%11]
}

// ParseCitizenID parses a citizen ID number: 18 characters (the last may be
// a lowercase x), or a legacy 15-digit number, which is upgraded to 18.
// Surrounding white space is ignored. It checks the check character, that
// the birth date is a real date from 1900-01-01 to today (China Standard
// Time), and that the division part has a valid province and is
// county-level (or one of the cities without counties). Errors are
// *errs.Error values naming field; see the package documentation for rules.
func ParseCitizenID(field, s string) (CitizenID, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n != 18 && n != 15 {
		return CitizenID{}, errs.Invalid(field, "length",
			fmt.Sprintf("a citizen ID number has 18 characters (or 15 digits for a legacy number), got %d", n),
			fmt.Sprintf("公民身份号码应为 18 位（旧号码为 15 位），实为 %d 位", n))
	}
	// Every character is a digit, but for a final X in an 18-character
	// number. After this loop s is ASCII, so len(s) == n.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isDigit(c) || (i == 17 && (c == 'X' || c == 'x')) {
			continue
		}
		en, zh := badCharMsg(s, i)
		if i == 17 {
			return CitizenID{}, errs.Invalid(field, "charset", en+" must be a digit or X", zh+"应为数字或 X")
		}
		return CitizenID{}, errs.Invalid(field, "charset", en+" must be a digit", zh+"应为数字")
	}
	upgraded := n == 15
	if upgraded {
		s = upgrade15(s)
	} else {
		if s[17] == 'x' {
			s = s[:17] + "X"
		}
		if want := CitizenIDCheck(s[:17]); s[17] != want {
			return CitizenID{}, errs.Invalid(field, "check-character",
				fmt.Sprintf("check character should be %c, got %c", want, s[17]),
				fmt.Sprintf("校验码应为 %c，实为 %c", want, s[17]))
		}
	}

	birth, err := parseBirth(field, s[6:14])
	if err != nil {
		return CitizenID{}, err
	}
	if err := checkCitizenDivision(field, s[:6]); err != nil {
		return CitizenID{}, err
	}
	sex := "F"
	if (s[16]-'0')%2 == 1 {
		sex = "M"
	}
	return CitizenID{Number: s, Division: s[:6], Birth: birth, Sex: sex, Seq: s[14:17], Upgraded: upgraded}, nil
}

// upgrade15 turns a 15-digit legacy number into its 18-character form.
func upgrade15(s string) string {
	var b [18]byte
	copy(b[:6], s[:6])
	b[6], b[7] = '1', '9'
	copy(b[8:17], s[6:15])
	b[17] = CitizenIDCheck(string(b[:17]))
	return string(b[:])
}

// parseBirth checks the 8 digits YYYYMMDD.
func parseBirth(field, ymd string) (time.Time, error) {
	y := atoi(ymd[0:4])
	m := atoi(ymd[4:6])
	d := atoi(ymd[6:8])
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return time.Time{}, errs.Invalid(field, "birth-date",
			"birth date "+ymd+" is not a real date", "出生日期 "+ymd+" 不是有效日期")
	}
	if y < 1900 {
		return time.Time{}, errs.Invalid(field, "birth-date",
			"birth date "+ymd+" is before 1900-01-01", "出生日期 "+ymd+" 早于 1900-01-01")
	}
	ty, tm, td := now().In(chinaTime).Date()
	if y*10000+m*100+d > ty*10000+int(tm)*100+td {
		return time.Time{}, errs.Invalid(field, "birth-date",
			"birth date "+ymd+" is in the future", "出生日期 "+ymd+" 晚于今天")
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), nil
}

// checkCitizenDivision checks the 6-digit division part of an ID number.
func checkCitizenDivision(field, div string) error {
	if err := checkProvince(field, div[:2]); err != nil {
		return err
	}
	depth, gap := divisionDepth(div)
	if gap >= 0 {
		return hierarchyError(field, "division", div, depth, gap)
	}
	if depth < 3 && !countyLessCities[div] {
		return errs.Invalid(field, "division",
			"division code "+div+" is not county-level (its county part is 00)",
			"行政区划代码 "+div+" 不是县级代码（县级部分为 00）")
	}
	return nil
}

// MakeCitizenID builds a valid 18-character citizen ID number from a 6-digit
// division code, a birth date (its calendar date in its own location) and a
// sequence number 0-999 (odd for men, even for women), computing the check
// character. It is meant for demo and test data generators; it panics when
// division is not 6 digits, seq is out of range or the year is not 0-9999,
// and does not check the division or the date range (ParseCitizenID does).
func MakeCitizenID(division string, birth time.Time, seq int) string {
	if _, ok := firstNonDigit(division); !ok || len(division) != 6 {
		panic("idcode: MakeCitizenID: division must be 6 digits, got " + fmt.Sprintf("%q", division))
	}
	if seq < 0 || seq > 999 {
		panic(fmt.Sprintf("idcode: MakeCitizenID: seq must be 0-999, got %d", seq))
	}
	y, m, d := birth.Date()
	if y < 0 || y > 9999 {
		panic(fmt.Sprintf("idcode: MakeCitizenID: birth year must be 0-9999, got %d", y))
	}
	var b [18]byte
	copy(b[:6], division)
	putDigits(b[6:10], y)
	putDigits(b[10:12], int(m))
	putDigits(b[12:14], d)
	putDigits(b[14:17], seq)
	b[17] = CitizenIDCheck(string(b[:17]))
	return string(b[:])
}

// putDigits writes n into b as len(b) decimal digits, zero padded.
func putDigits(b []byte, n int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}

// atoi converts a string of ASCII digits (already checked) to an int.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

package quality

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// problem is what is wrong with a value, without the item's name and
// without the value itself (failure lists leave the platform).
type problem struct{ en, zh string }

// typeCheck reports whether a trimmed, non-empty value has a type.
type typeCheck func(v string) (problem, bool)

// typeChecks holds the check of every known item type; plain strings need
// none.
var typeChecks = map[string]typeCheck{
	"string":     nil,
	"int":        checkInt,
	"number":     checkNumber,
	"date":       checkDate,
	"datetime":   checkDatetime,
	"bool":       checkBool,
	"idnumber":   checkCitizenID,
	"creditcode": checkCreditCode,
	"division":   checkDivision,
	"phone":      checkPhone,
	"email":      checkEmail,
}

var (
	problemMissing   = problem{"is empty", "为空"}
	problemDuplicate = problem{"duplicate value", "值重复"}

	problemInt      = problem{"not an integer", "不是整数"}
	problemNumber   = problem{"not a number", "不是数值"}
	problemDate     = problem{"not a date (YYYY-MM-DD)", "不是日期（YYYY-MM-DD）"}
	problemDatetime = problem{"not an RFC 3339 date and time", "不是 RFC 3339 日期时间"}
	problemBool     = problem{"not true or false", "不是 true 或 false"}
	problemPhone    = problem{"not a phone number", "不是有效的电话号码"}
	problemEmail    = problem{"not an email address", "不是有效的电子邮箱地址"}
	problemLegacyID = problem{"legacy 15-digit number, use the 18-character form", "为 15 位旧号码，应使用 18 位号码"}
)

func checkInt(v string) (problem, bool) {
	_, err := strconv.ParseInt(v, 10, 64)
	return problemInt, err == nil
}

func checkNumber(v string) (problem, bool) {
	if !isDecimal(v) {
		return problemNumber, false
	}
	_, err := strconv.ParseFloat(v, 64) // rejects overflow such as 1e999
	return problemNumber, err == nil
}

func checkDate(v string) (problem, bool) {
	return problemDate, isDate(v)
}

func checkDatetime(v string) (problem, bool) {
	_, err := time.Parse(time.RFC3339, v)
	return problemDatetime, err == nil
}

func checkBool(v string) (problem, bool) {
	return problemBool, v == "true" || v == "false"
}

func checkPhone(v string) (problem, bool) {
	return problemPhone, isPhone(v)
}

func checkEmail(v string) (problem, bool) {
	return problemEmail, isEmail(v)
}

// Short problems for the rules of idcode's errors. idcode's own messages
// quote parts of the value (the birth date, the division, the expected check
// character), which must not reach the failure list.
var (
	problemDivisionPart = problem{"division code invalid", "行政区划代码无效"}
	problemCheckDigit   = problem{"check digit wrong", "校验位错误"}

	citizenProblems = map[string]problem{
		"length":          {"must have 18 characters", "应为 18 位"},
		"charset":         {"must be digits (the last may be X)", "应为数字（末位可为 X）"},
		"check-character": problemCheckDigit,
		"birth-date":      {"birth date invalid", "出生日期无效"},
		"division":        problemDivisionPart,
		"province":        problemDivisionPart,
		"hierarchy":       problemDivisionPart,
	}
	creditProblems = map[string]problem{
		"length":                  {"must have 18 characters", "应为 18 位"},
		"charset":                 {"invalid character (use digits and capital letters except I, O, S, V, Z)", "含非法字符（只能使用数字和除 I、O、S、V、Z 以外的大写字母）"},
		"check-character":         problemCheckDigit,
		"registration-authority":  {"unknown registration authority", "登记管理部门代码无效"},
		"organization-type":       {"unknown organisation type", "机构类别代码无效"},
		"division":                problemDivisionPart,
		"province":                problemDivisionPart,
		"hierarchy":               problemDivisionPart,
		"organization-code-check": {"organisation code check digit wrong", "组织机构代码校验位错误"},
	}
	divisionProblems = map[string]problem{
		"length":    {"must have 6 or 12 digits", "应为 6 位或 12 位数字"},
		"charset":   {"must be digits", "应为数字"},
		"province":  {"unknown province", "省级代码不存在"},
		"hierarchy": {"division levels inconsistent", "区划层级不一致"},
	}
)

func checkCitizenID(v string) (problem, bool) {
	id, err := idcode.ParseCitizenID("value", v)
	switch {
	case err != nil:
		return idcodeProblem(err, citizenProblems, problem{"not a citizen ID number", "不是有效的公民身份号码"}), false
	case id.Upgraded:
		return problemLegacyID, false
	}
	return problem{}, true
}

func checkCreditCode(v string) (problem, bool) {
	if _, err := idcode.ParseCreditCode("value", v); err != nil {
		return idcodeProblem(err, creditProblems, problem{"not a unified social credit code", "不是有效的统一社会信用代码"}), false
	}
	return problem{}, true
}

func checkDivision(v string) (problem, bool) {
	if len(v) != 6 && len(v) != 12 { // idcode also takes 9 digits; the catalog does not
		return divisionProblems["length"], false
	}
	if _, err := idcode.ParseDivision("value", v); err != nil {
		return idcodeProblem(err, divisionProblems, problem{"not a division code", "不是有效的行政区划代码"}), false
	}
	return problem{}, true
}

// idcodeProblem maps an idcode error to a short problem by its rule.
func idcodeProblem(err error, problems map[string]problem, fallback problem) problem {
	var e *errs.Error
	if errors.As(err, &e) && len(e.Fields) == 1 {
		if p, ok := problems[e.Fields[0].Rule]; ok {
			return p
		}
	}
	return fallback
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isDecimal reports whether v is a plain decimal number: optional sign,
// digits with an optional fraction (or a fraction alone), optional exponent.
// It keeps out what strconv.ParseFloat also takes: Inf, NaN, hex, "_".
func isDecimal(v string) bool {
	i := 0
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(v) && isDigit(v[i]); i++ {
		digits++
	}
	if i < len(v) && v[i] == '.' {
		for i++; i < len(v) && isDigit(v[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		start := i
		for ; i < len(v) && isDigit(v[i]); i++ {
		}
		if i == start {
			return false
		}
	}
	return i == len(v)
}

// isDate reports whether v is a real calendar date YYYY-MM-DD (year 1 up).
func isDate(v string) bool {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return false
	}
	n := [3]int{}
	for k, part := range [3]string{v[:4], v[5:7], v[8:]} {
		for i := 0; i < len(part); i++ {
			if !isDigit(part[i]) {
				return false
			}
			n[k] = n[k]*10 + int(part[i]-'0')
		}
	}
	y, m, d := n[0], n[1], n[2]
	return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
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

// isPhone reports whether v is a mainland mobile number (11 digits starting
// with 1) or a fixed-line number (7-13 digits, at most one hyphen between
// digits). Fixed-line numbers start with an area code (0…) or a local
// number (2-9…), never with 1, so a 1 means a mobile number.
func isPhone(v string) bool {
	if v == "" {
		return false
	}
	digits, hyphens := 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case isDigit(c):
			digits++
		case c == '-' && i > 0 && i < len(v)-1:
			hyphens++
		default:
			return false
		}
	}
	if v[0] == '1' {
		return digits == 11 && hyphens == 0
	}
	return hyphens <= 1 && digits >= 7 && digits <= 13
}

// isEmail reports whether v is an ASCII address local@domain: the local
// part dot-separated atoms of RFC 5322 atext (at most 64 characters), the
// domain two or more dot-separated labels of letters, digits and inner
// hyphens (at most 63 characters each), 254 characters in all. Quoted local
// parts and address literals are valid by RFC but not in a data catalog.
func isEmail(v string) bool {
	at := strings.IndexByte(v, '@')
	if at < 1 || at > 64 || len(v) > 254 {
		return false
	}
	local, domain := v[:at], v[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; c != '.' && !isAtext(c) {
			return false
		}
	}
	for labels := 1; ; labels++ {
		label, rest, more := strings.Cut(domain, ".")
		if !isLabel(label) {
			return false
		}
		if !more {
			return labels >= 2
		}
		domain = rest
	}
}

// isLabel reports whether l is a domain name label.
func isLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; !isDigit(c) && !isLetter(c) && c != '-' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isAtext(c byte) bool {
	return isDigit(c) || isLetter(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// upperASCII upper-cases ASCII letters, allocating only when there is a
// lowercase one.
func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

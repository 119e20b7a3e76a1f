package idcode

import (
	"strings"
	"unicode/utf8"
)

// MaskCitizenID masks a citizen ID number for display, keeping the first 6
// and the last 4 characters: "320508********123X". Anything that is not 18
// (or, legacy, 15) ASCII digits, the last possibly X, is masked entirely with
// one '*' per character. The result always has as many characters as s.
func MaskCitizenID(s string) string {
	n := len(s)
	if (n != 18 && n != 15) || !citizenShape(s) {
		return stars(utf8.RuneCountInString(s))
	}
	return s[:6] + stars(n-10) + s[n-4:]
}

// citizenShape reports whether s is all ASCII digits but for a final X or x.
func citizenShape(s string) bool {
	_, ok := firstNonDigit(s[:len(s)-1])
	last := s[len(s)-1]
	return ok && (isDigit(last) || last == 'X' || last == 'x')
}

// MaskPhone masks a phone number for display. An 11-digit mobile number
// keeps its first 3 and last 4 digits ("138****5678"); anything else keeps
// its last 4 characters, or none when it has 4 or fewer. The result always
// has as many characters as s.
func MaskPhone(s string) string {
	if len(s) == 11 && s[0] == '1' {
		if _, ok := firstNonDigit(s); ok {
			return s[:3] + "****" + s[7:]
		}
	}
	n := utf8.RuneCountInString(s)
	if n <= 4 {
		return stars(n)
	}
	// Find the byte offset of the last 4 characters.
	i := len(s)
	for k := 0; k < 4; k++ {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return stars(n-4) + s[i:]
}

// MaskName masks a person's name for display. A name with any non-ASCII
// character (a Chinese name) keeps its first character and has one '*' for
// each of the rest: "王*", "欧**". An ASCII name keeps its first letter and
// gets a fixed "***", hiding its length: "J***". The empty string stays
// empty.
func MaskName(s string) string {
	if s == "" {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			_, size := utf8.DecodeRuneInString(s)
			return s[:size] + stars(utf8.RuneCountInString(s[size:]))
		}
	}
	return s[:1] + "***"
}

func stars(n int) string { return strings.Repeat("*", n) }

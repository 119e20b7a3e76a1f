package idcode

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz with, e.g.:
//
//	go test ./internal/platform/idcode/ -run '^$' -fuzz FuzzParseCitizenID -fuzztime 20s

func FuzzParseCitizenID(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", " 11010519491231002X ", "110105491231002",
		"441900199005171232", "440524188001010014", "110105194912310021", "32050820230231123X",
		"11010519491231002", "", "1101051949123100二X", "１１０１０５１９４９１２３１００２Ｘ",
		"99010519491231002X", "11000519491231002X", "110105000229002", MakeCitizenID("320508", date(2000, 2, 29), 1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCitizenID("id", s)
		if err != nil {
			ruleOf(t, err, "id")
			if c != (CitizenID{}) {
				t.Fatalf("error %v with a non-zero value %+v", err, c)
			}
			return
		}
		n := c.Number
		if len(n) != 18 || CitizenIDCheck(n[:17]) != n[17] {
			t.Fatalf("%q: bad canonical number %q", s, n)
		}
		in := strings.TrimSpace(s)
		if c.Upgraded {
			if n[:6]+n[8:17] != in || n[6:8] != "19" {
				t.Fatalf("%q upgraded to %q", s, n)
			}
		} else if n != strings.ToUpper(in) {
			t.Fatalf("%q canonicalised to %q", s, n)
		}
		again, err := ParseCitizenID("id", n)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", n, s, err)
		}
		c.Upgraded = false
		if again != c {
			t.Fatalf("re-parse of %q: %+v, want %+v", n, again, c)
		}
		if c.Division != n[:6] || c.Seq != n[14:17] || c.Birth.Format("20060102") != n[6:14] ||
			c.Birth.Location() != time.UTC || c.Birth.Hour() != 0 || c.Birth.Year() < 1900 {
			t.Fatalf("%q: inconsistent %+v", s, c)
		}
		if wantSex := map[bool]string{true: "M", false: "F"}[(n[16]-'0')%2 == 1]; c.Sex != wantSex {
			t.Fatalf("%q: sex %s", s, c.Sex)
		}
		if made := MakeCitizenID(c.Division, c.Birth, atoi(c.Seq)); made != n {
			t.Fatalf("MakeCitizenID of %+v = %q", c, made)
		}
		if m := MaskCitizenID(n); m != n[:6]+"********"+n[14:] {
			t.Fatalf("MaskCitizenID(%q) = %q", n, m)
		}
	})
}

func FuzzParseCreditCode(f *testing.F) {
	for _, s := range []string{
		"91350100M000100Y43", "91110000600037341L", "11100000000013127D", "91440300708461136T",
		" 91350100m000100y43 ", "91350100M000100Y44", "91350100M000100I43", "B1350100M000100Y41",
		"91350100M000100Y4", "", "91350100M000100Y4三", "ıııııııııııııııııı", "Y1100000000000000Y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCreditCode("code", s)
		if err != nil {
			ruleOf(t, err, "code")
			if c != (CreditCode{}) {
				t.Fatalf("error %v with a non-zero value %+v", err, c)
			}
			return
		}
		code := c.Code
		if len(code) != 18 || code != strings.ToUpper(strings.TrimSpace(s)) {
			t.Fatalf("%q canonicalised to %q", s, code)
		}
		if chk, err := CreditCodeCheck(code[:17]); err != nil || chk != code[17] {
			t.Fatalf("%q: check %q, %v", code, chk, err)
		}
		if chk, err := OrgCodeCheck(c.OrgCode[:8]); err != nil || chk != c.OrgCode[8] {
			t.Fatalf("%q: org check %q, %v", code, chk, err)
		}
		if c.Authority != code[0] || c.Type != code[1] || c.Division != code[2:8] || c.OrgCode != code[8:17] ||
			c.AuthorityName == "" || c.TypeName == "" {
			t.Fatalf("%q: inconsistent %+v", s, c)
		}
		again, err := ParseCreditCode("code", code)
		if err != nil || again != c {
			t.Fatalf("re-parse of %q: %+v, %v; want %+v", code, again, err, c)
		}
		if made, err := MakeCreditCode(c.Authority, c.Type, c.Division, c.OrgCode[:8]); err != nil || made != code {
			t.Fatalf("MakeCreditCode of %+v = %q, %v", c, made, err)
		}
	})
}

func FuzzParseDivision(f *testing.F) {
	for _, s := range []string{
		"320000", "320500", "320508", "320508018", "320508018001", " 110101 ", "710000", "820000",
		"32050A", "3205", "000000", "990000", "320008", "320500001000", "320508000001", "", "江苏省",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDivision("code", s)
		if err != nil {
			ruleOf(t, err, "code")
			if d != (Division{}) {
				t.Fatalf("error %v with a non-zero value %+v", err, d)
			}
			return
		}
		depth := map[string]int{LevelProvince: 1, LevelCity: 2, LevelCounty: 3, LevelTownship: 4, LevelCommunity: 5}[d.Level]
		if depth == 0 || len(d.Code) != 12 || len(d.Short) != partEnds[depth-1] || !strings.HasPrefix(d.Code, d.Short) ||
			!allZero(d.Code[len(d.Short):]) || !strings.HasPrefix(d.Code, strings.TrimSpace(s)) {
			t.Fatalf("%q: inconsistent %+v", s, d)
		}
		// No significant part is zero, and the last one in particular.
		for i, start := 0, 0; i < depth; i++ {
			if allZero(d.Code[start:partEnds[i]]) {
				t.Fatalf("%q: part %d of %+v is zero", s, i, d)
			}
			start = partEnds[i]
		}
		short := d.Short
		if len(short) < 6 {
			short += "0000"[:6-len(short)]
		}
		for _, in := range []string{d.Code, short} {
			if again, err := ParseDivision("code", in); err != nil || again != d {
				t.Fatalf("re-parse of %q: %+v, %v; want %+v", in, again, err, d)
			}
		}
	})
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{
		"32050819900101123X", "110105491231002", "13812345678", "010-12345678", "王五", "欧阳修", "John",
		"", "\xff\xfe", "a\xffb", "阿卜杜·热合曼", "J",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := utf8.RuneCountInString(s)
		// MaskCitizenID shows the first 6 and last 4 of a well-formed number
		// and nothing of anything else.
		id := MaskCitizenID(s)
		if utf8.RuneCountInString(id) != n {
			t.Fatalf("MaskCitizenID(%q) = %q changes the length", s, id)
		}
		if id != strings.Repeat("*", n) &&
			((len(s) != 15 && len(s) != 18) || !isASCII(s) || id != s[:6]+strings.Repeat("*", len(s)-10)+s[len(s)-4:]) {
			t.Fatalf("MaskCitizenID(%q) = %q", s, id)
		}

		// MaskPhone shows the last 4 characters, or the first 3 and last 4 of
		// a mobile number, and nothing of anything of 4 characters or fewer.
		ph := MaskPhone(s)
		if utf8.RuneCountInString(ph) != n {
			t.Fatalf("MaskPhone(%q) = %q changes the length", s, ph)
		}
		switch {
		case n <= 4:
			if ph != strings.Repeat("*", n) {
				t.Fatalf("MaskPhone(%q) = %q", s, ph)
			}
		case len(s) == 11 && s[0] == '1' && strings.Trim(s, "0123456789") == "":
			if ph != s[:3]+"****"+s[7:] {
				t.Fatalf("MaskPhone(%q) = %q", s, ph)
			}
		default:
			tail := ph[n-4:]
			if !strings.HasPrefix(ph, strings.Repeat("*", n-4)) || !strings.HasSuffix(s, tail) || utf8.RuneCountInString(tail) != 4 {
				t.Fatalf("MaskPhone(%q) = %q", s, ph)
			}
		}

		nm := MaskName(s)
		switch {
		case s == "":
			if nm != "" {
				t.Fatalf("MaskName(\"\") = %q", nm)
			}
		case isASCII(s):
			if nm != s[:1]+"***" {
				t.Fatalf("MaskName(%q) = %q", s, nm)
			}
		default:
			_, size := utf8.DecodeRuneInString(s)
			if utf8.RuneCountInString(nm) != n || nm[:size] != s[:size] || strings.Trim(nm[size:], "*") != "" {
				t.Fatalf("MaskName(%q) = %q", s, nm)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

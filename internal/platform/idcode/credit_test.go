package idcode

import (
	"strings"
	"testing"
)

// Hand-checked vectors. Credit code check: values are indexes in
// "0123456789ABCDEFGHJKLMNPQRTUWXY" (M=21, Y=30, L=20), weights 1 3 9 27 19
// 26 16 17 20 29 25 13 8 24 10 30 28, check value 31 - (sum mod 31).
// Organisation code check: A=10 … Z=35 (M=22, Y=34), weights 3 7 9 10 5 8 4
// 2, check 11 - (sum mod 11).
//
//	91350100M000100Y43: credit 9+3+27+135+0+26+0+0+420+0+0+0+8+0+0+900+112
//	  = 1640, 1640 mod 31 = 28, 31-28 = 3 -> '3'.
//	  org M000100Y: 66+0+0+0+5+0+0+68 = 139, 139 mod 11 = 7, 11-7 = 4 -> '4'.
//	91110000600037341L: credit 9+3+9+27+0+0+0+0+120+0+0+0+24+168+30+120+28
//	  = 538, 538 mod 31 = 11, 31-11 = 20 -> 'L'.
//	  org 60003734: 18+0+0+0+15+56+12+8 = 109, 109 mod 11 = 10, 11-10 = 1 -> '1'.
//
// 11100000000013127D (a central body, division 100000) and
// 91440300708461136T are published codes checked by the implementation and
// by an independent script before being listed here.

func TestCreditWeights(t *testing.T) {
	w := 1
	for i, got := range creditWeights {
		if got != w {
			t.Errorf("weight %d = %d, want 3^%d mod 31 = %d", i, got, i, w)
		}
		w = w * 3 % 31
	}
	if len(creditChars) != 31 || strings.ContainsAny(creditChars, "IOSVZ") {
		t.Fatalf("alphabet %q", creditChars)
	}
}

func TestParseCreditCode(t *testing.T) {
	for _, c := range []struct {
		in   string
		want CreditCode
	}{
		{"91350100M000100Y43", CreditCode{"91350100M000100Y43", '9', "工商", '1', "企业", "350100", "M000100Y4"}},
		{"91110000600037341L", CreditCode{"91110000600037341L", '9', "工商", '1', "企业", "110000", "600037341"}},
		{"11100000000013127D", CreditCode{"11100000000013127D", '1', "机构编制", '1', "机关", "100000", "000013127"}},
		{"91440300708461136T", CreditCode{"91440300708461136T", '9', "工商", '1', "企业", "440300", "708461136"}},
		{" 91350100m000100y43\n", CreditCode{"91350100M000100Y43", '9', "工商", '1', "企业", "350100", "M000100Y4"}},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseCreditCode("creditCode", c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// withCreditCheck appends the check character to 17 characters.
func withCreditCheck(t *testing.T, first17 string) string {
	t.Helper()
	c, err := CreditCodeCheck(first17)
	if err != nil {
		t.Fatal(err)
	}
	return first17 + string(c)
}

func TestParseCreditCodeErrors(t *testing.T) {
	for _, c := range []struct {
		name, in, rule string
		msg            []string // substrings of the English or Chinese message
	}{
		{"wrong check character", "91350100M000100Y44", "check-character",
			[]string{"check character should be 3, got 4", "校验码应为 3，实为 4"}},
		{"I", "91350100M000100I43", "charset", []string{"character 16 ('I') is not allowed", "第 16 位（'I'）不合法"}},
		{"O", "9135O100M000100Y43", "charset", []string{"character 5 ('O')"}},
		{"S", "91350100S000100Y43", "charset", nil},
		{"V", "91350100V000100Y43", "charset", nil},
		{"Z", "91350100Z000100Y43", "charset", nil},
		{"punctuation", "91350100-000100Y43", "charset", nil},
		{"Chinese character", "91350100M000100Y4三", "charset", []string{"character 18 ('三')"}},
		{"length 17", "91350100M000100Y4", "length", []string{"got 17", "实为 17 位"}},
		{"length 19", "91350100M000100Y433", "length", nil},
		{"empty", "", "length", nil},
		{"bad organisation code check", withCreditCheck(t, "91350100M000100Y5"), "organization-code-check",
			[]string{"M000100Y5", "should be 4, got 5", "校验码应为 4，实为 5"}},
		{"unknown authority B", withCreditCheck(t, "B1350100M000100Y4"), "registration-authority",
			[]string{`code 'B' is unknown`, `登记管理部门代码 'B' 不存在`}},
		{"unknown authority 0", withCreditCheck(t, "01350100M000100Y4"), "registration-authority", nil},
		{"type 4 under 工商", withCreditCheck(t, "94350100M000100Y4"), "organization-type",
			[]string{"type '4' is not defined for registration authority 9 (工商)", "登记管理部门 9（工商）下没有机构类别代码 '4'"}},
		{"type 9 under 工商", withCreditCheck(t, "99350100M000100Y4"), "organization-type", nil},
		{"type 2 under 其他", withCreditCheck(t, "Y2350100M000100Y4"), "organization-type", nil},
		{"province 99", withCreditCheck(t, "91990000M000100Y4"), "province", []string{"province code 99"}},
		{"letter in division", withCreditCheck(t, "913501A0M000100Y4"), "division", []string{"division code 3501A0: character 5 ('A') must be a digit"}},
		{"county under city 00", withCreditCheck(t, "91350001M000100Y4"), "division", []string{"county part is 01 but the city part above it is 00"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseCreditCode("creditCode", c.in)
			if err == nil {
				t.Fatalf("accepted %q as %+v", c.in, got)
			}
			en, zh := wantRule(t, err, "creditCode", c.rule)
			wantContains(t, en+"\n"+zh, c.msg...)
		})
	}
}

// TestCreditCodeSingleCharErrors checks that replacing any one character of
// a valid code with another from the alphabet is caught by the check
// character (31 is prime and no weight is 0, so all such errors are).
func TestCreditCodeSingleCharErrors(t *testing.T) {
	for _, code := range []string{"91350100M000100Y43", "91110000600037341L", "11100000000013127D"} {
		for i := 0; i < 18; i++ {
			for j := 0; j < len(creditChars); j++ {
				if creditChars[j] == code[i] {
					continue
				}
				bad := code[:i] + creditChars[j:j+1] + code[i+1:]
				_, err := ParseCreditCode("code", bad)
				wantRule(t, err, "code", "check-character")
			}
		}
	}
}

func TestCreditCodeCheck(t *testing.T) {
	for _, c := range []struct {
		in   string
		want byte
	}{
		{"91350100M000100Y4", '3'},
		{"91110000600037341", 'L'},
		{"11100000000013127", 'D'},
		{"00000000000000000", '0'}, // 31 - 0 = 31 -> 0
	} {
		got, err := CreditCodeCheck(c.in)
		if err != nil || got != c.want {
			t.Errorf("CreditCodeCheck(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	_, err := CreditCodeCheck("91350100M000100Y")
	wantRule(t, err, "code", "length")
	_, err = CreditCodeCheck("91350100m000100Y4") // lowercase is not canonical
	wantRule(t, err, "code", "charset")
	_, err = CreditCodeCheck("91350100I000100Y4")
	wantRule(t, err, "code", "charset")
}

// TestCreditCheckSum checks the defining property: the weighted sum of the
// first 17 values plus the check value is 0 mod 31.
func TestCreditCheckSum(t *testing.T) {
	for n := 0; n < 20000; n++ {
		var b [17]byte
		x := uint32(n)*2654435761 + 1
		for i := range b {
			b[i] = creditChars[x%31]
			x = x*1664525 + 1013904223
		}
		c, err := CreditCodeCheck(string(b[:]))
		if err != nil {
			t.Fatal(err)
		}
		sum := strings.IndexByte(creditChars, c)
		for i, ch := range b {
			w := 1
			for k := 0; k < i; k++ {
				w = w * 3 % 31
			}
			sum += strings.IndexByte(creditChars, ch) * w
		}
		if sum%31 != 0 {
			t.Fatalf("%s%c: sum %d mod 31 = %d", b[:], c, sum, sum%31)
		}
	}
}

func TestOrgCodeCheck(t *testing.T) {
	for _, c := range []struct {
		in   string
		want byte
	}{
		{"M000100Y", '4'},
		{"60003734", '1'},
		{"00001312", '7'},
		{"70846113", '6'},
		{"00000006", 'X'}, // 6*2 = 12, 11 - 1 = 10 -> X
		{"00000000", '0'}, // 11 - 0 = 11 -> 0
		{"00000001", '9'}, // 11 - 2 = 9
		{"ZZZZZZZZ", '3'}, // 35*48 = 1680, 1680 mod 11 = 8, 11 - 8 = 3
	} {
		got, err := OrgCodeCheck(c.in)
		if err != nil || got != c.want {
			t.Errorf("OrgCodeCheck(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	_, err := OrgCodeCheck("M000100")
	wantRule(t, err, "orgCode", "length")
	_, err = OrgCodeCheck("m000100Y")
	wantRule(t, err, "orgCode", "charset")
}

func TestMakeCreditCode(t *testing.T) {
	// Every authority and type, round-tripped through ParseCreditCode.
	n := 0
	for a, auth := range authorities {
		for typ, name := range auth.types {
			code, err := MakeCreditCode(a, typ, "320508", "MA1XY2U7")
			if err != nil {
				t.Fatalf("%c%c: %v", a, typ, err)
			}
			got, err := ParseCreditCode("code", code)
			if err != nil {
				t.Fatalf("%s: %v", code, err)
			}
			want := CreditCode{code, a, auth.name, typ, name, "320508", got.OrgCode}
			if got != want || got.OrgCode[:8] != "MA1XY2U7" || code[:16] != string([]byte{a, typ})+"320508MA1XY2U7" {
				t.Fatalf("got %+v, want %+v", got, want)
			}
			n++
		}
	}
	if n < 30 {
		t.Fatalf("only %d authority/type pairs", n)
	}
	// The published codes are rebuilt from their parts.
	for _, code := range []string{"91350100M000100Y43", "91110000600037341L", "11100000000013127D", "91440300708461136T"} {
		got, err := MakeCreditCode(code[0], code[1], code[2:8], code[8:16])
		if err != nil || got != code {
			t.Errorf("MakeCreditCode(%s parts) = %s, %v", code, got, err)
		}
	}
	if got, err := MakeCreditCode('5', '3', "100000", "ma1xy2u7"); err != nil || got[:16] != "53100000MA1XY2U7" {
		t.Errorf("lowercase body: %s, %v", got, err)
	}

	for _, c := range []struct {
		name        string
		a, t        byte
		div, org    string
		field, rule string
	}{
		{"unknown authority", 'B', '1', "320508", "MA1XY2U7", "authority", "registration-authority"},
		{"unknown type", '9', '9', "320508", "MA1XY2U7", "type", "organization-type"},
		{"bad province", '9', '1', "990508", "MA1XY2U7", "division", "province"},
		{"short division", '9', '1', "3205", "MA1XY2U7", "division", "length"},
		{"letter in division", '9', '1', "32050A", "MA1XY2U7", "division", "division"},
		{"Z in body", '9', '1', "320508", "MA1XYZ01", "orgBase8", "charset"},
		{"short body", '9', '1', "320508", "MA1XY2U", "orgBase8", "length"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, err := MakeCreditCode(c.a, c.t, c.div, c.org)
			if err == nil {
				t.Fatalf("made %s", code)
			}
			wantRule(t, err, c.field, c.rule)
		})
	}
}

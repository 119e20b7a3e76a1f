package idcode

import (
	"strconv"
	"testing"
	"time"
)

// Hand-checked vectors (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, check
// chars "10X98765432" indexed by sum mod 11):
//
//	11010519491231002X (GB 11643 example): 1*7+1*9+0+1*5+0+5*4+1*2+9*1+4*6+9*3
//	  +1*7+2*9+3*10+1*5+0+0+2*2 = 167; 167 mod 11 = 2 -> 'X'.
//	440524188001010014 (GB 11643 example): 28+36+0+25+16+16+2+8+48+0+0+9+0+5
//	  +0+0+2 = 195; 195 mod 11 = 8 -> '4'. Its birth year 1880 is before the
//	  1900 floor, so ParseCitizenID rejects it although the check is right.
//	441900199005171232 (东莞, made up): 28+36+10+45+0+0+2+9+54+0+0+45+10+35
//	  +8+8+6 = 296; 296 mod 11 = 10 -> '2'.

func TestCitizenIDCheck(t *testing.T) {
	for _, c := range []struct {
		first17 string
		want    byte
	}{
		{"11010519491231002", 'X'},
		{"44052418800101001", '4'},
		{"44190019900517123", '2'},
		{"00000000000000000", '1'}, // sum 0 -> '1'
		{"1101051949123100", 0},    // 16 digits
		{"110105194912310021", 0},  // 18 digits
		{"1101051949123100A", 0},   // not a digit
		{"", 0},
	} {
		if got := CitizenIDCheck(c.first17); got != c.want {
			t.Errorf("CitizenIDCheck(%q) = %q, want %q", c.first17, got, c.want)
		}
	}
}

// TestCitizenWeights checks the table against its definition 2^(17-i) mod 11.
func TestCitizenWeights(t *testing.T) {
	for i, w := range citizenWeights {
		want := 1
		for k := 0; k < 17-i; k++ {
			want = want * 2 % 11
		}
		if w != want {
			t.Errorf("weight %d = %d, want %d", i, w, want)
		}
	}
}

// TestCitizenCheckISO7064 checks CitizenIDCheck against the ISO 7064
// MOD 11-2 form of the rule: over all 18 characters (X = 10, last weight 1)
// the weighted sum is 1 mod 11.
func TestCitizenCheckISO7064(t *testing.T) {
	for n := 0; n < 20000; n++ {
		first17 := MakeCitizenID("320508", date(1950, 1, 1).AddDate(0, 0, n), n%1000)[:17]
		c := CitizenIDCheck(first17)
		sum, w := 0, 1
		for i := 17; i >= 0; i-- {
			v := 10
			if i < 17 {
				v = int(first17[i] - '0')
			} else if c != 'X' {
				v = int(c - '0')
			}
			sum += v * w
			w = w * 2 % 11
		}
		if sum%11 != 1 {
			t.Fatalf("%s%c: weighted sum %d mod 11 = %d, want 1", first17, c, sum, sum%11)
		}
	}
}

func TestParseCitizenID(t *testing.T) {
	setClock(t, time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	for _, c := range []struct {
		name, in string
		want     CitizenID
	}{
		{"GB 11643 example", "11010519491231002X",
			CitizenID{"11010519491231002X", "110105", date(1949, 12, 31), "F", "002", false}},
		{"lowercase x and spaces", " 11010519491231002x\t",
			CitizenID{"11010519491231002X", "110105", date(1949, 12, 31), "F", "002", false}},
		{"15-digit legacy number", "110105491231002",
			CitizenID{"11010519491231002X", "110105", date(1949, 12, 31), "F", "002", true}},
		{"city without counties", "441900199005171232",
			CitizenID{"441900199005171232", "441900", date(1990, 5, 17), "M", "123", false}},
		{"leap day", MakeCitizenID("320508", date(2000, 2, 29), 456),
			CitizenID{MakeCitizenID("320508", date(2000, 2, 29), 456), "320508", date(2000, 2, 29), "F", "456", false}},
		{"first allowed date", MakeCitizenID("650102", date(1900, 1, 1), 1),
			CitizenID{MakeCitizenID("650102", date(1900, 1, 1), 1), "650102", date(1900, 1, 1), "M", "001", false}},
		{"today", MakeCitizenID("810101", date(2025, 6, 1), 998),
			CitizenID{MakeCitizenID("810101", date(2025, 6, 1), 998), "810101", date(2025, 6, 1), "F", "998", false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseCitizenID("idNumber", c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestParseCitizenIDErrors(t *testing.T) {
	setClock(t, time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	withCheck := func(first17 string) string { return first17 + string(CitizenIDCheck(first17)) }
	for _, c := range []struct {
		name, in, rule string
		msg            []string // substrings of the English or Chinese message
	}{
		{"wrong check character", "110105194912310021", "check-character",
			[]string{"check character should be X, got 1", "校验码应为 X，实为 1"}},
		{"X where a digit belongs", "110105194912310X2X", "charset", []string{"character 16 ('X')", "第 16 位"}},
		{"letter at the end", "11010519491231002Y", "charset", []string{"character 18 ('Y') must be a digit or X"}},
		{"letter in a legacy number", "11010549123100X", "charset", []string{"character 15 ('X') must be a digit"}},
		{"Chinese character", "1101051949123100二X", "charset", []string{"character 17 ('二') must be a digit", "第 17 位"}},
		{"Chinese character in a legacy number", "11010549123100二", "charset", []string{"character 15"}},
		{"Chinese character last", "11010519491231002二", "charset", []string{"character 18 ('二') must be a digit or X"}},
		{"full-width digits", "１１０１０５１９４９１２３１００２Ｘ", "charset", []string{"character 1 ('１')"}},
		{"17 characters with a Chinese one", "1101051949123100二", "length", []string{"got 17"}},
		{"length 17", "11010519491231002", "length", []string{"got 17"}},
		{"length 19", "11010519491231002X1", "length", []string{"got 19"}},
		{"length 16", "1101051949123100", "length", nil},
		{"empty", "   ", "length", []string{"got 0"}},
		{"February 31", withCheck("32050820230231123"), "birth-date", []string{"birth date 20230231 is not a real date", "不是有效日期"}},
		{"month 13", withCheck("32050819991301123"), "birth-date", []string{"not a real date"}},
		{"day 00", withCheck("32050819990100123"), "birth-date", []string{"not a real date"}},
		{"1900 was not a leap year", withCheck("32050819000229123"), "birth-date", []string{"19000229 is not a real date"}},
		{"legacy number with a bad date", "110105490230002", "birth-date", []string{"19490230"}},
		{"before 1900 (GB 11643 example)", "440524188001010014", "birth-date", []string{"18800101 is before 1900-01-01"}},
		{"tomorrow", MakeCitizenID("320508", date(2025, 6, 2), 1), "birth-date", []string{"20250602 is in the future", "晚于今天"}},
		{"far future", MakeCitizenID("320508", date(2999, 1, 1), 1), "birth-date", []string{"in the future"}},
		{"province 99", withCheck("99010519491231002"), "province", []string{"province code 99 does not exist", "省级代码 99 不存在"}},
		{"province 00", withCheck("00010519491231002"), "province", nil},
		{"province 83", withCheck("83010519491231002"), "province", nil},
		{"province-level division", withCheck("11000019491231002"), "division", []string{"110000 is not county-level"}},
		{"city-level division", withCheck("11010019491231002"), "division", []string{"110100 is not county-level"}},
		{"county under city 00", withCheck("11000519491231002"), "division",
			[]string{"the county part is 05 but the city part above it is 00", "县级部分为 05，但其上的地级部分为 00"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseCitizenID("idNumber", c.in)
			if err == nil {
				t.Fatalf("accepted %q as %+v", c.in, got)
			}
			en, zh := wantRule(t, err, "idNumber", c.rule)
			wantContains(t, en+"\n"+zh, c.msg...)
		})
	}
}

// TestParseCitizenIDChinaToday checks that "today" is the date in China:
// at 2025-06-01 16:00 UTC it is already 2025-06-02 in Beijing.
func TestParseCitizenIDChinaToday(t *testing.T) {
	setClock(t, time.Date(2025, 6, 1, 16, 0, 0, 0, time.UTC))
	if _, err := ParseCitizenID("id", MakeCitizenID("110105", date(2025, 6, 2), 1)); err != nil {
		t.Fatalf("born today in Beijing: %v", err)
	}
	_, err := ParseCitizenID("id", MakeCitizenID("110105", date(2025, 6, 3), 1))
	wantRule(t, err, "id", "birth-date")

	setClock(t, time.Date(2025, 6, 1, 15, 59, 59, 0, time.UTC))
	_, err = ParseCitizenID("id", MakeCitizenID("110105", date(2025, 6, 2), 1))
	wantRule(t, err, "id", "birth-date")
}

// TestCitizenIDSingleDigitErrors checks that changing any one character of a
// valid number is caught by the check character.
func TestCitizenIDSingleDigitErrors(t *testing.T) {
	for _, id := range []string{"11010519491231002X", "441900199005171232", MakeCitizenID("320508", date(1985, 10, 3), 77)} {
		for i := 0; i < 18; i++ {
			for _, r := range "0123456789X" {
				if byte(r) == id[i] || (r == 'X' && i < 17) {
					continue
				}
				bad := id[:i] + string(r) + id[i+1:]
				_, err := ParseCitizenID("id", bad)
				wantRule(t, err, "id", "check-character")
			}
		}
	}
}

func TestMakeCitizenID(t *testing.T) {
	if got := MakeCitizenID("110105", date(1949, 12, 31), 2); got != "11010519491231002X" {
		t.Errorf("got %s, want 11010519491231002X", got)
	}
	// The calendar date is taken in birth's own location.
	late := time.Date(1990, 5, 17, 23, 30, 0, 0, chinaTime)
	if got := MakeCitizenID("441900", late, 123); got != "441900199005171232" {
		t.Errorf("got %s, want 441900199005171232", got)
	}
	if got := MakeCitizenID("320508", date(2001, 1, 2), 0); got[14:17] != "000" {
		t.Errorf("seq 0: got %s", got)
	}
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"short division", func() { MakeCitizenID("3205", date(2000, 1, 1), 1) }},
		{"letter in division", func() { MakeCitizenID("32050A", date(2000, 1, 1), 1) }},
		{"seq 1000", func() { MakeCitizenID("320508", date(2000, 1, 1), 1000) }},
		{"seq -1", func() { MakeCitizenID("320508", date(2000, 1, 1), -1) }},
		{"year 10000", func() { MakeCitizenID("320508", date(10000, 1, 1), 1) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			c.f()
		})
	}
}

func TestMakeCitizenIDRoundTrip(t *testing.T) {
	setClock(t, time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	for n := 0; n < 3000; n++ {
		birth := date(1900, 1, 1).AddDate(0, 0, n*15)
		seq := n * 7 % 1000
		id := MakeCitizenID("510104", birth, seq)
		c, err := ParseCitizenID("id", id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		sex := "F"
		if seq%2 == 1 {
			sex = "M"
		}
		if c.Number != id || c.Division != "510104" || !c.Birth.Equal(birth) || c.Seq != strconv.Itoa(1000 + seq)[1:] || c.Sex != sex {
			t.Fatalf("%s: got %+v", id, c)
		}
	}
}

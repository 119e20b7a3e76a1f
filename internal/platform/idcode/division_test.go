package idcode

import "testing"

func TestParseDivision(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     Division
	}{
		{"province from GB/T 2260", "320000", Division{"320000000000", "32", LevelProvince}},
		{"city", "320500", Division{"320500000000", "3205", LevelCity}},
		{"county", "320508", Division{"320508000000", "320508", LevelCounty}},
		{"township, 9 digits", "320508018", Division{"320508018000", "320508018", LevelTownship}},
		{"township, 12 digits", "320508018000", Division{"320508018000", "320508018", LevelTownship}},
		{"community, 12 digits", "320508018001", Division{"320508018001", "320508018001", LevelCommunity}},
		{"province, 12 digits", "110000000000", Division{"110000000000", "11", LevelProvince}},
		{"surrounding spaces", " 110101 ", Division{"110101000000", "110101", LevelCounty}},
		{"Taiwan", "710000", Division{"710000000000", "71", LevelProvince}},
		{"Macao", "820000", Division{"820000000000", "82", LevelProvince}},
		{"city without counties", "441900", Division{"441900000000", "4419", LevelCity}},
		{"last province in a range", "650000", Division{"650000000000", "65", LevelProvince}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseDivision("code", c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestParseDivisionErrors(t *testing.T) {
	for _, c := range []struct {
		name, in, rule string
		msg            []string
	}{
		{"letter", "32050A", "charset", []string{"character 6 ('A') must be a digit", "第 6 位（'A'）应为数字"}},
		{"Chinese", "江苏", "charset", nil},
		{"too short", "3205", "length", []string{"got 4", "实为 4 位"}},
		{"between lengths", "3205080", "length", nil},
		{"too long", "3205080180011", "length", nil},
		{"empty", "", "length", nil},
		{"province 00", "000000", "province", nil},
		{"province 99", "990000", "province", []string{"province code 99 does not exist"}},
		{"province 16", "160000", "province", nil},
		{"province 20", "200000", "province", nil},
		{"province 38", "380000", "province", nil},
		{"province 47", "470000", "province", nil},
		{"province 55", "550000", "province", nil},
		{"province 66", "660000", "province", nil},
		{"province 83", "830000", "province", nil},
		{"county without city", "320008", "hierarchy",
			[]string{"the county part is 08 but the city part above it is 00", "县级部分为 08，但其上的地级部分为 00"}},
		{"township without county", "320500001000", "hierarchy", []string{"township part is 001 but the county part above it is 00"}},
		{"village without township", "320508000001", "hierarchy", []string{"village part is 001 but the township part above it is 000"}},
		{"village without city", "320008001001", "hierarchy", []string{"city part above it is 00"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseDivision("code", c.in)
			if err == nil {
				t.Fatalf("accepted %q as %+v", c.in, got)
			}
			en, zh := wantRule(t, err, "code", c.rule)
			wantContains(t, en+"\n"+zh, c.msg...)
		})
	}
}

// TestValidProvince checks the province list against GB/T 2260.
func TestValidProvince(t *testing.T) {
	want := map[string]bool{}
	for _, p := range []string{"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
		"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"} {
		want[p] = true
	}
	for n := 0; n < 100; n++ {
		p := string([]byte{byte('0' + n/10), byte('0' + n%10)})
		if validProvince(p) != want[p] {
			t.Errorf("validProvince(%s) = %v", p, !want[p])
		}
	}
	for _, p := range []string{"", "1", "111", "1a", "a1"} {
		if validProvince(p) {
			t.Errorf("validProvince(%q) = true", p)
		}
	}
}

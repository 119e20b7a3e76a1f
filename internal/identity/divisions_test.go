package identity

import (
	"testing"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

func TestParseDivisionCode(t *testing.T) {
	t.Parallel()
	good := []struct {
		name, in, code, short, level, parent string
	}{
		{"province from GB/T 2260", "320000", "320000000000", "32", LevelProvince, ""},
		{"city", "320500", "320500000000", "3205", LevelCity, "320000000000"},
		{"county", "320508", "320508000000", "320508", LevelCounty, "320500000000"},
		{"township, 9 digits", "320508018", "320508018000", "320508018", LevelTownship, "320508000000"},
		{"community, 12 digits", "320508018001", "320508018001", "320508018001", LevelCommunity, "320508018000"},
		{"surrounding spaces", " 110101 ", "110101000000", "110101", LevelCounty, "110100000000"},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			d, err := ParseDivisionCode("code", c.in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Code != c.code || d.Short != c.short || d.Level != c.level || d.Parent != c.parent {
				t.Fatalf("got %+v", d)
			}
		})
	}
	bad := []struct{ name, in, rule string }{
		{"letters", "32050A", "digits"},
		{"too short", "3205", "length"},
		{"between lengths", "3205080", "length"},
		{"too long", "3205080180011", "length"},
		{"empty", "", "length"},
		{"province 00", "000000", "province"},
		{"province above 82", "990000", "province"},
		{"township without county", "320500001000", "hierarchy"},
		{"county without city", "320008", "hierarchy"},
		{"community without township", "320508000001", "hierarchy"},
	}
	for _, c := range bad {
		t.Run("rejects "+c.name, func(t *testing.T) {
			_, err := ParseDivisionCode("code", c.in)
			var e *errs.Error
			if err == nil {
				t.Fatal("accepted")
			}
			e = err.(*errs.Error)
			if e.Fields[0].Rule != c.rule || e.Fields[0].Field != "code" || e.MessageZh == "" {
				t.Fatalf("rule %q field %q, want %q: %v", e.Fields[0].Rule, e.Fields[0].Field, c.rule, err)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pw   string
		rule string
	}{
		{"Shuzhi@2026", ""},
		{"abcDEF123", ""},
		{"密码Abc123", ""},
		{"Ab1!", "length"},
		{"alllowercase", "complexity"},
		{"lower123456", "complexity"},
		{"UPPER!!!!!!", "complexity"},
	}
	for _, c := range cases {
		t.Run(c.pw, func(t *testing.T) {
			err := CheckPassword("password", c.pw)
			if c.rule == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.(*errs.Error).Fields[0].Rule != c.rule {
				t.Fatalf("err = %v, want rule %s", err, c.rule)
			}
		})
	}
}

func FuzzParseDivisionCode(f *testing.F) {
	for _, s := range []string{"320508", "320508018001", "990000", "3205x8", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDivisionCode("code", s)
		if err != nil {
			return
		}
		if len(d.Code) != 12 || len(d.Short) > 12 || d.Code[:len(d.Short)] != d.Short {
			t.Fatalf("inconsistent parse of %q: %+v", s, d)
		}
		if d.Parent != "" {
			p, err := ParseDivisionCode("code", d.Parent)
			if err != nil || !(len(p.Short) < len(d.Short)) {
				t.Fatalf("parent of %q does not parse as a higher level: %+v %v", s, p, err)
			}
		}
	})
}

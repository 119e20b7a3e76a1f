package exchange

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
)

// jsonCanonical is what canonical replaced: encoding/json without HTML
// escaping. Stored leaves were made with it, so the two must agree byte
// for byte.
func jsonCanonical(b *accessBody) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		panic(err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// awkward are strings whose encoding has a rule of its own.
var awkward = []string{"", "plain", "民政局", `quote " and \ backslash`, "<a href='x'>&amp;</a>", "tab\tnew\nline\rcr",
	"\b\f\x00\x01\x1f\x7f", "line\u2028para\u2029end", "bad \xff utf-8 \xe6\x88", "emoji 😀", "\xed\xa0\x80 surrogate half", "\u00e9\u0301",
	"person:0123456789abcdef0123456789abcdef01234567"}

func TestCanonicalMatchesJSON(t *testing.T) {
	check := func(b *accessBody) {
		t.Helper()
		if got, want := canonical(b), jsonCanonical(b); !bytes.Equal(got, want) {
			t.Fatalf("canonical(%+v)\n got %s\nwant %s", b, got, want)
		}
	}
	// Every optional member absent, a nil fields list (null), then each
	// member present.
	check(&accessBody{})
	check(&accessBody{Fields: []string{}, Clear: []string{}, Subjects: []string{}})
	for _, s := range awkward {
		check(&accessBody{ActorID: s, ActorKind: s, ActorName: s, At: -1 << 63, Basis: s, Clear: []string{s, s}, ConsumerName: s, ConsumerNode: s,
			ConsumerOrg: s, Fields: []string{s}, Grant: s, ID: s, Node: s, Outcome: s, Purpose: s, Reason: s, Records: -7, Resource: s,
			ResourceID: s, ResourceName: s, Subjects: []string{s}})
	}
	// Random bodies built from the awkward strings and random bytes.
	rng := rand.New(rand.NewPCG(1, 2))
	str := func() string {
		if rng.IntN(3) == 0 {
			b := make([]byte, rng.IntN(12))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			return string(b)
		}
		return awkward[rng.IntN(len(awkward))]
	}
	strs := func() []string {
		switch n := rng.IntN(4); n {
		case 0:
			return nil
		default:
			ss := make([]string, n-1)
			for i := range ss {
				ss[i] = str()
			}
			return ss
		}
	}
	for range 2000 {
		check(&accessBody{ActorID: str(), ActorKind: str(), ActorName: str(), At: rng.Int64() - rng.Int64(), Basis: str(), Clear: strs(),
			ConsumerName: str(), ConsumerNode: str(), ConsumerOrg: str(), Fields: strs(), Grant: str(), ID: str(), Node: str(),
			Outcome: str(), Purpose: str(), Reason: str(), Records: rng.IntN(1 << 20), Resource: str(), ResourceID: str(),
			ResourceName: str(), Subjects: strs()})
	}
}

// TestCanonicalEveryMember fills every member of accessBody by reflection,
// so that a member added to the struct but not to canonical fails here.
func TestCanonicalEveryMember(t *testing.T) {
	var b accessBody
	v := reflect.ValueOf(&b).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("v" + v.Type().Field(i).Name)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"a" + v.Type().Field(i).Name, "b"}))
		default:
			t.Fatalf("accessBody.%s: kind %s has no case in canonical", v.Type().Field(i).Name, f.Kind())
		}
	}
	if got, want := canonical(&b), jsonCanonical(&b); !bytes.Equal(got, want) {
		t.Fatalf("canonical\n got %s\nwant %s", got, want)
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, int64(len(s)))
	}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		b := &accessBody{ActorID: s, At: n, Basis: s, Fields: []string{s, s}, ID: s, Records: int(n), Subjects: []string{s}}
		if got, want := canonical(b), jsonCanonical(b); !bytes.Equal(got, want) {
			t.Fatalf("canonical(%q)\n got %s\nwant %s", s, got, want)
		}
	})
}

// A governed lookup's record, as in BenchmarkExchangeLookup.
var benchBody = &accessBody{ActorID: "bench", ActorKind: "system", ActorName: "bench", At: 1764000000000, ConsumerName: "姑苏区民政局",
	ConsumerOrg: "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", Fields: []string{"name", "level", "amount"}, Grant: "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
	ID: "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d", Outcome: "ok", Purpose: "基准测试", Records: 1, Resource: "BENCH-001",
	ResourceID: "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e", ResourceName: "基准测试人员信息",
	Subjects: []string{"person:0123456789abcdef0123456789abcdef01234567"}}

func BenchmarkCanonical(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			canonical(benchBody)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			jsonCanonical(benchBody)
		}
	})
}

package ledger

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// encodeJSON is Record.Encode as it was before the hand-written encoder:
// Validate, then encoding/json (canonical) of the entry struct. Encode must
// give the same bytes (or the same error) for every record, or the leaf
// hashes of existing logs would change.
func encodeJSON(r *Record) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return canonical(entry{ActorID: r.ActorID, ActorKind: r.ActorKind, ActorName: r.ActorName, Action: r.Action, Basis: r.Basis,
		Kind: KindRecord, Module: r.Module, OrgID: r.OrgID, PayloadHash: r.PayloadHash, Purpose: r.Purpose, Ref: r.Ref, RequestID: r.RequestID,
		Subject: r.Subject, Time: r.Time.UnixMilli(), V: 1})
}

func checkEncode(t testing.TB, r Record) {
	t.Helper()
	want, werr := encodeJSON(&r)
	got, gerr := r.Encode()
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("record %+v: Encode error %v, encoding/json path error %v", r, gerr, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("record %+v:\nEncode        %q\nencoding/json %q", r, got, want)
	}
}

// pieces are the kinds of text the random records are made of: ASCII,
// Chinese, every character encoding/json escapes or treats specially, and
// (rarely) invalid UTF-8.
var pieces = []string{
	"a", "Z", "0", "9", " ", "user:", "0193a4f2-7c1e-7b3a-9f4e-", "identity", "user.roles", "case.dispatch",
	"王晓明", "行政审批局", "依据《中华人民共和国数据安全法》第三十八条", "苏州市姑苏区", "，", "。", "“引号”", "€", "😀", "\u00e9", "e\u0301",
	`"`, `\`, "/", "<", ">", "&", "'", "\x00", "\x01", "\x07", "\b", "\f", "\n", "\r", "\t", "\x0b", "\x1f", "\x7f",
	"\u2028", "\u2029", "\u2027", "\u202a", "\u0085", "\u00a0", "\ufeff", "\ufffd", "\U0010ffff",
	"\xff", "\xe4\xb8", "\xc0\xaf", "\xed\xa0\x80",
}

func randText(rng *rand.Rand, maxPieces int) string {
	var b strings.Builder
	for range 1 + rng.IntN(maxPieces) {
		p := pieces[rng.IntN(len(pieces))]
		if p[0] >= 0x80 && !utf8.ValidString(p) && rng.IntN(30) != 0 {
			continue // keep most records valid
		}
		b.WriteString(p)
	}
	return b.String()
}

func randHex(rng *rand.Rand) string {
	const digits = "0123456789abcdefABCDEF"
	n := []int{0, 0, 64, 64, 40, 1, 3}[rng.IntN(7)]
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[rng.IntN(len(digits))]
	}
	if n > 0 && rng.IntN(10) == 0 {
		b[rng.IntN(n)] = "gz -"[rng.IntN(4)]
	}
	return string(b)
}

func randRecord(rng *rand.Rand) Record {
	field := func(required bool) string {
		switch rng.IntN(40) {
		case 0, 1, 2, 3, 4:
			if !required || rng.IntN(8) == 0 {
				return ""
			}
		case 5:
			return " \t"
		}
		return randText(rng, 6)
	}
	times := []int64{0, 1, -1, 1_790_000_000_000, -62135596800000, 253402300799999, rng.Int64N(4_000_000_000_000) - 1_000_000_000_000}
	r := Record{
		ActorKind: []string{"user", "system", "user", "system", "user", "system", "", " "}[rng.IntN(8)], ActorID: field(false), ActorName: field(false), OrgID: field(false),
		Module: field(true), Action: field(true), Subject: field(true), Purpose: field(false), Basis: field(false),
		PayloadHash: randHex(rng), RequestID: field(false), Ref: field(false),
		Time: time.UnixMilli(times[rng.IntN(len(times))]),
	}
	if r.Time.IsZero() {
		r.Time = time.UnixMilli(1)
	}
	if rng.IntN(50) == 0 {
		r.Subject = strings.Repeat("界", 171) // 513 bytes: too long
	}
	if rng.IntN(50) == 0 {
		r.ActorName = strings.Repeat("a", 512) // the longest allowed
	}
	return r
}

// TestEncodeMatchesJSON compares the hand-written encoder with the
// encoding/json one over fixed and random records.
func TestEncodeMatchesJSON(t *testing.T) {
	at := time.UnixMilli(1_790_000_000_123)
	fixed := []Record{
		benchRecord(123456, benchOrg(3)),
		{ActorKind: "user", ActorID: "u1", ActorName: "王晓明", OrgID: "o1", Module: "identity", Action: "user.roles", Subject: "user:1",
			Purpose: "审计", Basis: "《数据安全法》第三十八条", PayloadHash: "ABCDEF0123", RequestID: "req-1", Ref: "audit:1", Time: at},
		{ActorKind: "system", Module: "m", Action: "a", Subject: "s", Time: at},
		{ActorKind: "user", ActorName: "a\"b\\c/d<e>f&g\u2028h\u2029i\x00j\x1fk\x7fl\b\f\n\r\t", Module: "m", Action: "a", Subject: "s", Time: at},
		{ActorKind: "user", ActorName: "bad \xff utf-8", Module: "m", Action: "a", Subject: "s", Time: at},
		{ActorKind: "user", Module: " ", Action: "a", Subject: "s", Time: at},
		{ActorKind: "user", Module: "m", Action: "a", Subject: "s", PayloadHash: "abc", Time: at},
		{ActorKind: "user", Module: "m", Action: "a", Subject: "s", PayloadHash: "zz", Time: at},
		{ActorKind: "user", Module: "m", Action: "a", Subject: strings.Repeat("x", 513), Time: at},
		{ActorKind: "user", Module: "\u3000", Action: "a", Subject: "s", Time: at}, // ideographic space: blank
		{ActorKind: "user", Module: "\u00a0m", Action: "a", Subject: "s", Time: at},
		{ActorKind: "user", Module: "\x7f", Action: "a", Subject: "s", Time: at},
	}
	for _, r := range fixed {
		checkEncode(t, r)
	}
	rng := rand.New(rand.NewPCG(3, 2026))
	n := 50000
	if testing.Short() {
		n = 5000
	}
	valid := 0
	for range n {
		r := randRecord(rng)
		checkEncode(t, r)
		if r.Validate() == nil {
			valid++
		}
	}
	if valid < n/4 {
		t.Fatalf("only %d of %d random records were valid: the comparison is too thin", valid, n)
	}
	// A zero time is filled with the current time by both.
	r := benchRecord(1, "")
	r.Time = time.Time{}
	got, err := r.Encode()
	if err != nil || !bytes.Contains(got, []byte(`,"time":`)) {
		t.Fatalf("zero time: %q, %v", got, err)
	}
}

// FuzzEncode compares the two encoders on arbitrary field values.
func FuzzEncode(f *testing.F) {
	f.Add("user", "王晓明", "identity", "user.roles", "user:1", "审计", "", "00ff", "req", "ref", int64(1_790_000_000_000))
	f.Add("system", "a\"\\\u2028\x00\xff", "m", "a", "s", "", "b", "", "", "", int64(-1))
	f.Fuzz(func(t *testing.T, kind, name, module, action, subject, purpose, basis, payload, req, ref string, ms int64) {
		checkEncode(t, Record{ActorKind: kind, ActorID: name + "1", ActorName: name, OrgID: ref, Module: module, Action: action,
			Subject: subject, Purpose: purpose, Basis: basis, PayloadHash: payload, RequestID: req, Ref: ref, Time: time.UnixMilli(ms)})
	})
}

func BenchmarkEncode(b *testing.B) {
	r := benchRecord(123456, benchOrg(3))
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Encode(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeJSON(&r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

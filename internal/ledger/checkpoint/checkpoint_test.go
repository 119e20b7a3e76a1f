package checkpoint

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func root(b byte) [HashSize]byte {
	var r [HashSize]byte
	for i := range r {
		r[i] = b + byte(i)
	}
	return r
}

func TestMarshalGolden(t *testing.T) {
	t.Parallel()
	// The example checkpoint of c2sp.org/tlog-checkpoint.
	const text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	cp, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if cp.Origin != "example.com/behind-the-sofa" || cp.Size != 20852163 || cp.Extensions != nil {
		t.Fatalf("Parse = %+v", cp)
	}
	if got := string(cp.Marshal()); got != text {
		t.Fatalf("Marshal = %q, want %q", got, text)
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cp   Checkpoint
		want string
	}{
		{"empty tree", Checkpoint{Origin: "ledger.example.gov.cn/l1", Size: 0, Root: [HashSize]byte{}},
			"ledger.example.gov.cn/l1\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"},
		{"one leaf", Checkpoint{Origin: "o", Size: 1, Root: root(1)}, ""},
		{"max size", Checkpoint{Origin: "o", Size: math.MaxUint64, Root: root(7)}, ""},
		{"extensions", Checkpoint{Origin: "o/x", Size: 42, Root: root(9), Extensions: []string{"ext one", "— two"}}, ""},
		{"unicode origin", Checkpoint{Origin: "数治.政务.cn/账本", Size: 12345, Root: root(200)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := tt.cp.Marshal()
			if tt.want != "" && string(text) != tt.want {
				t.Fatalf("Marshal = %q, want %q", text, tt.want)
			}
			got, err := Parse(text)
			if err != nil {
				t.Fatalf("Parse(%q): %v", text, err)
			}
			if !got.Equal(tt.cp) {
				t.Fatalf("round trip: got %+v, want %+v", got, tt.cp)
			}
			if !bytes.Equal(got.Marshal(), text) {
				t.Fatalf("re-Marshal differs")
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	const r = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", "newline"},
		{"no trailing newline", "o\n1\n" + r, "newline"},
		{"two lines", "o\n1\n", "at least 3 lines"},
		{"empty origin", "\n1\n" + r + "\n", "empty origin"},
		{"empty size", "o\n\n" + r + "\n", "empty tree size"},
		{"leading zero", "o\n007\n" + r + "\n", "leading zeros"},
		{"zero zero", "o\n00\n" + r + "\n", "leading zeros"},
		{"plus sign", "o\n+5\n" + r + "\n", "not a decimal"},
		{"negative", "o\n-1\n" + r + "\n", "not a decimal"},
		{"space in size", "o\n 5\n" + r + "\n", "not a decimal"},
		{"hex size", "o\n0x10\n" + r + "\n", "not a decimal"},
		{"size overflow", "o\n18446744073709551616\n" + r + "\n", "64 bits"},
		{"root unpadded", "o\n1\n" + strings.TrimSuffix(r, "=") + "\n", "base64"},
		{"root url alphabet", "o\n1\n" + "CsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=" + "\n", "base64"},
		{"root non-canonical", "o\n1\n" + "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=" + "\n", "base64"},
		{"root 31 bytes", "o\n1\n" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==" + "\n", "31 bytes"},
		{"root 33 bytes", "o\n1\n" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" + "\n", "33 bytes"},
		{"root empty", "o\n1\n\n", "0 bytes"},
		{"empty extension", "o\n1\n" + r + "\n\n", "extension line 1 is empty"},
		{"empty second extension", "o\n1\n" + r + "\next\n\n", "extension line 2 is empty"},
		{"tab in origin", "o\tx\n1\n" + r + "\n", "control character"},
		{"carriage return", "o\r\n1\n" + r + "\n", "control character"},
		{"invalid utf-8", "o\xff\n1\n" + r + "\n", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cp, err := Parse([]byte(tt.text))
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error", tt.text, cp)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

package idcode

import "testing"

func TestMaskCitizenID(t *testing.T) {
	for in, want := range map[string]string{
		"32050819900101123X": "320508********123X",
		"11010519491231002x": "110105********002x",
		"110105491231002":    "110105*****1002",
		"3205081990010112":   "****************", // 16 characters
		"32050819900101123Y": "******************",
		"32050A19900101123X": "******************",
		"身份证号":               "****",
		"":                   "",
		"123":                "***",
	} {
		if got := MaskCitizenID(in); got != want {
			t.Errorf("MaskCitizenID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":    "138****5678",
		"19900001111":    "199****1111",
		"010-12345678":   "********5678",
		"+8613812345678": "**********5678",
		"23812345678":    "*******5678", // 11 digits but not a mobile
		"1381234567a":    "*******567a",
		"12345":          "*2345",
		"1234":           "****",
		"":               "",
		"电话13812345678":  "*********5678",
		"号码一二三四五":        "***二三四五",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{
		"王五":         "王*",
		"欧阳修":        "欧**",
		"王":          "王",
		"阿卜杜·热合曼":    "阿******",
		"John Smith": "J***",
		"J":          "J***",
		"Li":         "L***",
		"":           "",
		"Zoë":        "Z**", // not ASCII: per-character masking
	} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

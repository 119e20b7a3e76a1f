package classify

import (
	_ "embed"
	"fmt"
	"strings"
)

// Seed and held-out data: one "code<TAB>text" line per example; blank lines
// and lines starting with '#' are ignored.
var (
	//go:embed data/train.tsv
	trainTSV string
	//go:embed data/heldout.tsv
	heldoutTSV string
)

// SeedExamples returns the embedded training examples (data/train.tsv).
// Malformed lines are skipped; the package tests reject them.
func SeedExamples() []Example {
	ex, _ := parseTSV("train.tsv", trainTSV)
	return ex
}

// HeldOut returns the embedded held-out test examples (data/heldout.tsv),
// written independently of the training set and never used for training.
func HeldOut() []Example {
	ex, _ := parseTSV("heldout.tsv", heldoutTSV)
	return ex
}

// parseTSV parses "code<TAB>text" lines, returning the well-formed examples
// and one error per malformed line, naming the file and line number.
func parseTSV(name, data string) ([]Example, []error) {
	var out []Example
	var errs []error
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		code, text, ok := strings.Cut(line, "\t")
		code, text = strings.TrimSpace(code), strings.TrimSpace(text)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s:%d: no tab separator", name, i+1))
		case !validCode(code):
			errs = append(errs, fmt.Errorf("%s:%d: bad category code %q", name, i+1, code))
		case text == "":
			errs = append(errs, fmt.Errorf("%s:%d: empty text", name, i+1))
		case strings.Contains(text, "\t"):
			errs = append(errs, fmt.Errorf("%s:%d: more than two fields", name, i+1))
		default:
			out = append(out, Example{Text: text, Label: code})
		}
	}
	return out, errs
}

// validCode reports whether code looks like a category code: B or E and
// four digits.
func validCode(code string) bool {
	if len(code) != 5 || (code[0] != 'B' && code[0] != 'E') {
		return false
	}
	for _, c := range code[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

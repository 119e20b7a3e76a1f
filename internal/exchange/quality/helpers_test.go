package quality_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/exchange/quality"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// now is the evaluation time of every test.
var now = time.Date(2025, 6, 10, 9, 0, 0, 0, time.FixedZone("CST", 8*60*60))

// citizenID returns a valid ID number, different for each n in 0..365999.
func citizenID(n int) string {
	birth := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/1000)
	return idcode.MakeCitizenID("110105", birth, n%1000)
}

// creditCode returns a valid unified social credit code, different for each n.
func creditCode(t testing.TB, n int) string {
	t.Helper()
	c, err := idcode.MakeCreditCode('9', '1', "110105", fmt.Sprintf("%08d", n))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// corrupt replaces the last (check) character by another one of the
// alphabet, so the check fails.
func corrupt(s string) string {
	last := byte('0')
	if s[len(s)-1] == '0' {
		last = '1'
	}
	return s[:len(s)-1] + string(last)
}

// records builds records "r1", "r2", ... holding the values of one item.
func records(item string, values ...string) []quality.Record {
	recs := make([]quality.Record, len(values))
	for i, v := range values {
		recs[i] = quality.Record{Key: fmt.Sprintf("r%d", i+1), Values: map[string]string{item: v}}
	}
	return recs
}

// keys lists the record keys of failures.
func keys(fs []quality.Failure) []string {
	ks := make([]string, len(fs))
	for i, f := range fs {
		ks[i] = f.Key
	}
	return ks
}

// wantCounts checks a rule result's counts and score.
func wantCounts(t *testing.T, rr quality.RuleResult, checked, passed int) {
	t.Helper()
	score := 100.0
	if checked > 0 {
		score = float64(passed) / float64(checked) * 100
	}
	if rr.Checked != checked || rr.Passed != passed || math.Abs(rr.Score-score) > 1e-9 {
		t.Errorf("rule %s: checked %d passed %d score %v, want %d, %d, %v", rr.Rule.ID, rr.Checked, rr.Passed, rr.Score, checked, passed, score)
	}
}

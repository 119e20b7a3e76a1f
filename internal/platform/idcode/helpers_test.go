package idcode

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// knownRules are the only rules the package may report.
var knownRules = map[string]bool{
	"length": true, "charset": true, "check-character": true, "birth-date": true, "division": true,
	"province": true, "hierarchy": true, "registration-authority": true, "organization-type": true,
	"organization-code-check": true,
}

// ruleOf returns the rule of err, failing the test unless err is an
// *errs.Error for one field with both messages filled in.
func ruleOf(t testing.TB, err error, field string) string {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *errs.Error", err, err)
	}
	if e.Code != errs.CodeInvalid || len(e.Fields) != 1 {
		t.Fatalf("error %+v: want code invalid and one field", e)
	}
	f := e.Fields[0]
	if f.Field != field || f.Message == "" || f.MessageZh == "" || !knownRules[f.Rule] {
		t.Fatalf("error %+v: want field %q, a known rule and both messages", f, field)
	}
	return f.Rule
}

// wantRule fails unless err breaks rule on field; it returns the English
// and Chinese messages.
func wantRule(t testing.TB, err error, field, rule string) (en, zh string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want rule %q", rule)
	}
	if got := ruleOf(t, err, field); got != rule {
		t.Fatalf("rule %q (%v), want %q", got, err, rule)
	}
	var e *errs.Error
	errors.As(err, &e)
	return e.Fields[0].Message, e.Fields[0].MessageZh
}

func wantContains(t testing.TB, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("message %q does not contain %q", s, sub)
		}
	}
}

// setClock fixes the package clock for one (non-parallel) test.
func setClock(t *testing.T, tm time.Time) {
	t.Helper()
	old := now
	now = func() time.Time { return tm }
	t.Cleanup(func() { now = old })
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

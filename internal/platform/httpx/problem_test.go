package httpx

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// A failure while the client is gone (pgx drops the connection of a query
// whose context was cancelled, and database/sql reports "bad connection")
// answers 499, not 500; with the client still there it stays a 500.
func TestWriteProblemClientGone(t *testing.T) {
	t.Parallel()
	for _, gone := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		if gone {
			cancel()
		}
		r := httptest.NewRequest("GET", "/api/v1/users", nil).WithContext(ctx)
		w := httptest.NewRecorder()
		WriteProblem(w, r, http.StatusInternalServerError, driver.ErrBadConn)
		cancel()
		want, code := 500, `"code":"internal"`
		if gone {
			want, code = StatusClientClosed, `"code":"client_closed"`
		}
		if w.Code != want || !strings.Contains(w.Body.String(), code) {
			t.Fatalf("client gone %v: %d %s, want %d %s", gone, w.Code, w.Body.String(), want, code)
		}
	}
	// A 4xx keeps its own cause whatever the client did.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if c := goneCauses(ctx, 422, []error{errs.Invalid("code", "length", "bad", "错")}); len(c) != 1 || errors.Is(c[0], context.Canceled) {
		t.Fatalf("4xx causes replaced: %v", c)
	}
}

func TestProblemFrom(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		cause  error
		zh     bool
		status int
		code   string
		field  string
		rule   string
		detail string
	}{
		{"invalid field", errs.Invalid("code", "length", "bad length", "长度错误"), false, 422, "invalid", "code", "length", "code: bad length"},
		{"invalid field in Chinese", errs.Invalid("code", "length", "bad length", "长度错误"), true, 422, "invalid", "code", "length", "code: 长度错误"},
		{"not found", errs.NotFound("user", "x"), false, 404, "not_found", "", "", `user "x" not found`},
		{"locked", &errs.Error{Code: errs.CodeLocked, Message: "locked"}, false, 423, "locked", "", "", "locked"},
		{"wrapped", fmt.Errorf("outer: %w", errs.Forbidden("no", "不行")), false, 403, "forbidden", "", "", "no"},
		{"huma max length", &huma.ErrorDetail{Location: "body.name", Message: "expected length <= 64"}, true, 422, "invalid", "name", "maxLength", ""},
		{"huma unknown property", &huma.ErrorDetail{Location: "body.evil", Message: "unexpected property"}, false, 422, "invalid", "evil", "additionalProperties", ""},
		{"huma required", &huma.ErrorDetail{Location: "body", Message: "expected required property name to be present"}, false, 422, "invalid", "name", "required", ""},
		{"client went away", fmt.Errorf("query: %w", context.Canceled), false, 499, "client_closed", "", "", "the client closed the request"},
		{"internal error hidden", fmt.Errorf("disk on fire"), false, 500, "internal", "", "", "unexpected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status := http.StatusUnprocessableEntity
			msg := "validation failed"
			if c.name == "internal error hidden" || c.name == "client went away" {
				status, msg = 500, "unexpected"
			}
			p := problemFrom(status, msg, c.zh, c.cause)
			if p.Status != c.status || p.Code != c.code {
				t.Fatalf("status %d code %q, want %d %q", p.Status, p.Code, c.status, c.code)
			}
			if c.field != "" || c.rule != "" {
				if len(p.Errors) != 1 || p.Errors[0].Field != c.field || p.Errors[0].Rule != c.rule {
					t.Fatalf("errors %+v, want field %q rule %q", p.Errors, c.field, c.rule)
				}
			}
			if c.detail != "" && p.Detail != c.detail {
				t.Fatalf("detail %q, want %q", p.Detail, c.detail)
			}
			if strings.Contains(p.Detail+fmt.Sprint(p.Errors), "disk on fire") {
				t.Fatal("an internal error leaked to the client")
			}
			if c.zh && c.name == "huma max length" && p.Errors[0].Message != "长度不能超过 64" {
				t.Fatalf("Chinese message %q", p.Errors[0].Message)
			}
			if !strings.HasPrefix(p.Type, problemBase) {
				t.Fatalf("type %q", p.Type)
			}
		})
	}
}

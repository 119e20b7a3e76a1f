// Package httpx holds the platform's HTTP conventions: the huma API with its
// OpenAPI 3.1 document, RFC 9457 problem details for every error (naming the
// field and the rule), paging, exports, and the middleware every request
// passes through (request id, recovery, logging, metrics, authentication,
// CSRF).
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Problem is an RFC 9457 problem details object. Errors lists each offending
// field with the rule it broke.
type Problem struct {
	Type      string            `json:"type" doc:"URI reference identifying the problem type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Instance  string            `json:"instance,omitempty"`
	Code      string            `json:"code,omitempty" doc:"Stable machine-readable error code"`
	RequestID string            `json:"requestId,omitempty"`
	Errors    []errs.FieldError `json:"errors,omitempty"`
}

func (p *Problem) Error() string  { return p.Detail }
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes huma send application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" || ct == "" {
		return "application/problem+json"
	}
	return ct
}

// StatusClientClosed is the (nginx) status of a request whose client went
// away before the reply.
const StatusClientClosed = 499

// internalErrors logs the causes of 500s, which clients never see. It is the
// process's default logger (set once by main).
var internalErrors = slogDefault{}

type slogDefault struct{}

func (slogDefault) Error(msg string, args ...any) { slog.Default().Error(msg, args...) }

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[errs.Code]int{
	errs.CodeInvalid:         http.StatusUnprocessableEntity,
	errs.CodeNotFound:        http.StatusNotFound,
	errs.CodeConflict:        http.StatusConflict,
	errs.CodeForbidden:       http.StatusForbidden,
	errs.CodeUnauthenticated: http.StatusUnauthorized,
	errs.CodeLocked:          http.StatusLocked,
	errs.CodeUnavailable:     http.StatusServiceUnavailable,
	errs.CodeTooMany:         http.StatusTooManyRequests,
}

var titlesZh = map[int]string{
	400: "请求格式错误", 401: "未登录或凭证无效", 403: "没有权限", 404: "未找到", 405: "不支持的请求方法",
	406: "无法提供所需格式", 409: "数据冲突", 413: "请求内容过大", 415: "不支持的内容类型", 422: "输入有误",
	423: "账号已锁定", 429: "请求过于频繁", 500: "服务器内部错误", 503: "服务暂不可用",
}

const problemBase = "https://shuzhi.dev/problems/"

// problemFrom builds the problem for a status, message and causes in the
// caller's language.
func problemFrom(status int, msg string, zh bool, causes ...error) *Problem {
	p := &Problem{Status: status, Title: http.StatusText(status), Detail: msg}
	for _, c := range causes {
		if c == nil {
			continue
		}
		if errors.Is(c, context.Canceled) {
			// The client went away; nobody reads this reply. 499 keeps it
			// out of the 5xx counts and error logs.
			p.Status, p.Title, p.Detail, p.Code = StatusClientClosed, "Client Closed Request", "the client closed the request", "client_closed"
			continue
		}
		var e *errs.Error
		if errors.As(c, &e) {
			if s, ok := statusOf[e.Code]; ok {
				p.Status = s
			} else {
				p.Status = http.StatusInternalServerError
			}
			p.Title = http.StatusText(p.Status)
			p.Code = string(e.Code)
			p.Detail = e.Message
			if zh && e.MessageZh != "" {
				p.Detail = e.MessageZh
			}
			for _, f := range e.Fields {
				if zh && f.MessageZh != "" {
					f.Message = f.MessageZh
				}
				p.Errors = append(p.Errors, f)
			}
			continue
		}
		var d *huma.ErrorDetail
		if errors.As(c, &d) {
			p.Errors = append(p.Errors, fieldFromHuma(d, zh))
			continue
		}
		if status >= 500 {
			internalErrors.Error("internal error", "err", c) // never shown to the client
			continue
		}
		p.Errors = append(p.Errors, errs.FieldError{Message: c.Error()})
	}
	if p.Code == "" {
		p.Code = defaultCode(p.Status)
	}
	if p.Status == http.StatusBadRequest && len(p.Errors) > 0 && p.Errors[0].Rule == "json" {
		p.Detail = "request body is not valid JSON"
		if zh {
			p.Detail = "请求体不是有效的 JSON"
		}
	} else if p.Status == http.StatusUnprocessableEntity && len(p.Errors) > 0 && (p.Detail == "validation failed" || p.Detail == "") {
		p.Detail = summarize(p.Errors)
	}
	if zh {
		if t, ok := titlesZh[p.Status]; ok {
			p.Title = t
		}
	}
	p.Type = problemBase + p.Code
	return p
}

func defaultCode(status int) string {
	for c, s := range statusOf {
		if s == status {
			return string(c)
		}
	}
	switch status {
	case 400:
		return "bad_request"
	case 405:
		return "method_not_allowed"
	case 413:
		return "too_large"
	case 415:
		return "unsupported_media_type"
	}
	return "internal"
}

func summarize(fs []errs.FieldError) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return strings.Join(parts, "; ")
}

var (
	reNum = regexp.MustCompile(`-?\d+(\.\d+)?`)
	// huma validation messages -> JSON Schema keyword (the rule) and Chinese
	humaRules = []struct{ prefix, rule, zh string }{
		{"unexpected property", "additionalProperties", "不允许的字段"},
		{"expected required property", "required", "必填项缺失"},
		{"expected length <=", "maxLength", "长度不能超过 %s"},
		{"expected length >=", "minLength", "长度不能少于 %s"},
		{"expected array length <=", "maxItems", "最多 %s 项"},
		{"expected array length >=", "minItems", "至少 %s 项"},
		{"expected number >=", "minimum", "不能小于 %s"},
		{"expected number <=", "maximum", "不能大于 %s"},
		{"expected number >", "exclusiveMinimum", "必须大于 %s"},
		{"expected number <", "exclusiveMaximum", "必须小于 %s"},
		{"expected string to match pattern", "pattern", "格式不正确"},
		{"expected value to be one of", "enum", "取值不在允许范围内"},
		{"expected array items to be unique", "uniqueItems", "不能有重复项"},
		{"expected string to be", "format", "格式不正确"},
		{"expected string", "type", "应为字符串"},
		{"expected integer", "type", "应为整数"},
		{"expected number", "type", "应为数字"},
		{"expected boolean", "type", "应为布尔值"},
		{"expected object", "type", "应为对象"},
		{"expected array", "type", "应为数组"},
	}
)

func fieldFromHuma(d *huma.ErrorDetail, zh bool) errs.FieldError {
	loc := d.Location
	for _, p := range []string{"body.", "query.", "path.", "header.", "cookie."} {
		loc = strings.TrimPrefix(loc, p)
	}
	f := errs.FieldError{Field: loc, Message: d.Message}
	if loc == "body" && d.Location == "body" {
		f.Field = ""
	}
	for _, r := range humaRules {
		if strings.HasPrefix(d.Message, r.prefix) {
			f.Rule = r.rule
			if r.rule == "required" {
				name := strings.TrimSuffix(strings.TrimPrefix(d.Message, "expected required property "), " to be present")
				if f.Field == "" {
					f.Field = name
				} else {
					f.Field += "." + name
				}
			}
			if zh {
				msg := r.zh
				if strings.Contains(msg, "%s") {
					msg = fmt.Sprintf(msg, reNum.FindString(strings.TrimPrefix(d.Message, r.prefix)))
				}
				f.Message = msg
			}
			return f
		}
	}
	if d.Location == "body" {
		f.Rule = "json"
		if zh {
			f.Message = "请求体不是有效的 JSON：" + d.Message
		}
	}
	return f
}

// WriteProblem writes err as a problem from outside huma (middleware).
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, err error) {
	var p *Problem
	if errors.As(err, &p) {
		// already a problem
	} else {
		p = problemFrom(status, http.StatusText(status), wantsChinese(r), goneCauses(r.Context(), status, []error{err})...)
	}
	p.Instance = r.URL.Path
	p.RequestID = RequestID(r.Context())
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// goneCauses makes the causes of a 5xx the request's own cancellation when
// its client went away meanwhile: a query cut off then, or its connection
// dropped ("driver: bad connection"), is the disconnect's doing, and must
// not be logged and counted as an internal error (problemFrom answers 499).
func goneCauses(ctx context.Context, status int, causes []error) []error {
	if status < 500 || !errors.Is(ctx.Err(), context.Canceled) {
		return causes
	}
	if err := errors.Join(causes...); err != nil {
		return []error{fmt.Errorf("%w: %w", ctx.Err(), err)}
	}
	return []error{ctx.Err()}
}

// wantsChinese reports whether the caller prefers Chinese.
func wantsChinese(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "zh")
}

func init() {
	// huma builds every error it reports (validation, parsing, handler
	// errors) through these two hooks; route them all to Problem.
	huma.NewError = func(status int, msg string, causes ...error) huma.StatusError {
		return problemFrom(status, msg, false, causes...)
	}
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, causes ...error) huma.StatusError {
		zh := strings.HasPrefix(strings.ToLower(strings.TrimSpace(ctx.Header("Accept-Language"))), "zh")
		p := problemFrom(status, msg, zh, goneCauses(ctx.Context(), status, causes)...)
		p.Instance = ctx.URL().Path
		p.RequestID = RequestID(ctx.Context())
		return p
	}
}

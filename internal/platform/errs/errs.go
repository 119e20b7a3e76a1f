// Package errs is the one error type the platform's services return. It
// carries a code that the HTTP layer maps to a status, a message in English
// and Chinese, and, for invalid input, the offending field and the rule it
// broke. Services never return HTTP statuses; handlers never invent codes.
package errs

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers and for the status table in httpx.
type Code string

const (
	CodeInvalid         Code = "invalid"
	CodeNotFound        Code = "not_found"
	CodeConflict        Code = "conflict"
	CodeForbidden       Code = "forbidden"
	CodeUnauthenticated Code = "unauthenticated"
	CodeLocked          Code = "locked"
	CodeUnavailable     Code = "unavailable"
	CodeTooMany         Code = "too_many_requests"
)

// FieldError names one invalid field and the rule it broke.
type FieldError struct {
	Field     string `json:"field"`
	Rule      string `json:"rule"`
	Message   string `json:"message"`
	MessageZh string `json:"-"`
}

// Error is the platform's error value.
type Error struct {
	Code      Code
	Message   string // English, for logs and API clients
	MessageZh string // Chinese, for people
	Fields    []FieldError
	Err       error // wrapped cause, never shown to clients
}

func (e *Error) Error() string {
	msg := e.Message
	if len(e.Fields) == 1 && e.Fields[0].Rule != "" {
		msg += " (rule: " + e.Fields[0].Rule + ")"
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, errs.ErrNotFound) match any error of the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is checks by code.
var (
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrInvalid         = &Error{Code: CodeInvalid}
	ErrConflict        = &Error{Code: CodeConflict}
	ErrForbidden       = &Error{Code: CodeForbidden}
	ErrUnauthenticated = &Error{Code: CodeUnauthenticated}
	ErrLocked          = &Error{Code: CodeLocked}
)

// CodeOf returns the code of err, or "" when err is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Invalid reports one bad field. en and zh describe the rule to a person.
func Invalid(field, rule, en, zh string) *Error {
	return &Error{
		Code: CodeInvalid, Message: field + ": " + en, MessageZh: field + ": " + zh,
		Fields: []FieldError{{Field: field, Rule: rule, Message: en, MessageZh: zh}},
	}
}

// NotFound says a thing of the given kind does not exist (or is outside the
// caller's scope: the two are deliberately indistinguishable).
func NotFound(kind, id string) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("%s %q not found", kind, id), MessageZh: fmt.Sprintf("未找到%s %q", kindZh(kind), id)}
}

// Conflict reports a uniqueness or state conflict on a field.
func Conflict(field, en, zh string) *Error {
	e := &Error{Code: CodeConflict, Message: en, MessageZh: zh}
	if field != "" {
		e.Fields = []FieldError{{Field: field, Rule: "unique", Message: en, MessageZh: zh}}
	}
	return e
}

// Forbidden says the caller may not do this.
func Forbidden(en, zh string) *Error { return &Error{Code: CodeForbidden, Message: en, MessageZh: zh} }

// Unauthenticated says the caller must log in (or present a valid token).
func Unauthenticated(en, zh string) *Error {
	return &Error{Code: CodeUnauthenticated, Message: en, MessageZh: zh}
}

// Unavailable wraps a dependency failure (database, bus).
func Unavailable(what string, err error) *Error {
	return &Error{Code: CodeUnavailable, Message: what + " unavailable", MessageZh: what + " 暂不可用", Err: err}
}

var kindsZh = map[string]string{
	"division": "行政区划", "organisation": "组织机构", "user": "用户", "token": "令牌", "role": "角色",
}

func kindZh(kind string) string {
	if z, ok := kindsZh[kind]; ok {
		return z
	}
	return kind
}

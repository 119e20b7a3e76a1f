package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/obs"
)

// Cookie and header names shared with the web UI.
const (
	SessionCookie = "shuzhi_session"
	CSRFCookie    = "shuzhi_csrf"
	CSRFHeader    = "X-CSRF-Token"
	RequestHeader = "X-Request-ID"
)

type metaKey struct{}

// Meta is what the audit trail records about a request.
type Meta struct{ RequestID, IP, UserAgent string }

// MetaFrom returns the request's metadata (zero outside a request).
func MetaFrom(ctx context.Context) Meta {
	m, _ := ctx.Value(metaKey{}).(Meta)
	return m
}

// RequestID returns the request's id ("" outside a request).
func RequestID(ctx context.Context) string { return MetaFrom(ctx).RequestID }

// Authenticator resolves credentials to a principal. A session also returns
// its CSRF token.
type Authenticator interface {
	Session(ctx context.Context, token string) (p *authz.Principal, csrf string, err error)
	Token(ctx context.Context, bearer string) (*authz.Principal, error)
}

// Stack wraps h with the middleware every request passes through, outermost
// first: recovery, request id, logging and metrics, authentication, CSRF.
func Stack(h http.Handler, auth Authenticator, log *slog.Logger, m *obs.Metrics) http.Handler {
	h = authenticate(h, auth)
	h = observe(h, log, m)
	h = requestID(h)
	return recoverer(h, log)
}

func recoverer(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic", "err", v, "path", r.URL.Path, "stack", string(debug.Stack()))
				WriteProblem(w, r, http.StatusInternalServerError, fmt.Errorf("internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestHeader)
		if id == "" || len(id) > 64 || strings.ContainsAny(id, " \t\r\n") {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set(RequestHeader, id)
		m := Meta{RequestID: id, IP: ClientIP(r), UserAgent: r.UserAgent()}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), metaKey{}, m)))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func observe(next http.Handler, log *slog.Logger, m *obs.Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := r.Pattern // set by ServeMux on this request
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		m.ObserveHTTP(r.Method, route, sw.status, d)
		lvl := slog.LevelDebug
		if sw.status >= 500 {
			lvl = slog.LevelError
		} else if strings.HasPrefix(r.URL.Path, "/api/") {
			lvl = slog.LevelInfo
		}
		log.Log(r.Context(), lvl, "http", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.bytes, "ms", strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64), "rid", RequestID(r.Context()))
	})
}

func isUnsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

func authenticate(next http.Handler, auth Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, tok, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") || tok == "" {
				WriteProblem(w, r, http.StatusUnauthorized, errs.Unauthenticated("Authorization must be 'Bearer <token>'", "Authorization 头应为 'Bearer <令牌>'"))
				return
			}
			p, err := auth.Token(ctx, strings.TrimSpace(tok))
			if err != nil {
				WriteProblem(w, r, http.StatusUnauthorized, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(authz.With(ctx, p)))
			return
		}
		c, err := r.Cookie(SessionCookie)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		p, csrf, err := auth.Session(ctx, c.Value)
		if err != nil {
			if errs.CodeOf(err) == errs.CodeUnavailable {
				WriteProblem(w, r, http.StatusServiceUnavailable, err)
				return
			}
			next.ServeHTTP(w, r) // expired or unknown session: anonymous
			return
		}
		if isUnsafe(r.Method) && !ConstantTimeEqual(r.Header.Get(CSRFHeader), csrf) {
			WriteProblem(w, r, http.StatusForbidden, &errs.Error{
				Code: errs.CodeForbidden, Message: "missing or wrong CSRF token", MessageZh: "缺少或错误的 CSRF 令牌",
				Fields: []errs.FieldError{{Field: CSRFHeader, Rule: "csrf", Message: "must equal the " + CSRFCookie + " cookie", MessageZh: "必须与 " + CSRFCookie + " Cookie 相同"}},
			})
			return
		}
		next.ServeHTTP(w, r.WithContext(authz.With(ctx, p)))
	})
}

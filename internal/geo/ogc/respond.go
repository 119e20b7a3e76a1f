package ogc

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

// Media types.
const (
	typeJSON     = "application/json"
	typeGeoJSON  = "application/geo+json"
	typeOpenAPI  = "application/vnd.oai.openapi+json;version=3.0"
	typeSchema   = "application/schema+json"
	crs84        = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	trsGregorian = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
)

// Link is a web link of the OGC API resources.
type Link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// baseURL is the absolute URL of the server's root (scheme and host of the
// request, X-Forwarded-Proto when a proxy set it, then the prefix).
func (s *Server) baseURL(r *http.Request) string {
	return origin(r) + s.opts.Prefix
}

func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		p, _, _ = strings.Cut(p, ",")
		if p = strings.ToLower(strings.TrimSpace(p)); p == "http" || p == "https" {
			scheme = p
		}
	}
	return scheme + "://" + r.Host
}

// writeJSON encodes v first, so an encoding error becomes a 500 problem
// rather than a truncated body.
func writeJSON(w http.ResponseWriter, r *http.Request, contentType string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store") // region-scoped answers
	h.Add("Vary", "Authorization, Cookie")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// fail writes err as an RFC 9457 problem. Invalid parameters are 400, as
// OGC API - Features requires (the platform's JSON API answers 422 for
// invalid bodies); other codes map as everywhere in the platform.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.CodeInvalid {
		httpx.WriteProblem(w, r, http.StatusInternalServerError, err)
		return
	}
	zh := strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "zh")
	p := &httpx.Problem{
		Type:   "https://shuzhi.dev/problems/invalid",
		Title:  http.StatusText(http.StatusBadRequest),
		Status: http.StatusBadRequest,
		Detail: e.Message,
		Code:   string(errs.CodeInvalid),
	}
	if zh {
		p.Title, p.Detail = "请求格式错误", e.MessageZh
	}
	for _, f := range e.Fields {
		if zh && f.MessageZh != "" {
			f.Message = f.MessageZh
		}
		p.Errors = append(p.Errors, f)
	}
	httpx.WriteProblem(w, r, http.StatusBadRequest, p)
}

func unauthenticated() error {
	return errs.Unauthenticated("login required: a session or an API token (Authorization: Bearer)", "请先登录，或使用 API 令牌（Authorization: Bearer）")
}

// notFound answers every other path under the prefix: 405 for methods the
// API does not serve, 404 otherwise.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpx.WriteProblem(w, r, http.StatusMethodNotAllowed, errors.New("method "+r.Method+" not allowed: the API is read-only"))
		return
	}
	fail(w, r, errs.NotFound("resource", r.URL.Path))
}

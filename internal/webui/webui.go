// Package webui serves the built web UI (web/dist, copied into dist/ by
// `make web` or `npm run build:embed`) from the binary itself.
//
// Routing: files that exist are served as they are; /docs serves the API
// docs page; any other path without a file extension is a route of the
// single-page app and gets index.html. Hashed files under /assets/ are
// cached for a year, HTML is revalidated on every load so a new release is
// picked up at once. Without a built UI (dist holds only .gitkeep) every
// page explains how to build it.
package webui

import (
	"bytes"
	"embed"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var embedded embed.FS

// Handler serves the UI embedded at build time.
func Handler() http.Handler {
	sub, err := fs.Sub(embedded, "dist")
	if err != nil {
		// Cannot happen: "dist" is a literal directory of the embed.
		panic(err)
	}
	return NewHandler(sub)
}

const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// NewHandler serves the built UI held in fsys (the contents of web/dist).
func NewHandler(fsys fs.FS) http.Handler {
	if _, err := fs.Stat(fsys, "index.html"); err != nil {
		return placeholder{}
	}
	return &handler{fsys: fsys}
}

type handler struct {
	fsys fs.FS
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	clean := path.Clean("/" + r.URL.Path)
	// API paths never fall back to the app: a mistyped endpoint is a 404,
	// not a page of HTML that a client would fail to parse.
	if clean == "/api" || strings.HasPrefix(clean, "/api/") {
		http.NotFound(w, r)
		return
	}
	name := strings.TrimPrefix(clean, "/")
	switch {
	case name == "" || name == "index.html":
		h.serveFile(w, r, "index.html")
		return
	case name == "docs" || name == "docs.html":
		h.serveFile(w, r, "docs.html")
		return
	}
	if st, err := fs.Stat(h.fsys, name); err == nil && !st.IsDir() {
		h.serveFile(w, r, name)
		return
	}
	// A missing asset (a stale hashed file, a typo) is a 404 rather than
	// index.html served as JavaScript.
	if strings.HasPrefix(name, "assets/") || path.Ext(name) != "" {
		http.NotFound(w, r)
		return
	}
	h.serveFile(w, r, "index.html")
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	data, err := fs.ReadFile(h.fsys, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	switch {
	case strings.HasPrefix(name, "assets/"):
		hdr.Set("Cache-Control", cacheImmutable)
	default:
		hdr.Set("Cache-Control", cacheRevalidate)
	}
	hdr.Set("X-Content-Type-Options", "nosniff")
	if strings.HasSuffix(name, ".html") {
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		hdr.Set("Referrer-Policy", "same-origin")
		hdr.Set("X-Frame-Options", "DENY")
	}
	// ServeContent sets Content-Type from the extension, handles HEAD,
	// Range and conditional requests (with the ETag-less zero modtime of
	// embedded files it simply serves the body).
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

// placeholder answers every request when the UI has not been built.
type placeholder struct{}

const placeholderPage = `<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>数治 · Shuzhi</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em;line-height:1.6">
<main>
<h1>数治 · Shuzhi</h1>
<p>此二进制文件未包含网页界面。请先运行 <code>make web</code>，再重新构建 <code>shuzhi</code>。</p>
<p lang="en">This binary was built without the web UI. Run <code>make web</code>, then rebuild <code>shuzhi</code>.</p>
<p>API: <a href="/api/v1/meta">/api/v1/meta</a></p>
</main>
</body>
</html>
`

func (placeholder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	clean := path.Clean("/" + r.URL.Path)
	if clean == "/api" || strings.HasPrefix(clean, "/api/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", cacheRevalidate)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, placeholderPage)
	}
}

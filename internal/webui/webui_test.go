package webui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func builtUI() fstest.MapFS {
	return fstest.MapFS{
		".gitkeep":                 {Data: nil},
		"index.html":               {Data: []byte("<!doctype html><title>app</title>")},
		"docs.html":                {Data: []byte("<!doctype html><title>docs</title>")},
		"favicon.svg":              {Data: []byte("<svg/>")},
		"assets/main-AbC123.js":    {Data: []byte("console.log(1)")},
		"assets/main-AbC123.css":   {Data: []byte("body{}")},
		"assets/nested/x-Q1w2.png": {Data: []byte("png")},
	}
}

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestHandler(t *testing.T) {
	t.Parallel()
	h := NewHandler(builtUI())

	tests := []struct {
		name, method, path string
		status             int
		body, cache, ctype string
	}{
		{"serves index at the root", "GET", "/", 200, "<title>app</title>", "no-cache", "text/html"},
		{"falls back to index for an app route", "GET", "/console/users", 200, "<title>app</title>", "no-cache", "text/html"},
		{"falls back to index for a deep route with a query", "GET", "/portal/mine?x=1", 200, "<title>app</title>", "no-cache", "text/html"},
		{"serves the API docs at /docs", "GET", "/docs", 200, "<title>docs</title>", "no-cache", "text/html"},
		{"serves the API docs at /docs/", "GET", "/docs/", 200, "<title>docs</title>", "no-cache", "text/html"},
		{"caches hashed assets for a year", "GET", "/assets/main-AbC123.js", 200, "console.log(1)", "public, max-age=31536000, immutable", "javascript"},
		{"serves nested assets", "GET", "/assets/nested/x-Q1w2.png", 200, "png", "public, max-age=31536000, immutable", "image/png"},
		{"serves css with its type", "GET", "/assets/main-AbC123.css", 200, "body{}", "public, max-age=31536000, immutable", "text/css"},
		{"revalidates unhashed files", "GET", "/favicon.svg", 200, "<svg/>", "no-cache", "image/svg+xml"},
		{"404s a missing asset instead of serving html", "GET", "/assets/gone-123.js", 404, "", "", ""},
		{"404s a missing file with an extension", "GET", "/robots.txt", 404, "", "", ""},
		{"404s an unknown API path", "GET", "/api/v1/nothing", 404, "", "", ""},
		{"cleans dot segments", "GET", "/console/../assets/main-AbC123.js", 200, "console.log(1)", "public, max-age=31536000, immutable", "javascript"},
		{"rejects POST", "POST", "/console", 405, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := get(t, h, tc.method, tc.path)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d", rec.Code, tc.status)
			}
			if tc.body != "" && !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("body = %q, want it to contain %q", rec.Body.String(), tc.body)
			}
			if tc.cache != "" && rec.Header().Get("Cache-Control") != tc.cache {
				t.Errorf("Cache-Control = %q, want %q", rec.Header().Get("Cache-Control"), tc.cache)
			}
			if tc.ctype != "" && !strings.Contains(rec.Header().Get("Content-Type"), tc.ctype) {
				t.Errorf("Content-Type = %q, want it to contain %q", rec.Header().Get("Content-Type"), tc.ctype)
			}
		})
	}

	t.Run("answers HEAD without a body", func(t *testing.T) {
		t.Parallel()
		rec := get(t, h, "HEAD", "/console")
		if rec.Code != 200 || rec.Body.Len() != 0 {
			t.Fatalf("HEAD: status %d, body %d bytes", rec.Code, rec.Body.Len())
		}
	})
}

func TestPlaceholderWhenUnbuilt(t *testing.T) {
	t.Parallel()
	h := NewHandler(fstest.MapFS{".gitkeep": {Data: nil}})
	for _, p := range []string{"/", "/console", "/docs"} {
		rec := get(t, h, "GET", p)
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", p, rec.Code)
		}
		body, _ := io.ReadAll(rec.Body)
		if !strings.Contains(string(body), "make web") {
			t.Errorf("%s: placeholder does not say to run make web: %q", p, body)
		}
		if rec.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: placeholder must not be cached, got %q", p, rec.Header().Get("Cache-Control"))
		}
	}
	if rec := get(t, h, "GET", "/api/v1/x"); rec.Code != 404 {
		t.Errorf("API path: status %d, want 404", rec.Code)
	}
}

func TestEmbeddedHandlerServes(t *testing.T) {
	t.Parallel()
	// Whether or not the UI was built into this checkout, the root answers.
	rec := get(t, Handler(), "GET", "/")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<html") {
		t.Fatalf("embedded root: status %d, body %.80q", rec.Code, rec.Body.String())
	}
}

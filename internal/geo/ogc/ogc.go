// Package ogc serves feature collections as OGC API - Features - Part 1:
// Core (OGC 17-069r4) with the GeoJSON and OpenAPI 3.0 conformance classes,
// on plain net/http. Modules contribute collections by implementing
// Collection; the server does the protocol: landing page, conformance,
// collection metadata, paging links, parameter validation and errors as
// RFC 9457 problems.
//
// Every request needs an authenticated caller (the platform's middleware
// resolves sessions and bearer tokens before the request gets here):
// anonymous callers get 401. A collection names the permission it needs
// (403 without it); the collection itself limits what it returns to the
// caller's region.
package ogc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
)

// Limits of the items endpoint.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
	// MaxOffset bounds paging by offset (deep offsets cost the database a
	// scan; use bbox or filters to narrow instead).
	MaxOffset = 10_000_000
)

// Collection is one feature collection. Implementations enforce the
// caller's permission and region scope themselves (authz.From(ctx)); the
// server checks CollectionInfo.Permission first as well.
type Collection interface {
	// Describe returns the collection's metadata. It is called on every
	// request that needs it, so it should be cheap.
	Describe() CollectionInfo
	// Items returns one page of the features that match q, ordered
	// stably, and how many match in all (-1 when unknown).
	Items(ctx context.Context, q Query) (features []Feature, matched int, err error)
	// Item returns one feature: errs.NotFound when it is absent or outside
	// the caller's region.
	Item(ctx context.Context, id string) (*Feature, error)
}

// CollectionInfo describes a collection.
type CollectionInfo struct {
	ID          string // path segment: lower case letters, digits, '-' and '_'
	Title       string
	Description string
	// Permission is what a caller needs to see the collection ("" = any
	// authenticated caller).
	Permission authz.Permission
	// BBox is the spatial extent, WGS84 lon/lat (west, south, east, north);
	// nil when unknown.
	BBox *[4]float64
	// Temporal is the temporal extent; nil when the features carry no time.
	// The server validates `datetime` either way and passes it on in
	// Query.Start/End: a collection without time ignores it.
	Temporal *Interval
	// Queryables are the properties usable as equality filters
	// (`?name=value`).
	Queryables []Queryable
}

// Interval is a time interval; a nil end is open.
type Interval struct {
	Start, End *time.Time
}

// Queryable is a feature property that can filter the items:
// `?<Name>=<value>` (or one of its Aliases) selects the features whose
// property equals the value.
type Queryable struct {
	Name        string
	Aliases     []string // other parameter names accepted for the same filter
	Type        string   // JSON Schema type: string, integer, number or boolean
	Description string
	Enum        []string // allowed values, when a closed list
	Pattern     string   // regular expression a value must match, when given (checked by the collection)
}

// Query is one request for items, validated by the server.
type Query struct {
	Limit  int
	Offset int
	// BBox selects features whose geometry intersects the box (west, south,
	// east, north; WGS84). West > east crosses the antimeridian.
	BBox *[4]float64
	// Start and End bound the datetime filter (nil = open); both nil
	// without one. An instant has Start == End.
	Start, End *time.Time
	// Filters maps queryable names (never aliases) to the requested value.
	Filters map[string]string
}

// Feature is a GeoJSON feature. A nil Geometry is written as null.
type Feature struct {
	ID         string
	Geometry   json.RawMessage
	Properties map[string]any
}

// Options configure a Server.
type Options struct {
	// Prefix is the path the API is mounted under (default "/ogc").
	Prefix      string
	Title       string
	Description string
}

// Server serves a set of collections.
type Server struct {
	opts  Options
	cols  []Collection
	byID  map[string]Collection
	mux   *http.ServeMux
	clock func() time.Time
}

// New builds a server over the collections. Collection ids must be unique
// and well formed; New panics otherwise (a programming error).
func New(o Options, cols ...Collection) *Server {
	if o.Prefix == "" {
		o.Prefix = "/ogc"
	}
	o.Prefix = "/" + strings.Trim(o.Prefix, "/")
	if o.Title == "" {
		o.Title = "OGC API - Features"
	}
	s := &Server{opts: o, byID: map[string]Collection{}, clock: time.Now}
	for _, c := range cols {
		id := c.Describe().ID
		if !validID(id) {
			panic(fmt.Sprintf("ogc: collection id %q: use lower case letters, digits, '-' and '_'", id))
		}
		if _, dup := s.byID[id]; dup {
			panic(fmt.Sprintf("ogc: duplicate collection id %q", id))
		}
		s.byID[id] = c
		s.cols = append(s.cols, c)
	}
	p := o.Prefix
	m := http.NewServeMux()
	m.HandleFunc("GET "+p, s.landing)
	m.HandleFunc("GET "+p+"/{$}", s.landing)
	m.HandleFunc("GET "+p+"/api", s.api)
	m.HandleFunc("GET "+p+"/conformance", s.conformance)
	m.HandleFunc("GET "+p+"/collections", s.collections)
	m.HandleFunc("GET "+p+"/collections/{collectionId}", s.collection)
	m.HandleFunc("GET "+p+"/collections/{collectionId}/queryables", s.queryables)
	m.HandleFunc("GET "+p+"/collections/{collectionId}/items", s.items)
	m.HandleFunc("GET "+p+"/collections/{collectionId}/items/{featureId}", s.item)
	m.HandleFunc(p+"/", s.notFound)
	s.mux = m
	return s
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Mount registers the server on mux at its prefix (with and without the
// trailing slash).
func (s *Server) Mount(mux *http.ServeMux) {
	mux.Handle(s.opts.Prefix, s)
	mux.Handle(s.opts.Prefix+"/", s)
}

// Prefix is the path the server answers under.
func (s *Server) Prefix() string { return s.opts.Prefix }

// ServeHTTP answers one request: 401 for anonymous callers, then routing.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if authz.From(r.Context()) == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shuzhi"`)
		fail(w, r, unauthenticated())
		return
	}
	s.mux.ServeHTTP(w, r)
}

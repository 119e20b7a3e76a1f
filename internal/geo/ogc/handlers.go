package ogc

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Conformance classes this server implements.
var conformanceClasses = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
}

func (s *Server) landing(w http.ResponseWriter, r *http.Request) {
	if !s.plainParams(w, r) {
		return
	}
	base := s.baseURL(r)
	writeJSON(w, r, typeJSON, map[string]any{
		"title":       s.opts.Title,
		"description": s.opts.Description,
		"links": []Link{
			{Href: base + "/", Rel: "self", Type: typeJSON, Title: "This document"},
			{Href: base + "/api", Rel: "service-desc", Type: typeOpenAPI, Title: "The API definition (OpenAPI 3.0)"},
			{Href: base + "/conformance", Rel: "conformance", Type: typeJSON, Title: "Conformance classes implemented"},
			{Href: base + "/collections", Rel: "data", Type: typeJSON, Title: "The feature collections"},
		},
	})
}

func (s *Server) conformance(w http.ResponseWriter, r *http.Request) {
	if !s.plainParams(w, r) {
		return
	}
	writeJSON(w, r, typeJSON, map[string]any{"conformsTo": conformanceClasses})
}

// plainParams allows only `f` on resources without other parameters.
func (s *Server) plainParams(w http.ResponseWriter, r *http.Request) bool {
	v, err := parseQuery(r.URL.RawQuery)
	if err == nil {
		err = onlyParams(v, func(k string) bool { return k == paramFormat })
	}
	if err == nil {
		err = checkFormat(v)
	}
	if err != nil {
		fail(w, r, err)
		return false
	}
	return true
}

// visible returns the collections the caller may read, in mount order.
func (s *Server) visible(p *authz.Principal) []Collection {
	var out []Collection
	for _, c := range s.cols {
		if perm := c.Describe().Permission; perm == "" || p.Has(perm) {
			out = append(out, c)
		}
	}
	return out
}

// lookup finds the collection named in the path and checks the caller's
// permission; it writes the problem and returns nil when it fails.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (Collection, CollectionInfo) {
	id := r.PathValue("collectionId")
	c, ok := s.byID[id]
	if !ok {
		fail(w, r, errs.NotFound("collection", id))
		return nil, CollectionInfo{}
	}
	info := c.Describe()
	if info.Permission != "" {
		if _, err := authz.Require(r.Context(), info.Permission); err != nil {
			fail(w, r, err)
			return nil, info
		}
	}
	return c, info
}

type collectionJSON struct {
	ID          string   `json:"id"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Links       []Link   `json:"links"`
	Extent      *extent  `json:"extent,omitempty"`
	ItemType    string   `json:"itemType"`
	CRS         []string `json:"crs"`
}

type extent struct {
	Spatial  *spatialExtent  `json:"spatial,omitempty"`
	Temporal *temporalExtent `json:"temporal,omitempty"`
}

type spatialExtent struct {
	BBox [][4]float64 `json:"bbox"`
	CRS  string       `json:"crs"`
}

type temporalExtent struct {
	Interval [][2]*string `json:"interval"`
	TRS      string       `json:"trs"`
}

func (s *Server) describe(base string, info CollectionInfo) collectionJSON {
	self := base + "/collections/" + info.ID
	cj := collectionJSON{
		ID: info.ID, Title: info.Title, Description: info.Description, ItemType: "feature", CRS: []string{crs84},
		Links: []Link{
			{Href: self, Rel: "self", Type: typeJSON, Title: "This collection"},
			{Href: self + "/items", Rel: "items", Type: typeGeoJSON, Title: "The features (GeoJSON)"},
			{Href: self + "/queryables", Rel: "http://www.opengis.net/def/rel/ogc/1.0/queryables", Type: typeSchema, Title: "Properties usable as filters"},
		},
	}
	if info.BBox != nil || info.Temporal != nil {
		cj.Extent = &extent{}
	}
	if info.BBox != nil {
		cj.Extent.Spatial = &spatialExtent{BBox: [][4]float64{*info.BBox}, CRS: crs84}
	}
	if t := info.Temporal; t != nil {
		cj.Extent.Temporal = &temporalExtent{Interval: [][2]*string{{timeString(t.Start), timeString(t.End)}}, TRS: trsGregorian}
	}
	return cj
}

func timeString(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func (s *Server) collections(w http.ResponseWriter, r *http.Request) {
	if !s.plainParams(w, r) {
		return
	}
	base := s.baseURL(r)
	out := []collectionJSON{}
	for _, c := range s.visible(authz.From(r.Context())) {
		out = append(out, s.describe(base, c.Describe()))
	}
	writeJSON(w, r, typeJSON, map[string]any{
		"links":       []Link{{Href: base + "/collections", Rel: "self", Type: typeJSON, Title: "This document"}},
		"collections": out,
	})
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request) {
	c, info := s.lookup(w, r)
	if c == nil || !s.plainParams(w, r) {
		return
	}
	writeJSON(w, r, typeJSON, s.describe(s.baseURL(r), info))
}

func (s *Server) queryables(w http.ResponseWriter, r *http.Request) {
	c, info := s.lookup(w, r)
	if c == nil || !s.plainParams(w, r) {
		return
	}
	props := map[string]any{}
	for _, q := range info.Queryables {
		p := map[string]any{"type": q.Type, "title": q.Name}
		if q.Description != "" {
			p["description"] = q.Description
		}
		if len(q.Enum) > 0 {
			p["enum"] = q.Enum
		}
		if q.Pattern != "" {
			p["pattern"] = q.Pattern
		}
		props[q.Name] = p
	}
	writeJSON(w, r, typeSchema, map[string]any{
		"$schema":              "https://json-schema.org/draft/2019-09/schema",
		"$id":                  s.baseURL(r) + "/collections/" + info.ID + "/queryables",
		"type":                 "object",
		"title":                info.Title,
		"properties":           props,
		"additionalProperties": false,
	})
}

type featureJSON struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties map[string]any  `json:"properties"`
	Links      []Link          `json:"links,omitempty"`
}

func toJSON(f Feature, links []Link) featureJSON {
	props := f.Properties
	if props == nil {
		props = map[string]any{}
	}
	geom := f.Geometry
	if len(geom) == 0 {
		geom = json.RawMessage("null")
	}
	return featureJSON{Type: "Feature", ID: f.ID, Geometry: geom, Properties: props, Links: links}
}

func (s *Server) items(w http.ResponseWriter, r *http.Request) {
	c, info := s.lookup(w, r)
	if c == nil {
		return
	}
	v, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		fail(w, r, err)
		return
	}
	q, err := parseItemsQuery(v, info)
	if err != nil {
		fail(w, r, err)
		return
	}
	feats, matched, err := c.Items(r.Context(), q)
	if err != nil {
		fail(w, r, err)
		return
	}
	if len(feats) > q.Limit {
		feats = feats[:q.Limit]
	}
	base := s.baseURL(r)
	items := base + "/collections/" + info.ID + "/items"
	page := func(offset int) string {
		pv := url.Values{}
		for k, vs := range v {
			pv[k] = vs
		}
		pv.Set(paramLimit, strconv.Itoa(q.Limit))
		pv.Set(paramOffset, strconv.Itoa(offset))
		return items + "?" + pv.Encode()
	}
	self := items
	if r.URL.RawQuery != "" {
		self += "?" + v.Encode()
	}
	links := []Link{
		{Href: self, Rel: "self", Type: typeGeoJSON, Title: "This document"},
		{Href: base + "/collections/" + info.ID, Rel: "collection", Type: typeJSON, Title: "The collection"},
	}
	more := len(feats) == q.Limit
	if matched >= 0 {
		more = q.Offset+len(feats) < matched
	}
	if more && len(feats) > 0 {
		links = append(links, Link{Href: page(q.Offset + q.Limit), Rel: "next", Type: typeGeoJSON, Title: "Next page"})
	}
	if q.Offset > 0 {
		links = append(links, Link{Href: page(max(0, q.Offset-q.Limit)), Rel: "prev", Type: typeGeoJSON, Title: "Previous page"})
	}
	out := struct {
		Type           string        `json:"type"`
		Features       []featureJSON `json:"features"`
		Links          []Link        `json:"links"`
		NumberMatched  *int          `json:"numberMatched,omitempty"`
		NumberReturned int           `json:"numberReturned"`
		TimeStamp      string        `json:"timeStamp"`
	}{Type: "FeatureCollection", Features: make([]featureJSON, 0, len(feats)), Links: links,
		NumberReturned: len(feats), TimeStamp: s.clock().UTC().Format(time.RFC3339)}
	if matched >= 0 {
		out.NumberMatched = &matched
	}
	for _, f := range feats {
		out.Features = append(out.Features, toJSON(f, nil))
	}
	writeJSON(w, r, typeGeoJSON, out)
}

func (s *Server) item(w http.ResponseWriter, r *http.Request) {
	c, info := s.lookup(w, r)
	if c == nil || !s.plainParams(w, r) {
		return
	}
	id := r.PathValue("featureId")
	f, err := c.Item(r.Context(), id)
	if err != nil {
		fail(w, r, err)
		return
	}
	base := s.baseURL(r) + "/collections/" + info.ID
	writeJSON(w, r, typeGeoJSON, toJSON(*f, []Link{
		{Href: base + "/items/" + url.PathEscape(f.ID), Rel: "self", Type: typeGeoJSON, Title: "This feature"},
		{Href: base, Rel: "collection", Type: typeJSON, Title: "The collection"},
	}))
}

package ogc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/geo/ogc"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// fake is a collection of n point features "f0000".. with a "kind"
// property; it remembers the last query.
type fake struct {
	id   string
	n    int
	perm authz.Permission
	last *ogc.Query
}

func (f *fake) Describe() ogc.CollectionInfo {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return ogc.CollectionInfo{ID: f.id, Title: "Fake " + f.id, Description: "for tests", Permission: f.perm,
		BBox: &[4]float64{120, 31, 121, 32}, Temporal: &ogc.Interval{Start: &start},
		Queryables: []ogc.Queryable{{Name: "kind", Aliases: []string{"k"}, Type: "string", Enum: []string{"a", "b"}}}}
}

func (f *fake) feature(i int) ogc.Feature {
	return ogc.Feature{ID: fmt.Sprintf("f%04d", i), Geometry: json.RawMessage(fmt.Sprintf(`{"type":"Point","coordinates":[120.%d,31.5]}`, i)),
		Properties: map[string]any{"kind": "a", "n": i}}
}

func (f *fake) Items(_ context.Context, q ogc.Query) ([]ogc.Feature, int, error) {
	f.last = &q
	var out []ogc.Feature
	for i := q.Offset; i < f.n && len(out) < q.Limit; i++ {
		out = append(out, f.feature(i))
	}
	return out, f.n, nil
}

func (f *fake) Item(_ context.Context, id string) (*ogc.Feature, error) {
	var i int
	if _, err := fmt.Sscanf(id, "f%04d", &i); err != nil || i >= f.n {
		return nil, errs.NotFound("feature", id)
	}
	ft := f.feature(i)
	ft.Geometry = nil // exercise geometry: null
	return &ft, nil
}

type env struct {
	t      *testing.T
	srv    *httptest.Server
	things *fake
	secret *fake
}

// newEnv serves the fakes behind a stand-in for the platform's
// authentication: "Authorization: Bearer reader" is a caller with
// divisions:read, "Bearer citizen" one without permissions.
func newEnv(t *testing.T) *env {
	e := &env{t: t, things: &fake{id: "things", n: 250, perm: authz.DivisionsRead}, secret: &fake{id: "secret", n: 3, perm: authz.AuditRead}}
	s := ogc.New(ogc.Options{Title: "Test"}, e.things, e.secret)
	mux := http.NewServeMux()
	s.Mount(mux)
	auth := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer reader":
			r = r.WithContext(authz.With(r.Context(), &authz.Principal{Kind: authz.KindSystem, Permissions: []authz.Permission{authz.DivisionsRead}, Scope: "320508"}))
		case "Bearer citizen":
			r = r.WithContext(authz.With(r.Context(), &authz.Principal{Kind: authz.KindUser, Scope: "320508"}))
		}
		mux.ServeHTTP(w, r)
	})
	e.srv = httptest.NewServer(auth)
	t.Cleanup(e.srv.Close)
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) get(who, path string, header ...string) resp {
	e.t.Helper()
	return e.do(http.MethodGet, who, path, header...)
}

func (e *env) do(method, who, path string, header ...string) resp {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+who)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp{res.StatusCode, res.Header, []byte(b.String())}
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
}

type problem struct {
	Status int
	Code   string
	Errors []struct{ Field, Rule string }
}

// problem checks a problem answer and returns it.
func (r resp) problem(t *testing.T, status int) problem {
	t.Helper()
	if r.status != status || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("status %d (%s), want a %d problem: %s", r.status, r.header.Get("Content-Type"), status, r.body)
	}
	var p problem
	r.json(t, &p)
	if p.Status != status {
		t.Fatalf("problem status %d in a %d answer", p.Status, status)
	}
	return p
}

type link struct{ Href, Rel, Type string }

func rel(links []link, r string) *link {
	for i := range links {
		if links[i].Rel == r {
			return &links[i]
		}
	}
	return nil
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/ogc", "/ogc/", "/ogc/conformance", "/ogc/collections", "/ogc/collections/things/items", "/ogc/api"} {
		r := e.get("", p)
		r.problem(t, 401)
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: no WWW-Authenticate", p)
		}
	}
	// Without the collection's permission: 403; the list leaves it out.
	if p := e.get("citizen", "/ogc/collections/things/items").problem(t, 403); p.Code != "forbidden" {
		t.Errorf("code %q", p.Code)
	}
	e.get("citizen", "/ogc/collections/things").problem(t, 403)
	e.get("reader", "/ogc/collections/secret/items").problem(t, 403)
	var cols struct{ Collections []struct{ ID string } }
	e.get("reader", "/ogc/collections").json(t, &cols)
	if len(cols.Collections) != 1 || cols.Collections[0].ID != "things" {
		t.Errorf("reader's collections: %+v", cols)
	}
	e.get("citizen", "/ogc/collections").json(t, &cols)
	if len(cols.Collections) != 0 {
		t.Errorf("citizen's collections: %+v", cols)
	}
}

func TestLandingConformanceCollections(t *testing.T) {
	e := newEnv(t)
	host := strings.TrimPrefix(e.srv.URL, "http://")
	for _, path := range []string{"/ogc", "/ogc/", "/ogc/?f=json"} {
		r := e.get("reader", path, "X-Forwarded-Proto", "https")
		if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s", path, r.status, r.header.Get("Content-Type"))
		}
		var lp struct {
			Title string
			Links []link
		}
		r.json(t, &lp)
		want := map[string]string{
			"self":         "https://" + host + "/ogc/",
			"service-desc": "https://" + host + "/ogc/api",
			"conformance":  "https://" + host + "/ogc/conformance",
			"data":         "https://" + host + "/ogc/collections",
		}
		for r, href := range want {
			if l := rel(lp.Links, r); l == nil || l.Href != href {
				t.Errorf("%s: link %s = %+v, want %s", path, r, l, href)
			}
		}
		if l := rel(lp.Links, "service-desc"); l == nil || l.Type != "application/vnd.oai.openapi+json;version=3.0" {
			t.Errorf("service-desc type: %+v", l)
		}
	}
	var conf struct{ ConformsTo []string }
	e.get("reader", "/ogc/conformance").json(t, &conf)
	for _, c := range []string{"core", "geojson", "oas30"} {
		found := false
		for _, u := range conf.ConformsTo {
			found = found || u == "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"+c
		}
		if !found {
			t.Errorf("conformance class %s missing: %v", c, conf.ConformsTo)
		}
	}
	var cols struct {
		Links       []link
		Collections []struct {
			ID, Title, ItemType string
			Links               []link
			CRS                 []string
			Extent              struct {
				Spatial struct {
					BBox [][]float64
					CRS  string
				}
				Temporal struct{ Interval [][]*string }
			}
		}
	}
	e.get("reader", "/ogc/collections").json(t, &cols)
	c := cols.Collections[0]
	if c.ID != "things" || c.ItemType != "feature" || len(c.Extent.Spatial.BBox) != 1 || c.Extent.Spatial.BBox[0][2] != 121 ||
		c.Extent.Temporal.Interval[0][0] == nil || *c.Extent.Temporal.Interval[0][0] != "2026-01-01T00:00:00Z" || c.Extent.Temporal.Interval[0][1] != nil {
		t.Errorf("collection: %+v", c)
	}
	if l := rel(c.Links, "items"); l == nil || l.Type != "application/geo+json" || l.Href != e.srv.URL+"/ogc/collections/things/items" {
		t.Errorf("items link: %+v", l)
	}
	if l := rel(cols.Links, "self"); l == nil {
		t.Error("no self link")
	}
	var one struct{ ID string }
	e.get("reader", "/ogc/collections/things").json(t, &one)
	if one.ID != "things" {
		t.Errorf("collection: %+v", one)
	}
	var qs struct {
		Type       string
		Properties map[string]struct{ Type string }
	}
	r := e.get("reader", "/ogc/collections/things/queryables")
	r.json(t, &qs)
	if r.header.Get("Content-Type") != "application/schema+json" || qs.Type != "object" || qs.Properties["kind"].Type != "string" {
		t.Errorf("queryables: %s", r.body)
	}
	e.get("reader", "/ogc/collections/nope").problem(t, 404)
	e.get("reader", "/ogc/nothing").problem(t, 404)
	if p := e.get("reader", "/ogc/conformance?f=html").problem(t, 400); p.Errors[0].Field != "f" || p.Errors[0].Rule != "enum" {
		t.Errorf("f=html: %+v", p)
	}
	if p := e.get("reader", "/ogc/collections?foo=1").problem(t, 400); p.Errors[0].Field != "foo" || p.Errors[0].Rule != "unknown" {
		t.Errorf("unknown parameter: %+v", p)
	}
	if r := e.do(http.MethodPost, "reader", "/ogc/collections"); r.status != 405 {
		t.Errorf("POST: %d", r.status)
	}
}

type collection struct {
	Type           string
	Features       []struct{ ID, Type string }
	Links          []link
	NumberMatched  *int
	NumberReturned int
	TimeStamp      string
}

func TestItemsPaging(t *testing.T) {
	e := newEnv(t)
	r := e.get("reader", "/ogc/collections/things/items")
	if r.status != 200 || r.header.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("%d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var fc collection
	r.json(t, &fc)
	if fc.Type != "FeatureCollection" || fc.NumberReturned != ogc.DefaultLimit || len(fc.Features) != 100 || fc.NumberMatched == nil || *fc.NumberMatched != 250 {
		t.Fatalf("first page: %+v", fc)
	}
	if _, err := time.Parse(time.RFC3339, fc.TimeStamp); err != nil {
		t.Errorf("timeStamp %q", fc.TimeStamp)
	}
	if rel(fc.Links, "prev") != nil || rel(fc.Links, "self") == nil || rel(fc.Links, "collection") == nil {
		t.Errorf("links: %+v", fc.Links)
	}
	// Follow next links to the end, as a client does.
	seen := len(fc.Features)
	pages := 1
	for next := rel(fc.Links, "next"); next != nil; next = rel(fc.Links, "next") {
		u, err := url.Parse(next.Href)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			t.Fatalf("next link %q is not absolute", next.Href)
		}
		fc = collection{}
		e.get("reader", u.RequestURI()).json(t, &fc)
		seen += len(fc.Features)
		pages++
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if seen != 250 || pages != 3 || fc.Features[len(fc.Features)-1].ID != "f0249" {
		t.Errorf("saw %d features in %d pages", seen, pages)
	}
	if p := rel(fc.Links, "prev"); p == nil || !strings.Contains(p.Href, "offset=100") || !strings.Contains(p.Href, "limit=100") {
		t.Errorf("prev of the last page: %+v", p)
	}
	// Parameters are kept in the paging links; limits are applied.
	fc = collection{}
	e.get("reader", "/ogc/collections/things/items?limit=10&offset=5&k=a&bbox=120,31,121,32", "X-Forwarded-Proto", "https").json(t, &fc)
	next := rel(fc.Links, "next")
	if len(fc.Features) != 10 || fc.Features[0].ID != "f0005" || next == nil || !strings.HasPrefix(next.Href, "https://") ||
		!strings.Contains(next.Href, "offset=15") || !strings.Contains(next.Href, "k=a") || !strings.Contains(next.Href, "bbox=120%2C31%2C121%2C32") {
		t.Errorf("page: %+v", fc)
	}
	if q := e.things.last; q.Limit != 10 || q.Offset != 5 || q.Filters["kind"] != "a" || *q.BBox != [4]float64{120, 31, 121, 32} {
		t.Errorf("query: %+v", q)
	}
	e.get("reader", "/ogc/collections/things/items?limit=20000")
	if e.things.last.Limit != ogc.MaxLimit {
		t.Errorf("limit above the maximum: %d", e.things.last.Limit)
	}
	e.get("reader", "/ogc/collections/things/items?datetime=2026-05-01T08:00:00%2B08:00/..")
	if q := e.things.last; q.Start == nil || !q.Start.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) || q.End != nil {
		t.Errorf("datetime: %+v", q)
	}
}

func TestItemsBadParameters(t *testing.T) {
	e := newEnv(t)
	for q, want := range map[string][2]string{
		"limit=0":                           {"limit", "minimum"},
		"limit=ten":                         {"limit", "minimum"},
		"offset=-1":                         {"offset", "minimum"},
		"offset=99999999999":                {"offset", "maximum"},
		"bbox=1,2,3":                        {"bbox", "items"},
		"bbox=a,b,c,d":                      {"bbox", "type"},
		"bbox=120,91,121,92":                {"bbox", "range"},
		"bbox=181,31,182,32":                {"bbox", "range"},
		"bbox=120,32,121,31":                {"bbox", "order"},
		"datetime=yesterday":                {"datetime", "format"},
		"datetime=../..":                    {"datetime", "format"},
		"datetime=2026-02-01/2026-01-01":    {"datetime", "order"},
		"datetime=2026-01-01T00:00:00Z/a/b": {"datetime", "format"},
		"kind=c":                            {"kind", "enum"},
		"k=c":                               {"k", "enum"},
		"nope=1":                            {"nope", "unknown"},
		"f=xml":                             {"f", "enum"},
		"limit=1&limit=2":                   {"limit", "repeated"},
		"kind=":                             {"kind", "minLength"},
	} {
		p := e.get("reader", "/ogc/collections/things/items?"+q).problem(t, 400)
		if len(p.Errors) != 1 || p.Errors[0].Field != want[0] || p.Errors[0].Rule != want[1] || p.Code != "invalid" {
			t.Errorf("%s: %+v, want field %s rule %s", q, p, want[0], want[1])
		}
	}
	// Chinese callers get Chinese messages.
	r := e.get("reader", "/ogc/collections/things/items?limit=0", "Accept-Language", "zh-CN")
	if !strings.Contains(string(r.body), "应为不小于 1 的整数") {
		t.Errorf("zh: %s", r.body)
	}
}

func TestItem(t *testing.T) {
	e := newEnv(t)
	r := e.get("reader", "/ogc/collections/things/items/f0007")
	var f struct {
		Type       string
		ID         string
		Geometry   json.RawMessage
		Properties map[string]any
		Links      []link
	}
	r.json(t, &f)
	if r.header.Get("Content-Type") != "application/geo+json" || f.Type != "Feature" || f.ID != "f0007" || string(f.Geometry) != "null" || f.Properties["kind"] != "a" {
		t.Errorf("feature: %s", r.body)
	}
	if l := rel(f.Links, "self"); l == nil || l.Href != e.srv.URL+"/ogc/collections/things/items/f0007" {
		t.Errorf("self: %+v", l)
	}
	e.get("reader", "/ogc/collections/things/items/f9999").problem(t, 404)
	e.get("reader", "/ogc/collections/nope/items/f0001").problem(t, 404)
}

func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t)
	r := e.get("reader", "/ogc/api")
	var doc struct {
		OpenAPI string
		Servers []struct{ URL string }
		Paths   map[string]map[string]struct {
			OperationID string
			Parameters  []map[string]any
		}
	}
	r.json(t, &doc)
	if r.header.Get("Content-Type") != "application/vnd.oai.openapi+json;version=3.0" || doc.OpenAPI != "3.0.3" || doc.Servers[0].URL != e.srv.URL+"/ogc" {
		t.Fatalf("document: %s", r.body[:200])
	}
	for _, p := range []string{"/", "/conformance", "/collections", "/collections/{collectionId}", "/collections/{collectionId}/items", "/collections/{collectionId}/items/{featureId}", "/collections/things/items"} {
		if _, ok := doc.Paths[p]["get"]; !ok {
			t.Errorf("path %s missing", p)
		}
	}
	if _, ok := doc.Paths["/collections/secret/items"]; ok {
		t.Error("a collection the caller may not read is described")
	}
	names := map[string]bool{}
	for _, p := range doc.Paths["/collections/things/items"]["get"].Parameters {
		if n, ok := p["name"].(string); ok {
			names[n] = true
		}
	}
	if !names["kind"] || !names["k"] {
		t.Errorf("queryables not in the document: %v", names)
	}
}

func TestParseDatetime(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.RFC3339Nano, s); return t }
	for in, want := range map[string][2]string{
		"2026-05-01T08:00:00Z":         {"2026-05-01T08:00:00Z", "2026-05-01T08:00:00Z"},
		"2026-05-01t08:00:00z":         {"2026-05-01T08:00:00Z", "2026-05-01T08:00:00Z"},
		"2026-05-01":                   {"2026-05-01T00:00:00Z", "2026-05-01T23:59:59.999999999Z"},
		"2026-05-01T00:00:00Z/..":      {"2026-05-01T00:00:00Z", ""},
		"../2026-05-01T00:00:00+08:00": {"", "2026-04-30T16:00:00Z"},
		"/2026-05-01":                  {"", "2026-05-01T23:59:59.999999999Z"},
		"2026-05-01/2026-05-02":        {"2026-05-01T00:00:00Z", "2026-05-02T23:59:59.999999999Z"},
		"2026-05-01T00:00:00.5Z/":      {"2026-05-01T00:00:00.5Z", ""},
	} {
		s, e, err := ogc.ParseDatetime(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		check := func(got *time.Time, w string) bool {
			if w == "" {
				return got == nil
			}
			return got != nil && got.Equal(d(w))
		}
		if !check(s, want[0]) || !check(e, want[1]) {
			t.Errorf("%s: %v, %v; want %v", in, s, e, want)
		}
	}
	for _, bad := range []string{"", "..", "../..", "/", "2026-13-01", "2026-05-01T08:00:00", "2026-05-02/2026-05-01", "a/b/c"} {
		if _, _, err := ogc.ParseDatetime(bad); errs.CodeOf(err) != errs.CodeInvalid {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestParseBBox(t *testing.T) {
	if b, err := ogc.ParseBBox("120.1, 31.2, 120.3, 31.4"); err != nil || b != [4]float64{120.1, 31.2, 120.3, 31.4} {
		t.Errorf("%v %v", b, err)
	}
	if b, err := ogc.ParseBBox("120,31,0,121,32,100"); err != nil || b != [4]float64{120, 31, 121, 32} {
		t.Errorf("with heights: %v %v", b, err)
	}
	if b, err := ogc.ParseBBox("170,-10,-170,10"); err != nil || b[0] != 170 {
		t.Errorf("across the antimeridian: %v %v", b, err)
	}
	for _, bad := range []string{"", "1,2,3,4,5", "NaN,1,2,3", "Inf,1,2,3", "-181,0,0,1"} {
		if _, err := ogc.ParseBBox(bad); errs.CodeOf(err) != errs.CodeInvalid {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

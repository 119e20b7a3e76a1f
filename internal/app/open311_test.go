package app_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/jsonschema/v6"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// The GeoReport v2 client's view of the responses (XML as in the spec).
type (
	o311Service struct {
		ServiceCode string `xml:"service_code" json:"service_code"`
		ServiceName string `xml:"service_name" json:"service_name"`
		Metadata    bool   `xml:"metadata" json:"metadata"`
		Type        string `xml:"type" json:"type"`
		Group       string `xml:"group" json:"group"`
	}
	o311Request struct {
		ID                string   `xml:"service_request_id" json:"service_request_id"`
		Token             string   `xml:"token" json:"token"`
		Status            string   `xml:"status" json:"status"`
		StatusNotes       *string  `xml:"status_notes" json:"status_notes"`
		ServiceCode       string   `xml:"service_code" json:"service_code"`
		ServiceName       string   `xml:"service_name" json:"service_name"`
		ServiceNotice     *string  `xml:"service_notice" json:"service_notice"`
		Description       string   `xml:"description" json:"description"`
		AgencyResponsible *string  `xml:"agency_responsible" json:"agency_responsible"`
		AccountID         *string  `xml:"account_id" json:"account_id"`
		Requested         string   `xml:"requested_datetime" json:"requested_datetime"`
		Updated           string   `xml:"updated_datetime" json:"updated_datetime"`
		Expected          *string  `xml:"expected_datetime" json:"expected_datetime"`
		Address           *string  `xml:"address" json:"address"`
		Lat               *float64 `xml:"lat" json:"lat"`
		Long              *float64 `xml:"long" json:"long"`
	}
	o311Error struct {
		Code        int    `xml:"code" json:"code"`
		Description string `xml:"description" json:"description"`
	}
)

var (
	o311SchemasOnce sync.Once
	o311Schemas     map[string]*jsonschema.Schema
	o311SchemasErr  error
)

// o311Schema compiles the GeoReport v2 JSON Schemas of
// internal/cases/testdata/open311 (formats asserted).
func o311Schema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	o311SchemasOnce.Do(func() {
		dir := filepath.Join("..", "cases", "testdata", "open311")
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil || len(files) == 0 {
			o311SchemasErr = fmt.Errorf("no schemas in %s: %v", dir, err)
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				o311SchemasErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				o311SchemasErr = fmt.Errorf("%s: %w", f, err)
				return
			}
			if err := c.AddResource("https://shuzhi.dev/schemas/open311/"+filepath.Base(f), doc); err != nil {
				o311SchemasErr = err
				return
			}
		}
		o311Schemas = map[string]*jsonschema.Schema{}
		for _, f := range files {
			sch, err := c.Compile("https://shuzhi.dev/schemas/open311/" + filepath.Base(f))
			if err != nil {
				o311SchemasErr = fmt.Errorf("%s: %w", f, err)
				return
			}
			o311Schemas[strings.TrimSuffix(filepath.Base(f), ".json")] = sch
		}
	})
	if o311SchemasErr != nil {
		t.Fatal(o311SchemasErr)
	}
	sch, ok := o311Schemas[name]
	if !ok {
		t.Fatalf("no schema %s", name)
	}
	return sch
}

// o311JSON checks a JSON reply's status, content type and schema, and
// decodes it into v.
func o311JSON(t *testing.T, r *apptest.Resp, status int, schema string, v any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("content type %q: %s", ct, r.Body)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("not JSON: %v: %s", err, r.Body)
	}
	if err := o311Schema(t, schema).Validate(inst); err != nil {
		t.Fatalf("reply does not follow %s.json: %v\n%s", schema, err, r.Body)
	}
	if v != nil {
		r.JSON(v)
	}
}

// o311XML checks an XML reply's status, content type, declaration and root
// element, and decodes it into v.
func o311XML(t *testing.T, r *apptest.Resp, status int, root string, v any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
		t.Fatalf("content type %q: %s", ct, r.Body)
	}
	if !bytes.HasPrefix(r.Body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Fatalf("no XML declaration: %s", r.Body)
	}
	dec := xml.NewDecoder(bytes.NewReader(r.Body))
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("no root element: %v: %s", err, r.Body)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != root || se.Name.Space != "" {
				t.Fatalf("root <%s>, want <%s>: %s", se.Name.Local, root, r.Body)
			}
			break
		}
	}
	if err := xml.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("XML: %v: %s", err, r.Body)
	}
}

// o311Fails checks an error reply: status, the spec's error list in JSON
// or XML, and a description containing want.
func o311Fails(t *testing.T, r *apptest.Resp, format string, status int, want string) {
	t.Helper()
	var errsList []o311Error
	if format == "json" {
		o311JSON(t, r, status, "errors", &errsList)
	} else {
		var x struct {
			Errors []o311Error `xml:"error"`
		}
		o311XML(t, r, status, "errors", &x)
		errsList = x.Errors
	}
	if len(errsList) == 0 || errsList[0].Code != status || !strings.Contains(errsList[0].Description, want) {
		t.Fatalf("errors %+v, want code %d and %q", errsList, status, want)
	}
}

func TestOpen311(t *testing.T) {
	t.Parallel()
	for _, backend := range dbtest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			t.Parallel()
			e := apptest.Start(t, backend)
			testOpen311(t, e)
		})
	}
}

// form posts a form-encoded body as an Open311 client does.
func form(c *apptest.Client, path string, v url.Values) *apptest.Resp {
	return c.Upload("POST", path, "application/x-www-form-urlencoded; charset=utf-8", []byte(v.Encode()))
}

func issueToken(t *testing.T, e *apptest.Env, name string, scopes ...string) string {
	t.Helper()
	sec := e.Login(t, "secadmin")
	r := sec.Do("POST", "/api/v1/tokens", map[string]any{"name": name, "orgId": orgIDByName(t, e, "姑苏区城市运行管理中心"), "scopes": scopes, "expiresInDays": 1})
	if r.Status != 200 {
		t.Fatalf("issue token: %d %s", r.Status, r.Body)
	}
	var tok struct{ Token string }
	r.JSON(&tok)
	return tok.Token
}

func testOpen311(t *testing.T, e *apptest.Env) {
	const base = "/open311/v2"
	cl := e.Anonymous(t) // reads need no credentials

	// Discovery, as a client finds the endpoint.
	var disc struct {
		Endpoints []struct {
			Specification, URL string
			Formats            []string
		}
	}
	o311JSON(t, cl.Do("GET", base+"/discovery.json", nil), 200, "discovery", &disc)
	if len(disc.Endpoints) != 1 || disc.Endpoints[0].Specification != "http://wiki.open311.org/GeoReport_v2" || disc.Endpoints[0].URL != e.URL+base {
		t.Fatalf("discovery: %+v", disc)
	}
	var discX struct {
		Endpoints []struct {
			URL     string   `xml:"url"`
			Formats []string `xml:"formats>format"`
		} `xml:"endpoints>endpoint"`
	}
	o311XML(t, cl.Do("GET", base+"/discovery.xml", nil), 200, "discovery", &discX)
	if len(discX.Endpoints) != 1 || len(discX.Endpoints[0].Formats) != 2 {
		t.Fatalf("discovery.xml: %+v", discX)
	}

	// Services: one per active category, in JSON and XML alike.
	var services []o311Service
	o311JSON(t, cl.Do("GET", base+"/services.json", nil), 200, "services", &services)
	if len(services) < 50 {
		t.Fatalf("%d services", len(services))
	}
	var servicesX struct {
		Services []o311Service `xml:"service"`
	}
	o311XML(t, cl.Do("GET", base+"/services.xml", nil), 200, "services", &servicesX)
	if len(servicesX.Services) != len(services) || servicesX.Services[0] != services[0] {
		t.Fatalf("services.xml has %d services (%+v), JSON %d (%+v)", len(servicesX.Services), servicesX.Services[0], len(services), services[0])
	}
	const code = "E0402" // the category the operators' queue test dispatches to
	var svc o311Service
	for _, s := range services {
		if s.ServiceCode == code {
			svc = s
		}
		if s.Type != "realtime" || s.Metadata || s.Group == "" || s.ServiceName == "" {
			t.Fatalf("service %+v", s)
		}
	}
	if svc.ServiceCode == "" {
		t.Fatalf("no service %s", code)
	}

	// Service definition: the spec's structure, no attributes.
	var def struct {
		ServiceCode string `json:"service_code"`
		Attributes  []any  `json:"attributes"`
	}
	o311JSON(t, cl.Do("GET", base+"/services/"+code+".json", nil), 200, "service-definition", &def)
	if def.ServiceCode != code || def.Attributes == nil || len(def.Attributes) != 0 {
		t.Fatalf("definition %+v", def)
	}
	var defX struct {
		ServiceCode string   `xml:"service_code"`
		Attributes  []string `xml:"attributes>attribute"`
	}
	o311XML(t, cl.Do("GET", base+"/services/"+code+".xml", nil), 200, "service_definition", &defX)
	if defX.ServiceCode != code {
		t.Fatalf("definition.xml %+v", defX)
	}
	o311Fails(t, cl.Do("GET", base+"/services/E9999.json", nil), "json", 404, "E9999")
	o311Fails(t, cl.Do("GET", base+"/services/E9999.xml", nil), "xml", 404, "E9999")
	o311Fails(t, cl.Do("GET", base+"/services.html", nil), "xml", 404, "format")
	o311Fails(t, cl.Do("GET", base+"/nothing.json", nil), "json", 404, "nothing")

	// POST a request, form-encoded, with a token that may report.
	key := issueToken(t, e, "12345 热线平台", "cases:report")
	_, lon, lat := gridIn(t, e, "320508018")
	desc := fmt.Sprintf("流动摊贩占道经营，堵住人行道 %d，联系 13912345678", time.Now().UnixNano()%100000)
	post := url.Values{"api_key": {key}, "jurisdiction_id": {"suzhou.gov.cn"}, "service_code": {code}, "lat": {fmt.Sprint(lat)}, "long": {fmt.Sprint(lon)},
		"address_string": {"平江路 100 号"}, "description": {desc}, "first_name": {"小明"}, "last_name": {"王"}, "phone": {"+86 139 1234 5678"},
		"email": {"wang@example.com"}, "device_id": {"dev-1"}, "account_id": {"acct-42"}}
	var created []o311Request
	o311JSON(t, form(cl, base+"/requests.json", post), 201, "post-requests", &created)
	if len(created) != 1 || len(created[0].ID) != 20 || created[0].AccountID == nil || *created[0].AccountID != "acct-42" || created[0].ServiceNotice == nil {
		t.Fatalf("created %+v", created)
	}
	id := created[0].ID

	// The same request, read back by id in JSON and XML.
	var got []o311Request
	r := cl.Do("GET", base+"/requests/"+id+".json", nil)
	o311JSON(t, r, 200, "requests", &got)
	g := got[0]
	if len(got) != 1 || g.ID != id || g.Status != "open" || g.ServiceCode != code || g.ServiceName != svc.ServiceName || g.Address == nil || *g.Address != "平江路 100 号" ||
		g.Lat == nil || *g.Lat != lat || *g.Long != lon || !strings.HasSuffix(g.Requested, "+08:00") || g.StatusNotes == nil {
		t.Fatalf("request %s: %+v", id, g)
	}
	// Public: no reporter's name, phone or e-mail, and the phone number
	// typed into the description is masked.
	for _, secret := range []string{"王小明", "小明", "13912345678", "wang@example.com", "acct-42", "dev-1"} {
		if bytes.Contains(r.Body, []byte(secret)) {
			t.Fatalf("the public request shows %q: %s", secret, r.Body)
		}
	}
	if !strings.Contains(g.Description, "139******78") {
		t.Fatalf("description %q", g.Description)
	}
	var gotX struct {
		Requests []o311Request `xml:"request"`
	}
	o311XML(t, cl.Do("GET", base+"/requests/"+id+".xml", nil), 200, "service_requests", &gotX)
	if len(gotX.Requests) != 1 || gotX.Requests[0].ID != id || gotX.Requests[0].Status != "open" || *gotX.Requests[0].Lat != lat {
		t.Fatalf("request.xml %+v", gotX.Requests)
	}
	// The case itself: open311 channel, category as given, the reporter
	// masked for staff.
	sup := e.Login(t, "supervisor")
	var cv struct{ Channel, Category, Reporter, Description string }
	if r := sup.Do("GET", "/api/v1/cases/"+id, nil); r.Status != 200 {
		t.Fatalf("case %s: %d %s", id, r.Status, r.Body)
	} else {
		r.JSON(&cv)
	}
	if cv.Channel != "open311" || cv.Category != code || !strings.Contains(cv.Reporter, "*") || strings.Contains(cv.Reporter, "13912345678") {
		t.Fatalf("case %+v", cv)
	}

	// By token: the token is given to the case at intake (the response
	// carries the id, so a client needs it only if it lost the reply).
	var token string
	if err := e.Server.DB.QueryRow(context.Background(), `SELECT token FROM cases WHERE no = ?`, id).Scan(&token); err != nil || token == "" {
		t.Fatalf("token of %s: %q %v", id, token, err)
	}
	var byToken []o311Request
	o311JSON(t, cl.Do("GET", base+"/tokens/"+token+".json", nil), 200, "tokens", &byToken)
	if len(byToken) != 1 || byToken[0].ID != id || byToken[0].Token != token {
		t.Fatalf("token: %+v", byToken)
	}
	var byTokenX struct {
		Requests []o311Request `xml:"request"`
	}
	o311XML(t, cl.Do("GET", base+"/tokens/"+token+".xml", nil), 200, "service_requests", &byTokenX)
	if len(byTokenX.Requests) != 1 || byTokenX.Requests[0].ID != id || byTokenX.Requests[0].Token != token {
		t.Fatalf("token.xml: %+v", byTokenX)
	}
	o311Fails(t, cl.Do("GET", base+"/tokens/NOSUCHTOKEN.json", nil), "json", 404, "token")

	// A second report of the same thing, answered in XML; the operations
	// centre merges it into the first, so it reads as closed.
	post2 := url.Values{"api_key": {key}, "service_code": {code}, "lat": {fmt.Sprint(lat)}, "long": {fmt.Sprint(lon)}, "description": {desc}}
	var createdX struct {
		Requests []o311Request `xml:"request"`
	}
	o311XML(t, form(cl, base+"/requests.xml", post2), 201, "service_requests", &createdX)
	if len(createdX.Requests) != 1 || len(createdX.Requests[0].ID) != 20 {
		t.Fatalf("created.xml %+v", createdX.Requests)
	}
	id2 := createdX.Requests[0].ID
	actOn(t, sup, id2, "merge", map[string]any{"target": id})
	var merged []o311Request
	o311JSON(t, cl.Do("GET", base+"/requests/"+id2+".json", nil), 200, "requests", &merged)
	if merged[0].Status != "closed" || merged[0].StatusNotes == nil || !strings.Contains(*merged[0].StatusNotes, id) || merged[0].Expected != nil {
		t.Fatalf("merged %+v", merged[0])
	}

	// Multipart with a photo, and a JSON body.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	for k, v := range map[string]string{"api_key": key, "service_code": code, "lat": fmt.Sprint(lat), "long": fmt.Sprint(lon), "description": "路灯不亮，晚上很黑，请尽快修理"} {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("media", "photo.jpg")
	_, _ = fw.Write(tinyJPEG)
	_ = mw.Close()
	var withPhoto []o311Request
	o311JSON(t, cl.Upload("POST", base+"/requests.json", mw.FormDataContentType(), mp.Bytes()), 201, "post-requests", &withPhoto)
	var photos int
	if err := e.Server.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM case_photos p JOIN cases c ON c.id = p.case_id WHERE c.no = ?`, withPhoto[0].ID).Scan(&photos); err != nil || photos != 1 {
		t.Fatalf("photos of %s: %d %v", withPhoto[0].ID, photos, err)
	}
	var fromJSON []o311Request
	o311JSON(t, cl.Do("POST", base+"/requests.json", map[string]any{"api_key": key, "service_code": code, "lat": lat, "long": lon, "description": "垃圾桶满溢，异味很大"}),
		201, "post-requests", &fromJSON)

	// GET requests with the spec's filters.
	list := func(query string) []o311Request {
		t.Helper()
		var out []o311Request
		o311JSON(t, cl.Do("GET", base+"/requests.json?"+query, nil), 200, "requests", &out)
		return out
	}
	has := func(list []o311Request, id string) bool {
		for _, r := range list {
			if r.ID == id {
				return true
			}
		}
		return false
	}
	if l := list(""); !has(l, id) || !has(l, id2) || !has(l, fromJSON[0].ID) {
		t.Fatalf("default window lacks the new requests (%d)", len(l))
	}
	if l := list("service_request_id=" + id + "," + id2 + "&status=open"); len(l) != 2 { // ids override the other arguments
		t.Fatalf("by ids: %+v", l)
	}
	if l := list("service_code=" + code + "&status=open"); !has(l, id) || has(l, id2) {
		t.Fatalf("open %s: %d", code, len(l))
	}
	if l := list("status=closed"); has(l, id) || !has(l, id2) {
		t.Fatalf("closed: %d", len(l))
	}
	if l := list("service_code=E0101"); has(l, id) {
		t.Fatal("another service_code lists the request")
	}
	now := time.Now()
	window := url.Values{"start_date": {now.Add(-time.Hour).UTC().Format(time.RFC3339)}, "end_date": {now.Add(time.Hour).Format(time.RFC3339)}}
	if l := list(window.Encode()); !has(l, id) {
		t.Fatal("the last hour lacks the request")
	}
	if l := list(url.Values{"start_date": {now.Add(time.Hour).Format(time.RFC3339)}}.Encode()); len(l) != 0 {
		t.Fatalf("the future has %d requests", len(l))
	}
	var listX struct {
		Requests []o311Request `xml:"request"`
	}
	o311XML(t, cl.Do("GET", base+"/requests.xml?service_request_id="+id, nil), 200, "service_requests", &listX)
	if len(listX.Requests) != 1 || listX.Requests[0].ID != id {
		t.Fatalf("requests.xml %+v", listX.Requests)
	}
	o311Fails(t, cl.Do("GET", base+"/requests.json?status=pending", nil), "json", 400, "status")
	o311Fails(t, cl.Do("GET", base+"/requests.json?start_date=2024-01-01", nil), "json", 400, "start_date")
	o311Fails(t, cl.Do("GET", base+"/requests.xml?start_date=2024-01-01T00:00:00Z&end_date=2024-06-01T00:00:00Z", nil), "xml", 400, "90 days")
	o311Fails(t, cl.Do("GET", base+"/requests/32050820990101000001.json", nil), "json", 404, "32050820990101000001")

	// Errors in the spec's format, JSON and XML alike.
	// edit copies post2 with fields set ("" deletes them).
	edit := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range post2 {
			v[k] = vs
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	readOnly := issueToken(t, e, "统计平台", "cases:read")
	for _, tc := range []struct {
		name   string
		body   url.Values
		status int
		want   string
	}{
		{"missing api_key", edit("api_key", ""), 403, "api_key"},
		{"bad api_key", edit("api_key", "shz_not-a-real-token"), 403, "api_key"},
		{"api_key without cases:report", edit("api_key", readOnly), 403, "cases:report"},
		{"missing service_code", edit("service_code", ""), 400, "service_code"},
		{"unknown service_code", edit("service_code", "E9999"), 404, "E9999"},
		{"address only", edit("address_string", "平江路 100 号", "lat", "", "long", ""), 400, "lat and long"},
		{"no location", edit("lat", "", "long", ""), 400, "location"},
		{"lat not a number", edit("lat", "north"), 400, "lat"},
		{"lat out of range", edit("lat", "91"), 400, "lat"},
		{"outside the city", edit("lat", "39.9", "long", "116.4"), 400, "long"},
		{"description too short", edit("description", "坏"), 400, "description"},
		{"bad phone", edit("phone", "12"), 400, "phone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o311Fails(t, form(cl, base+"/requests.json", tc.body), "json", tc.status, tc.want)
			o311Fails(t, form(cl, base+"/requests.xml", tc.body), "xml", tc.status, tc.want)
		})
	}
	o311Fails(t, form(cl, base+"/services.json", post2), "json", 405, "read-only")
	o311Fails(t, form(cl, base+"/requests.csv", post2), "xml", 404, "format")
}

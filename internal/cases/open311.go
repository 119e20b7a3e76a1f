package cases

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under
// /open311/v2/, so that 12345 hotline systems and city apps written for the
// standard can list the categories, report cases and follow them.
//
//   - Reads (discovery, services, requests, tokens) are public, as in most
//     deployments, and show only what a passer-by could see: no reporter's
//     data, no internal notes, no photos. The region scope of the console
//     does not apply to them: every case of the city is listed.
//   - POST requests needs api_key: an API token with scope cases:report.
//     Requests are placed by point (lat/long): addresses are not geocoded.
//   - Errors are the spec's list [{code, description}] with 404 for what does
//     not exist, 403 for a missing or wrong api_key, 400 for other client
//     errors (5xx stay 5xx: the client should retry those).

const (
	open311Base = "/open311/v2"
	open311Spec = "http://wiki.open311.org/GeoReport_v2"
	// open311Span is the widest start_date..end_date window (the spec's 90 days).
	open311Span = 90 * 24 * time.Hour
	// open311Max is the most requests one GET returns (the spec's 1000).
	open311Max = 1000
)

// open311 serves the GeoReport v2 API.
type open311 struct {
	s    *Service
	auth func(ctx context.Context, apiKey string) (*authz.Principal, error)
}

// MountOpen311 registers the GeoReport v2 endpoints on mux. auth resolves an
// api_key (an API token) to its principal. Plain net/http handlers: the
// spec wants form-encoded input, XML output and its own error format.
func (s *Service) MountOpen311(mux *http.ServeMux, auth func(ctx context.Context, apiKey string) (*authz.Principal, error)) {
	o := &open311{s: s, auth: auth}
	mux.HandleFunc("GET "+open311Base+"/{resource}", o.get)
	mux.HandleFunc("POST "+open311Base+"/{resource}", o.post)
	mux.HandleFunc("GET "+open311Base+"/services/{file}", o.serviceDefinition)
	mux.HandleFunc("GET "+open311Base+"/requests/{file}", o.request)
	mux.HandleFunc("GET "+open311Base+"/tokens/{file}", o.token)
	mux.HandleFunc("/open311/", func(w http.ResponseWriter, r *http.Request) {
		o311Fail(w, formatOf(r.URL.Path), http.StatusNotFound, msg(r, "no such Open311 resource: "+r.Method+" "+r.URL.Path, "没有此 Open311 资源："+r.Method+" "+r.URL.Path))
	})
}

// splitFormat parses "name.json" or "name.xml".
func splitFormat(file string) (name, format string, ok bool) {
	i := strings.LastIndexByte(file, '.')
	if i <= 0 {
		return "", "", false
	}
	name, format = file[:i], file[i+1:]
	return name, format, format == "json" || format == "xml"
}

// formatOf picks the error format for a path: JSON when it asks for JSON,
// else XML (the spec's required format).
func formatOf(path string) string {
	if strings.HasSuffix(path, ".json") {
		return "json"
	}
	return "xml"
}

func msg(r *http.Request, en, zh string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "zh") {
		return zh
	}
	return en
}

// public marks a reply as readable by anyone, from any site.
func public(w http.ResponseWriter, maxAge int) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if maxAge > 0 {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", maxAge))
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
}

func (o *open311) get(w http.ResponseWriter, r *http.Request) {
	name, f, ok := splitFormat(r.PathValue("resource"))
	if !ok {
		o311Fail(w, formatOf(r.URL.Path), http.StatusNotFound, msg(r, "unknown resource or format (use .json or .xml)", "未知资源或格式（应为 .json 或 .xml）"))
		return
	}
	switch name {
	case "discovery":
		o.discovery(w, r, f)
	case "services":
		o.services(w, r, f)
	case "requests":
		o.requests(w, r, f)
	default:
		o311Fail(w, f, http.StatusNotFound, msg(r, "no such Open311 resource: "+name, "没有此 Open311 资源："+name))
	}
}

// activeCategories are the services, in code order.
func (o *open311) activeCategories() []Category {
	o.s.catMu.RLock()
	out := make([]Category, 0, len(o.s.cats))
	for _, c := range o.s.cats {
		if c.Active {
			out = append(out, *c)
		}
	}
	o.s.catMu.RUnlock()
	slices.SortFunc(out, func(a, b Category) int { return strings.Compare(a.Code, b.Code) })
	return out
}

func (o *open311) discovery(w http.ResponseWriter, r *http.Request, f string) {
	var changed int64
	for _, c := range o.activeCategories() {
		changed = max(changed, c.UpdatedAt)
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https" // only the advertised URL depends on the header
	}
	d := o311Discovery{
		Changeset:  w3c(changed),
		Contact:    "城市运行管理中心（一网统管）。Questions about this API: the city operations centre.",
		KeyService: "api_key 为具有 cases:report 权限范围的 API 令牌，由安全管理员在控制台签发，或执行 shuzhi token issue --scopes cases:report。An api_key is an API token with scope cases:report, issued by the security administrator.",
		Endpoints: []o311Endpoint{{Specification: open311Spec, URL: scheme + "://" + r.Host + open311Base, Changeset: w3c(changed), Type: "production",
			Formats: []string{"text/xml", "application/json"}}},
	}
	public(w, 300)
	o311Write(w, f, http.StatusOK, d, d)
}

func (o *open311) service(c Category) o311Service {
	kind := "事件"
	if c.Kind == "component" {
		kind = "部件"
	}
	return o311Service{ServiceCode: c.Code, ServiceName: c.NameZh, Description: c.Filing, Metadata: false, Type: "realtime",
		Keywords: strings.Join([]string{c.NameEn, c.MajorZh, kind}, ", "), Group: c.MajorZh}
}

func (o *open311) services(w http.ResponseWriter, r *http.Request, f string) {
	cats := o.activeCategories()
	list := make([]o311Service, len(cats))
	for i, c := range cats {
		list[i] = o.service(c)
	}
	public(w, 300)
	o311Write(w, f, http.StatusOK, list, xmlServices{Items: list})
}

func (o *open311) serviceDefinition(w http.ResponseWriter, r *http.Request) {
	code, f, ok := splitFormat(r.PathValue("file"))
	if !ok {
		o311Fail(w, formatOf(r.URL.Path), http.StatusNotFound, msg(r, "unknown format (use .json or .xml)", "未知格式（应为 .json 或 .xml）"))
		return
	}
	if cat, found := o.s.category(code); !found || !cat.Active {
		o311Fail(w, f, http.StatusNotFound, msg(r, "service_code "+code+" not found", "未找到服务代码 "+code))
		return
	}
	d := o311Definition{ServiceCode: code}
	public(w, 300)
	o311Write(w, f, http.StatusOK, d, d)
}

// post handles POST requests.{format}: a new case from an Open311 client.
func (o *open311) post(w http.ResponseWriter, r *http.Request) {
	name, f, ok := splitFormat(r.PathValue("resource"))
	switch {
	case !ok:
		o311Fail(w, formatOf(r.URL.Path), http.StatusNotFound, msg(r, "unknown resource or format (use .json or .xml)", "未知资源或格式（应为 .json 或 .xml）"))
		return
	case name == "discovery" || name == "services":
		w.Header().Set("Allow", "GET, HEAD")
		o311Fail(w, f, http.StatusMethodNotAllowed, msg(r, name+" is read-only", name+" 只读"))
		return
	case name != "requests":
		o311Fail(w, f, http.StatusNotFound, msg(r, "no such Open311 resource: "+name, "没有此 Open311 资源："+name))
		return
	}
	form, photos, status, err := o311Form(w, r)
	if err != nil {
		o311Fail(w, f, status, err.Error())
		return
	}
	key := strings.TrimSpace(form.Get("api_key"))
	if key == "" {
		o311Fail(w, f, http.StatusForbidden, msg(r, "api_key is required to create a request", "创建请求须提供 api_key"))
		return
	}
	p, err := o.auth(r.Context(), key)
	switch {
	case errs.CodeOf(err) == errs.CodeUnauthenticated:
		o311Fail(w, f, http.StatusForbidden, msg(r, "invalid api_key received: unknown, expired or revoked", "api_key 无效、已过期或已吊销"))
		return
	case err != nil:
		status, desc := o.failure(r, err)
		o311Fail(w, f, status, desc)
		return
	case !p.Has(authz.CasesReport):
		o311Fail(w, f, http.StatusForbidden, msg(r, "the api_key lacks scope cases:report", "该 api_key 没有 cases:report 权限范围"))
		return
	}
	in, status, err := o.parseReport(r, form)
	if err != nil {
		o311Fail(w, f, status, err.Error())
		return
	}
	in.Photos = photos
	res, err := o.s.Report(authz.With(r.Context(), p), in)
	if err != nil {
		status, desc := o.failure(r, err)
		o311Fail(w, f, status, desc)
		return
	}
	c := res.Case
	cat, _ := o.s.category(c.Category)
	out := []o311Created{{ServiceRequestID: c.No, ServiceNotice: nullable(serviceNotice(c, cat)), AccountID: nullable(strings.TrimSpace(form.Get("account_id")))}}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", open311Base+"/requests/"+c.No+"."+f)
	o311Write(w, f, http.StatusCreated, out, xmlRequests[o311Created]{Items: out})
}

type o311Err string

func (e o311Err) Error() string { return string(e) }

// o311Form reads the request's fields: form-encoded (the spec), multipart
// with media files, or a JSON object; query parameters count too.
func o311Form(w http.ResponseWriter, r *http.Request) (url.Values, []Photo, int, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	tooLarge := func(err error) (url.Values, []Photo, int, error) {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, nil, http.StatusRequestEntityTooLarge, o311Err(msg(r, "request too large", "请求内容过大"))
		}
		return nil, nil, http.StatusBadRequest, o311Err(msg(r, "malformed request body: ", "请求体格式错误：") + err.Error())
	}
	switch ct {
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, MaxPhotos*MaxPhotoBytes+1<<20)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return tooLarge(err)
		}
		defer func() { _ = r.MultipartForm.RemoveAll() }()
		var photos []Photo
		for _, fh := range r.MultipartForm.File["media"] {
			if fh.Size > MaxPhotoBytes {
				return nil, nil, http.StatusBadRequest, o311Err(msg(r, "media: each file must be at most 5 MB", "media：每个文件不能超过 5 MB"))
			}
			file, err := fh.Open()
			if err != nil {
				return tooLarge(err)
			}
			data, err := io.ReadAll(io.LimitReader(file, MaxPhotoBytes+1))
			_ = file.Close()
			if err != nil {
				return tooLarge(err)
			}
			photos = append(photos, Photo{Mime: http.DetectContentType(data), Data: data})
		}
		return r.Form, photos, 0, nil
	case "application/json":
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		var body map[string]any
		if err := dec.Decode(&body); err != nil {
			return tooLarge(err)
		}
		form := r.URL.Query()
		for k, v := range body {
			switch v := v.(type) {
			case nil:
			case string:
				form.Set(k, v)
			case json.Number:
				form.Set(k, v.String())
			case bool:
				form.Set(k, strconv.FormatBool(v))
			default:
				return nil, nil, http.StatusBadRequest, o311Err(msg(r, k+": must be a string or a number", k+"：应为字符串或数字"))
			}
		}
		return form, nil, 0, nil
	default:
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			return tooLarge(err)
		}
		return r.Form, nil, 0, nil
	}
}

// parseReport checks the Open311 fields and maps them to a Report.
func (o *open311) parseReport(r *http.Request, form url.Values) (Report, int, error) {
	bad := func(en, zh string) (Report, int, error) {
		return Report{}, http.StatusBadRequest, o311Err(msg(r, en, zh))
	}
	code := strings.TrimSpace(form.Get("service_code"))
	if code == "" {
		return bad("service_code is required", "须提供 service_code")
	}
	if cat, ok := o.s.category(code); !ok || !cat.Active {
		return Report{}, http.StatusNotFound, o311Err(msg(r, "service_code "+code+" not found", "未找到服务代码 "+code))
	}
	latS, longS := strings.TrimSpace(form.Get("lat")), strings.TrimSpace(form.Get("long"))
	if latS == "" && longS == "" {
		if strings.TrimSpace(form.Get("address_string")) != "" || strings.TrimSpace(form.Get("address_id")) != "" {
			return bad("lat and long are required: this endpoint places requests by point and does not geocode address_string or address_id",
				"须提供 lat 和 long：本接口按坐标定位网格，不对 address_string 或 address_id 做地理编码")
		}
		return bad("a location is required: lat and long (WGS84)", "须提供位置：lat 和 long（WGS84）")
	}
	if latS == "" || longS == "" {
		return bad("lat and long must be sent together", "lat 和 long 须同时提供")
	}
	lat, err := strconv.ParseFloat(latS, 64)
	if err != nil || math.IsNaN(lat) || lat < -90 || lat > 90 {
		return bad("lat must be a number within [-90, 90]", "lat 应为 [-90, 90] 之间的数字")
	}
	lon, err := strconv.ParseFloat(longS, 64)
	if err != nil || math.IsNaN(lon) || lon < -180 || lon > 180 {
		return bad("long must be a number within [-180, 180]", "long 应为 [-180, 180] 之间的数字")
	}
	desc := strings.TrimSpace(form.Get("description"))
	if desc == "" {
		return bad("description is required here: say what is wrong (4 to 2000 characters)", "须填写 description：描述问题（4 至 2000 个字符）")
	}
	addr := strings.TrimSpace(form.Get("address_string"))
	if utf8.RuneCountInString(addr) > 200 {
		return bad("address_string must be at most 200 characters", "address_string 不能超过 200 个字符")
	}
	name := reporterName(strings.TrimSpace(form.Get("first_name")), strings.TrimSpace(form.Get("last_name")))
	if utf8.RuneCountInString(name) > 50 {
		return bad("first_name and last_name together must be at most 50 characters", "first_name 与 last_name 合计不能超过 50 个字符")
	}
	return Report{Channel: "open311", Category: code, Description: desc, Address: addr, Lon: &lon, Lat: &lat,
		ReporterName: name, ReporterPhone: normalizePhone(form.Get("phone")), Token: rand.Text()}, 0, nil
}

// reporterName joins given and family names: family name first for Chinese
// names, "given family" for Latin ones.
func reporterName(first, last string) string {
	if first == "" || last == "" {
		return first + last
	}
	ascii := func(s string) bool { return utf8.RuneCountInString(s) == len(s) }
	if ascii(first) && ascii(last) {
		return first + " " + last
	}
	return last + first
}

// normalizePhone drops spaces and the +86 country code clients often add.
func normalizePhone(p string) string {
	p = strings.Join(strings.Fields(p), "")
	for _, cc := range []string{"+86-", "+86", "0086"} {
		if strings.HasPrefix(p, cc) && len(p) > len(cc)+7 {
			return p[len(cc):]
		}
	}
	return p
}

// open311Fields names the module's fields as Open311 clients know them.
var open311Fields = map[string]string{"lon": "long", "lat": "lat", "category": "service_code", "description": "description", "address": "address_string",
	"reporterName": "first_name/last_name", "reporterPhone": "phone", "photos": "media"}

// failure maps an error to the spec's statuses: 404 what does not exist,
// 403 permissions, 400 any other client error; server failures stay 5xx.
func (o *open311) failure(r *http.Request, err error) (int, string) {
	zh := msg(r, "en", "zh") == "zh"
	var e *errs.Error
	if !errors.As(err, &e) {
		// A query whose client went away can fail as a dropped connection
		// ("driver: bad connection"), not as the cancellation itself.
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || r.Context().Err() != nil {
			return http.StatusServiceUnavailable, msg(r, "the request was cancelled or timed out", "请求已取消或超时")
		}
		o.s.log.Error("open311", "err", err)
		return http.StatusInternalServerError, msg(r, "internal error", "服务器内部错误")
	}
	text := e.Message
	if zh && e.MessageZh != "" {
		text = e.MessageZh
	}
	if len(e.Fields) > 0 {
		var parts []string
		for _, fe := range e.Fields {
			field := fe.Field
			if n, ok := open311Fields[strings.SplitN(field, "[", 2)[0]]; ok {
				field = n
			}
			m := fe.Message
			if zh && fe.MessageZh != "" {
				m = fe.MessageZh
			}
			parts = append(parts, field+": "+m)
		}
		text = strings.Join(parts, "; ")
	}
	switch e.Code {
	case errs.CodeNotFound:
		return http.StatusNotFound, text
	case errs.CodeForbidden, errs.CodeUnauthenticated:
		return http.StatusForbidden, text
	case errs.CodeTooMany:
		return http.StatusTooManyRequests, text
	case errs.CodeUnavailable:
		o.s.log.Warn("open311", "err", err)
		return http.StatusServiceUnavailable, text
	case errs.CodeInvalid, errs.CodeConflict, errs.CodeLocked:
		return http.StatusBadRequest, text
	}
	o.s.log.Error("open311", "err", err)
	return http.StatusInternalServerError, msg(r, "internal error", "服务器内部错误")
}

// request handles GET requests/{service_request_id}.{format}.
func (o *open311) request(w http.ResponseWriter, r *http.Request) {
	no, f, ok := splitFormat(r.PathValue("file"))
	if !ok {
		o311Fail(w, formatOf(r.URL.Path), http.StatusNotFound, msg(r, "unknown format (use .json or .xml)", "未知格式（应为 .json 或 .xml）"))
		return
	}
	list, err := o.publicRequests(r.Context(), open311Query{numbers: []string{no}})
	if err != nil {
		status, desc := o.failure(r, err)
		o311Fail(w, f, status, desc)
		return
	}
	if len(list) == 0 {
		o311Fail(w, f, http.StatusNotFound, msg(r, "service_request_id "+no+" not found", "未找到请求 "+no))
		return
	}
	public(w, 0)
	o311Write(w, f, http.StatusOK, list, xmlRequests[o311Request]{Items: list})
}

// token handles GET tokens/{token}.{format}.
func (o *open311) token(w http.ResponseWriter, r *http.Request) {
	tok, f, ok := splitFormat(r.PathValue("file"))
	if !ok {
		o311Fail(w, formatOf(r.URL.Path), http.StatusNotFound, msg(r, "unknown format (use .json or .xml)", "未知格式（应为 .json 或 .xml）"))
		return
	}
	var no string
	var err error
	if tok != "" && len(tok) <= 64 {
		err = o.s.db.QueryRow(r.Context(), `SELECT no FROM cases WHERE token = ? AND channel = 'open311'`, tok).Scan(&no)
	}
	if no == "" {
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			status, desc := o.failure(r, err)
			o311Fail(w, f, status, desc)
			return
		}
		o311Fail(w, f, http.StatusNotFound, msg(r, "token not found", "未找到此令牌"))
		return
	}
	out := []o311Token{{ServiceRequestID: no, Token: tok}}
	public(w, 0)
	o311Write(w, f, http.StatusOK, out, xmlRequests[o311Token]{Items: out})
}

// requests handles GET requests.{format} with the spec's filters.
func (o *open311) requests(w http.ResponseWriter, r *http.Request, f string) {
	q, err := o.parseQuery(r)
	if err != nil {
		o311Fail(w, f, http.StatusBadRequest, err.Error())
		return
	}
	list, err := o.publicRequests(r.Context(), q)
	if err != nil {
		status, desc := o.failure(r, err)
		o311Fail(w, f, status, desc)
		return
	}
	public(w, 0)
	o311Write(w, f, http.StatusOK, list, xmlRequests[o311Request]{Items: list})
}

// open311Query selects requests: by number (which overrides everything
// else, as the spec says), or by time window, service codes and statuses.
type open311Query struct {
	numbers  []string
	codes    []string
	states   []State
	from, to int64 // requested_datetime within [from, to], unix ms
}

func (o *open311) parseQuery(r *http.Request) (open311Query, error) {
	v := r.URL.Query()
	var q open311Query
	split := func(key string) []string {
		var out []string
		for _, raw := range v[key] {
			for _, s := range strings.Split(raw, ",") {
				if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
		return out
	}
	if q.numbers = split("service_request_id"); len(q.numbers) > 0 {
		if len(q.numbers) > open311Max {
			return q, o311Err(msg(r, fmt.Sprintf("at most %d service_request_id at once", open311Max), fmt.Sprintf("一次最多 %d 个 service_request_id", open311Max)))
		}
		return q, nil
	}
	q.codes = split("service_code")
	for _, st := range split("status") {
		switch st {
		case "open":
			q.states = append(q.states, OpenStates...)
		case "closed":
			q.states = append(q.states, Closed, Rejected, Merged)
		default:
			return q, o311Err(msg(r, "status must be open or closed", "status 应为 open 或 closed"))
		}
	}
	parse := func(key string) (time.Time, bool, error) {
		s := strings.TrimSpace(v.Get(key))
		if s == "" {
			return time.Time{}, false, nil
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, false, o311Err(msg(r, key+" must be a W3C date and time with a time zone, e.g. 2010-01-01T00:00:00Z",
				key+" 应为带时区的 W3C 日期时间，如 2010-01-01T00:00:00+08:00"))
		}
		return t, true, nil
	}
	start, hasStart, err := parse("start_date")
	if err != nil {
		return q, err
	}
	end, hasEnd, err := parse("end_date")
	if err != nil {
		return q, err
	}
	switch {
	case hasStart && !hasEnd:
		end = start.Add(open311Span)
	case hasEnd && !hasStart:
		start = end.Add(-open311Span)
	case !hasStart && !hasEnd:
		end = o.s.now()
		start = end.Add(-open311Span)
	}
	if end.Before(start) {
		return q, o311Err(msg(r, "end_date must not be before start_date", "end_date 不能早于 start_date"))
	}
	if end.Sub(start) > open311Span {
		return q, o311Err(msg(r, "start_date to end_date may not span more than 90 days", "start_date 至 end_date 不能超过 90 天"))
	}
	q.from, q.to = start.UnixMilli(), end.UnixMilli()
	return q, nil
}

// publicRequests reads the cases a query selects, newest first, at most
// open311Max, as the public sees them. The console's region scope does
// not apply: GeoReport reads are public for the whole city.
func (o *open311) publicRequests(ctx context.Context, q open311Query) ([]o311Request, error) {
	var where []string
	var args []any
	in := func(col string, vals []string) {
		where = append(where, col+` IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+`)`)
		for _, v := range vals {
			args = append(args, v)
		}
	}
	if len(q.numbers) > 0 {
		in("no", q.numbers)
	} else {
		where = append(where, `created_at >= ? AND created_at <= ?`)
		args = append(args, q.from, q.to)
		if len(q.codes) > 0 {
			in("category", q.codes)
		}
		if len(q.states) > 0 {
			states := make([]string, len(q.states))
			for i, st := range q.states {
				states[i] = string(st)
			}
			in("state", states)
		}
	}
	rows, err := o.s.db.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE `+strings.Join(where, " AND ")+` ORDER BY created_at DESC, id DESC LIMIT ?`,
		append(args, open311Max)...)
	if err != nil {
		return nil, err
	}
	var cases []*Case
	for rows.Next() {
		c, err := o.s.scanCase(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		cases = append(cases, c)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	notes, err := o.publicNotes(ctx, cases)
	if err != nil {
		return nil, err
	}
	out := make([]o311Request, 0, len(cases))
	for _, c := range cases {
		out = append(out, o.publicRequest(c, notes[c.ID]))
	}
	return out, nil
}

// publicActions are the steps whose notes the reporter is told anyway.
var publicActions = []string{"reject", "handle", "verify-pass", "merge", "reopen"}

// publicNote is the last public step of a case.
type publicNote struct{ action, note, into string }

// publicNotes reads the latest public step of each case, in chunks.
func (o *open311) publicNotes(ctx context.Context, cases []*Case) (map[string]publicNote, error) {
	out := map[string]publicNote{}
	for start := 0; start < len(cases); start += 500 {
		chunk := cases[start:min(start+500, len(cases))]
		args := make([]any, 0, len(chunk)+len(publicActions))
		for _, c := range chunk {
			args = append(args, c.ID)
		}
		for _, a := range publicActions {
			args = append(args, a)
		}
		rows, err := o.s.db.Query(ctx, `SELECT case_id, action, note, data FROM case_events WHERE case_id IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`) AND action IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(publicActions)), ", ")+`) ORDER BY case_id, seq`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, data string
			var n publicNote
			if err := rows.Scan(&id, &n.action, &n.note, &data); err != nil {
				rows.Close()
				return nil, err
			}
			if n.action == "merge" && data != "" {
				var d struct{ Into string }
				_ = json.Unmarshal([]byte(data), &d)
				n.into = d.Into
			}
			out[id] = n
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// open311Status maps the loop's states to the spec's two.
func open311Status(st State) string {
	switch st {
	case Closed, Rejected, Merged:
		return "closed"
	}
	return "open"
}

func (o *open311) publicRequest(c *Case, n publicNote) o311Request {
	cat, _ := o.s.category(c.Category)
	name := c.CategoryName
	if name == "" {
		name = c.Category
	}
	updated := c.UpdatedAt
	if c.State == Closed && c.ClosedAt > 0 {
		updated = c.ClosedAt // the spec: for closed requests, when they were closed
	}
	req := o311Request{ServiceRequestID: c.No, Status: open311Status(c.State), StatusNotes: nullable(statusNotes(c, n)), ServiceName: name,
		ServiceCode: c.Category, Description: redact(c.Description), AgencyResponsible: nullable(c.OrgName), ServiceNotice: nullable(serviceNotice(c, cat)),
		RequestedDatetime: w3c(c.CreatedAt), UpdatedDatetime: w3c(updated), Address: nullable(c.Address), Lat: c.Lat, Long: c.Lon}
	if c.DeadlineAt > 0 && c.open() {
		req.ExpectedDatetime = nullable(w3c(c.DeadlineAt))
	}
	return req
}

// statusNotes says where the case is, with the note of its last public step.
func statusNotes(c *Case, n publicNote) string {
	var s string
	switch c.State {
	case Reported:
		s = "已收到，待受理"
	case Filed:
		s = "已立案，待派遣"
	case Dispatched:
		s = "已派遣至" + c.OrgName + "处置"
	case Handled:
		s = "已处置，待核查"
	case Closed:
		s = "已核查结案"
	case Rejected:
		s = "经审核不予立案"
	case Merged:
		s = "与其他案件为同一问题，已合并办理"
		if n.into != "" {
			s = "与案件 " + n.into + " 为同一问题，已合并办理"
		}
	case Suspended:
		s = "暂停处置"
	}
	if n.note != "" && n.action != "" {
		s += "：" + n.note
	}
	return s
}

var unitZh = map[string]string{"hours": "小时", "work_hours": "个工作小时", "work_days": "个工作日"}

// serviceNotice says what to expect: the category's handling time limit.
func serviceNotice(c *Case, cat *Category) string {
	if cat == nil {
		return ""
	}
	s := fmt.Sprintf("「%s」自派遣起 %d %s内处置", cat.NameZh, cat.Deadline, unitZh[cat.Unit])
	if c.DeadlineAt > 0 && c.open() {
		s += "，期限 " + time.UnixMilli(c.DeadlineAt).In(cst).Format("2006-01-02 15:04")
	}
	return s
}

// w3c formats unix ms in the spec's date and time format, China time.
func w3c(ms int64) string {
	return time.UnixMilli(ms).In(cst).Format("2006-01-02T15:04:05-07:00")
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// reDigits finds digit runs that may be a mobile or ID card number a
// reporter typed into the description.
var reDigits = regexp.MustCompile(`[0-9]{11,17}[0-9Xx]?`)

// redact masks mobile (11 digits, 1[3-9]…) and resident ID (18) numbers in
// text shown to the public.
func redact(s string) string {
	return reDigits.ReplaceAllStringFunc(s, func(d string) string {
		mobile := len(d) == 11 && d[0] == '1' && d[1] >= '3'
		if !mobile && len(d) != 18 {
			return d
		}
		return d[:3] + strings.Repeat("*", len(d)-5) + d[len(d)-2:]
	})
}

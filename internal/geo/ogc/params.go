package ogc

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Query parameters of the items endpoint (besides the queryables).
const (
	paramLimit    = "limit"
	paramOffset   = "offset"
	paramBBox     = "bbox"
	paramDatetime = "datetime"
	paramFormat   = "f"
)

// parseQuery reads the raw query string, refusing malformed encodings and
// repeated parameters.
func parseQuery(raw string) (url.Values, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errs.Invalid("query", "syntax", "the query string is malformed", "查询字符串格式错误")
	}
	for k, vs := range v {
		if len(vs) > 1 {
			return nil, errs.Invalid(k, "repeated", "may be given once", "只能出现一次")
		}
	}
	return v, nil
}

// checkFormat accepts f=json (the only encoding served) or no f.
func checkFormat(v url.Values) error {
	if f, ok := v[paramFormat]; ok && f[0] != "json" {
		return errs.Invalid(paramFormat, "enum", "only f=json is served", "仅支持 f=json")
	}
	return nil
}

// onlyParams refuses query parameters outside allowed (OGC API - Features
// requires 400 for parameters the API does not define).
func onlyParams(v url.Values, allowed func(string) bool) error {
	for k := range v {
		if !allowed(k) {
			return errs.Invalid(k, "unknown", "is not a parameter of this resource", "不是此资源的参数")
		}
	}
	return nil
}

// parseItemsQuery validates the parameters of /collections/{id}/items.
func parseItemsQuery(v url.Values, info CollectionInfo) (Query, error) {
	q := Query{Limit: DefaultLimit}
	filterName := map[string]string{}
	for _, qa := range info.Queryables {
		filterName[qa.Name] = qa.Name
		for _, a := range qa.Aliases {
			filterName[a] = qa.Name
		}
	}
	err := onlyParams(v, func(k string) bool {
		switch k {
		case paramLimit, paramOffset, paramBBox, paramDatetime, paramFormat:
			return true
		}
		_, ok := filterName[k]
		return ok
	})
	if err != nil {
		return q, err
	}
	if err := checkFormat(v); err != nil {
		return q, err
	}
	if s, ok := v[paramLimit]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(s[0]))
		if err != nil || n < 1 {
			return q, errs.Invalid(paramLimit, "minimum", "must be an integer of at least 1", "应为不小于 1 的整数")
		}
		// A limit above the maximum is not an error: the maximum applies
		// (OGC API - Features Part 1, /req/core/fc-limit-definition).
		q.Limit = min(n, MaxLimit)
	}
	if s, ok := v[paramOffset]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(s[0]))
		if err != nil || n < 0 {
			return q, errs.Invalid(paramOffset, "minimum", "must be an integer of at least 0", "应为不小于 0 的整数")
		}
		if n > MaxOffset {
			return q, errs.Invalid(paramOffset, "maximum", "must not exceed "+strconv.Itoa(MaxOffset), "不能大于 "+strconv.Itoa(MaxOffset))
		}
		q.Offset = n
	}
	if s, ok := v[paramBBox]; ok {
		b, err := ParseBBox(s[0])
		if err != nil {
			return q, err
		}
		q.BBox = &b
	}
	if s, ok := v[paramDatetime]; ok {
		start, end, err := ParseDatetime(s[0])
		if err != nil {
			return q, err
		}
		q.Start, q.End = start, end
	}
	for k, vs := range v {
		name, ok := filterName[k]
		if !ok {
			continue
		}
		if q.Filters == nil {
			q.Filters = map[string]string{}
		}
		if prev, dup := q.Filters[name]; dup && prev != vs[0] {
			return q, errs.Invalid(k, "repeated", "repeats the filter "+name+" with another value", "与 "+name+" 过滤条件重复且取值不同")
		}
		if vs[0] == "" {
			return q, errs.Invalid(k, "minLength", "must not be empty", "不能为空")
		}
		q.Filters[name] = vs[0]
		for _, qa := range info.Queryables {
			if qa.Name == name && len(qa.Enum) > 0 && !contains(qa.Enum, vs[0]) {
				return q, errs.Invalid(k, "enum", "must be one of "+strings.Join(qa.Enum, ", "), "取值应为 "+strings.Join(qa.Enum, "、")+" 之一")
			}
		}
	}
	return q, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// ParseBBox reads `bbox`: four numbers west,south,east,north in WGS84
// degrees, or six with heights (which are ignored). West may exceed east (a
// box across the antimeridian); south may not exceed north.
func ParseBBox(s string) ([4]float64, error) {
	var b [4]float64
	parts := strings.Split(s, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return b, errs.Invalid(paramBBox, "items", "must be 4 numbers: west,south,east,north (WGS84 lon/lat)", "应为 4 个数：西,南,东,北（WGS84 经纬度）")
	}
	nums := make([]float64, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return b, errs.Invalid(paramBBox, "type", "must be 4 numbers: west,south,east,north (WGS84 lon/lat)", "应为 4 个数：西,南,东,北（WGS84 经纬度）")
		}
		nums[i] = f
	}
	if len(nums) == 6 {
		nums = []float64{nums[0], nums[1], nums[3], nums[4]}
	}
	copy(b[:], nums)
	if b[0] < -180 || b[0] > 180 || b[2] < -180 || b[2] > 180 {
		return b, errs.Invalid(paramBBox, "range", "longitudes must be within [-180, 180]", "经度应在 [-180, 180] 之间")
	}
	if b[1] < -90 || b[1] > 90 || b[3] < -90 || b[3] > 90 {
		return b, errs.Invalid(paramBBox, "range", "latitudes must be within [-90, 90]", "纬度应在 [-90, 90] 之间")
	}
	if b[1] > b[3] {
		return b, errs.Invalid(paramBBox, "order", "south must not exceed north", "南边界不能大于北边界")
	}
	return b, nil
}

// ParseDatetime reads `datetime`: an RFC 3339 instant
// ("2026-05-01T08:00:00Z"), a date ("2026-05-01", the whole UTC day), or an
// interval "start/end" whose open ends are ".." or empty. It returns the
// bounds (nil = open); an instant has start == end.
func ParseDatetime(s string) (start, end *time.Time, err error) {
	bad := func(rule, en, zh string) (*time.Time, *time.Time, error) {
		return nil, nil, errs.Invalid(paramDatetime, rule, en, zh)
	}
	const shape = "must be an RFC 3339 date-time or date, or an interval start/end with '..' for an open end"
	const shapeZh = "应为 RFC 3339 日期时间或日期，或以 '/' 分隔的区间（开放端写作 '..'）"
	s = strings.TrimSpace(s)
	if s == "" {
		return bad("format", shape, shapeZh)
	}
	a, b, interval := strings.Cut(s, "/")
	if !interval {
		t0, t1, ok := parseInstant(s)
		if !ok {
			return bad("format", shape, shapeZh)
		}
		return &t0, &t1, nil
	}
	if strings.Contains(b, "/") {
		return bad("format", shape, shapeZh)
	}
	if a != "" && a != ".." {
		t0, _, ok := parseInstant(a)
		if !ok {
			return bad("format", shape, shapeZh)
		}
		start = &t0
	}
	if b != "" && b != ".." {
		_, t1, ok := parseInstant(b)
		if !ok {
			return bad("format", shape, shapeZh)
		}
		end = &t1
	}
	if start == nil && end == nil {
		return bad("format", "an interval needs at least one bound", "区间至少需要一个端点")
	}
	if start != nil && end != nil && start.After(*end) {
		return bad("order", "the interval must not end before it starts", "区间结束时间不能早于开始时间")
	}
	return start, end, nil
}

// parseInstant parses a date-time (first == last) or a date (its first and
// last nanosecond, UTC).
func parseInstant(s string) (first, last time.Time, ok bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), t.UTC(), true
	}
	// RFC 3339 allows a lower-case 't' and 'z'.
	if t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s)); err == nil {
		return t.UTC(), t.UTC(), true
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d, d.Add(24*time.Hour - time.Nanosecond), true
	}
	return time.Time{}, time.Time{}, false
}

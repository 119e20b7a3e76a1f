package cases

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/geo/ogc"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// CasesCollection is the OGC API - Features collection "cases": the cases
// of the caller's region (and, for units' staff, of their unit) as points,
// for GIS clients beside the grids and components. Reporters never appear.
func (s *Service) CasesCollection() ogc.Collection { return casesCollection{s} }

type casesCollection struct{ s *Service }

var allStates = []string{string(Reported), string(Filed), string(Dispatched), string(Handled), string(Closed), string(Rejected), string(Merged), string(Suspended)}

func (casesCollection) Describe() ogc.CollectionInfo {
	return ogc.CollectionInfo{
		ID:    "cases",
		Title: "案件",
		Description: "City events and component problems of 一网统管 (GB/T 30428.8) in your region, as points. Properties: no, state, category, " +
			"categoryName, channel, grid, orgName, createdAt, deadlineAt, warning (0 none, 1 yellow, 2 red). datetime filters on the time of the report.",
		Permission: authz.CasesRead,
		BBox:       &[4]float64{73, 3, 136, 54},
		Temporal:   &ogc.Interval{},
		Queryables: []ogc.Queryable{
			{Name: "state", Type: "string", Enum: allStates, Description: "State of the case."},
			{Name: "category", Type: "string", Pattern: "^[BE]([0-9]{2}){0,2}$", Description: "Category code, or its major class (E04)."},
			{Name: "channel", Type: "string", Enum: Channels, Description: "Where the case came from."},
			{Name: "grid", Aliases: []string{"gridCode", "within"}, Type: "string", Pattern: "^[0-9]{6}([0-9]{3}){0,3}$",
				Description: "Cases inside this division (6, 9 or 12 digits, short or full) or unit grid (15 digits)."},
			{Name: "warning", Type: "integer", Enum: []string{"0", "1", "2"}, Description: "At least this warning: 1 yellow, 2 red."},
		},
	}
}

func (c casesCollection) Items(ctx context.Context, q ogc.Query) ([]ogc.Feature, int, error) {
	f := Filter{Channel: q.Filters["channel"], Category: q.Filters["category"], BBox: q.BBox}
	if f.BBox != nil && f.BBox[0] > f.BBox[2] {
		f.BBox = nil // crosses the antimeridian: nowhere near a Chinese city
	}
	if st := q.Filters["state"]; st != "" {
		f.States = []State{State(st)}
	}
	if v := q.Filters["category"]; v != "" && !validCategoryPrefix(v) {
		return nil, 0, errs.Invalid("category", "pattern", "must be B or E and up to four digits", "应为 B 或 E 加至多四位数字")
	}
	if g := q.Filters["grid"]; g != "" {
		if len(g) > 15 || strings.Trim(g, "0123456789") != "" {
			return nil, 0, errs.Invalid("grid", "pattern", "must be a division or grid code", "应为区划或网格代码")
		}
		f.Within = shortCode(g)
	}
	if w := q.Filters["warning"]; w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 || n > 2 {
			return nil, 0, errs.Invalid("warning", "enum", "must be 0, 1 or 2", "应为 0、1 或 2")
		}
		f.Warning = n
	}
	if q.Start != nil {
		f.From = q.Start.UnixMilli()
	}
	if q.End != nil {
		f.To = q.End.UnixMilli() + 1 // inclusive
	}
	list, total, err := c.s.List(ctx, f, q.Limit, q.Offset)
	if err != nil {
		return nil, 0, err
	}
	out := make([]ogc.Feature, len(list))
	for i := range list {
		out[i] = caseFeature(&list[i])
	}
	return out, total, nil
}

func (c casesCollection) Item(ctx context.Context, id string) (*ogc.Feature, error) {
	p, err := authz.Require(ctx, authz.CasesRead)
	if err != nil {
		return nil, err
	}
	cs, err := c.s.load(ctx, strings.TrimSpace(id))
	if err != nil {
		return nil, err
	}
	// The region or the unit, as in the list (not the reporter's own view).
	if !(p.InScope(cs.Grid) || (cs.OrgID != "" && cs.OrgID == p.OrgID && p.Has(authz.CasesHandle))) {
		return nil, errs.NotFound("case", id)
	}
	f := caseFeature(cs)
	return &f, nil
}

func validCategoryPrefix(v string) bool {
	if v == "" || (v[0] != 'B' && v[0] != 'E') || len(v) > 5 || (len(v)-1)%2 != 0 {
		return false
	}
	return strings.Trim(v[1:], "0123456789") == ""
}

// shortCode drops a 12-digit division code's trailing zero levels (a
// 15-digit grid code stays whole), as scope keys are compared by prefix.
func shortCode(code string) string {
	if len(code) != 12 {
		return code
	}
	for _, n := range []int{2, 4, 6, 9} {
		if strings.Trim(code[n:], "0") == "" {
			return code[:n]
		}
	}
	return code
}

func caseFeature(c *Case) ogc.Feature {
	props := map[string]any{
		"no": c.No, "state": string(c.State), "category": c.Category, "categoryName": c.CategoryName, "channel": c.Channel, "grid": c.Grid,
		"orgName": c.OrgName, "createdAt": time.UnixMilli(c.CreatedAt).UTC().Format(time.RFC3339), "deadlineAt": nil, "warning": c.Warning,
	}
	if c.DeadlineAt > 0 {
		props["deadlineAt"] = time.UnixMilli(c.DeadlineAt).UTC().Format(time.RFC3339)
	}
	return ogc.Feature{
		ID:         c.ID,
		Geometry:   []byte(fmt.Sprintf(`{"type":"Point","coordinates":[%s,%s]}`, strconv.FormatFloat(c.Lon, 'f', 6, 64), strconv.FormatFloat(c.Lat, 'f', 6, 64))),
		Properties: props,
	}
}

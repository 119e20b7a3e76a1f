package registry

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/geo/ogc"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
)

// ComponentsCollection is the OGC API - Features collection "components":
// the managed city components (部件) of the caller's region as points.
func (s *Service) ComponentsCollection() ogc.Collection { return componentsCollection{s} }

type componentsCollection struct{ s *Service }

func (c componentsCollection) Describe() ogc.CollectionInfo {
	return ogc.CollectionInfo{
		ID:    "components",
		Title: "City components (部件)",
		Description: "Managed city components by GB/T 30428.2 major and minor class, as points. Properties: code (16 digits: " +
			"district + major + minor + serial), major, minor, className, majorName, name, state, ownerDept, address, gridCode, updated. " +
			"datetime filters on the time of the last change.",
		Permission: authz.RegistryRead,
		BBox:       &[4]float64{73, 3, 136, 54},
		Temporal:   &ogc.Interval{},
		Queryables: []ogc.Queryable{
			{Name: "major", Type: "string", Pattern: "^[0-9]{2}$", Description: "Major class code."},
			{Name: "minor", Type: "string", Pattern: "^[0-9]{2}$", Description: "Minor class code (with major)."},
			{Name: "state", Type: "string", Enum: ComponentStates, Description: "State of the component."},
			{Name: "ownerDept", Aliases: []string{"owner"}, Type: "string", Description: "Owner department code."},
			{Name: "gridCode", Aliases: []string{"grid", "within"}, Type: "string", Pattern: "^[0-9]{6}([0-9]{3}){0,3}$",
				Description: "Components inside this division (6, 9 or 12 digits) or unit grid (15 digits)."},
		},
	}
}

func (c componentsCollection) Items(ctx context.Context, q ogc.Query) ([]ogc.Feature, int, error) {
	f := ComponentFilter{Major: q.Filters["major"], Minor: q.Filters["minor"], State: q.Filters["state"], Owner: q.Filters["ownerDept"], Within: q.Filters["gridCode"], BBox: q.BBox}
	if q.BBox != nil && q.BBox[0] > q.BBox[2] {
		f.BBox = nil // crosses the antimeridian: nowhere near a Chinese city
	}
	f.Since, f.Until = q.Start, q.End
	list, total, err := c.s.ListComponents(ctx, f, q.Limit, q.Offset)
	if err != nil {
		return nil, 0, err
	}
	out := make([]ogc.Feature, len(list))
	for i := range list {
		out[i] = componentFeature(&list[i])
	}
	return out, total, nil
}

func (c componentsCollection) Item(ctx context.Context, id string) (*ogc.Feature, error) {
	cp, err := c.s.GetComponent(ctx, strings.TrimSpace(id))
	if err != nil {
		return nil, err
	}
	f := componentFeature(cp)
	return &f, nil
}

func componentFeature(c *Component) ogc.Feature {
	return ogc.Feature{
		ID:       c.Code,
		Geometry: []byte(fmt.Sprintf(`{"type":"Point","coordinates":[%s,%s]}`, ff(c.Lon), ff(c.Lat))),
		Properties: map[string]any{
			"code": c.Code, "major": c.Major, "minor": c.Minor, "className": c.ClassName, "majorName": c.MajorName,
			"name": c.Name, "state": c.State, "ownerDept": c.OwnerDept, "ownerName": c.OwnerName, "address": c.Address, "gridCode": c.GridCode,
			"updated": time.UnixMilli(c.UpdatedAt).UTC().Format(time.RFC3339),
		},
	}
}

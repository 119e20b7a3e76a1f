package app

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/geo"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
	"github.com/shuzhi-gov/shuzhi/internal/registry"
)

// directory answers the registry's questions about grids, organisations
// and accounts through the geo and identity services (the registry never
// reads their tables). Lookups run as a system principal: the registry
// applies the caller's region itself.
type directory struct {
	geo *geo.Service
	ids *identity.Service

	mu      sync.Mutex
	grids   map[string]registry.GridRef
	fetched time.Time
}

// gridsTTL bounds how long a grid list is reused (grids change rarely:
// imports of the division map).
const gridsTTL = time.Second

var directoryPrincipal = identity.System("registry-directory")

func sys(ctx context.Context) context.Context { return authz.With(ctx, directoryPrincipal) }

func (d *directory) Grids(ctx context.Context) (map[string]registry.GridRef, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.grids != nil && time.Since(d.fetched) < gridsTTL {
		return d.grids, nil
	}
	list, _, err := d.geo.ListGrids(sys(ctx), "", false, 10_000_000, 0)
	if err != nil {
		return nil, err
	}
	m := make(map[string]registry.GridRef, len(list))
	for _, g := range list {
		m[g.Code] = registry.GridRef{Code: g.Code, Name: g.Name, Lon: g.Lon, Lat: g.Lat}
	}
	d.grids, d.fetched = m, time.Now()
	return m, nil
}

func (d *directory) DeptType(ctx context.Context, orgID string) (string, error) {
	o, err := d.ids.GetOrg(sys(ctx), orgID)
	if err != nil {
		return "", err
	}
	return o.DeptType, nil
}

func (d *directory) User(ctx context.Context, id string) (*registry.UserRef, error) {
	u, err := d.ids.GetUser(sys(ctx), id)
	if err != nil {
		return nil, err
	}
	dv, err := idcode.ParseDivision("divisionCode", u.DivisionCode)
	if err != nil {
		return nil, err
	}
	return &registry.UserRef{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Scope: dv.Short, Roles: u.Roles}, nil
}

// SearchPlaces finds divisions and grids in the caller's region by name or
// code.
func (d *directory) SearchPlaces(ctx context.Context, q string, limit int) ([]registry.SearchHit, error) {
	p := authz.From(ctx)
	if p == nil {
		return nil, errs.Unauthenticated("login required", "请先登录")
	}
	var out []registry.SearchHit
	divs, _, err := d.ids.ListDivisions(ctx, identity.DivisionFilter{Q: q}, limit, 0)
	if err != nil {
		return nil, err
	}
	for _, dv := range divs {
		if dv.Level == "province" || dv.Level == "city" {
			continue
		}
		h := registry.SearchHit{Kind: "division", Code: dv.Code, Name: dv.Name}
		if dv.Lon != nil && dv.Lat != nil {
			h.Lon, h.Lat = *dv.Lon, *dv.Lat
		}
		out = append(out, h)
	}
	grids, err := d.Grids(ctx)
	if err != nil {
		return nil, err
	}
	var codes []string
	for code, g := range grids {
		if p.InScope(code) && (contains(g.Name, q) || hasPrefix(code, q)) {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	for _, code := range codes[:min(len(codes), max(0, limit-len(out)))] {
		g := grids[code]
		out = append(out, registry.SearchHit{Kind: "grid", Code: code, Name: g.Name, Lon: g.Lon, Lat: g.Lat, GridCode: code})
	}
	return out, nil
}

func contains(s, sub string) bool { return sub != "" && strings.Contains(s, sub) }

func hasPrefix(s, p string) bool { return p != "" && strings.HasPrefix(s, p) }

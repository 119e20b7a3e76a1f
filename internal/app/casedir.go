package app

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/cases"
	"github.com/shuzhi-gov/shuzhi/internal/geo"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
	"github.com/shuzhi-gov/shuzhi/internal/registry"
)

// caseDirectory answers the cases module's questions through the geo,
// registry and identity services: where a point lies, a component's owner,
// and which organisation of a department serves an area. Lookups run as a
// system principal; the cases module applies the caller's region itself.
type caseDirectory struct {
	geo *geo.Service
	reg *registry.Service
	ids *identity.Service

	mu      sync.Mutex
	units   map[[2]string]*cases.Unit // (deptType, short division code) -> unit
	byID    map[string]*cases.Unit
	fetched time.Time
}

var caseDirPrincipal = identity.System("cases-directory")

func (d *caseDirectory) sys(ctx context.Context) context.Context {
	return authz.With(ctx, caseDirPrincipal)
}

func (d *caseDirectory) Locate(ctx context.Context, lon, lat float64) (*cases.Place, error) {
	loc, err := d.geo.Locate(d.sys(ctx), lon, lat)
	if err != nil {
		return nil, err
	}
	p := &cases.Place{Grid: loc.Grid.Code, GridName: loc.Grid.Name, Community: loc.Community.Code, CommunityName: loc.Community.Name,
		Street: loc.Street.Code, StreetName: loc.Street.Name, District: loc.District.Code, DistrictName: loc.District.Name}
	if loc.Responsibility != nil {
		p.Resp = loc.Responsibility.Code
	}
	return p, nil
}

func (d *caseDirectory) Component(ctx context.Context, code string) (*cases.ComponentRef, error) {
	c, err := d.reg.GetComponent(d.sys(ctx), code)
	if err != nil {
		return nil, err
	}
	return &cases.ComponentRef{Code: c.Code, Class: c.Major + c.Minor, Name: c.Name, OwnerDept: c.OwnerDept, Grid: c.GridCode, Address: c.Address, Lon: c.Lon, Lat: c.Lat}, nil
}

// unitsTTL bounds how long the organisation map is reused.
const unitsTTL = 5 * time.Second

func (d *caseDirectory) load(ctx context.Context) error {
	if d.units != nil && time.Since(d.fetched) < unitsTTL {
		return nil
	}
	orgs, _, err := d.ids.ListOrgs(d.sys(ctx), identity.OrgFilter{}, 10_000_000, 0)
	if err != nil {
		return err
	}
	units := map[[2]string]*cases.Unit{}
	byID := map[string]*cases.Unit{}
	for _, o := range orgs {
		if o.Kind == identity.KindEnterprise || o.Kind == identity.KindSocial {
			continue
		}
		dv, err := idcode.ParseDivision("divisionCode", o.DivisionCode)
		if err != nil {
			continue
		}
		u := &cases.Unit{ID: o.ID, Name: o.Name, DeptType: o.DeptType, Division: dv.Short}
		byID[o.ID] = u
		if o.DeptType == "" {
			continue
		}
		k := [2]string{o.DeptType, dv.Short}
		if _, dup := units[k]; !dup { // the first (oldest) organisation of a family in a division serves it
			units[k] = u
		}
	}
	d.units, d.byID, d.fetched = units, byID, time.Now()
	return nil
}

// UnitFor walks up from the code's community to the province and returns
// the first organisation of the department family found.
func (d *caseDirectory) UnitFor(ctx context.Context, dept, code string) (*cases.Unit, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	for _, n := range []int{12, 9, 6, 4, 2} {
		if len(code) < n {
			continue
		}
		if u, ok := d.units[[2]string{dept, code[:n]}]; ok {
			return u, nil
		}
	}
	return nil, errs.NotFound("unit", dept+"@"+code)
}

func (d *caseDirectory) Unit(ctx context.Context, orgID string) (*cases.Unit, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	if u, ok := d.byID[orgID]; ok {
		return u, nil
	}
	d.fetched = time.Time{} // maybe new: reload once
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	if u, ok := d.byID[orgID]; ok {
		return u, nil
	}
	return nil, errs.NotFound("organisation", orgID)
}

// Names names division codes (12 digits, or short: 6 or 9) and unit-grid
// codes (15 digits) for the cases module's indicators; unknown codes are
// left out.
func (d *caseDirectory) Names(ctx context.Context, codes []string) map[string]string {
	ctx = d.sys(ctx)
	out := map[string]string{}
	communities := map[string]bool{}
	for _, c := range codes {
		switch {
		case len(c) == 15:
			communities[c[:12]] = true
		case len(c) <= 12:
			full := c + strings.Repeat("0", 12-len(c))
			if dv, err := d.ids.GetDivision(ctx, full); err == nil {
				out[c] = dv.Name
			}
		}
	}
	for comm := range communities {
		grids, _, err := d.geo.ListGrids(ctx, comm, false, 10_000, 0)
		if err != nil {
			continue
		}
		for _, g := range grids {
			out[g.Code] = g.Name
		}
	}
	return out
}

func (d *caseDirectory) Places(ctx context.Context, q string, limit int) ([]cases.PlaceHit, error) {
	hits, err := d.reg.Search(d.sys(ctx), q, limit)
	if err != nil {
		return nil, err
	}
	out := make([]cases.PlaceHit, 0, len(hits))
	for _, h := range hits {
		if h.Lon == 0 && h.Lat == 0 {
			continue
		}
		out = append(out, cases.PlaceHit{Kind: h.Kind, Code: h.Code, Name: h.Name, Lon: h.Lon, Lat: h.Lat})
	}
	return out, nil
}

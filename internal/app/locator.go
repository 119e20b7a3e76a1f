package app

import (
	"context"

	"github.com/shuzhi-gov/shuzhi/internal/geo"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// gridLocator lets the registry place points in unit grids through the geo
// module's spatial index. It locates in every region: the registry checks
// the caller's region itself, and reports a grid outside it by name.
type gridLocator struct{ g *geo.Service }

var locatorPrincipal = identity.System("registry-locator")

func (l gridLocator) LocateGrid(ctx context.Context, lon, lat float64) (string, bool, error) {
	loc, err := l.g.Locate(authz.With(ctx, locatorPrincipal), lon, lat)
	if errs.CodeOf(err) == errs.CodeNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return loc.Grid.Code, true, nil
}

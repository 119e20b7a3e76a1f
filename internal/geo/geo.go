// Package geo is the module of grids and geometry: the unit grids of each
// community with their polygons, an in-memory spatial index that geocodes a
// point to its grid, community, street and district (Locate), and the OGC
// API - Features server for the grids and divisions (MountOGC, package ogc).
package geo

import (
	"context"
	"embed"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrations are the module's schema steps (after identity's: grids
// reference divisions).
func Migrations() db.Migrations {
	return db.Migrations{Module: "geo", FS: db.Sub(migrationsFS, "migrations")}
}

// Tables lists the module's tables for demo resets.
var Tables = []string{"grids", "resp_grids"}

// Grid is a unit grid.
type Grid struct {
	Code          string          `json:"code" doc:"15-digit unit grid code"`
	Name          string          `json:"name"`
	CommunityCode string          `json:"communityCode"`
	Lon           float64         `json:"lon"`
	Lat           float64         `json:"lat"`
	Boundary      json.RawMessage `json:"boundary,omitempty" doc:"GeoJSON Polygon or MultiPolygon (WGS84)"`
}

// Service is the geo module.
type Service struct {
	db  *db.DB
	now func() time.Time

	// The spatial index of all grids (see index.go): built on first use,
	// rechecked against the table at most every indexRecheck, and at once
	// after a local PutGrid.
	index    atomic.Pointer[indexState]
	gen      atomic.Int64 // local grid changes, counted after each statement
	rebuild  sync.Mutex
	revision atomic.Int64 // last revision written by this process

	divisionBounds boundsCache // of the divisions collection
	names          nameCache   // division names for geocoding
	divExtent      extentCache
}

// New builds the service.
func New(d *db.DB) *Service { return &Service{db: d, now: time.Now} }

// Polygon renders a closed ring as a GeoJSON Polygon geometry.
func Polygon(ring [][2]float64) string {
	b, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}})
	return string(b)
}

// PutGrid inserts or replaces a grid (demo seeder and imports; System only).
// The boundary must be a GeoJSON Polygon or MultiPolygon (WGS84); its
// bounding box is stored for bbox queries, and the spatial index is
// refreshed on its next use.
func (s *Service) PutGrid(ctx context.Context, g Grid, scopeKey string, now int64) error {
	p := authz.From(ctx)
	if p == nil || !p.Nationwide {
		return errs.Forbidden("only the system may load grids", "仅系统可导入网格")
	}
	sh, err := parseShape("boundary", g.Boundary)
	if err != nil {
		return err
	}
	b := sh.bounds
	rev, err := s.nextRevision(ctx)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `INSERT INTO grids (code, name, community_code, scope_key, boundary, centroid_lon, centroid_lat, created_at,
		min_lon, min_lat, max_lon, max_lat, revision)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, boundary = excluded.boundary,
		centroid_lon = excluded.centroid_lon, centroid_lat = excluded.centroid_lat, min_lon = excluded.min_lon, min_lat = excluded.min_lat,
		max_lon = excluded.max_lon, max_lat = excluded.max_lat, revision = excluded.revision`,
		g.Code, g.Name, g.CommunityCode, scopeKey, string(g.Boundary), g.Lon, g.Lat, now, b[0], b[1], b[2], b[3], rev)
	if err == nil {
		s.gen.Add(1)
	}
	return err
}

// ListGrids lists grids inside the caller's region, optionally of one
// division's subtree.
func (s *Service) ListGrids(ctx context.Context, within string, withBoundary bool, limit, offset int) ([]Grid, int, error) {
	p, err := authz.Require(ctx, authz.DivisionsRead)
	if err != nil {
		return nil, 0, err
	}
	lo, hi := p.ScopeRange()
	where, args := []string{"scope_key >= ? AND scope_key < ?"}, []any{lo, hi}
	if within != "" {
		short := strings.TrimRight(within, "0")
		if len(within) != 12 && len(within) != 15 {
			return nil, 0, errs.Invalid("divisionCode", "length", "a division code has 12 digits", "区划代码应为 12 位")
		}
		// Significant digits by level: 2, 4, 6, 9, 12.
		for _, n := range []int{2, 4, 6, 9, 12} {
			if len(short) <= n {
				short = within[:n]
				break
			}
		}
		lo, hi := authz.PrefixRange(short)
		where, args = append(where, "scope_key >= ? AND scope_key < ?"), append(args, lo, hi)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM grids WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	cols := "code, name, community_code, centroid_lon, centroid_lat, ''"
	if withBoundary {
		cols = "code, name, community_code, centroid_lon, centroid_lat, boundary"
	}
	rows, err := s.db.Query(ctx, `SELECT `+cols+` FROM grids WHERE `+cond+` ORDER BY code LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Grid
	for rows.Next() {
		var g Grid
		var b string
		if err := rows.Scan(&g.Code, &g.Name, &g.CommunityCode, &g.Lon, &g.Lat, &b); err != nil {
			return nil, 0, err
		}
		if b != "" {
			g.Boundary = json.RawMessage(b)
		}
		out = append(out, g)
	}
	return out, total, rows.Err()
}

// Routes registers the module's API.
func (s *Service) Routes(api huma.API) {
	s.respRoutes(api)
	type listIn struct {
		DivisionCode string `query:"divisionCode" maxLength:"12" pattern:"^[0-9]*$" doc:"Only grids inside this division"`
		Boundary     bool   `query:"boundary" doc:"Include the GeoJSON polygon of each grid"`
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: huma.Operation{OperationID: "list-grids", Method: http.MethodGet, Path: "/api/v1/grids",
		Summary: "List unit grids in your region", Tags: []string{"Grids"}}, Perm: authz.DivisionsRead},
		func(ctx context.Context, in *listIn) (*httpx.Body[*httpx.Page[Grid]], error) {
			items, total, err := s.ListGrids(ctx, in.DivisionCode, in.Boundary, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(items, total, in.PageQuery)), nil
		})
	type geocodeIn struct {
		Lon float64 `query:"lon" required:"true" minimum:"-180" maximum:"180" doc:"Longitude, WGS84 degrees"`
		Lat float64 `query:"lat" required:"true" minimum:"-90" maximum:"90" doc:"Latitude, WGS84 degrees"`
	}
	httpx.Register(api, httpx.Op{Operation: huma.Operation{OperationID: "geocode-point", Method: http.MethodGet, Path: "/api/v1/geocode",
		Summary:     "Find the unit grid, community, street and district of a point",
		Description: "404 when no unit grid in your region contains the point.", Tags: []string{"Grids"},
		Errors: []int{http.StatusNotFound}}, Perm: authz.DivisionsRead},
		func(ctx context.Context, in *geocodeIn) (*httpx.Body[*Location], error) {
			loc, err := s.Locate(ctx, in.Lon, in.Lat)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(loc), nil
		})
}

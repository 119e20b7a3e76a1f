// Package geo is the module of grids and geometry. For now it keeps the unit
// grids of each community with their polygons; the spatial index and the
// OGC API come with the base-data foundation.
package geo

import (
	"context"
	"embed"
	"encoding/json"
	"net/http"
	"strings"

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
var Tables = []string{"grids"}

// Grid is a unit grid.
type Grid struct {
	Code          string          `json:"code" doc:"15-digit unit grid code"`
	Name          string          `json:"name"`
	CommunityCode string          `json:"communityCode"`
	Lon           float64         `json:"lon"`
	Lat           float64         `json:"lat"`
	Boundary      json.RawMessage `json:"boundary,omitempty" doc:"GeoJSON Polygon (WGS84)"`
}

// Service is the geo module.
type Service struct{ db *db.DB }

// New builds the service.
func New(d *db.DB) *Service { return &Service{db: d} }

// Polygon renders a closed ring as a GeoJSON Polygon geometry.
func Polygon(ring [][2]float64) string {
	b, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}})
	return string(b)
}

// PutGrid inserts or replaces a grid (demo seeder and imports; System only).
func (s *Service) PutGrid(ctx context.Context, g Grid, scopeKey string, now int64) error {
	p := authz.From(ctx)
	if p == nil || !p.Nationwide {
		return errs.Forbidden("only the system may load grids", "仅系统可导入网格")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO grids (code, name, community_code, scope_key, boundary, centroid_lon, centroid_lat, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, boundary = excluded.boundary,
		centroid_lon = excluded.centroid_lon, centroid_lat = excluded.centroid_lat`,
		g.Code, g.Name, g.CommunityCode, scopeKey, string(g.Boundary), g.Lon, g.Lat, now)
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
}

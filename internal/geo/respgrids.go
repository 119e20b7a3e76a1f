package geo

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/geo/ogc"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

// ResponsibilityGrid is a responsibility grid (责任网格): whole unit grids
// of one community that one grid worker or team answers for.
type ResponsibilityGrid struct {
	Code          string          `json:"code" doc:"15 digits: community code (12) + 9 + sequence (2)"`
	Name          string          `json:"name"`
	CommunityCode string          `json:"communityCode"`
	UnitGrids     []string        `json:"unitGrids" nullable:"false" doc:"Codes of the member unit grids"`
	Boundary      json.RawMessage `json:"boundary,omitempty" doc:"GeoJSON MultiPolygon of the member grids (WGS84)"`
}

// ValidResponsibilityCode checks a responsibility grid code.
func ValidResponsibilityCode(field, code string) error {
	if len(code) != 15 || !digits(code) || code[12] != '9' {
		return errs.Invalid(field, "responsibility-grid-code", "a responsibility grid code has 15 digits: the community's 12, then 9 and a 2-digit sequence",
			"责任网格编码应为 15 位：社区代码 12 位 + 9 + 2 位序号")
	}
	return nil
}

// PutResponsibilityGrid creates or replaces a responsibility grid from
// unit grids of its community (demo seeder and imports; System only). A
// unit grid belongs to at most one responsibility grid.
func (s *Service) PutResponsibilityGrid(ctx context.Context, code, name string, unitGrids []string, now int64) error {
	p := authz.From(ctx)
	if p == nil || !p.Nationwide {
		return errs.Forbidden("only the system may load grids", "仅系统可导入网格")
	}
	if err := ValidResponsibilityCode("code", code); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 64 {
		return errs.Invalid("name", "length", "1 to 64 characters", "应为 1 到 64 个字")
	}
	if len(unitGrids) == 0 {
		return errs.Invalid("unitGrids", "required", "a responsibility grid has at least one unit grid", "责任网格至少包含一个单元网格")
	}
	community := code[:12]
	return s.db.InTx(ctx, func(ctx context.Context) error {
		var polys []json.RawMessage
		bounds := emptyBounds()
		for _, g := range unitGrids {
			if !strings.HasPrefix(g, community) || len(g) != 15 {
				return errs.Invalid("unitGrids", "community", "unit grid "+g+" is not in community "+community, "单元网格 "+g+" 不属于社区 "+community)
			}
			var boundary string
			var resp sql.NullString
			err := s.db.QueryRow(ctx, `SELECT boundary, resp_code FROM grids WHERE code = ?`, g).Scan(&boundary, &resp)
			if errors.Is(err, sql.ErrNoRows) {
				return errs.Invalid("unitGrids", "exists", "no unit grid "+g, "单元网格不存在："+g)
			}
			if err != nil {
				return err
			}
			if resp.Valid && resp.String != code {
				return errs.Invalid("unitGrids", "unique", "unit grid "+g+" already belongs to "+resp.String, "单元网格 "+g+" 已属于责任网格 "+resp.String)
			}
			sh, err := parseShape("boundary", []byte(boundary))
			if err != nil {
				return err
			}
			bounds.Union(sh.bounds)
			var geom struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			}
			if err := json.Unmarshal([]byte(boundary), &geom); err != nil {
				return err
			}
			if geom.Type == "MultiPolygon" {
				var parts []json.RawMessage
				if err := json.Unmarshal(geom.Coordinates, &parts); err != nil {
					return err
				}
				polys = append(polys, parts...)
			} else {
				polys = append(polys, geom.Coordinates)
			}
		}
		multi, err := json.Marshal(map[string]any{"type": "MultiPolygon", "coordinates": polys})
		if err != nil {
			return err
		}
		if _, err := s.db.Exec(ctx, `INSERT INTO resp_grids (code, name, community_code, scope_key, boundary, min_lon, min_lat, max_lon, max_lat, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, boundary = excluded.boundary,
			min_lon = excluded.min_lon, min_lat = excluded.min_lat, max_lon = excluded.max_lon, max_lat = excluded.max_lat`,
			code, name, community, code, string(multi), bounds[0], bounds[1], bounds[2], bounds[3], now); err != nil {
			return err
		}
		rev, err := s.nextRevision(ctx)
		if err != nil {
			return err
		}
		if _, err := s.db.Exec(ctx, `UPDATE grids SET resp_code = NULL, revision = ? WHERE resp_code = ?`, rev, code); err != nil {
			return err
		}
		for _, g := range unitGrids {
			if _, err := s.db.Exec(ctx, `UPDATE grids SET resp_code = ?, revision = ? WHERE code = ?`, code, rev, g); err != nil {
				return err
			}
		}
		s.gen.Add(1)
		return nil
	})
}

// ListResponsibilityGrids lists the responsibility grids of the caller's
// region, optionally inside one division.
func (s *Service) ListResponsibilityGrids(ctx context.Context, within string, withBoundary bool, limit, offset int) ([]ResponsibilityGrid, int, error) {
	p, err := authz.Require(ctx, authz.DivisionsRead)
	if err != nil {
		return nil, 0, err
	}
	lo, hi := p.ScopeRange()
	where, args := "scope_key >= ? AND scope_key < ?", []any{lo, hi}
	if within != "" {
		if !digits(within) || (len(within) != 6 && len(within) != 9 && len(within) != 12) {
			return nil, 0, errs.Invalid("divisionCode", "length", "a division code has 6, 9 or 12 digits", "区划代码应为 6、9 或 12 位")
		}
		prefix := strings.TrimRight(within, "0")
		for _, n := range []int{6, 9, 12} {
			if len(prefix) <= n {
				prefix = (within + "000000")[:n]
				break
			}
		}
		l2, h2 := authz.PrefixRange(prefix)
		where, args = where+" AND scope_key >= ? AND scope_key < ?", append(args, l2, h2)
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM resp_grids WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT code, name, community_code, boundary FROM resp_grids WHERE `+where+` ORDER BY code LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	var out []ResponsibilityGrid
	for rows.Next() {
		var r ResponsibilityGrid
		var b string
		if err := rows.Scan(&r.Code, &r.Name, &r.CommunityCode, &b); err != nil {
			rows.Close()
			return nil, 0, err
		}
		if withBoundary {
			r.Boundary = json.RawMessage(b)
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	for i := range out {
		if out[i].UnitGrids, err = s.members(ctx, out[i].Code); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

func (s *Service) members(ctx context.Context, code string) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT code FROM grids WHERE resp_code = ? ORDER BY code`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Service) respRoutes(api huma.API) {
	type listIn struct {
		DivisionCode string `query:"divisionCode" maxLength:"12" pattern:"^[0-9]*$" doc:"Only responsibility grids inside this division"`
		Boundary     bool   `query:"boundary" doc:"Include the GeoJSON MultiPolygon of each"`
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: huma.Operation{OperationID: "list-responsibility-grids", Method: http.MethodGet, Path: "/api/v1/responsibility-grids",
		Summary: "List responsibility grids (责任网格) in your region", Tags: []string{"Grids"}}, Perm: authz.DivisionsRead},
		func(ctx context.Context, in *listIn) (*httpx.Body[*httpx.Page[ResponsibilityGrid]], error) {
			items, total, err := s.ListResponsibilityGrids(ctx, in.DivisionCode, in.Boundary, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(items, total, in.PageQuery)), nil
		})
}

// ResponsibilityGridsCollection is the OGC collection
// "responsibility-grids".
func (s *Service) ResponsibilityGridsCollection() ogc.Collection { return respCollection{s} }

type respCollection struct{ s *Service }

func (c respCollection) Describe() ogc.CollectionInfo {
	return ogc.CollectionInfo{
		ID:    "responsibility-grids",
		Title: "Responsibility grids (责任网格)",
		Description: "Responsibility grids: whole unit grids of one community that a grid worker or team answers for, as MultiPolygons. " +
			"Properties: code (community code + 9 + 2-digit sequence), name, communityCode, unitGrids (comma-separated codes)." + noTime,
		Permission: authz.DivisionsRead,
		BBox:       c.s.gridsExtent(),
		Queryables: []ogc.Queryable{
			{Name: "communityCode", Aliases: []string{"community"}, Type: "string", Pattern: "^[0-9]{12}$", Description: "Responsibility grids of this community."},
		},
	}
}

func (c respCollection) Items(ctx context.Context, q ogc.Query) ([]ogc.Feature, int, error) {
	p, err := authz.Require(ctx, authz.DivisionsRead)
	if err != nil {
		return nil, 0, err
	}
	lo, hi := p.ScopeRange()
	where, args := "scope_key >= ? AND scope_key < ?", []any{lo, hi}
	if v, ok := q.Filters["communityCode"]; ok {
		if len(v) != 12 || !digits(v) {
			return nil, 0, errs.Invalid("communityCode", "pattern", "must be a 12-digit community code", "应为 12 位社区代码")
		}
		where, args = where+" AND community_code = ?", append(args, v)
	}
	if b := q.BBox; b != nil && b[0] <= b[2] {
		where, args = where+" AND max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ?", append(args, b[1], b[3], b[0], b[2])
	}
	var total int
	if err := c.s.db.QueryRow(ctx, `SELECT COUNT(*) FROM resp_grids WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := c.s.db.Query(ctx, `SELECT code, name, community_code, boundary FROM resp_grids WHERE `+where+` ORDER BY code LIMIT ? OFFSET ?`, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	var out []ogc.Feature
	for rows.Next() {
		var code, name, community, boundary string
		if err := rows.Scan(&code, &name, &community, &boundary); err != nil {
			rows.Close()
			return nil, 0, err
		}
		out = append(out, ogc.Feature{ID: code, Geometry: json.RawMessage(boundary), Properties: map[string]any{"code": code, "name": name, "communityCode": community}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	for i := range out {
		m, err := c.s.members(ctx, out[i].ID)
		if err != nil {
			return nil, 0, err
		}
		out[i].Properties["unitGrids"] = strings.Join(m, ",")
	}
	return out, total, nil
}

func (c respCollection) Item(ctx context.Context, id string) (*ogc.Feature, error) {
	p, err := authz.Require(ctx, authz.DivisionsRead)
	if err != nil {
		return nil, err
	}
	lo, hi := p.ScopeRange()
	var name, community, boundary string
	err = c.s.db.QueryRow(ctx, `SELECT name, community_code, boundary FROM resp_grids WHERE code = ? AND scope_key >= ? AND scope_key < ?`, id, lo, hi).
		Scan(&name, &community, &boundary)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("grid", id)
	}
	if err != nil {
		return nil, err
	}
	m, err := c.s.members(ctx, id)
	if err != nil {
		return nil, err
	}
	return &ogc.Feature{ID: id, Geometry: json.RawMessage(boundary), Properties: map[string]any{"code": id, "name": name, "communityCode": community,
		"unitGrids": strings.Join(m, ",")}}, nil
}

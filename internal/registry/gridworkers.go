package registry

import (
	"context"
	"slices"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Assignment puts a grid worker in charge of a unit grid.
type Assignment struct {
	GridCode    string `json:"gridCode"`
	GridName    string `json:"gridName"`
	UserID      string `json:"userId"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	AssignedBy  string `json:"assignedBy"`
	AssignedAt  int64  `json:"assignedAt"`
}

// Assign puts a grid worker in charge of a grid of the caller's region.
// The worker must hold the grid-worker role and belong to the grid's area.
func (s *Service) Assign(ctx context.Context, grid, userID string) (*Assignment, error) {
	p, err := authz.Require(ctx, authz.GridsAssign)
	if err != nil {
		return nil, err
	}
	g, err := s.grid(ctx, "gridCode", grid)
	if err != nil {
		return nil, err
	}
	if !p.InScope(grid) {
		return nil, errs.NotFound("grid", grid)
	}
	u, err := s.dir.User(ctx, userID)
	if errs.CodeOf(err) == errs.CodeNotFound || (err == nil && !p.InScope(u.Scope) && !strings.HasPrefix(p.Scope, u.Scope)) {
		return nil, errs.Invalid("userId", "exists", "no such user in your region", "您的管辖范围内没有该用户")
	}
	if err != nil {
		return nil, err
	}
	if !slices.Contains(u.Roles, authz.GridWorker) {
		return nil, errs.Invalid("userId", "role", "the user is not a grid worker", "该用户不是网格员")
	}
	if !strings.HasPrefix(grid, u.Scope) {
		return nil, errs.Invalid("gridCode", "area", "the grid lies outside the worker's area "+u.Scope, "该网格不在网格员所属区域（"+u.Scope+"）内")
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		_, err := s.db.Exec(ctx, `INSERT INTO reg_grid_workers (grid_code, grid_name, user_id, username, display_name, assigned_by, assigned_at, scope_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, grid, g.Name, userID, u.Username, u.DisplayName, p.Name, s.now().UnixMilli(), grid)
		if db.IsUniqueViolation(err) {
			return errs.Conflict("userId", "the worker is already assigned to this grid", "该网格员已负责此网格")
		}
		if err != nil {
			return err
		}
		return s.evidence(ctx, "registry.grid.assign", "grid:"+grid, "", "", map[string]any{"user": userID})
	})
	if err != nil {
		return nil, err
	}
	list, _, err := s.ListAssignments(ctx, grid, userID, 1, 0)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return &list[0], nil
}

// Unassign removes a grid worker from a grid.
func (s *Service) Unassign(ctx context.Context, grid, userID string) error {
	p, err := authz.Require(ctx, authz.GridsAssign)
	if err != nil {
		return err
	}
	if !p.InScope(grid) {
		return errs.NotFound("assignment", grid+"/"+userID)
	}
	return s.db.InTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Exec(ctx, `DELETE FROM reg_grid_workers WHERE grid_code = ? AND user_id = ?`, grid, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFound("assignment", grid+"/"+userID)
		}
		return s.evidence(ctx, "registry.grid.unassign", "grid:"+grid, "", "", map[string]any{"user": userID})
	})
}

// ListAssignments lists assignments of the caller's region, optionally of
// one division or grid and one user.
func (s *Service) ListAssignments(ctx context.Context, within, userID string, limit, offset int) ([]Assignment, int, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, 0, err
	}
	cond, args, err := scopeCond(p, within)
	if err != nil {
		return nil, 0, err
	}
	cond = strings.ReplaceAll(cond, "scope_key", "a.scope_key")
	if userID != "" {
		cond, args = cond+" AND a.user_id = ?", append(args, userID)
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM reg_grid_workers a WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT a.grid_code, a.grid_name, a.user_id, a.username, a.display_name, a.assigned_by, a.assigned_at
		FROM reg_grid_workers a WHERE `+cond+` ORDER BY a.grid_code, a.username LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Assignment
	for rows.Next() {
		var a Assignment
		if err := rows.Scan(&a.GridCode, &a.GridName, &a.UserID, &a.Username, &a.DisplayName, &a.AssignedBy, &a.AssignedAt); err != nil {
			return nil, 0, err
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// GridSummary counts a grid's base data (a grid worker's home page).
type GridSummary struct {
	Code        string  `json:"code"`
	Name        string  `json:"name"`
	Community   string  `json:"communityCode"`
	Lon         float64 `json:"lon"`
	Lat         float64 `json:"lat"`
	People      int     `json:"people"`
	Buildings   int     `json:"buildings"`
	Components  int     `json:"components"`
	Entities    int     `json:"entities"`
	CareTags    int     `json:"careTags" doc:"People with special-care tags"`
	OpenChanges int     `json:"openChanges" doc:"Changes proposed in this grid still awaiting the authority"`
}

// MyGrids lists the grids the caller is assigned to, with counts.
func (s *Service) MyGrids(ctx context.Context) ([]GridSummary, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT grid_code, grid_name FROM reg_grid_workers WHERE user_id = ? ORDER BY grid_code`, p.ID)
	if err != nil {
		return nil, err
	}
	grids, err := s.dir.Grids(ctx)
	if err != nil {
		rows.Close()
		return nil, err
	}
	var out []GridSummary
	for rows.Next() {
		var g GridSummary
		if err := rows.Scan(&g.Code, &g.Name); err != nil {
			rows.Close()
			return nil, err
		}
		ref := grids[g.Code]
		g.Community, g.Lon, g.Lat = g.Code[:12], ref.Lon, ref.Lat
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		g := &out[i]
		for _, c := range []struct {
			dst *int
			q   string
		}{
			{&g.People, `SELECT COUNT(*) FROM reg_people WHERE scope_key = ?`},
			{&g.Buildings, `SELECT COUNT(*) FROM reg_buildings WHERE scope_key = ?`},
			{&g.Components, `SELECT COUNT(*) FROM reg_components WHERE scope_key = ?`},
			{&g.Entities, `SELECT COUNT(*) FROM reg_entities WHERE scope_key = ?`},
			{&g.CareTags, `SELECT COUNT(DISTINCT person_id) FROM reg_person_tags WHERE scope_key = ?`},
			{&g.OpenChanges, `SELECT COUNT(*) FROM reg_changes WHERE status = 'open' AND scope_key = ?`},
		} {
			if err := s.db.QueryRow(ctx, c.q, g.Code).Scan(c.dst); err != nil {
				return nil, err
			}
		}
	}
	if out == nil {
		out = []GridSummary{}
	}
	return out, nil
}

// SearchHit is one result of a registry search (the map's search box).
type SearchHit struct {
	Kind     string  `json:"kind" enum:"division,grid,building,address,component,entity"`
	Code     string  `json:"code"`
	Name     string  `json:"name"`
	Lon      float64 `json:"lon"`
	Lat      float64 `json:"lat"`
	GridCode string  `json:"gridCode,omitempty"`
}

// Search finds divisions, grids, buildings, components and organisations
// of the caller's region by name, address or code.
func (s *Service) Search(ctx context.Context, q string, limit int) ([]SearchHit, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, err
	}
	q = strings.TrimSpace(q)
	if q == "" || len([]rune(q)) > 64 {
		return nil, errs.Invalid("q", "length", "1 to 64 characters", "应为 1 到 64 个字")
	}
	lo, hi := p.ScopeRange()
	pat := db.Like(q)
	plo, phi := authz.PrefixRange(q)
	out, err := s.dir.SearchPlaces(ctx, q, limit)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []SearchHit{}
	}
	queries := []string{
		`SELECT 'building', code, address || ' ' || name, lon, lat, grid_code FROM reg_buildings WHERE scope_key >= ? AND scope_key < ? AND (address LIKE ? ESCAPE '\' OR name LIKE ? ESCAPE '\' OR (code >= ? AND code < ?)) ORDER BY code LIMIT ?`,
		`SELECT 'component', c.code, k.name_zh || ' ' || c.address, c.lon, c.lat, c.grid_code FROM reg_components c JOIN reg_component_classes k ON k.major = c.major AND k.minor = c.minor WHERE c.scope_key >= ? AND c.scope_key < ? AND (c.address LIKE ? ESCAPE '\' OR (c.code >= ? AND c.code < ?)) ORDER BY c.code LIMIT ?`,
		`SELECT 'entity', credit_code, name, lon, lat, grid_code FROM reg_entities WHERE scope_key >= ? AND scope_key < ? AND (name LIKE ? ESCAPE '\' OR credit_code = ?) ORDER BY name LIMIT ?`,
	}
	argsFor := []func() []any{
		func() []any { return []any{lo, hi, pat, pat, plo, phi, limit} },
		func() []any { return []any{lo, hi, pat, plo, phi, limit} },
		func() []any { return []any{lo, hi, pat, strings.ToUpper(q), limit} },
	}
	for i, qq := range queries {
		if len(out) >= limit {
			break
		}
		rows, err := s.db.Query(ctx, qq, argsFor[i]()...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var h SearchHit
			if err := rows.Scan(&h.Kind, &h.Code, &h.Name, &h.Lon, &h.Lat, &h.GridCode); err != nil {
				rows.Close()
				return nil, err
			}
			if len(out) < limit {
				out = append(out, h)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

package geo

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// This file is the only place where geo reads the identity module's
// divisions table (read-only): the names for Locate, and the boundaries
// (column boundary) of streets and communities for the OGC divisions
// collection. identity's Go API does not expose boundaries; when it does,
// these queries should become calls to it.

// divisionNames returns the names of the given 12-digit division codes.
// nameCache keeps division names read for geocoding for namesTTL: every
// located point needs its community's, street's and district's names, and
// a city has few divisions that are rarely renamed.
type nameCache struct {
	mu sync.Mutex
	m  map[string]string
	at time.Time
}

const namesTTL = 5 * time.Second

func (s *Service) divisionNames(ctx context.Context, codes ...string) (map[string]string, error) {
	s.names.mu.Lock()
	if s.names.m != nil && time.Since(s.names.at) < namesTTL {
		out := make(map[string]string, len(codes))
		hit := true
		for _, c := range codes {
			if c == "" {
				continue
			}
			n, ok := s.names.m[c]
			if !ok {
				hit = false
				break
			}
			out[c] = n
		}
		if hit {
			s.names.mu.Unlock()
			return out, nil
		}
	}
	s.names.mu.Unlock()
	out, err := s.readDivisionNames(ctx, codes...)
	if err != nil {
		return nil, err
	}
	s.names.mu.Lock()
	if s.names.m == nil || time.Since(s.names.at) >= namesTTL {
		s.names.m, s.names.at = map[string]string{}, time.Now()
	}
	for c, n := range out {
		s.names.m[c] = n
	}
	s.names.mu.Unlock()
	return out, nil
}

func (s *Service) readDivisionNames(ctx context.Context, codes ...string) (map[string]string, error) {
	out := map[string]string{}
	var args []any
	for _, c := range codes {
		if c != "" {
			args = append(args, c)
		}
	}
	if len(args) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT code, name FROM divisions WHERE code IN (`+placeholders(len(args))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			return nil, err
		}
		out[code] = name
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Levels in the divisions collection (identity's level names).
const (
	levelStreet    = "township"
	levelCommunity = "community"
)

// division is one row of the divisions collection.
type division struct {
	code, short, name, level, parent string
	boundary                         sql.NullString
}

// divisionFilter is the SQL condition of a divisions query in the
// caller's region.
func divisionFilter(p *authz.Principal, level, parent string) (string, []any) {
	lo, hi := p.ScopeRange()
	where := []string{"short >= ? AND short < ?", "level IN (?, ?)"}
	args := []any{lo, hi, levelStreet, levelCommunity}
	if level != "" {
		where, args = append(where, "level = ?"), append(args, level)
	}
	if parent != "" {
		where, args = append(where, "parent_code = ?"), append(args, parent)
	}
	return strings.Join(where, " AND "), args
}

const divisionCols = `code, short, name, level, COALESCE(parent_code, ''), boundary`

func scanDivisions(rows *sql.Rows) ([]division, error) {
	defer rows.Close()
	var out []division
	for rows.Next() {
		var d division
		if err := rows.Scan(&d.code, &d.short, &d.name, &d.level, &d.parent, &d.boundary); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// listDivisions returns one page of streets and communities in the
// caller's region, and how many match.
func (s *Service) listDivisions(ctx context.Context, level, parent string, bbox *Bounds, limit, offset int) ([]division, int, error) {
	p, err := authz.Require(ctx, authz.DivisionsRead)
	if err != nil {
		return nil, 0, err
	}
	cond, args := divisionFilter(p, level, parent)
	if bbox == nil {
		var total int
		if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM divisions WHERE `+cond, args...).Scan(&total); err != nil {
			return nil, 0, err
		}
		rows, err := s.db.Query(ctx, `SELECT `+divisionCols+` FROM divisions WHERE `+cond+` ORDER BY code LIMIT ? OFFSET ?`, append(args, limit, offset)...)
		if err != nil {
			return nil, 0, err
		}
		out, err := scanDivisions(rows)
		return out, total, err
	}
	// bbox: the matching codes by their cached bounds, then the page.
	codes, err := s.divisionBounds.intersecting(ctx, s, cond, args, *bbox)
	if err != nil {
		return nil, 0, err
	}
	total := len(codes)
	codes = codes[min(offset, len(codes)):]
	codes = codes[:min(limit, len(codes))]
	if len(codes) == 0 {
		return nil, total, nil
	}
	out := make([]division, 0, len(codes))
	for chunk := range slices.Chunk(codes, 500) {
		rows, err := s.db.Query(ctx, `SELECT `+divisionCols+` FROM divisions WHERE code IN (`+placeholders(len(chunk))+`) ORDER BY code`, anySlice(chunk)...)
		if err != nil {
			return nil, 0, err
		}
		ds, err := scanDivisions(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, ds...)
	}
	return out, total, nil
}

// getDivision returns one street or community in the caller's region.
func (s *Service) getDivision(ctx context.Context, code string) (*division, error) {
	p, err := authz.Require(ctx, authz.DivisionsRead)
	if err != nil {
		return nil, err
	}
	if len(code) != 12 || !digits(code) {
		return nil, errs.NotFound("division", code)
	}
	cond, args := divisionFilter(p, "", "")
	rows, err := s.db.Query(ctx, `SELECT `+divisionCols+` FROM divisions WHERE code = ? AND `+cond, append([]any{code}, args...)...)
	if err != nil {
		return nil, err
	}
	ds, err := scanDivisions(rows)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, errs.NotFound("division", code)
	}
	return &ds[0], nil
}

// boundsCache keeps the bounding box of each division's boundary, keyed by
// the row's updated_at, so bbox queries parse a boundary once per change.
type boundsCache struct {
	mu sync.Mutex
	m  map[string]cachedBounds
}

type cachedBounds struct {
	updatedAt int64
	bounds    Bounds
	ok        bool // false: no boundary
}

// refresh brings the cache up to date for the rows matching cond and
// returns their codes (ordered) with their bounds.
func (c *boundsCache) refresh(ctx context.Context, s *Service, cond string, args []any) ([]string, map[string]cachedBounds, error) {
	rows, err := s.db.Query(ctx, `SELECT code, updated_at FROM divisions WHERE `+cond+` ORDER BY code`, args...)
	if err != nil {
		return nil, nil, err
	}
	var codes []string
	stamps := map[string]int64{}
	for rows.Next() {
		var code string
		var at int64
		if err := rows.Scan(&code, &at); err != nil {
			rows.Close()
			return nil, nil, err
		}
		codes = append(codes, code)
		stamps[code] = at
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedBounds{}
	}
	var stale []string
	for _, code := range codes {
		if cb, ok := c.m[code]; !ok || cb.updatedAt != stamps[code] {
			stale = append(stale, code)
		}
	}
	c.mu.Unlock()
	fresh := map[string]cachedBounds{}
	for chunk := range slices.Chunk(stale, 500) {
		rows, err := s.db.Query(ctx, `SELECT code, updated_at, boundary FROM divisions WHERE code IN (`+placeholders(len(chunk))+`)`, anySlice(chunk)...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var code string
			var at int64
			var boundary sql.NullString
			if err := rows.Scan(&code, &at, &boundary); err != nil {
				rows.Close()
				return nil, nil, err
			}
			cb := cachedBounds{updatedAt: at}
			if boundary.Valid {
				cb.bounds, cb.ok = GeometryBounds([]byte(boundary.String))
			}
			fresh[code] = cb
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	out := make(map[string]cachedBounds, len(codes))
	c.mu.Lock()
	for code, cb := range fresh {
		c.m[code] = cb
	}
	for _, code := range codes {
		out[code] = c.m[code]
	}
	c.mu.Unlock()
	return codes, out, nil
}

// intersecting returns the codes (ordered) of the rows matching cond whose
// boundary's bounding box intersects the box.
func (c *boundsCache) intersecting(ctx context.Context, s *Service, cond string, args []any, box Bounds) ([]string, error) {
	codes, bounds, err := c.refresh(ctx, s, cond, args)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, code := range codes {
		if cb := bounds[code]; cb.ok && bboxIntersects(box, cb.bounds) {
			out = append(out, code)
		}
	}
	return out, nil
}

// bboxIntersects tests a query box (west may exceed east: across the
// antimeridian) against a feature's bounds.
func bboxIntersects(box, b Bounds) bool {
	if b[3] < box[1] || b[1] > box[3] {
		return false
	}
	if box[0] <= box[2] {
		return b[2] >= box[0] && b[0] <= box[2]
	}
	return b[2] >= box[0] || b[0] <= box[2]
}

// extentCache keeps a collection's extent for a minute.
type extentCache struct {
	mu   sync.Mutex
	at   time.Time
	bbox *[4]float64
}

// divisionsExtent is the union of the bounds of every street and
// community (whatever the caller's region: it is metadata).
func (s *Service) divisionsExtent(ctx context.Context) *[4]float64 {
	c := &s.divExtent
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && s.now().Sub(c.at) < time.Minute {
		return c.bbox
	}
	_, bounds, err := s.divisionBounds.refresh(ctx, s, "level IN (?, ?)", []any{levelStreet, levelCommunity})
	if err != nil {
		return c.bbox
	}
	u := emptyBounds()
	for _, cb := range bounds {
		if cb.ok {
			u.Union(cb.bounds)
		}
	}
	c.at, c.bbox = s.now(), nil
	if !u.Empty() {
		b := [4]float64(u)
		c.bbox = &b
	}
	return c.bbox
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// divisionCode12 normalises a 6-, 9- or 12-digit division code to 12
// digits; ok is false for anything else.
func divisionCode12(s string) (string, bool) {
	if !digits(s) {
		return "", false
	}
	switch len(s) {
	case 6:
		return s + "000000", true
	case 9:
		return s + "000", true
	case 12:
		return s, true
	}
	return "", false
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

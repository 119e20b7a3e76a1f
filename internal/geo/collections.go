package geo

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/geo/ogc"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// MountOGC serves OGC API - Features under /ogc/ on mux: the grids and
// divisions collections, then the extra collections other modules
// contribute.
func (s *Service) MountOGC(mux *http.ServeMux, extra ...ogc.Collection) *ogc.Server {
	cols := append([]ogc.Collection{s.GridsCollection(), s.ResponsibilityGridsCollection(), s.DivisionsCollection()}, extra...)
	srv := ogc.New(ogc.Options{
		Prefix: "/ogc",
		Title:  "数治 Shuzhi — OGC API - Features",
		Description: "Base geographic data of the platform: unit grids (万米单元网格) and the streets and communities " +
			"of the administrative divisions, as GeoJSON in WGS84.",
	}, cols...)
	srv.Mount(mux)
	return srv
}

// noTime is appended to the descriptions of collections without time.
const noTime = " The features carry no time: a datetime parameter is validated and then ignored."

// GridsCollection is the OGC collection "grids": every unit grid in the
// caller's region with its polygon.
func (s *Service) GridsCollection() ogc.Collection { return gridsCollection{s} }

type gridsCollection struct{ s *Service }

func (c gridsCollection) Describe() ogc.CollectionInfo {
	info := ogc.CollectionInfo{
		ID:    "grids",
		Title: "Unit grids (单元网格)",
		Description: "Unit grids (万米单元网格, 15-digit codes: community code + 3-digit sequence) with their polygons. " +
			"Properties: code, name, communityCode, streetCode, districtCode (12-digit division codes). " +
			"bbox selects the grids whose polygon's bounding box intersects the box." + noTime,
		Permission: authz.DivisionsRead,
		Queryables: []ogc.Queryable{
			{Name: "communityCode", Aliases: []string{"community"}, Type: "string", Pattern: "^[0-9]{12}$",
				Description: "Grids of this community (12-digit code)."},
			{Name: "streetCode", Aliases: []string{"street"}, Type: "string", Pattern: "^[0-9]{9}([0-9]{3})?$",
				Description: "Grids of this street (9 or 12 digits)."},
			{Name: "districtCode", Aliases: []string{"district"}, Type: "string", Pattern: "^[0-9]{6}([0-9]{6})?$",
				Description: "Grids of this district (6 or 12 digits)."},
		},
	}
	info.BBox = c.s.gridsExtent()
	return info
}

// gridsExtent is the bounding box of all grids: from the spatial index when
// it is loaded, else from the stored bounds.
func (s *Service) gridsExtent() *[4]float64 {
	if st := s.index.Load(); st != nil {
		if b, ok := st.ix.Bounds(); ok {
			bb := [4]float64(b)
			return &bb
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var w, so, e, n sql.NullFloat64
	if err := s.db.QueryRow(ctx, `SELECT MIN(min_lon), MIN(min_lat), MAX(max_lon), MAX(max_lat) FROM grids`).Scan(&w, &so, &e, &n); err != nil || !w.Valid {
		return nil
	}
	return &[4]float64{w.Float64, so.Float64, e.Float64, n.Float64}
}

// gridFilter turns the OGC query's filters into SQL on grids.
func gridFilter(q ogc.Query) (string, []any, error) {
	var where []string
	var args []any
	if v, ok := q.Filters["communityCode"]; ok {
		if len(v) != 12 || !digits(v) {
			return "", nil, errs.Invalid("communityCode", "pattern", "must be a 12-digit community code", "应为 12 位社区代码")
		}
		where, args = append(where, "community_code = ?"), append(args, v)
	}
	prefix := func(name, v string, n int, en, zh string) error {
		if (len(v) != n && len(v) != 12) || !digits(v) || (len(v) == 12 && strings.Trim(v[n:], "0") != "") {
			return errs.Invalid(name, "pattern", en, zh)
		}
		lo, hi := authz.PrefixRange(v[:n])
		where, args = append(where, "code >= ? AND code < ?"), append(args, lo, hi)
		return nil
	}
	if v, ok := q.Filters["streetCode"]; ok {
		if err := prefix("streetCode", v, 9, "must be a street code: 9 digits, or 12 ending in 000", "应为街道代码：9 位，或以 000 结尾的 12 位"); err != nil {
			return "", nil, err
		}
	}
	if v, ok := q.Filters["districtCode"]; ok {
		if err := prefix("districtCode", v, 6, "must be a district code: 6 digits, or 12 ending in 000000", "应为区县代码：6 位，或以 000000 结尾的 12 位"); err != nil {
			return "", nil, err
		}
	}
	if b := q.BBox; b != nil {
		where, args = append(where, "max_lat >= ? AND min_lat <= ?"), append(args, b[1], b[3])
		if b[0] <= b[2] {
			where, args = append(where, "max_lon >= ? AND min_lon <= ?"), append(args, b[0], b[2])
		} else { // across the antimeridian
			where, args = append(where, "(max_lon >= ? OR min_lon <= ?)"), append(args, b[0], b[2])
		}
	}
	return strings.Join(where, " AND "), args, nil
}

func (c gridsCollection) Items(ctx context.Context, q ogc.Query) ([]ogc.Feature, int, error) {
	p, err := authz.Require(ctx, authz.DivisionsRead)
	if err != nil {
		return nil, 0, err
	}
	cond, args, err := gridFilter(q)
	if err != nil {
		return nil, 0, err
	}
	if q.BBox != nil {
		// Rows written before the bounds columns existed get their bounds
		// when the index is first built.
		if _, err := c.s.currentIndex(ctx); err != nil {
			return nil, 0, err
		}
	}
	lo, hi := p.ScopeRange()
	where := "scope_key >= ? AND scope_key < ?"
	args = append([]any{lo, hi}, args...)
	if cond != "" {
		where += " AND " + cond
	}
	var total int
	if err := c.s.db.QueryRow(ctx, `SELECT COUNT(*) FROM grids WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := c.s.db.Query(ctx, `SELECT code, name, community_code, boundary FROM grids WHERE `+where+` ORDER BY code LIMIT ? OFFSET ?`,
		append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []ogc.Feature
	for rows.Next() {
		f, err := scanGridFeature(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, f)
	}
	return out, total, rows.Err()
}

func (c gridsCollection) Item(ctx context.Context, id string) (*ogc.Feature, error) {
	p, err := authz.Require(ctx, authz.DivisionsRead)
	if err != nil {
		return nil, err
	}
	lo, hi := p.ScopeRange()
	f, err := scanGridFeature(c.s.db.QueryRow(ctx, `SELECT code, name, community_code, boundary FROM grids
		WHERE code = ? AND scope_key >= ? AND scope_key < ?`, id, lo, hi))
	if err == sql.ErrNoRows {
		return nil, errs.NotFound("grid", id)
	}
	if err != nil {
		return nil, err
	}
	return &f, nil
}

func scanGridFeature(sc interface{ Scan(...any) error }) (ogc.Feature, error) {
	var code, name, community, boundary string
	if err := sc.Scan(&code, &name, &community, &boundary); err != nil {
		return ogc.Feature{}, err
	}
	props := map[string]any{"code": code, "name": name, "communityCode": community}
	if len(community) == 12 {
		props["streetCode"] = community[:9] + "000"
		props["districtCode"] = community[:6] + "000000"
	}
	return ogc.Feature{ID: code, Geometry: json.RawMessage(boundary), Properties: props}, nil
}

// DivisionsCollection is the OGC collection "divisions": the streets and
// communities in the caller's region with their boundaries (null when the
// division has none).
func (s *Service) DivisionsCollection() ogc.Collection { return divisionsCollection{s} }

type divisionsCollection struct{ s *Service }

func (c divisionsCollection) Describe() ogc.CollectionInfo {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return ogc.CollectionInfo{
		ID:    "divisions",
		Title: "Streets and communities (街道、社区)",
		Description: "Administrative divisions at street (township) and community level, 12-digit statistical codes, " +
			"with their boundaries (geometry null when none is recorded). Properties: code, short (significant digits), " +
			"name, level (township or community), parentCode. bbox selects the divisions whose boundary's bounding box " +
			"intersects the box." + noTime,
		Permission: authz.DivisionsRead,
		BBox:       c.s.divisionsExtent(ctx),
		Queryables: []ogc.Queryable{
			{Name: "level", Type: "string", Enum: []string{levelStreet, levelCommunity}, Description: "township (street) or community."},
			{Name: "parentCode", Aliases: []string{"parent"}, Type: "string", Pattern: "^[0-9]{6}([0-9]{3}){0,2}$",
				Description: "Children of this division (6, 9 or 12 digits)."},
		},
	}
}

func (c divisionsCollection) Items(ctx context.Context, q ogc.Query) ([]ogc.Feature, int, error) {
	parent := q.Filters["parentCode"]
	if parent != "" {
		p12, ok := divisionCode12(parent)
		if !ok {
			return nil, 0, errs.Invalid("parentCode", "pattern", "must be a division code of 6, 9 or 12 digits", "应为 6、9 或 12 位区划代码")
		}
		parent = p12
	}
	var box *Bounds
	if q.BBox != nil {
		b := Bounds(*q.BBox)
		box = &b
	}
	ds, total, err := c.s.listDivisions(ctx, q.Filters["level"], parent, box, q.Limit, q.Offset)
	if err != nil {
		return nil, 0, err
	}
	out := make([]ogc.Feature, 0, len(ds))
	for _, d := range ds {
		out = append(out, divisionFeature(d))
	}
	return out, total, nil
}

func (c divisionsCollection) Item(ctx context.Context, id string) (*ogc.Feature, error) {
	d, err := c.s.getDivision(ctx, id)
	if err != nil {
		return nil, err
	}
	f := divisionFeature(*d)
	return &f, nil
}

func divisionFeature(d division) ogc.Feature {
	f := ogc.Feature{ID: d.code, Properties: map[string]any{
		"code": d.code, "short": d.short, "name": d.name, "level": d.level, "parentCode": d.parent,
	}}
	if d.boundary.Valid && d.boundary.String != "" {
		f.Geometry = json.RawMessage(d.boundary.String)
	}
	return f
}

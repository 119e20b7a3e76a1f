package geo

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// indexRecheck is how often the index is compared with the grids table
// (one cheap query) to pick up changes made by other replicas or by
// transactions that committed after the last check.
const indexRecheck = time.Second

// indexState is one immutable snapshot: the index, what Locate needs to
// know about each grid, and the table's stamp when it was read.
type indexState struct {
	ix      *Index
	grids   map[string]gridInfo
	stamp   gridStamp
	checked time.Time
	gen     int64 // s.gen when the snapshot was taken
}

type gridInfo struct {
	name, community, scopeKey string
	respCode, respName        string
}

// gridStamp changes whenever a grid is added, changed or deleted.
type gridStamp struct {
	count    int
	revision int64
}

func (s *Service) gridStamp(ctx context.Context) (gridStamp, error) {
	var st gridStamp
	err := s.db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(revision), 0) FROM grids`).Scan(&st.count, &st.revision)
	return st, err
}

// nextRevision returns a revision for a changed row: the time in Unix
// milliseconds, or one more than the last revision this process or the
// table has seen, whichever is larger.
func (s *Service) nextRevision(ctx context.Context) (int64, error) {
	if s.revision.Load() == 0 {
		var last int64
		if err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(revision), 0) FROM grids`).Scan(&last); err != nil {
			return 0, err
		}
		s.revision.CompareAndSwap(0, last)
	}
	for {
		last := s.revision.Load()
		next := max(s.now().UnixMilli(), last+1)
		if s.revision.CompareAndSwap(last, next) {
			return next, nil
		}
	}
}

// currentIndex returns the spatial index, building it on first use and
// rebuilding it when the grids changed. While one caller checks or
// rebuilds, the others keep using the previous snapshot, except after a
// local change: then callers wait, so that a PutGrid is visible to the
// next Locate. (PutGrid counts a generation after its statement; a
// snapshot records the generation read before the table's stamp, so no
// committed change is missed. A change inside a longer transaction is seen
// within indexRecheck of its commit.)
func (s *Service) currentIndex(ctx context.Context) (*indexState, error) {
	st := s.index.Load()
	changed := st == nil || st.gen != s.gen.Load()
	if !changed && s.now().Sub(st.checked) < indexRecheck {
		return st, nil
	}
	if !changed {
		if !s.rebuild.TryLock() {
			return st, nil
		}
	} else {
		s.rebuild.Lock()
	}
	defer s.rebuild.Unlock()
	st = s.index.Load()
	if st != nil && st.gen == s.gen.Load() && s.now().Sub(st.checked) < indexRecheck {
		return st, nil // another caller refreshed it meanwhile
	}
	// The generation is read before the stamp: a local change counted
	// after this point makes the snapshot stale again.
	gen := s.gen.Load()
	stamp, err := s.gridStamp(ctx)
	if err != nil {
		if st != nil {
			return st, nil // keep serving; the next call checks again
		}
		return nil, err
	}
	if st != nil && stamp == st.stamp {
		fresh := *st
		fresh.checked, fresh.gen = s.now(), gen
		s.index.Store(&fresh)
		return &fresh, nil
	}
	next, err := s.loadIndex(ctx, stamp, gen)
	if err != nil && st != nil {
		// Keep serving the last good index; try again after indexRecheck.
		fresh := *st
		fresh.checked = s.now()
		s.index.Store(&fresh)
		return &fresh, nil
	}
	return next, err
}

// Reload rebuilds the spatial index from the grids table now.
func (s *Service) Reload(ctx context.Context) error {
	s.rebuild.Lock()
	defer s.rebuild.Unlock()
	gen := s.gen.Load()
	stamp, err := s.gridStamp(ctx)
	if err != nil {
		return err
	}
	_, err = s.loadIndex(ctx, stamp, gen)
	return err
}

// loadIndex reads every grid, builds the index and stores it. Rows without
// stored bounds (written before the bounds columns existed) get them.
// Callers hold s.rebuild.
func (s *Service) loadIndex(ctx context.Context, stamp gridStamp, gen int64) (*indexState, error) {
	rows, err := s.db.Query(ctx, `SELECT g.code, g.name, g.community_code, g.scope_key, g.boundary,
		CASE WHEN g.min_lon IS NULL THEN 1 ELSE 0 END, COALESCE(r.code, ''), COALESCE(r.name, '')
		FROM grids g LEFT JOIN resp_grids r ON r.code = g.resp_code`)
	if err != nil {
		return nil, err
	}
	var items []IndexItem
	grids := map[string]gridInfo{}
	var missing []string
	for rows.Next() {
		var code, boundary string
		var gi gridInfo
		var noBounds int
		if err := rows.Scan(&code, &gi.name, &gi.community, &gi.scopeKey, &boundary, &noBounds, &gi.respCode, &gi.respName); err != nil {
			rows.Close()
			return nil, err
		}
		items = append(items, IndexItem{Code: code, Geometry: []byte(boundary)})
		grids[code] = gi
		if noBounds == 1 {
			missing = append(missing, code)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ix, err := NewIndex(items)
	if err != nil {
		return nil, fmt.Errorf("geo: building the grid index: %w", err)
	}
	if len(missing) > 0 {
		err := s.db.InTx(ctx, func(ctx context.Context) error {
			for _, code := range missing {
				b, _ := ix.boundsOf(code)
				if _, err := s.db.Exec(ctx, `UPDATE grids SET min_lon = ?, min_lat = ?, max_lon = ?, max_lat = ? WHERE code = ? AND min_lon IS NULL`,
					b[0], b[1], b[2], b[3], code); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("geo: storing grid bounds: %w", err)
		}
	}
	st := &indexState{ix: ix, grids: grids, stamp: stamp, checked: s.now(), gen: gen}
	s.index.Store(st)
	return st, nil
}

// Place is a grid or division with its name.
type Place struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Location is where a point lies: its unit grid and the divisions above it.
// Division names are empty when a division is not in the divisions table.
type Location struct {
	Lon  float64 `json:"lon"`
	Lat  float64 `json:"lat"`
	Grid Place   `json:"grid" doc:"15-digit unit grid code and name"`
	// Responsibility is the responsibility grid (责任网格) the unit grid
	// belongs to, when it belongs to one.
	Responsibility *Place `json:"responsibility,omitempty" doc:"Responsibility grid (责任网格) of the unit grid"`
	Community      Place  `json:"community" doc:"12-digit community (社区/村) code"`
	Street         Place  `json:"street" doc:"12-digit street (街道/乡镇) code"`
	District       Place  `json:"district" doc:"12-digit district (区/县) code"`
}

// Locate geocodes a WGS84 point to its unit grid, community, street and
// district. A point in no grid, or in a grid outside the caller's region,
// is not found.
func (s *Service) Locate(ctx context.Context, lon, lat float64) (*Location, error) {
	p, err := authz.Require(ctx, authz.DivisionsRead)
	if err != nil {
		return nil, err
	}
	if math.IsNaN(lon) || lon < -180 || lon > 180 {
		return nil, errs.Invalid("lon", "range", "must be within [-180, 180]", "应在 [-180, 180] 之间")
	}
	if math.IsNaN(lat) || lat < -90 || lat > 90 {
		return nil, errs.Invalid("lat", "range", "must be within [-90, 90]", "应在 [-90, 90] 之间")
	}
	st, err := s.currentIndex(ctx)
	if err != nil {
		return nil, err
	}
	code, ok := st.ix.Locate(lon, lat)
	gi := st.grids[code]
	if !ok || !p.InScope(gi.scopeKey) {
		return nil, &errs.Error{Code: errs.CodeNotFound,
			Message:   fmt.Sprintf("no unit grid in your region contains the point (%g, %g)", lon, lat),
			MessageZh: fmt.Sprintf("您的辖区内没有包含该点 (%g, %g) 的单元网格", lon, lat)}
	}
	loc := &Location{Lon: lon, Lat: lat, Grid: Place{Code: code, Name: gi.name}}
	if gi.respCode != "" {
		loc.Responsibility = &Place{Code: gi.respCode, Name: gi.respName}
	}
	loc.Community.Code = gi.community
	if len(code) == 15 { // community (12) + sequence (3)
		loc.Community.Code = code[:12]
	}
	if len(loc.Community.Code) == 12 {
		loc.Street.Code = loc.Community.Code[:9] + "000"
		loc.District.Code = loc.Community.Code[:6] + "000000"
	}
	names, err := s.divisionNames(ctx, loc.Community.Code, loc.Street.Code, loc.District.Code)
	if err != nil {
		return nil, err
	}
	loc.Community.Name, loc.Street.Name, loc.District.Name = names[loc.Community.Code], names[loc.Street.Code], names[loc.District.Code]
	return loc, nil
}

// boundsOf returns the bounding box of the polygon with the code.
func (ix *Index) boundsOf(code string) (Bounds, bool) {
	i := sort.Search(len(ix.items), func(i int) bool { return ix.items[i].code >= code })
	if i < len(ix.items) && ix.items[i].code == code {
		return ix.items[i].bounds, true
	}
	return Bounds{}, false
}

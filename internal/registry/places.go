package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// BuildingUses are the uses of a building.
var BuildingUses = []string{"residential", "commercial", "office", "mixed", "public", "industrial"}

// Building is a building with its standard address and code.
type Building struct {
	ID        string  `json:"id"`
	Code      string  `json:"code" doc:"18 digits: unit grid code (15) + sequence (3)"`
	Name      string  `json:"name"`
	Road      string  `json:"road"`
	HouseNo   string  `json:"houseNo"`
	Address   string  `json:"address"`
	UseType   string  `json:"useType" enum:"residential,commercial,office,mixed,public,industrial"`
	Floors    int     `json:"floors"`
	GridCode  string  `json:"gridCode"`
	Lon       float64 `json:"lon"`
	Lat       float64 `json:"lat"`
	Rooms     int     `json:"rooms" doc:"Number of registered rooms"`
	Sources   Sources `json:"sources"`
	Version   int     `json:"version"`
	UpdatedAt int64   `json:"updatedAt"`
}

// NewBuilding is the input to create a building.
type NewBuilding struct {
	Name     string   `json:"name" minLength:"1" maxLength:"64"`
	Road     string   `json:"road" minLength:"1" maxLength:"32" doc:"Road or lane, e.g. 平江路"`
	HouseNo  string   `json:"houseNo" minLength:"1" maxLength:"16" doc:"House number, e.g. 100"`
	UseType  string   `json:"useType" enum:"residential,commercial,office,mixed,public,industrial"`
	Floors   int      `json:"floors" minimum:"1" maximum:"200"`
	Lon      *float64 `json:"lon,omitempty" doc:"WGS84; the grid is found from the point"`
	Lat      *float64 `json:"lat,omitempty"`
	GridCode string   `json:"gridCode,omitempty" maxLength:"15" doc:"When no point is given: the building is placed at the grid's centre"`
}

type buildingRow struct {
	name, road, houseNo, address, use, grid string
	floors                                  int
	lon, lat                                float64
}

func (s *Service) prepareBuilding(ctx context.Context, in NewBuilding, prefix string) (*buildingRow, error) {
	b := &buildingRow{}
	var err error
	if b.name, err = textOf(64)(prefix+"name", in.Name); err != nil {
		return nil, err
	}
	if b.road, err = textOf(32)(prefix+"road", in.Road); err != nil {
		return nil, err
	}
	if b.houseNo, err = textOf(16)(prefix+"houseNo", in.HouseNo); err != nil {
		return nil, err
	}
	if b.use, err = enumOf(BuildingUses...)(prefix+"useType", in.UseType); err != nil {
		return nil, err
	}
	if in.Floors < 1 || in.Floors > 200 {
		return nil, errs.Invalid(prefix+"floors", "range", "1 to 200 floors", "楼层数应为 1 到 200")
	}
	b.floors = in.Floors
	b.address = b.road + strings.TrimSuffix(b.houseNo, "号") + "号"
	if b.grid, b.lon, b.lat, err = s.placeOf(ctx, prefix, in.Lon, in.Lat, in.GridCode); err != nil {
		return nil, err
	}
	return b, nil
}

// placeOf resolves a location: a point (its grid from the spatial index)
// or a grid (its centre).
func (s *Service) placeOf(ctx context.Context, prefix string, lon, lat *float64, grid string) (string, float64, float64, error) {
	if lon != nil && lat != nil && grid != "" && s.locator == nil {
		// No spatial index (the command line): trust the stated grid.
		if err := s.checkGrid(ctx, prefix+"gridCode", grid); err != nil {
			return "", 0, 0, err
		}
		return grid, *lon, *lat, nil
	}
	if lon != nil && lat != nil {
		g, err := s.locate(ctx, prefix+"lon", *lon, *lat)
		if err != nil {
			return "", 0, 0, err
		}
		if grid != "" && grid != g {
			return "", 0, 0, errs.Invalid(prefix+"gridCode", "consistent", "the point lies in grid "+g+", not "+grid, "该位置位于网格 "+g+"，不是 "+grid)
		}
		return g, *lon, *lat, nil
	}
	if (lon == nil) != (lat == nil) {
		return "", 0, 0, errs.Invalid(prefix+"lat", "required", "give both longitude and latitude", "经度和纬度须同时填写")
	}
	if grid == "" {
		return "", 0, 0, errs.Invalid(prefix+"gridCode", "required", "give a point (lon, lat) or a unit grid", "请填写经纬度或网格")
	}
	g, err := s.grid(ctx, prefix+"gridCode", grid)
	if err != nil {
		return "", 0, 0, err
	}
	return grid, g.Lon, g.Lat, nil
}

// building inserts a prepared building with the next code of its grid.
func (w *writer) building(ctx context.Context, b *buildingRow) error {
	_, err := w.buildingCode(ctx, b)
	return err
}

func (w *writer) buildingCode(ctx context.Context, b *buildingRow) (string, error) {
	if err := w.grid(ctx, "gridCode", b.grid); err != nil {
		return "", err
	}
	code, err := w.nextSerial(ctx, "reg_buildings", "code", b.grid, 3)
	if err != nil {
		return "", err
	}
	src := w.sources(buildingFields)
	_, err = w.exec(ctx, `INSERT INTO reg_buildings (id, code, name, road, house_no, address, use_type, floors, grid_code, scope_key, lon, lat, sources, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, newID(), code, b.name, b.road, b.houseNo, b.address, b.use, b.floors, b.grid, b.grid, b.lon, b.lat, src, w.now, w.now)
	if db.IsUniqueViolation(err) {
		return "", errs.Conflict("houseNo", "a building with the address "+b.address+" exists", "地址为“"+b.address+"”的建筑已存在")
	}
	if err != nil {
		return "", err
	}
	// The building's own address (without a room).
	if _, err := w.exec(ctx, `INSERT INTO reg_addresses (id, building_id, room, full_text, grid_code, scope_key, lon, lat, created_at)
		SELECT ?, id, '', address, grid_code, scope_key, lon, lat, ? FROM reg_buildings WHERE code = ? ON CONFLICT (full_text) DO NOTHING`, newID(), w.now, code); err != nil {
		return "", err
	}
	return code, nil
}

// nextSerial returns prefix + the next n-digit serial in table.col.
func (w *writer) nextSerial(ctx context.Context, table, col, prefix string, n int) (string, error) {
	key := table + ":" + prefix
	if w.serials == nil {
		w.serials = map[string]int{}
	}
	next, ok := w.serials[key]
	if !ok {
		var last sql.NullString
		lo, hi := authz.PrefixRange(prefix)
		if err := w.queryRow(ctx, `SELECT MAX(`+col+`) FROM `+table+` WHERE `+col+` >= ? AND `+col+` < ?`, lo, hi).Scan(&last); err != nil {
			return "", err
		}
		if last.Valid && len(last.String) == len(prefix)+n {
			fmt.Sscanf(last.String[len(prefix):], "%d", &next)
		}
	}
	next++
	max := 1
	for range n {
		max *= 10
	}
	if next >= max {
		return "", errs.Conflict("code", fmt.Sprintf("no free %d-digit serial left under %s", n, prefix), fmt.Sprintf("%s 下的 %d 位序号已用完", prefix, n))
	}
	w.serials[key] = next
	return fmt.Sprintf("%s%0*d", prefix, n, next), nil
}

// CreateBuilding adds a building in the caller's region.
func (s *Service) CreateBuilding(ctx context.Context, in NewBuilding) (*Building, error) {
	if _, err := authz.Require(ctx, authz.RegistryWrite); err != nil {
		return nil, err
	}
	b, err := s.prepareBuilding(ctx, in, "")
	if err != nil {
		return nil, err
	}
	code, err := s.create(ctx, "registry.building.create", func(k string) string { return "building:" + k },
		func(ctx context.Context, w *writer) (string, error) { return w.buildingCode(ctx, b) })
	if err != nil {
		return nil, err
	}
	return s.GetBuilding(ctx, code)
}

const buildingCols = `b.id, b.code, b.name, b.road, b.house_no, b.address, b.use_type, b.floors, b.grid_code, b.lon, b.lat, b.sources, b.version, b.updated_at, b.scope_key,
	(SELECT COUNT(*) FROM reg_addresses r WHERE r.building_id = b.id AND r.room <> '')`

func scanBuilding(sc interface{ Scan(...any) error }) (*Building, string, error) {
	var b Building
	var src, scope string
	err := sc.Scan(&b.ID, &b.Code, &b.Name, &b.Road, &b.HouseNo, &b.Address, &b.UseType, &b.Floors, &b.GridCode, &b.Lon, &b.Lat, &src, &b.Version, &b.UpdatedAt, &scope, &b.Rooms)
	b.Sources = decodeSources(src, buildingFields)
	return &b, scope, err
}

// GetBuilding returns a building of the caller's region by code.
func (s *Service) GetBuilding(ctx context.Context, code string) (*Building, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, err
	}
	b, scope, err := scanBuilding(s.db.QueryRow(ctx, `SELECT `+buildingCols+` FROM reg_buildings b WHERE b.code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("building", code)
	}
	if err != nil {
		return nil, err
	}
	if err := inScope(p, scope, "building", code); err != nil {
		return nil, err
	}
	return b, nil
}

// BuildingFilter narrows ListBuildings.
type BuildingFilter struct {
	Within  string
	UseType string
	Q       string // address or name contains, or code prefix
}

// ListBuildings lists buildings of the caller's region.
func (s *Service) ListBuildings(ctx context.Context, f BuildingFilter, limit, offset int) ([]Building, int, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, 0, err
	}
	cond, args, err := scopeCond(p, f.Within)
	if err != nil {
		return nil, 0, err
	}
	if f.UseType != "" {
		cond, args = cond+" AND use_type = ?", append(args, f.UseType)
	}
	if f.Q != "" {
		cond, args = cond+` AND (address LIKE ? ESCAPE '\' OR name LIKE ? ESCAPE '\' OR code = ?)`, append(args, db.Like(f.Q), db.Like(f.Q), f.Q)
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM reg_buildings WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+buildingCols+` FROM reg_buildings b WHERE `+strings.ReplaceAll(cond, "scope_key", "b.scope_key")+` ORDER BY b.code LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Building
	for rows.Next() {
		b, _, err := scanBuilding(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *b)
	}
	return out, total, rows.Err()
}

// Room is an address inside a building.
type Room struct {
	ID       string `json:"id"`
	Room     string `json:"room" doc:"Unit and room, e.g. 2单元301室"`
	Address  string `json:"address"`
	Building string `json:"buildingCode"`
	GridCode string `json:"gridCode"`
	People   int    `json:"people" doc:"People living at this address"`
}

// AddRoom registers a room of a building (an address people can live at).
func (s *Service) AddRoom(ctx context.Context, buildingCode, room string) (*Room, error) {
	p, err := authz.Require(ctx, authz.RegistryWrite)
	if err != nil {
		return nil, err
	}
	if room, err = textOf(32)("room", room); err != nil {
		return nil, err
	}
	b, err := s.GetBuilding(ctx, buildingCode)
	if err != nil {
		return nil, err
	}
	dept, err := s.deptOf(ctx, p)
	if err != nil {
		return nil, err
	}
	r := &Room{ID: newID(), Room: room, Address: b.Address + room, Building: b.Code, GridCode: b.GridCode}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		_, err := s.db.Exec(ctx, `INSERT INTO reg_addresses (id, building_id, room, full_text, grid_code, scope_key, lon, lat, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, b.ID, room, r.Address, b.GridCode, b.GridCode, b.Lon, b.Lat, s.now().UnixMilli())
		if db.IsUniqueViolation(err) {
			return errs.Conflict("room", "the room "+r.Address+" is already registered", "房间“"+r.Address+"”已登记")
		}
		if err != nil {
			return err
		}
		return s.evidence(ctx, "registry.building.room", "building:"+b.Code, "", "", map[string]any{"room": room, "source": dept})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Rooms lists the rooms of a building.
func (s *Service) Rooms(ctx context.Context, buildingCode string) ([]Room, error) {
	b, err := s.GetBuilding(ctx, buildingCode)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT a.id, a.room, a.full_text, a.grid_code, (SELECT COUNT(*) FROM reg_people p WHERE p.address_id = a.id)
		FROM reg_addresses a WHERE a.building_id = ? AND a.room <> '' ORDER BY a.room`, b.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Room{}
	for rows.Next() {
		r := Room{Building: b.Code}
		if err := rows.Scan(&r.ID, &r.Room, &r.Address, &r.GridCode, &r.People); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Household is a household (户) with its members, masked.
type Household struct {
	ID       string   `json:"id"`
	Number   string   `json:"number"`
	Kind     string   `json:"kind"`
	Address  string   `json:"address"`
	GridCode string   `json:"gridCode"`
	Members  []Person `json:"members" nullable:"false"`
}

// GetHousehold returns a household of the caller's region.
func (s *Service) GetHousehold(ctx context.Context, id, purpose string) (*Household, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, err
	}
	var h Household
	var scope string
	err = s.db.QueryRow(ctx, `SELECT h.id, h.number, h.kind, COALESCE(a.full_text, ''), h.grid_code, h.scope_key FROM reg_households h
		LEFT JOIN reg_addresses a ON a.id = h.address_id WHERE h.id = ?`, id).Scan(&h.ID, &h.Number, &h.Kind, &h.Address, &h.GridCode, &scope)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("household", id)
	}
	if err != nil {
		return nil, err
	}
	if err := inScope(p, scope, "household", id); err != nil {
		return nil, err
	}
	h.Members, _, err = s.ListPeople(ctx, PersonFilter{Household: id, Purpose: purpose}, 100, 0)
	if err != nil {
		return nil, err
	}
	if h.Members == nil {
		h.Members = []Person{}
	}
	return &h, nil
}

package geo_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/geo"
	"github.com/shuzhi-gov/shuzhi/internal/geo/ogc"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// A small world: district 320508 with two streets, one community each.
// Grids are unit squares at lon 120+x, lat 31+y:
//
//	320508018001001  x 0..1   (平江 · 第一社区)
//	320508018001002  x 1..2   (平江 · 第一社区)
//	320508019001001  x 2..3   (金阊 · 第二社区)
const (
	street18 = "320508018000"
	comm18   = "320508018001"
	street19 = "320508019000"
	comm19   = "320508019001"
)

func system() context.Context { return authz.With(context.Background(), identity.System("test")) }

func reader(scope string) context.Context {
	return authz.With(context.Background(), &authz.Principal{Kind: authz.KindUser, ID: "u", Name: "u",
		Permissions: []authz.Permission{authz.DivisionsRead}, Scope: scope})
}

func square(x0, y0, w float64) []byte {
	x, y := 120+x0, 31+y0
	return []byte(geo.Polygon([][2]float64{{x, y}, {x + w, y}, {x + w, y + w}, {x, y + w}, {x, y}}))
}

func seedWorld(t *testing.T, d *db.DB) *geo.Service {
	t.Helper()
	ctx := context.Background()
	divs := []struct{ code, short, name, level, parent, boundary string }{
		{"320000000000", "32", "江苏省", "province", "", ""},
		{"320500000000", "3205", "苏州市", "city", "320000000000", ""},
		{"320508000000", "320508", "姑苏区", "county", "320500000000", string(square(0, 0, 3))},
		{street18, "320508018", "平江街道", "township", "320508000000", string(square(0, 0, 2))},
		{comm18, comm18, "第一社区", "community", street18, string(square(0, 0, 2))},
		{street19, "320508019", "金阊街道", "township", "320508000000", string(square(2, 0, 1))},
		{comm19, comm19, "第二社区", "community", street19, ""}, // no boundary
	}
	for _, v := range divs {
		var parent, boundary any
		if v.parent != "" {
			parent = v.parent
		}
		if v.boundary != "" {
			boundary = v.boundary
		}
		if _, err := d.Exec(ctx, `INSERT INTO divisions (code, short, name, level, parent_code, boundary, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 1, 1)`, v.code, v.short, v.name, v.level, parent, boundary); err != nil {
			t.Fatal(err)
		}
	}
	s := geo.New(d)
	for _, g := range []struct {
		code, community, name string
		x                     float64
	}{{comm18 + "001", comm18, "第一网格", 0}, {comm18 + "002", comm18, "第二网格", 1}, {comm19 + "001", comm19, "第一网格", 2}} {
		grid := geo.Grid{Code: g.code, Name: g.name, CommunityCode: g.community, Lon: 120 + g.x + 0.5, Lat: 31.5, Boundary: square(g.x, 0, 1)}
		if err := s.PutGrid(system(), grid, g.code, 1); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func migrations() []db.Migrations {
	return []db.Migrations{db.PlatformMigrations(), identity.Migrations(), geo.Migrations()}
}

func TestService(t *testing.T) {
	dbtest.ForEach(t, migrations(), func(t *testing.T, d *db.DB) {
		s := seedWorld(t, d)
		t.Run("locate", func(t *testing.T) { testLocate(t, s) })
		t.Run("changes reach the index", func(t *testing.T) { testIndexFreshness(t, d, s) })
		t.Run("grids collection", func(t *testing.T) { testGridsCollection(t, s) })
		t.Run("divisions collection", func(t *testing.T) { testDivisionsCollection(t, s) })
		t.Run("concurrent lookups and changes", func(t *testing.T) { testConcurrent(t, s) })
	})
}

// testConcurrent locates from several goroutines while grids change (run
// with -race).
func testConcurrent(t *testing.T, s *geo.Service) {
	stop := make(chan struct{})
	errc := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-stop:
					errc <- nil
					return
				default:
				}
				if loc, err := s.Locate(reader("320508"), 120.5, 31.5); err != nil || loc.Grid.Code != comm18+"001" {
					errc <- fmt.Errorf("%+v %v", loc, err)
					return
				}
			}
		}()
	}
	for i := range 20 {
		g := geo.Grid{Code: comm19 + "001", Name: fmt.Sprintf("第一网格 v%d", i), CommunityCode: comm19, Lon: 122.5, Lat: 31.5, Boundary: square(2, 0, 1)}
		if err := s.PutGrid(system(), g, g.Code, 1); err != nil {
			t.Fatal(err)
		}
		if loc, err := s.Locate(reader("320508"), 122.5, 31.5); err != nil || loc.Grid.Name != g.Name {
			t.Fatalf("after change %d: %+v %v", i, loc, err)
		}
	}
	close(stop)
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

func testLocate(t *testing.T, s *geo.Service) {
	loc, err := s.Locate(reader("320508"), 120.5, 31.5)
	if err != nil {
		t.Fatal(err)
	}
	want := geo.Location{Lon: 120.5, Lat: 31.5, Grid: geo.Place{Code: comm18 + "001", Name: "第一网格"},
		Community: geo.Place{Code: comm18, Name: "第一社区"}, Street: geo.Place{Code: street18, Name: "平江街道"},
		District: geo.Place{Code: "320508000000", Name: "姑苏区"}}
	if *loc != want {
		t.Fatalf("Locate = %+v, want %+v", *loc, want)
	}
	if loc, err := s.Locate(reader("320508019"), 122.5, 31.5); err != nil || loc.Grid.Code != comm19+"001" {
		t.Fatalf("own street: %+v %v", loc, err)
	}
	for name, c := range map[string]struct {
		ctx      context.Context
		lon, lat float64
		code     errs.Code
		field    string
	}{
		"another street's grid": {reader("320508019"), 120.5, 31.5, errs.CodeNotFound, ""},
		"no grid there":         {reader("320508"), 125, 31.5, errs.CodeNotFound, ""},
		"anonymous":             {context.Background(), 120.5, 31.5, errs.CodeUnauthenticated, ""},
		"no permission":         {authz.With(context.Background(), &authz.Principal{Kind: authz.KindUser, Scope: "320508"}), 120.5, 31.5, errs.CodeForbidden, ""},
		"lon":                   {reader("320508"), 181, 31.5, errs.CodeInvalid, "lon"},
		"lat":                   {reader("320508"), 120.5, -91, errs.CodeInvalid, "lat"},
	} {
		_, err := s.Locate(c.ctx, c.lon, c.lat)
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != c.code || (c.field != "" && e.Fields[0].Field != c.field) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func testIndexFreshness(t *testing.T, d *db.DB, s *geo.Service) {
	ctx := context.Background()
	// A local change is seen at once.
	moved := geo.Grid{Code: comm18 + "002", Name: "第二网格", CommunityCode: comm18, Lon: 120.5, Lat: 32.5, Boundary: square(0, 1, 1)}
	if err := s.PutGrid(system(), moved, moved.Code, 2); err != nil {
		t.Fatal(err)
	}
	if loc, err := s.Locate(reader("320508"), 120.5, 32.5); err != nil || loc.Grid.Code != moved.Code {
		t.Fatalf("after PutGrid: %+v %v", loc, err)
	}
	if _, err := s.Locate(reader("320508"), 121.5, 31.5); errs.CodeOf(err) != errs.CodeNotFound {
		t.Fatalf("old place of the moved grid: %v", err)
	}
	bad := moved
	bad.Boundary = []byte(`{"type":"Point","coordinates":[1,2]}`)
	if err := s.PutGrid(system(), bad, bad.Code, 2); errs.CodeOf(err) != errs.CodeInvalid {
		t.Fatalf("a point boundary: %v", err)
	}
	if err := s.PutGrid(reader("320508"), moved, moved.Code, 2); errs.CodeOf(err) != errs.CodeForbidden {
		t.Fatalf("PutGrid by a user: %v", err)
	}
	// Another replica (a second service on the same database) sees the
	// change within a second, without being told.
	other := geo.New(d)
	if _, err := other.Locate(reader("320508"), 120.5, 32.5); err != nil {
		t.Fatal(err)
	}
	back := moved
	back.Lat, back.Boundary = 31.5, square(1, 0, 1)
	if err := s.PutGrid(system(), back, back.Code, 3); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		loc, err := other.Locate(reader("320508"), 121.5, 31.5)
		if err == nil && loc.Grid.Code == back.Code {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other replica did not see the change: %+v %v", loc, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Rows from before the bounds columns get them when the index is built.
	if _, err := d.Exec(ctx, `INSERT INTO grids (code, name, community_code, scope_key, boundary, centroid_lon, centroid_lat, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, comm19+"002", "旧网格", comm19, comm19+"002", string(square(2, 1, 1)), 122.5, 32.5, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	var minLon, maxLat float64
	if err := d.QueryRow(ctx, `SELECT min_lon, max_lat FROM grids WHERE code = ?`, comm19+"002").Scan(&minLon, &maxLat); err != nil || minLon != 122 || maxLat != 33 {
		t.Fatalf("bounds not filled in: %v %v %v", minLon, maxLat, err)
	}
	if loc, err := s.Locate(reader("320508019"), 122.5, 32.5); err != nil || loc.Grid.Name != "旧网格" {
		t.Fatalf("old row: %+v %v", loc, err)
	}
	if _, err := d.Exec(ctx, `DELETE FROM grids WHERE code = ?`, comm19+"002"); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(ctx); err != nil {
		t.Fatal(err)
	}
}

func codes(fs []ogc.Feature) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testGridsCollection(t *testing.T, s *geo.Service) {
	c := s.GridsCollection()
	info := c.Describe()
	if info.ID != "grids" || info.BBox == nil || info.BBox[0] != 120 || info.BBox[2] != 123 || info.Permission != authz.DivisionsRead {
		t.Fatalf("info = %+v (bbox %v)", info, info.BBox)
	}
	all := []string{comm18 + "001", comm18 + "002", comm19 + "001"}
	for name, c2 := range map[string]struct {
		ctx  context.Context
		q    ogc.Query
		want []string
		n    int
	}{
		"all":                {reader("320508"), ogc.Query{Limit: 10}, all, 3},
		"page":               {reader("320508"), ogc.Query{Limit: 1, Offset: 1}, all[1:2], 3},
		"street scope":       {reader("320508019"), ogc.Query{Limit: 10}, all[2:], 1},
		"community":          {reader("320508"), ogc.Query{Limit: 10, Filters: map[string]string{"communityCode": comm18}}, all[:2], 2},
		"street 9":           {reader("320508"), ogc.Query{Limit: 10, Filters: map[string]string{"streetCode": "320508019"}}, all[2:], 1},
		"street 12":          {reader("320508"), ogc.Query{Limit: 10, Filters: map[string]string{"streetCode": street18}}, all[:2], 2},
		"district":           {reader("320508"), ogc.Query{Limit: 10, Filters: map[string]string{"districtCode": "320508"}}, all, 3},
		"bbox":               {reader("320508"), ogc.Query{Limit: 10, BBox: &[4]float64{121.2, 31.2, 121.8, 31.8}}, all[1:2], 1},
		"bbox touching":      {reader("320508"), ogc.Query{Limit: 10, BBox: &[4]float64{121, 30, 121, 30.5}}, nil, 0},
		"bbox edge":          {reader("320508"), ogc.Query{Limit: 10, BBox: &[4]float64{121, 31.2, 121, 31.3}}, all[:2], 2},
		"bbox antimeridian":  {reader("320508"), ogc.Query{Limit: 10, BBox: &[4]float64{122.5, 31, -170, 32}}, all[2:], 1},
		"bbox and scope":     {reader("320508019"), ogc.Query{Limit: 10, BBox: &[4]float64{120, 31, 123, 32}}, all[2:], 1},
		"datetime (ignored)": {reader("320508"), ogc.Query{Limit: 10, Start: &time.Time{}}, all, 3},
	} {
		fs, n, err := c.Items(c2.ctx, c2.q)
		if err != nil || n != c2.n || !equal(codes(fs), c2.want) {
			t.Errorf("%s: %v (%d), %v; want %v (%d)", name, codes(fs), n, err, c2.want, c2.n)
		}
	}
	fs, _, _ := c.Items(reader("320508"), ogc.Query{Limit: 1})
	p := fs[0].Properties
	if p["code"] != comm18+"001" || p["name"] != "第一网格" || p["communityCode"] != comm18 || p["streetCode"] != street18 || p["districtCode"] != "320508000000" {
		t.Errorf("properties %v", p)
	}
	if _, ok := geo.GeometryBounds(fs[0].Geometry); !ok {
		t.Errorf("geometry %s", fs[0].Geometry)
	}
	if _, _, err := c.Items(reader("320508"), ogc.Query{Limit: 1, Filters: map[string]string{"streetCode": "32050801"}}); errs.CodeOf(err) != errs.CodeInvalid {
		t.Errorf("bad street code: %v", err)
	}
	if f, err := c.Item(reader("320508018"), comm18+"002"); err != nil || f.ID != comm18+"002" {
		t.Errorf("Item: %v %v", f, err)
	}
	if _, err := c.Item(reader("320508019"), comm18+"002"); errs.CodeOf(err) != errs.CodeNotFound {
		t.Errorf("Item outside the region: %v", err)
	}
	if _, err := c.Item(reader("320508"), "nope"); errs.CodeOf(err) != errs.CodeNotFound {
		t.Errorf("Item unknown: %v", err)
	}
}

func testDivisionsCollection(t *testing.T, s *geo.Service) {
	c := s.DivisionsCollection()
	if info := c.Describe(); info.ID != "divisions" || info.BBox == nil || *info.BBox != [4]float64{120, 31, 123, 33} {
		t.Fatalf("info = %+v bbox %v", info, info.BBox)
	}
	for name, c2 := range map[string]struct {
		ctx  context.Context
		q    ogc.Query
		want []string
		n    int
	}{
		"all":          {reader("320508"), ogc.Query{Limit: 10}, []string{street18, comm18, street19, comm19}, 4},
		"street scope": {reader("320508019"), ogc.Query{Limit: 10}, []string{street19, comm19}, 2},
		"level":        {reader("320508"), ogc.Query{Limit: 10, Filters: map[string]string{"level": "township"}}, []string{street18, street19}, 2},
		"parent 9":     {reader("320508"), ogc.Query{Limit: 10, Filters: map[string]string{"parentCode": "320508018"}}, []string{comm18}, 1},
		"page":         {reader("320508"), ogc.Query{Limit: 2, Offset: 1}, []string{comm18, street19}, 4},
		// comm19 has no boundary: no geometry, never in a bbox.
		"bbox":      {reader("320508"), ogc.Query{Limit: 10, BBox: &[4]float64{122.2, 31.2, 122.4, 31.4}}, []string{street19}, 1},
		"bbox page": {reader("320508"), ogc.Query{Limit: 1, Offset: 1, BBox: &[4]float64{120, 31, 123, 32}}, []string{comm18}, 3},
	} {
		fs, n, err := c.Items(c2.ctx, c2.q)
		if err != nil || n != c2.n || !equal(codes(fs), c2.want) {
			t.Errorf("%s: %v (%d), %v; want %v (%d)", name, codes(fs), n, err, c2.want, c2.n)
		}
	}
	f, err := c.Item(reader("320508019"), comm19)
	if err != nil || f.Geometry != nil || f.Properties["name"] != "第二社区" || f.Properties["level"] != "community" || f.Properties["parentCode"] != street19 || f.Properties["short"] != comm19 {
		t.Errorf("Item: %+v %v", f, err)
	}
	if _, err := c.Item(reader("320508019"), comm18); errs.CodeOf(err) != errs.CodeNotFound {
		t.Errorf("Item outside the region: %v", err)
	}
	if _, err := c.Item(reader("320508"), "320508000000"); errs.CodeOf(err) != errs.CodeNotFound {
		t.Errorf("a district is not in the collection: %v", err)
	}
	if _, _, err := c.Items(reader("320508"), ogc.Query{Limit: 1, Filters: map[string]string{"parentCode": "12"}}); errs.CodeOf(err) != errs.CodeInvalid {
		t.Errorf("bad parent: %v", err)
	}
}

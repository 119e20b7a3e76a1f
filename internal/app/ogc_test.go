package app_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/demo/district"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// TestOGC runs the OGC API - Features server and the geocoding endpoint on
// the real server with the demo district, on each backend: GDAL's OAPIF
// driver (a real, independent client) lists the collections and reads
// every grid through the paging links; then region scope, errors and the
// OpenAPI 3.0 document; and geocoding against the demo district's own
// point-in-grid search.
func TestOGC(t *testing.T) {
	t.Parallel()
	for _, backend := range dbtest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			t.Parallel()
			e := apptest.Start(t, backend) // the smallest demo district (size 1000)
			token := districtToken(t, e)
			t.Run("GDAL reads every grid", func(t *testing.T) { testGDAL(t, e, token) })
			t.Run("region scope", func(t *testing.T) { testOGCScope(t, e) })
			t.Run("errors", func(t *testing.T) { testOGCErrors(t, e, token) })
			t.Run("OpenAPI 3.0 document", func(t *testing.T) { testOGCOpenAPI(t, e, token) })
			t.Run("geocoding", func(t *testing.T) { testGeocode(t, e) })
		})
	}
}

// districtToken issues an API token with divisions:read for the district
// government (its region is the whole district), as a security
// administrator does.
func districtToken(t *testing.T, e *apptest.Env) string {
	t.Helper()
	sec := e.Login(t, "secadmin")
	r := sec.Do("POST", "/api/v1/tokens", map[string]any{"name": "GIS 客户端", "orgId": orgIDByName(t, e, "姑苏区人民政府"),
		"scopes": []string{"divisions:read"}, "expiresInDays": 1})
	if r.Status != 200 {
		t.Fatalf("issue token: %d %s", r.Status, r.Body)
	}
	var tok struct{ Token string }
	r.JSON(&tok)
	return tok.Token
}

type demoGrid struct{ code, name, community string }

func gridsInDB(t *testing.T, e *apptest.Env, prefix string) []demoGrid {
	t.Helper()
	rows, err := e.Server.DB.Query(context.Background(), `SELECT code, name, community_code FROM grids WHERE code >= ? AND code < ? ORDER BY code`, prefix, prefix+"~")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []demoGrid
	for rows.Next() {
		var g demoGrid
		if err := rows.Scan(&g.code, &g.name, &g.community); err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	if len(out) == 0 {
		t.Fatalf("no grids under %s", prefix)
	}
	return out
}

// ogrinfo returns the path of GDAL's ogrinfo. Without it the test fails:
// reading the OGC API with a real GIS tool is what it proves (make test
// installs gdal-bin through scripts/deps.sh test).
func ogrinfo(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Fatal("ogrinfo not found: install gdal-bin (scripts/deps.sh test)")
	}
	return p
}

// gdalAuth returns the GDAL options that send the bearer token:
// GDAL_HTTP_HEADERS from GDAL 3.6, GDAL_HTTP_HEADER_FILE before.
func gdalAuth(t *testing.T, bin, token string) []string {
	t.Helper()
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("ogrinfo --version: %v", err)
	}
	t.Logf("%s", bytes.TrimSpace(out))
	m := regexp.MustCompile(`GDAL (\d+)\.(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("cannot read the GDAL version from %q", out)
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	if major > 3 || major == 3 && minor >= 6 {
		return []string{"--config", "GDAL_HTTP_HEADERS", "Authorization: Bearer " + token}
	}
	f := filepath.Join(t.TempDir(), "headers")
	if err := os.WriteFile(f, []byte("Authorization: Bearer "+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--config", "GDAL_HTTP_HEADER_FILE", f}
}

func runOgr(t *testing.T, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "GDAL_HTTP_TIMEOUT=30", "GDAL_HTTP_MAX_RETRY=0")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("ogrinfo %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, o.String(), e.String())
	}
	return o.String(), e.String()
}

func testGDAL(t *testing.T, e *apptest.Env, token string) {
	bin := ogrinfo(t)
	auth := gdalAuth(t, bin, token)
	ds := "OAPIF:" + e.URL + "/ogc"

	// The collections.
	out, _ := runOgr(t, bin, append(auth, "-ro", "-so", ds)...)
	for _, layer := range []string{"grids", "divisions"} {
		if !regexp.MustCompile(`(?m)^\d+: ` + layer + `\b`).MatchString(out) {
			t.Errorf("layer %s not listed:\n%s", layer, out)
		}
	}

	// Every grid, 50 per page, with GDAL's HTTP debug log to see the paging.
	const pageSize = 50
	out, debug := runOgr(t, bin, append(auth, "--debug", "on", "-oo", "PAGE_SIZE="+strconv.Itoa(pageSize), "-ro", "-al", "-q", ds, "grids")...)
	got := map[string]map[string]string{} // code -> attributes
	var cur map[string]string
	sc := bufio.NewScanner(strings.NewReader(out))
	attr := regexp.MustCompile(`^\s+(\w+) \((\w+)\) = (.*)$`)
	polygons := 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "OGRFeature(grids):"):
			cur = map[string]string{}
		case cur != nil && attr.MatchString(line):
			m := attr.FindStringSubmatch(line)
			cur[m[1]] = m[3]
			if m[1] == "code" {
				got[m[3]] = cur
			}
		case strings.HasPrefix(strings.TrimSpace(line), "POLYGON (("):
			polygons++
		}
	}
	want := gridsInDB(t, e, "")
	if len(got) != len(want) || polygons != len(want) {
		t.Fatalf("GDAL read %d grids (%d polygons), the database has %d", len(got), polygons, len(want))
	}
	for _, i := range []int{0, 1, len(want) / 2, len(want) - 1} {
		w := want[i]
		g := got[w.code]
		if g == nil || g["name"] != w.name || g["communityCode"] != w.community || g["streetCode"] != w.code[:9]+"000" || g["districtCode"] != "320508000000" {
			t.Errorf("grid %s: GDAL read %v, want name %s community %s", w.code, g, w.name, w.community)
		}
	}
	// GDAL followed the next links: one fetch per page.
	pages := len(regexp.MustCompile(`Fetch\(\S*/ogc/collections/grids/items\?\S*offset=\d+`).FindAllString(debug, -1))
	if wantPages := (len(want) - 1) / pageSize; pages < wantPages {
		t.Errorf("GDAL fetched %d further pages, want %d (page size %d, %d grids)\n%s", pages, wantPages, pageSize, len(want), debug)
	}

	// The divisions layer, read whole: streets and communities.
	out, _ = runOgr(t, bin, append(auth, "-ro", "-al", "-q", ds, "divisions")...)
	var n int
	if err := e.Server.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM divisions WHERE level IN ('township', 'community')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(out, "OGRFeature(divisions):"); c != n || !strings.Contains(out, "name (String) = 平江街道") {
		t.Errorf("GDAL read %d divisions, want %d", c, n)
	}
}

type ogcPage struct {
	Features []struct {
		ID         string
		Properties map[string]any
	}
	NumberMatched int
	Links         []struct{ Href, Rel string }
}

func testOGCScope(t *testing.T, e *apptest.Env) {
	for user, prefix := range map[string]string{"staff": "320508018", "staff2": "320508019"} {
		c := e.Login(t, user)
		var page ogcPage
		r := c.Do("GET", "/ogc/collections/grids/items?limit=10000", nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", user, r.Status, r.Body)
		}
		r.JSON(&page)
		want := gridsInDB(t, e, prefix)
		if page.NumberMatched != len(want) || len(page.Features) != len(want) {
			t.Errorf("%s sees %d grids (matched %d), their street has %d", user, len(page.Features), page.NumberMatched, len(want))
		}
		for _, f := range page.Features {
			if !strings.HasPrefix(f.ID, prefix) {
				t.Fatalf("%s sees grid %s outside their street", user, f.ID)
			}
		}
		page = ogcPage{}
		c.Do("GET", "/ogc/collections/divisions/items", nil).JSON(&page)
		if len(page.Features) == 0 {
			t.Errorf("%s sees no divisions", user)
		}
		for _, f := range page.Features {
			if !strings.HasPrefix(f.ID, prefix) {
				t.Fatalf("%s sees division %s outside their street", user, f.ID)
			}
		}
		// Another street's grid is not found, not forbidden.
		other := "320508019"
		if prefix == other {
			other = "320508018"
		}
		g := gridsInDB(t, e, other)[0]
		if r := c.Do("GET", "/ogc/collections/grids/items/"+g.code, nil); r.Status != 404 {
			t.Errorf("%s reads grid %s of another street: %d", user, g.code, r.Status)
		}
		if r := c.Do("GET", "/ogc/collections/grids/items/"+want[0].code, nil); r.Status != 200 {
			t.Errorf("%s reads their own grid: %d %s", user, r.Status, r.Body)
		}
		// Filters by community narrow within the region.
		page = ogcPage{}
		c.Do("GET", "/ogc/collections/grids/items?community="+want[0].community, nil).JSON(&page)
		for _, f := range page.Features {
			if f.Properties["communityCode"] != want[0].community {
				t.Errorf("community filter returned %v", f.Properties)
			}
		}
		if len(page.Features) == 0 {
			t.Errorf("%s: community filter returned nothing", user)
		}
	}
	// Region by bbox: the grids around a point include the grid geocoding
	// finds there.
	leader := e.Login(t, "leader")
	var loc struct{ Grid struct{ Code string } }
	r := leader.Do("GET", "/api/v1/geocode?lon=120.62&lat=31.31", nil)
	if r.Status != 200 {
		t.Fatalf("geocode: %d %s", r.Status, r.Body)
	}
	r.JSON(&loc)
	var page ogcPage
	leader.Do("GET", "/ogc/collections/grids/items?bbox=120.6199,31.3099,120.6201,31.3101", nil).JSON(&page)
	found := false
	for _, f := range page.Features {
		found = found || f.ID == loc.Grid.Code
	}
	if !found || page.NumberMatched > 4 {
		t.Errorf("bbox around the point: %d grids, geocoded grid %s among them: %v", page.NumberMatched, loc.Grid.Code, found)
	}
}

func testOGCErrors(t *testing.T, e *apptest.Env, token string) {
	if r := e.Anonymous(t).Do("GET", "/ogc/collections", nil); r.Status != 401 {
		t.Errorf("anonymous: %d", r.Status)
	} else {
		r.Problem()
	}
	if r := e.Login(t, "citizen").Do("GET", "/ogc/collections/grids/items", nil); r.Status != 403 {
		t.Errorf("citizen (no divisions:read): %d", r.Status)
	} else if p := r.Problem(); p.Code != "forbidden" {
		t.Errorf("citizen: %+v", p)
	}
	c := e.Bearer(t, token)
	for q, field := range map[string]string{"limit=0": "limit", "bbox=1,2,3": "bbox", "datetime=soon": "datetime", "nope=1": "nope", "streetCode=123": "streetCode"} {
		r := c.Do("GET", "/ogc/collections/grids/items?"+q, nil)
		if r.Status != 400 {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
			continue
		}
		if p := r.Problem(); len(p.Errors) != 1 || p.Errors[0].Field != field || p.Errors[0].Rule == "" {
			t.Errorf("%s: %+v", q, p)
		}
	}
	for _, path := range []string{"/ogc/collections/nothing", "/ogc/collections/grids/items/000", "/ogc/collections/divisions/items/320508000000", "/ogc/other"} {
		if r := c.Do("GET", path, nil); r.Status != 404 {
			t.Errorf("%s: %d", path, r.Status)
		} else {
			r.Problem()
		}
	}
	// datetime is accepted (and ignored: grids carry no time).
	var all, dated ogcPage
	c.Do("GET", "/ogc/collections/grids/items?limit=1", nil).JSON(&all)
	c.Do("GET", "/ogc/collections/grids/items?limit=1&datetime=2026-01-01T00:00:00Z/..", nil).JSON(&dated)
	if dated.NumberMatched != all.NumberMatched || all.NumberMatched == 0 {
		t.Errorf("datetime changed the result: %d vs %d", dated.NumberMatched, all.NumberMatched)
	}
}

func testOGCOpenAPI(t *testing.T, e *apptest.Env, token string) {
	r := e.Bearer(t, token).Do("GET", "/ogc/api", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/vnd.oai.openapi+json;version=3.0" {
		t.Fatalf("%d %s", r.Status, r.Header.Get("Content-Type"))
	}
	doc, err := libopenapi.NewDocument(r.Body)
	if err != nil {
		t.Fatalf("does not parse: %v", err)
	}
	if v := doc.GetVersion(); v != "3.0.3" {
		t.Fatalf("version %s", v)
	}
	v, verrs := validator.NewValidator(doc)
	if len(verrs) > 0 {
		t.Fatalf("validator: %v", verrs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("%s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s", se.Reason)
			}
		}
	}
	for _, p := range []string{`"/collections/grids/items"`, `"/collections/divisions/items"`, `"communityCode"`, `"parentCode"`} {
		if !bytes.Contains(r.Body, []byte(p)) {
			t.Errorf("%s missing from the document", p)
		}
	}
}

// testGeocode compares /api/v1/geocode with the demo district's own
// point-in-grid search on random points.
func testGeocode(t *testing.T, e *apptest.Env) {
	d, err := district.Build(e.Server.Cfg.DemoSeed, e.Server.Cfg.DemoSize)
	if err != nil {
		t.Fatal(err)
	}
	leader := e.Login(t, "leader") // the whole district
	rng := rand.New(rand.NewPCG(1, 2))
	ext := district.Extent
	hits, staffChecked := 0, false
	for range 60 {
		lon := ext[0] + rng.Float64()*(ext[2]-ext[0])
		lat := ext[1] + rng.Float64()*(ext[3]-ext[1])
		want, ok := d.Locate(lon, lat)
		r := leader.Do("GET", fmt.Sprintf("/api/v1/geocode?lon=%v&lat=%v", lon, lat), nil)
		if !ok {
			if r.Status != 404 {
				t.Errorf("(%v, %v) is in no grid, got %d", lon, lat, r.Status)
			}
			continue
		}
		var loc struct {
			Grid, Community, Street, District struct{ Code, Name string }
		}
		if r.Status != 200 {
			t.Fatalf("(%v, %v): %d %s", lon, lat, r.Status, r.Body)
		}
		r.JSON(&loc)
		comm, _ := d.Division(want.Community)
		street, _ := d.Division(want.Street)
		if loc.Grid.Code != want.Code || loc.Grid.Name != want.Name || loc.Community.Code != want.Community || loc.Community.Name != comm.Name ||
			loc.Street.Code != street.Code || loc.Street.Name != street.Name || loc.District.Code != "320508000000" || loc.District.Name != "姑苏区" {
			t.Errorf("(%v, %v): %+v, want grid %s %s in %s %s, %s", lon, lat, loc, want.Code, want.Name, comm.Name, street.Name, street.Code)
		}
		hits++
		// Staff of another street do not find it (checked once).
		if !staffChecked && !strings.HasPrefix(want.Code, "320508018") {
			staffChecked = true
			if r := e.Login(t, "staff").Do("GET", fmt.Sprintf("/api/v1/geocode?lon=%v&lat=%v", lon, lat), nil); r.Status != 404 {
				t.Errorf("staff of 平江街道 geocode a point in %s: %d", want.Code, r.Status)
			}
		}
	}
	if !staffChecked {
		t.Error("no random point outside 平江街道")
	}
	if hits == 0 {
		t.Fatal("no random point was in a grid")
	}
	for q, field := range map[string]string{"lon=181&lat=31": "lon", "lon=120&lat=-91": "lat", "lat=31": "lon"} {
		r := leader.Do("GET", "/api/v1/geocode?"+q, nil)
		if p := r.Problem(); r.Status != 422 || len(p.Errors) == 0 || p.Errors[0].Field != field {
			t.Errorf("%s: %d %+v", q, r.Status, p)
		}
	}
}

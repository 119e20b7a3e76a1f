package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

func firstKey(t *testing.T, e *apptest.Env, query string, args ...any) string {
	t.Helper()
	var k string
	if err := e.Server.DB.QueryRow(context.Background(), query, args...).Scan(&k); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return k
}

// gridIn returns the first unit grid of a division (short code prefix).
func gridIn(t *testing.T, e *apptest.Env, prefix string) (code string, lon, lat float64) {
	t.Helper()
	if err := e.Server.DB.QueryRow(context.Background(), `SELECT code, centroid_lon, centroid_lat FROM grids WHERE code >= ? AND code < ? ORDER BY code LIMIT 1`,
		prefix, prefix+"~").Scan(&code, &lon, &lat); err != nil {
		t.Fatalf("grid in %s: %v", prefix, err)
	}
	return code, lon, lat
}

// communityOf returns the scope of a user (their community or street).
func scopeOf(t *testing.T, e *apptest.Env, username string) string {
	return firstKey(t, e, `SELECT scope_key FROM users WHERE username = ?`, username)
}

type person struct {
	ID, IDNumber, Name, Phone, Address, GridCode, HouseholdID string
	ClearFields                                               []string
	Sources                                                   map[string]struct{ Dept string }
}

var idSeq atomic.Int64 // ID numbers handed out by newIDNumber

// newIDNumber makes a valid, unused ID number.
func newIDNumber() string {
	n := int(idSeq.Add(1))
	// 321283 (泰兴): no demo person is registered there, so no number collides.
	return idcode.MakeCitizenID("321283", time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/1000), n%1000)
}

func createPerson(t *testing.T, c *apptest.Client, grid, name string) (person, string) {
	t.Helper()
	id := newIDNumber()
	r := c.Do("POST", "/api/v1/people", map[string]any{"idNumber": id, "name": name, "resident": true, "registered": true,
		"gridCode": grid, "address": "测试路" + id[6:14] + "号" + id[14:] + "室", "phone": "13912345678", "householdNumber": "T" + id[10:]})
	if r.Status != 200 {
		t.Fatalf("create person: %d %s", r.Status, r.Body)
	}
	var p person
	r.JSON(&p)
	return p, id
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	for _, backend := range dbtest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			t.Parallel()
			e := apptest.Start(t, backend)
			t.Run("identifiers are checked by their national rules", func(t *testing.T) { testIdentifiers(t, e) })
			t.Run("personal fields are masked unless a purpose allows them", func(t *testing.T) { testMasking(t, e) })
			t.Run("region scope holds on every route", func(t *testing.T) { testRegistryScope(t, e) })
			t.Run("conflicting sources are routed to the authority", func(t *testing.T) { testConflicts(t, e) })
			t.Run("grid workers propose and the authority decides", func(t *testing.T) { testProposals(t, e) })
			t.Run("imports check every row and write all or nothing", func(t *testing.T) { testImports(t, e) })
			t.Run("an interrupted import writes nothing", func(t *testing.T) { testImportCancel(t, e) })
			t.Run("buildings, rooms and components", func(t *testing.T) { testPlaces(t, e) })
			t.Run("grid workers' grids and search", func(t *testing.T) { testGridWorkers(t, e) })
			t.Run("responsibility grids", func(t *testing.T) { testResponsibilityGrids(t, e) })
		})
	}
}

func testIdentifiers(t *testing.T, e *apptest.Env) {
	police := e.Login(t, "police")
	grid, _, _ := gridIn(t, e, scopeOf(t, e, "police"))
	good := newIDNumber()
	bad := good[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", good[17])+1)%11])
	cases := []struct {
		body        map[string]any
		field, rule string
	}{
		{map[string]any{"idNumber": bad, "name": "王五", "resident": true, "gridCode": grid}, "idNumber", "check-character"},
		{map[string]any{"idNumber": "32050820230231001X", "name": "王五", "resident": true, "gridCode": grid}, "idNumber", ""},
		{map[string]any{"idNumber": good, "name": "王五", "gridCode": grid}, "registered", "population"},
		{map[string]any{"idNumber": good, "name": "王五", "resident": true, "gridCode": grid, "phone": "12345"}, "phone", "phone"},
		{map[string]any{"idNumber": good, "name": "王五", "resident": true, "gridCode": "320508018999999"}, "gridCode", "exists"},
	}
	before := count(t, e, "reg_people")
	for _, c := range cases {
		r := police.Lang("zh").Do("POST", "/api/v1/people", c.body)
		if r.Status != 422 {
			t.Fatalf("%v: %d %s", c.body, r.Status, r.Body)
		}
		p := r.Problem()
		if len(p.Errors) == 0 || p.Errors[0].Field != c.field || (c.rule != "" && p.Errors[0].Rule != c.rule) {
			t.Errorf("%v: errors %+v, want field %s rule %s", c.body["idNumber"], p.Errors, c.field, c.rule)
		}
	}
	if n := count(t, e, "reg_people"); n != before {
		t.Fatalf("refused creates wrote %d people", n-before)
	}
	// A 15-digit legacy number is upgraded; a second registration conflicts.
	r := police.Do("POST", "/api/v1/people", map[string]any{"idNumber": "320508491231002", "name": "旧号", "resident": true, "gridCode": grid})
	if r.Status != 200 {
		t.Fatalf("legacy number: %d %s", r.Status, r.Body)
	}
	var p person
	police.Do("GET", "/api/v1/people/"+firstKey(t, e, `SELECT id FROM reg_people ORDER BY created_at DESC, id DESC LIMIT 1`)+"?purpose=registration", nil).JSON(&p)
	if want := idcode.MakeCitizenID("320508", time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC), 2); p.IDNumber != want {
		t.Errorf("upgraded number %q", p.IDNumber)
	}
	if r := police.Do("POST", "/api/v1/people", map[string]any{"idNumber": p.IDNumber, "name": "旧号", "resident": true, "gridCode": grid}); r.Status != 409 {
		t.Errorf("duplicate: %d %s", r.Status, r.Body)
	}
	// Credit codes: the check character is named.
	r = e.Login(t, "staff").Do("POST", "/api/v1/entities", map[string]any{"creditCode": "91350100M000100Y44", "name": "测试公司", "legalRep": "张三", "industry": "F", "address": "平江路1号", "gridCode": grid})
	if pr := r.Problem(); r.Status != 422 || pr.Errors[0].Field != "creditCode" || pr.Errors[0].Rule != "check-character" {
		t.Errorf("bad credit code: %d %+v", r.Status, pr.Errors)
	}
}

var maskedID = regexp.MustCompile(`^[0-9]{6}\*{8}[0-9]{3}[0-9X]$`)

func testMasking(t *testing.T, e *apptest.Env) {
	gw := e.Login(t, "gridworker")
	var page struct {
		Items []person
		Total int
	}
	gw.Do("GET", "/api/v1/people?pageSize=50", nil).JSON(&page)
	if page.Total == 0 {
		t.Fatal("the grid worker sees nobody in their community")
	}
	for _, p := range page.Items {
		if !maskedID.MatchString(p.IDNumber) || !strings.Contains(p.Name, "*") || len(p.ClearFields) != 0 {
			t.Fatalf("unmasked without a purpose: %+v", p)
		}
		if p.Phone != "" && !strings.Contains(p.Phone, "****") {
			t.Fatalf("phone unmasked: %q", p.Phone)
		}
		if strings.HasSuffix(p.Address, "室") {
			t.Fatalf("room shown without a purpose: %q", p.Address)
		}
	}
	// A grid visit shows names and addresses, not ID numbers.
	var visit struct{ Items []person }
	gw.Do("GET", "/api/v1/people?pageSize=50&purpose=grid-visit", nil).JSON(&visit)
	for _, p := range visit.Items {
		if strings.Contains(p.Name, "*") || !maskedID.MatchString(p.IDNumber) || !slices.Contains(p.ClearFields, "name") {
			t.Fatalf("grid-visit view: %+v", p)
		}
	}
	// Purposes the role may not state are refused, unknown ones invalid.
	if r := gw.Do("GET", "/api/v1/people?purpose=public-security", nil); r.Status != 403 {
		t.Errorf("grid worker stating public-security: %d", r.Status)
	}
	if r := gw.Do("GET", "/api/v1/people?purpose=curiosity", nil); r.Status != 422 || r.Problem().Errors[0].Field != "purpose" {
		t.Errorf("unknown purpose: %d %s", r.Status, r.Body)
	}
	// The export is masked as the list is.
	exp := gw.Do("GET", "/api/v1/people/export?format=csv", nil)
	if exp.Status != 200 || !bytes.Contains(exp.Body, []byte("********")) {
		t.Fatalf("export: %d", exp.Status)
	}
	for _, line := range strings.Split(string(exp.Body), "\n")[1:] {
		if f := strings.SplitN(line, ",", 2); len(f) == 2 && !maskedID.MatchString(f[0]) {
			t.Fatalf("export row with an unmasked ID number: %q", line)
		}
	}
	// The clear read is evidence on the ledger.
	waitLedger(t, e, func(d map[string]any) bool {
		return d["action"] == "registry.disclose" && d["purpose"] == "grid-visit" && d["actorName"] == "gridworker"
	})
	// Personal fields are encrypted at rest: no ID number or phone in clear.
	var enc, mask string
	if err := e.Server.DB.QueryRow(context.Background(), `SELECT id_enc, id_mask FROM reg_people LIMIT 1`).Scan(&enc, &mask); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(enc, mask[14:]) || !maskedID.MatchString(mask) {
		t.Fatalf("stored id %q / %q", enc, mask)
	}
}

// waitLedger waits for a ledger record matching ok among the last entries.
func waitLedger(t *testing.T, e *apptest.Env, ok func(map[string]any) bool) {
	t.Helper()
	findLedger(t, e, ok)
}

// findLedger waits for a ledger entry the predicate accepts and returns its
// index. It reads the whole log in process: other tests' and the demo's
// evidence can bury a record deep.
func findLedger(t *testing.T, e *apptest.Env, ok func(map[string]any) bool) int64 {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	var next int64
	for {
		for size := e.Server.Ledger.Size(); next < size; next++ {
			en, err := e.Server.Ledger.Entry(ctx, next)
			if err != nil {
				t.Fatalf("ledger entry %d: %v", next, err)
			}
			var d map[string]any
			if json.Unmarshal(en.Data, &d) == nil && ok(d) {
				return next
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the expected record did not reach the ledger within 30s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func testRegistryScope(t *testing.T, e *apptest.Env) {
	police, staff2, gw := e.Login(t, "police"), e.Login(t, "staff2"), e.Login(t, "gridworker")
	// A person in 平江, outside the grid worker's community.
	gwScope := scopeOf(t, e, "gridworker")
	other := firstKey(t, e, `SELECT code FROM grids WHERE code >= '320508018' AND code < '320508018~' AND code NOT LIKE ? ORDER BY code LIMIT 1`, gwScope+"%")
	p, idNumber := createPerson(t, police, other, "范围测试")
	if !strings.HasPrefix(p.GridCode, "320508018") {
		t.Fatalf("created in %s", p.GridCode)
	}
	for name, c := range map[string]*apptest.Client{"staff2 (金阊)": staff2, "gridworker (another community)": gw} {
		for _, path := range []string{
			"/api/v1/people/" + p.ID,
			"/api/v1/people/lookup?idNumber=" + idNumber,
			"/api/v1/registry/history?kind=person&id=" + p.ID,
			"/api/v1/households/" + p.HouseholdID,
		} {
			if r := c.Do("GET", path, nil); r.Status != 404 {
				t.Errorf("%s GET %s: %d, want 404", name, path, r.Status)
			}
		}
		var page struct{ Total int }
		c.Do("GET", "/api/v1/people?q="+idNumber, nil).JSON(&page)
		if page.Total != 0 {
			t.Errorf("%s finds the person by ID number", name)
		}
		if r := c.Do("GET", "/api/v1/people/export?format=csv&within="+other, nil); bytes.Contains(r.Body, []byte(p.ID)) || strings.Count(string(r.Body), "\n") > 1 {
			t.Errorf("%s exports people of %s: %s", name, other, r.Body)
		}
	}
	if r := staff2.Do("PATCH", "/api/v1/people/"+p.ID, map[string]any{"values": map[string]string{"phone": "13800000000"}}); r.Status != 404 {
		t.Errorf("staff2 PATCH: %d", r.Status)
	}
	if r := staff2.Do("PUT", "/api/v1/people/"+p.ID+"/tags/disabled", nil); r.Status != 404 {
		t.Errorf("staff2 tag: %d", r.Status)
	}
	if r := gw.Do("POST", "/api/v1/registry/changes", map[string]any{"kind": "person", "recordId": p.ID, "values": map[string]string{"phone": "13800000000"}}); r.Status != 404 {
		t.Errorf("grid worker proposing outside the community: %d", r.Status)
	}
	// Lists hold only the caller's region.
	var page struct {
		Items []struct{ GridCode string }
		Total int
	}
	staff2.Do("GET", "/api/v1/people?pageSize=200", nil).JSON(&page)
	if page.Total == 0 {
		t.Fatal("staff2 sees nobody")
	}
	for _, it := range page.Items {
		if !strings.HasPrefix(it.GridCode, "320508019") {
			t.Fatalf("staff2 sees a person of %s", it.GridCode)
		}
	}
	// The owner of the record reads it.
	if r := police.Do("GET", "/api/v1/people/lookup?idNumber="+idNumber, nil); r.Status != 200 {
		t.Errorf("police lookup: %d", r.Status)
	}
}

type outcome struct{ Field, Outcome, ChangeID, AuthorityDept string }

func testConflicts(t *testing.T, e *apptest.Env) {
	police, staff, staff2 := e.Login(t, "police"), e.Login(t, "staff"), e.Login(t, "staff2")
	grid, _, _ := gridIn(t, e, "320508018")
	p, _ := createPerson(t, police, grid, "李冲突")
	// The street office (jd) is the authority for phones: applied at once.
	// Names belong to the police (ga): routed, the stored value stays.
	var res struct{ Outcomes []outcome }
	r := staff.Do("PATCH", "/api/v1/people/"+p.ID, map[string]any{"values": map[string]string{"phone": "13700001111", "name": "李冲突改"}, "note": "居民反映"})
	if r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	r.JSON(&res)
	got := map[string]outcome{}
	for _, o := range res.Outcomes {
		got[o.Field] = o
	}
	if got["phone"].Outcome != "applied" || got["name"].Outcome != "routed" || got["name"].AuthorityDept != "ga" || got["name"].ChangeID == "" {
		t.Fatalf("outcomes %+v", res.Outcomes)
	}
	var clear person
	police.Do("GET", "/api/v1/people/"+p.ID+"?purpose=registration", nil).JSON(&clear)
	if clear.Name != "李冲突" {
		t.Fatalf("a non-authority overwrote the name: %q", clear.Name)
	}
	if clear.Sources["phone"].Dept != "jd" || clear.Sources["name"].Dept != "ga" {
		t.Fatalf("sources %+v", clear.Sources)
	}
	// The conflict is visible to the authority, masked.
	var changes struct {
		Items []struct{ ID, Reason, Field, Current, Proposed, ProposerDept, Status string }
	}
	police.Do("GET", "/api/v1/registry/changes?forMe=true&status=open&recordId="+p.ID, nil).JSON(&changes)
	if len(changes.Items) != 1 || changes.Items[0].Reason != "conflict" || changes.Items[0].ProposerDept != "jd" || changes.Items[0].Proposed != "李***" {
		t.Fatalf("changes for the police: %+v", changes.Items)
	}
	id := changes.Items[0].ID
	// Only the authority, in its region, decides.
	if r := staff.Do("POST", "/api/v1/registry/changes/"+id+"/decision", map[string]any{"accept": true}); r.Status != 403 {
		t.Errorf("non-authority decides: %d", r.Status)
	}
	if r := staff2.Do("POST", "/api/v1/registry/changes/"+id+"/decision", map[string]any{"accept": true}); r.Status != 404 {
		t.Errorf("other street decides: %d", r.Status)
	}
	if r := police.Do("POST", "/api/v1/registry/changes/"+id+"/decision", map[string]any{"accept": true, "note": "核实无误"}); r.Status != 200 {
		t.Fatalf("decide: %d %s", r.Status, r.Body)
	}
	if r := police.Do("POST", "/api/v1/registry/changes/"+id+"/decision", map[string]any{"accept": false}); r.Status != 409 {
		t.Errorf("decided twice: %d", r.Status)
	}
	police.Do("GET", "/api/v1/people/"+p.ID+"?purpose=registration", nil).JSON(&clear)
	if clear.Name != "李冲突改" || clear.Sources["name"].Dept != "ga" {
		t.Fatalf("after acceptance: %q from %s", clear.Name, clear.Sources["name"].Dept)
	}
	// History keeps the old values, masked without a purpose.
	var hist struct {
		Items []struct{ Field, Old, New, SourceDept, ChangeID string }
	}
	staff.Do("GET", "/api/v1/registry/history?kind=person&id="+p.ID, nil).JSON(&hist)
	fields := map[string]int{}
	for _, h := range hist.Items {
		fields[h.Field]++
		if h.Field == "name" && (h.Old != "李**" || h.New != "李***" || h.ChangeID != id) {
			t.Errorf("name history %+v", h)
		}
		if h.Field == "phone" && (h.Old != "139****5678" || h.SourceDept != "jd") {
			t.Errorf("phone history %+v", h)
		}
	}
	if fields["name"] != 1 || fields["phone"] != 1 {
		t.Fatalf("history %+v", hist.Items)
	}
	waitLedger(t, e, func(d map[string]any) bool {
		return d["action"] == "registry.change.decide" && d["actorName"] == "police"
	})
}

func testProposals(t *testing.T, e *apptest.Env) {
	police, staff, gw := e.Login(t, "police"), e.Login(t, "staff"), e.Login(t, "gridworker")
	grid, _, _ := gridIn(t, e, scopeOf(t, e, "gridworker"))
	p, _ := createPerson(t, police, grid, "赵提议")
	// Grid workers cannot write; they propose.
	if r := gw.Do("PATCH", "/api/v1/people/"+p.ID, map[string]any{"values": map[string]string{"phone": "13600000000"}}); r.Status != 403 {
		t.Fatalf("grid worker PATCH: %d", r.Status)
	}
	var res struct {
		Outcomes []outcome
		Change   *struct{ ID, Status, Proposed string }
	}
	r := gw.Do("POST", "/api/v1/registry/changes", map[string]any{"kind": "person", "recordId": p.ID, "values": map[string]string{"phone": "13600000000"}, "note": "入户核实"})
	if r.Status != 200 {
		t.Fatalf("propose: %d %s", r.Status, r.Body)
	}
	r.JSON(&res)
	if len(res.Outcomes) != 1 || res.Outcomes[0].Outcome != "routed" || res.Outcomes[0].AuthorityDept != "jd" {
		t.Fatalf("outcomes %+v", res.Outcomes)
	}
	if r := staff.Do("POST", "/api/v1/registry/changes/"+res.Outcomes[0].ChangeID+"/decision", map[string]any{"accept": true}); r.Status != 200 {
		t.Fatalf("street office decides: %d %s", r.Status, r.Body)
	}
	var after person
	staff.Do("GET", "/api/v1/people/"+p.ID+"?purpose=social-assistance", nil).JSON(&after)
	if after.Phone != "13600000000" {
		t.Fatalf("phone after acceptance %q", after.Phone)
	}
	// A new person found on a visit is created when the police accept it.
	idNumber := newIDNumber()
	r = gw.Do("POST", "/api/v1/registry/changes", map[string]any{"kind": "person", "note": "新入住", "record": map[string]any{
		"idNumber": idNumber, "name": "钱新来", "resident": true, "gridCode": grid}})
	if r.Status != 200 {
		t.Fatalf("propose new: %d %s", r.Status, r.Body)
	}
	r.JSON(&res)
	if res.Change == nil || res.Change.Status != "open" || strings.Contains(res.Change.Proposed, idNumber) {
		t.Fatalf("new-record change %+v", res.Change)
	}
	if r := police.Do("GET", "/api/v1/people/lookup?idNumber="+idNumber, nil); r.Status != 404 {
		t.Fatalf("created before the authority decided: %d", r.Status)
	}
	if r := police.Do("POST", "/api/v1/registry/changes/"+res.Change.ID+"/decision", map[string]any{"accept": true}); r.Status != 200 {
		t.Fatalf("accept new: %d %s", r.Status, r.Body)
	}
	if r := police.Do("GET", "/api/v1/people/lookup?idNumber="+idNumber, nil); r.Status != 200 {
		t.Fatalf("accepted person missing: %d", r.Status)
	}
	// A bad proposal is refused at once, naming the field.
	r = gw.Do("POST", "/api/v1/registry/changes", map[string]any{"kind": "person", "record": map[string]any{"idNumber": "123", "name": "x", "resident": true, "gridCode": grid}})
	if r.Status != 422 || r.Problem().Errors[0].Field != "record.idNumber" {
		t.Fatalf("bad proposal: %d %s", r.Status, r.Body)
	}
}

type importJob struct {
	ID, Status, Message string
	Total, Good, Bad    int
	Written             int
	Errors              []struct {
		Row         int
		Field, Rule string
	}
}

func waitImport(t *testing.T, c *apptest.Client, id string) importJob {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var j importJob
		c.Do("GET", "/api/v1/registry/imports/"+id, nil).JSON(&j)
		if j.Status != "checking" && j.Status != "writing" {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %s still %s after 60s", id, j.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startImport(t *testing.T, c *apptest.Client, kind, mode string, data []byte) importJob {
	t.Helper()
	r := c.Upload("POST", "/api/v1/registry/imports?kind="+kind+"&mode="+mode+"&filename=test", "application/octet-stream", data)
	if r.Status != 202 {
		t.Fatalf("start import: %d %s", r.Status, r.Body)
	}
	var j importJob
	r.JSON(&j)
	return waitImport(t, c, j.ID)
}

func peopleCSV(grid string, rows int, bad map[int]string) []byte {
	var b strings.Builder
	b.WriteString("\ufeff身份证号,姓名,实有人口,户籍人口,地址,网格编码,联系电话,标签\n")
	for i := range rows {
		id := newIDNumber()
		if v, ok := bad[i+2]; ok {
			id = v
		}
		fmt.Fprintf(&b, "%s,导入%d,是,否,导入路%d号,%s,139%08d,%s\n", id, i, i, grid, i, []string{"", "elderly-alone", "disabled;low-income"}[i%3])
	}
	return []byte(b.String())
}

func testImports(t *testing.T, e *apptest.Env) {
	police := e.Login(t, "police")
	grid, _, _ := gridIn(t, e, "320508018")
	before := count(t, e, "reg_people")
	// Rows 3 and 5 are bad (check character, impossible date), row 6
	// repeats row 2: all-or-nothing writes nothing and names each row.
	badDate := "32050819900230123" // 30 February, with a correct check character
	badDate += string(idcode.CitizenIDCheck(badDate))
	badCheck := newIDNumber()
	badCheck = badCheck[:17] + string("10X98765432"[(strings.IndexByte("10X98765432", badCheck[17])+1)%11])
	file := peopleCSV(grid, 5, map[int]string{3: badCheck, 5: badDate})
	dup := strings.Split(string(file), "\n")[1]
	file = append(file, []byte(dup+"\n")...)
	j := startImport(t, police, "people", "all-or-nothing", file)
	if j.Status != "rejected" || j.Bad != 3 || j.Good != 3 || j.Written != 0 {
		t.Fatalf("all-or-nothing with bad rows: %+v", j)
	}
	rows := map[int]string{}
	for _, er := range j.Errors {
		rows[er.Row] = er.Rule
	}
	if rows[3] != "check-character" || rows[5] != "birth-date" || rows[7] != "unique" {
		t.Fatalf("row errors %+v", j.Errors)
	}
	if n := count(t, e, "reg_people"); n != before {
		t.Fatalf("a rejected import wrote %d people", n-before)
	}
	// The bad rows as a file.
	if r := police.Do("GET", "/api/v1/registry/imports/"+j.ID+"/errors?format=csv", nil); r.Status != 200 || !strings.Contains(string(r.Body), "check-character") {
		t.Fatalf("errors export: %d %s", r.Status, r.Body)
	}
	// A dry run writes nothing; good-rows writes the three good ones.
	if j := startImport(t, police, "people", "dry-run", file); j.Status != "done" || j.Written != 0 || j.Bad != 3 {
		t.Fatalf("dry run: %+v", j)
	}
	if n := count(t, e, "reg_people"); n != before {
		t.Fatal("a dry run wrote")
	}
	if j := startImport(t, police, "people", "good-rows", file); j.Status != "done" || j.Written != 3 {
		t.Fatalf("good rows: %+v", j)
	}
	if n := count(t, e, "reg_people"); n != before+3 {
		t.Fatalf("good rows wrote %d, want 3", n-before)
	}
	// Rows already registered are refused the second time.
	if j := startImport(t, police, "people", "all-or-nothing", file); j.Status != "rejected" || j.Bad != 6 {
		t.Fatalf("re-import: %+v", j)
	}
	// Excel works the same way.
	x := excelize.NewFile()
	_ = x.SetSheetRow("Sheet1", "A1", &[]any{"idNumber", "name", "resident", "gridCode", "address"})
	_ = x.SetSheetRow("Sheet1", "A2", &[]any{newIDNumber(), "表格一", "true", grid, "表格路1号"})
	_ = x.SetSheetRow("Sheet1", "A3", &[]any{newIDNumber(), "表格二", "true", grid, "表格路2号"})
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if j := startImport(t, police, "people", "all-or-nothing", buf.Bytes()); j.Status != "done" || j.Written != 2 {
		t.Fatalf("xlsx: %+v", j)
	}
	// Grids outside the importer's region are bad rows, found by the check.
	out, _, _ := gridIn(t, e, "320508019")
	if j := startImport(t, police, "people", "dry-run", peopleCSV(out, 2, nil)); j.Bad != 2 || j.Errors[0].Rule != "scope" {
		t.Fatalf("rows outside the region: %+v", j)
	}
	// Files that cannot be read are refused at once, naming the rule.
	r := police.Upload("POST", "/api/v1/registry/imports?kind=people&mode=dry-run", "application/octet-stream", []byte("姓名\n张三\n"))
	if r.Status != 422 || r.Problem().Errors[0].Rule != "columns" {
		t.Fatalf("missing column: %d %s", r.Status, r.Body)
	}
	gbk := []byte{0xd5, 0xc5, 0xc8, 0xfd, '\n', 0xd5, 0xc5, '\n'} // "张三" in GBK
	if r := police.Upload("POST", "/api/v1/registry/imports?kind=people&mode=dry-run", "application/octet-stream", gbk); r.Status != 422 || r.Problem().Errors[0].Rule != "encoding" {
		t.Fatalf("GBK file: %d %s", r.Status, r.Body)
	}
	// Entities: credit codes checked per row.
	ent := "统一社会信用代码,名称,法定代表人,行业门类,地址,网格编码\n91350100M000100Y43,导入公司,张三,F,平江路1号," + grid + "\n91350100M000100Y44,坏公司,李四,F,平江路2号," + grid + "\n"
	if j := startImport(t, police, "entities", "dry-run", []byte(ent)); j.Good != 1 || j.Bad != 1 || j.Errors[0].Row != 3 || j.Errors[0].Field != "creditCode" {
		t.Fatalf("entities: %+v", j)
	}
}

func testImportCancel(t *testing.T, e *apptest.Env) {
	police := e.Login(t, "police")
	grid, _, _ := gridIn(t, e, "320508018")
	before := count(t, e, "reg_people")
	r := police.Upload("POST", "/api/v1/registry/imports?kind=people&mode=all-or-nothing&filename=big.csv", "application/octet-stream", peopleCSV(grid, 40000, nil))
	if r.Status != 202 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	var j importJob
	r.JSON(&j)
	// Cancel once rows are being written: the transaction rolls back.
	for {
		var cur importJob
		police.Do("GET", "/api/v1/registry/imports/"+j.ID, nil).JSON(&cur)
		if cur.Status == "writing" && cur.Written > 0 {
			break
		}
		if cur.Status != "checking" && cur.Status != "writing" {
			t.Fatalf("the import ended before it could be interrupted: %+v", cur)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r := police.Do("DELETE", "/api/v1/registry/imports/"+j.ID, nil); r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	final := waitImport(t, police, j.ID)
	if final.Status != "cancelled" || final.Written != 0 {
		t.Fatalf("after cancel: %+v", final)
	}
	if n := count(t, e, "reg_people"); n != before {
		t.Fatalf("an interrupted import left %d people", n-before)
	}
	// An import that was running when its process died (its transaction
	// rolled back with the process) is marked interrupted at the next start.
	if _, err := e.Server.DB.Exec(context.Background(), `INSERT INTO reg_imports (id, kind, filename, mode, status, total_rows, file_hash, actor_id, actor_name, source_dept, scope_key, created_at)
		VALUES ('dead-import', 'people', 'x.csv', 'all-or-nothing', 'writing', 10, '', ?, 'police', 'ga', '320508018', 1)`, userID(t, e, "police")); err != nil {
		t.Fatal(err)
	}
	if err := e.Server.Registry.RecoverImports(context.Background()); err != nil {
		t.Fatal(err)
	}
	var dead importJob
	police.Do("GET", "/api/v1/registry/imports/dead-import", nil).JSON(&dead)
	if dead.Status != "interrupted" || dead.Written != 0 {
		t.Fatalf("after restart: %+v", dead)
	}
}

func testPlaces(t *testing.T, e *apptest.Env) {
	staff, staff2 := e.Login(t, "staff"), e.Login(t, "staff2")
	grid, lon, lat := gridIn(t, e, "320508018")
	var b struct {
		Code, Address, GridCode string
	}
	r := staff.Do("POST", "/api/v1/buildings", map[string]any{"name": "测试楼", "road": "测试巷", "houseNo": "8", "useType": "residential", "floors": 6, "lon": lon, "lat": lat})
	if r.Status != 200 {
		t.Fatalf("building: %d %s", r.Status, r.Body)
	}
	r.JSON(&b)
	if b.GridCode != grid || !strings.HasPrefix(b.Code, grid) || len(b.Code) != 18 || b.Address != "测试巷8号" {
		t.Fatalf("building %+v (grid %s)", b, grid)
	}
	if r := staff.Do("POST", "/api/v1/buildings/"+b.Code+"/rooms", map[string]any{"room": "1单元101室"}); r.Status != 200 {
		t.Fatalf("room: %d %s", r.Status, r.Body)
	}
	if r := staff.Do("POST", "/api/v1/buildings/"+b.Code+"/rooms", map[string]any{"room": "1单元101室"}); r.Status != 409 {
		t.Fatalf("duplicate room: %d", r.Status)
	}
	// A person at the room is placed in the building's grid.
	police := e.Login(t, "police")
	r = police.Do("POST", "/api/v1/people", map[string]any{"idNumber": newIDNumber(), "name": "楼中人", "resident": true, "address": "测试巷8号1单元101室"})
	if r.Status != 200 {
		t.Fatalf("person at the room: %d %s", r.Status, r.Body)
	}
	var pr person
	r.JSON(&pr)
	if pr.GridCode != grid {
		t.Fatalf("person at the room in %s", pr.GridCode)
	}
	// Components get district + class + serial codes and an owner.
	var c struct {
		Code, GridCode, OwnerDept, ClassName, State string
	}
	r = staff.Do("POST", "/api/v1/components", map[string]any{"major": "01", "minor": "01", "lon": lon, "lat": lat, "address": "测试巷8号门口"})
	if r.Status != 200 {
		t.Fatalf("component: %d %s", r.Status, r.Body)
	}
	r.JSON(&c)
	if !regexp.MustCompile(`^3205080101[0-9]{6}$`).MatchString(c.Code) || c.OwnerDept != "zj" || c.ClassName != "上水井盖" || c.GridCode != grid {
		t.Fatalf("component %+v", c)
	}
	if r := staff.Do("POST", "/api/v1/components", map[string]any{"major": "01", "minor": "99", "lon": lon, "lat": lat}); r.Status != 422 || r.Problem().Errors[0].Field != "minor" {
		t.Fatalf("unknown class: %d %s", r.Status, r.Body)
	}
	var page struct {
		Items []struct{ Code string }
	}
	bbox := fmt.Sprintf("%f,%f,%f,%f", lon-0.0001, lat-0.0001, lon+0.0001, lat+0.0001)
	staff.Do("GET", "/api/v1/components?pageSize=200&bbox="+url.QueryEscape(bbox), nil).JSON(&page)
	if !slices.ContainsFunc(page.Items, func(i struct{ Code string }) bool { return i.Code == c.Code }) {
		t.Fatalf("bbox list misses %s: %+v", c.Code, page.Items)
	}
	if r := staff.Do("GET", "/api/v1/components?bbox=1,2,3", nil); r.Status != 422 {
		t.Fatalf("bad bbox: %d", r.Status)
	}
	// The owner changes state; another street does not see the component.
	var res struct{ Outcomes []outcome }
	staff.Do("PATCH", "/api/v1/components/"+c.Code, map[string]any{"values": map[string]string{"state": "damaged"}}).JSON(&res)
	if len(res.Outcomes) != 1 || res.Outcomes[0].Outcome != "applied" {
		t.Fatalf("state change %+v", res.Outcomes)
	}
	if r := staff2.Do("GET", "/api/v1/components/"+c.Code, nil); r.Status != 404 {
		t.Fatalf("staff2 sees a 平江 component: %d", r.Status)
	}
	// The components are an OGC API - Features collection too, in scope.
	var fc struct {
		Type     string
		Features []struct {
			ID         string
			Properties struct{ Code, GridCode, ClassName string }
		}
		NumberMatched int
	}
	r = staff.Do("GET", "/ogc/collections/components/items?limit=1000&major=01&minor=01", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/geo+json") {
		t.Fatalf("ogc components: %d %s", r.Status, r.Body)
	}
	r.JSON(&fc)
	if fc.Type != "FeatureCollection" || fc.NumberMatched == 0 || !slices.ContainsFunc(fc.Features, func(f struct {
		ID         string
		Properties struct{ Code, GridCode, ClassName string }
	}) bool {
		return f.ID == c.Code
	}) {
		t.Fatalf("ogc components miss %s: %d features", c.Code, len(fc.Features))
	}
	for _, f := range fc.Features {
		if !strings.HasPrefix(f.Properties.GridCode, "320508018") || f.Properties.ClassName != "上水井盖" {
			t.Fatalf("ogc feature out of scope or class: %+v", f)
		}
	}
	if r := staff2.Do("GET", "/ogc/collections/components/items/"+c.Code, nil); r.Status != 404 {
		t.Fatalf("staff2 reads a 平江 component over OGC: %d", r.Status)
	}
	// A point outside every grid is refused, naming the field.
	if r := staff.Do("POST", "/api/v1/components", map[string]any{"major": "01", "minor": "01", "lon": 116.4, "lat": 39.9}); r.Status != 422 || r.Problem().Errors[0].Field != "lon" {
		t.Fatalf("point outside: %d %s", r.Status, r.Body)
	}
}

func testGridWorkers(t *testing.T, e *apptest.Env) {
	staff, gw := e.Login(t, "staff"), e.Login(t, "gridworker")
	var mine struct {
		Items []struct {
			Code                                    string
			People, Buildings, Components, Entities int
		}
	}
	gw.Do("GET", "/api/v1/me/grids", nil).JSON(&mine)
	if len(mine.Items) == 0 {
		t.Fatal("the demo grid worker has no grids")
	}
	total := 0
	for _, g := range mine.Items {
		total += g.People
	}
	if total == 0 {
		t.Fatal("the grid worker's grids hold nobody")
	}
	// Assign and unassign; a worker cannot be put outside their area.
	gwID := userID(t, e, "gridworker")
	outside, _, _ := gridIn(t, e, "320508018")
	if strings.HasPrefix(outside, scopeOf(t, e, "gridworker")) {
		outside = firstKey(t, e, `SELECT code FROM grids WHERE code >= '320508018' AND code < '320508018~' AND code NOT LIKE ? ORDER BY code LIMIT 1`, scopeOf(t, e, "gridworker")+"%")
	}
	if r := staff.Do("POST", "/api/v1/grid-workers", map[string]any{"gridCode": outside, "userId": gwID}); r.Status != 422 || r.Problem().Errors[0].Field != "gridCode" {
		t.Fatalf("assign outside the area: %d %s", r.Status, r.Body)
	}
	first := mine.Items[0].Code
	if r := staff.Do("POST", "/api/v1/grid-workers", map[string]any{"gridCode": first, "userId": gwID}); r.Status != 409 {
		t.Fatalf("assign twice: %d %s", r.Status, r.Body)
	}
	if r := staff.Do("DELETE", "/api/v1/grid-workers/"+first+"/"+gwID, nil); r.Status != 204 {
		t.Fatalf("unassign: %d %s", r.Status, r.Body)
	}
	if r := staff.Do("POST", "/api/v1/grid-workers", map[string]any{"gridCode": first, "userId": gwID}); r.Status != 200 {
		t.Fatalf("reassign: %d %s", r.Status, r.Body)
	}
	// Search finds divisions by name and organisations by name.
	var hits struct {
		Items []struct{ Kind, Code, Name string }
	}
	staff.Do("GET", "/api/v1/registry/search?q="+url.QueryEscape("平江"), nil).JSON(&hits)
	if !slices.ContainsFunc(hits.Items, func(h struct{ Kind, Code, Name string }) bool { return h.Kind == "division" && h.Code == pingjiang }) {
		t.Fatalf("search 平江: %+v", hits.Items)
	}
	name := firstKey(t, e, `SELECT name FROM reg_entities WHERE scope_key >= '320508018' AND scope_key < '320508018~' ORDER BY credit_code LIMIT 1`)
	staff.Do("GET", "/api/v1/registry/search?q="+url.QueryEscape(name), nil).JSON(&hits)
	if !slices.ContainsFunc(hits.Items, func(h struct{ Kind, Code, Name string }) bool { return h.Kind == "entity" && h.Name == name }) {
		t.Fatalf("search %s: %+v", name, hits.Items)
	}
}

func testResponsibilityGrids(t *testing.T, e *apptest.Env) {
	staff := e.Login(t, "staff")
	community := scopeOf(t, e, "gridworker")
	var page struct {
		Items []struct {
			Code, Name, CommunityCode string
			UnitGrids                 []string
		}
		Total int
	}
	staff.Do("GET", "/api/v1/responsibility-grids?divisionCode="+community, nil).JSON(&page)
	if page.Total == 0 {
		t.Fatal("no responsibility grids in the grid worker's community")
	}
	seen := map[string]string{}
	for _, r := range page.Items {
		if !strings.HasPrefix(r.Code, community+"9") || len(r.Code) != 15 || len(r.UnitGrids) == 0 {
			t.Fatalf("responsibility grid %+v", r)
		}
		for _, g := range r.UnitGrids {
			if !strings.HasPrefix(g, community) || seen[g] != "" {
				t.Fatalf("unit grid %s in %s (also in %q)", g, r.Code, seen[g])
			}
			seen[g] = r.Code
		}
	}
	// Geocoding names the responsibility grid of the unit grid.
	grid, lon, lat := gridIn(t, e, community)
	var loc struct {
		Grid, Responsibility struct{ Code, Name string }
	}
	staff.Do("GET", fmt.Sprintf("/api/v1/geocode?lon=%f&lat=%f", lon, lat), nil).JSON(&loc)
	if loc.Grid.Code != grid || loc.Responsibility.Code != seen[grid] || loc.Responsibility.Name == "" {
		t.Fatalf("geocode %+v, want responsibility %s", loc, seen[grid])
	}
	// And they are an OGC collection of MultiPolygons, in scope.
	var fc struct {
		Features []struct {
			ID       string
			Geometry struct{ Type string }
		}
	}
	r := staff.Do("GET", "/ogc/collections/responsibility-grids/items?community="+community, nil)
	if r.Status != 200 {
		t.Fatalf("ogc: %d %s", r.Status, r.Body)
	}
	r.JSON(&fc)
	if len(fc.Features) != page.Total || fc.Features[0].Geometry.Type != "MultiPolygon" {
		t.Fatalf("ogc responsibility grids: %d features, want %d", len(fc.Features), page.Total)
	}
	if r := e.Login(t, "staff2").Do("GET", "/ogc/collections/responsibility-grids/items/"+page.Items[0].Code, nil); r.Status != 404 {
		t.Fatalf("staff2 reads a 平江 responsibility grid: %d", r.Status)
	}
}

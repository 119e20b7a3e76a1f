package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/shuzhi-gov/shuzhi/internal/app"
	"github.com/shuzhi-gov/shuzhi/internal/app/apptest"
	"github.com/shuzhi-gov/shuzhi/internal/identity"
	"github.com/shuzhi-gov/shuzhi/internal/ledger"
	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/bus"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db/dbtest"
)

// demoUsers maps each demo login to its role.
var demoUsers = map[string]authz.Role{
	"citizen": authz.Citizen, "enterprise": authz.Enterprise, "gridworker": authz.GridWorker,
	"staff": authz.DeptStaff, "head": authz.DeptHead, "supervisor": authz.Supervisor, "leader": authz.Leader,
	"auditor": authz.Auditor, "sysadmin": authz.SysAdmin, "secadmin": authz.SecAdmin,
}

const (
	pingjiang = "320508018000" // 平江街道, staff's street
	jinchang  = "320508019000" // 金阊街道, staff2's street
)

func system() context.Context {
	return authz.With(context.Background(), identity.System("test"))
}

func userID(t *testing.T, e *apptest.Env, username string) string {
	t.Helper()
	id, err := e.Server.Identity.UserIDByUsername(system(), username)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func orgIDByName(t *testing.T, e *apptest.Env, name string) string {
	t.Helper()
	orgs, _, err := e.Server.Identity.ListOrgs(system(), identity.OrgFilter{Q: name}, 2, 0)
	if err != nil || len(orgs) != 1 {
		t.Fatalf("org %q: %v %v", name, orgs, err)
	}
	return orgs[0].ID
}

func count(t *testing.T, e *apptest.Env, table string) int {
	t.Helper()
	var n int
	if err := e.Server.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPlatform(t *testing.T) {
	t.Parallel()
	for _, backend := range dbtest.Backends {
		t.Run(string(backend), func(t *testing.T) {
			t.Parallel()
			e := apptest.Start(t, backend)
			t.Run("health, readiness, metrics, openapi", func(t *testing.T) { testEndpoints(t, e, backend) })
			t.Run("every route against every role", func(t *testing.T) { testAuthzMatrix(t, e) })
			t.Run("region scope", func(t *testing.T) { testScope(t, e) })
			t.Run("bad input is refused and nothing is written", func(t *testing.T) { testBadInput(t, e) })
			t.Run("login lock-out and unlock", func(t *testing.T) { testLockout(t, e) })
			t.Run("CSRF", func(t *testing.T) { testCSRF(t, e) })
			t.Run("API tokens", func(t *testing.T) { testTokens(t, e) })
			t.Run("three-role separation", func(t *testing.T) { testSeparation(t, e) })
			t.Run("admin flow is audited", func(t *testing.T) { testAdminFlowAudited(t, e) })
			t.Run("export", func(t *testing.T) { testExport(t, e) })
			t.Run("domain events reach idempotent consumers", func(t *testing.T) { testEvents(t, e) })
			t.Run("the audit trail is on the ledger", func(t *testing.T) { testAuditOnLedger(t, e) })
		})
	}
}

func testEndpoints(t *testing.T, e *apptest.Env, backend db.Dialect) {
	a := e.Anonymous(t)
	if r := a.Do("GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	r := a.Do("GET", "/readyz", nil)
	if r.Status != 200 || !bytes.Contains(r.Body, []byte(`"ready"`)) {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	var meta struct{ Database, CryptoProfile string }
	a.Do("GET", "/api/v1/meta", nil).JSON(&meta)
	if meta.Database != string(backend) || meta.CryptoProfile != "intl" {
		t.Fatalf("meta = %+v", meta)
	}
	// /metrics parses as Prometheus text and counts the requests above.
	r = a.Do("GET", "/metrics", nil)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	if _, ok := families["shuzhi_http_requests_total"]; !ok {
		t.Fatal("shuzhi_http_requests_total missing")
	}
	// OpenAPI 3.1 document.
	r = a.Do("GET", "/openapi.json", nil)
	var doc map[string]any
	r.JSON(&doc)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	validateOpenAPI(t, r.Body)
	// Unknown API paths are problems, not the web app.
	if p := a.Do("GET", "/api/v1/nothing-here", nil); p.Status != 404 {
		t.Fatalf("unknown API path: %d", p.Status)
	} else {
		p.Problem()
	}
	if r := a.Do("GET", "/", nil); r.Status != 200 || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("web UI: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
}

// route is one operation of the API, the permission it must demand, and a
// request that exercises it. Bodies are deliberately invalid: a caller who
// passes the permission check gets 422 (or 404), one who does not gets 403,
// and nothing is changed either way.
type route struct {
	method, path, template string
	perm                   authz.Permission
	public                 bool
	body                   any
}

func routes(t *testing.T, e *apptest.Env) []route {
	staffID := userID(t, e, "staff")
	orgID := orgIDByName(t, e, "平江街道办事处")
	personID := firstKey(t, e, "SELECT id FROM reg_people ORDER BY id")
	buildingCode := firstKey(t, e, "SELECT code FROM reg_buildings ORDER BY code")
	componentCode := firstKey(t, e, "SELECT code FROM reg_components ORDER BY code")
	entityCode := firstKey(t, e, "SELECT credit_code FROM reg_entities ORDER BY credit_code")
	bad := map[string]any{"nope": true}
	return []route{
		{"POST", "/api/v1/auth/login", "/api/v1/auth/login", "", true, bad},
		{"POST", "/api/v1/auth/logout", "/api/v1/auth/logout", "", true, nil},
		{"GET", "/api/v1/auth/me", "/api/v1/auth/me", "", false, nil},
		{"GET", "/api/v1/meta", "/api/v1/meta", "", true, nil},
		{"GET", "/api/v1/roles", "/api/v1/roles", authz.RolesRead, false, nil},
		{"GET", "/api/v1/divisions", "/api/v1/divisions", authz.DivisionsRead, false, nil},
		{"GET", "/api/v1/divisions/export?format=csv", "/api/v1/divisions/export", authz.DivisionsRead, false, nil},
		{"GET", "/api/v1/divisions/" + pingjiang, "/api/v1/divisions/{code}", authz.DivisionsRead, false, nil},
		{"POST", "/api/v1/divisions", "/api/v1/divisions", authz.DivisionsWrite, false, bad},
		{"PATCH", "/api/v1/divisions/" + pingjiang, "/api/v1/divisions/{code}", authz.DivisionsWrite, false, bad},
		{"GET", "/api/v1/orgs", "/api/v1/orgs", authz.OrgsRead, false, nil},
		{"GET", "/api/v1/orgs/export?format=csv", "/api/v1/orgs/export", authz.OrgsRead, false, nil},
		{"GET", "/api/v1/orgs/" + orgID, "/api/v1/orgs/{id}", authz.OrgsRead, false, nil},
		{"POST", "/api/v1/orgs", "/api/v1/orgs", authz.OrgsWrite, false, bad},
		{"PUT", "/api/v1/orgs/" + orgID, "/api/v1/orgs/{id}", authz.OrgsWrite, false, bad},
		{"GET", "/api/v1/users", "/api/v1/users", authz.UsersRead, false, nil},
		{"GET", "/api/v1/users/export?format=csv", "/api/v1/users/export", authz.UsersRead, false, nil},
		{"GET", "/api/v1/users/" + staffID, "/api/v1/users/{id}", authz.UsersRead, false, nil},
		{"POST", "/api/v1/users", "/api/v1/users", authz.UsersWrite, false, bad},
		{"PATCH", "/api/v1/users/" + staffID, "/api/v1/users/{id}", authz.UsersWrite, false, bad},
		{"PUT", "/api/v1/users/" + staffID + "/roles", "/api/v1/users/{id}/roles", authz.UsersSecurity, false, bad},
		{"POST", "/api/v1/users/" + staffID + "/password", "/api/v1/users/{id}/password", authz.UsersSecurity, false, bad},
		{"POST", "/api/v1/users/nobody/unlock", "/api/v1/users/{id}/unlock", authz.UsersSecurity, false, nil},
		{"GET", "/api/v1/tokens", "/api/v1/tokens", authz.TokensManage, false, nil},
		{"GET", "/api/v1/tokens/export?format=csv", "/api/v1/tokens/export", authz.TokensManage, false, nil},
		{"POST", "/api/v1/tokens", "/api/v1/tokens", authz.TokensManage, false, bad},
		{"DELETE", "/api/v1/tokens/nonexistent", "/api/v1/tokens/{id}", authz.TokensManage, false, nil},
		{"GET", "/api/v1/audit", "/api/v1/audit", authz.AuditRead, false, nil},
		{"GET", "/api/v1/audit/export?format=csv", "/api/v1/audit/export", authz.AuditRead, false, nil},
		{"GET", "/api/v1/grids", "/api/v1/grids", authz.DivisionsRead, false, nil},
		{"GET", "/api/v1/responsibility-grids", "/api/v1/responsibility-grids", authz.DivisionsRead, false, nil},
		{"GET", "/api/v1/geocode?lon=120.62&lat=31.31", "/api/v1/geocode", authz.DivisionsRead, false, nil},
		// Base data (registry).
		{"GET", "/api/v1/people", "/api/v1/people", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/people/export?format=csv", "/api/v1/people/export", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/people/lookup?idNumber=11010519491231002X", "/api/v1/people/lookup", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/people/" + personID, "/api/v1/people/{id}", authz.RegistryRead, false, nil},
		{"POST", "/api/v1/people", "/api/v1/people", authz.RegistryWrite, false, bad},
		{"PATCH", "/api/v1/people/" + personID, "/api/v1/people/{id}", authz.RegistryWrite, false, bad},
		{"PUT", "/api/v1/people/" + personID + "/tags/nope", "/api/v1/people/{id}/tags/{tag}", authz.RegistryWrite, false, nil},
		{"DELETE", "/api/v1/people/" + personID + "/tags/nope", "/api/v1/people/{id}/tags/{tag}", authz.RegistryWrite, false, nil},
		{"GET", "/api/v1/households/nonexistent", "/api/v1/households/{id}", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/buildings", "/api/v1/buildings", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/buildings/export?format=csv", "/api/v1/buildings/export", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/buildings/" + buildingCode, "/api/v1/buildings/{code}", authz.RegistryRead, false, nil},
		{"POST", "/api/v1/buildings", "/api/v1/buildings", authz.RegistryWrite, false, bad},
		{"PATCH", "/api/v1/buildings/" + buildingCode, "/api/v1/buildings/{code}", authz.RegistryWrite, false, bad},
		{"GET", "/api/v1/buildings/" + buildingCode + "/rooms", "/api/v1/buildings/{code}/rooms", authz.RegistryRead, false, nil},
		{"POST", "/api/v1/buildings/" + buildingCode + "/rooms", "/api/v1/buildings/{code}/rooms", authz.RegistryWrite, false, bad},
		{"GET", "/api/v1/component-classes", "/api/v1/component-classes", "", false, nil},
		{"GET", "/api/v1/components", "/api/v1/components", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/components/export?format=csv", "/api/v1/components/export", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/components/" + componentCode, "/api/v1/components/{code}", authz.RegistryRead, false, nil},
		{"POST", "/api/v1/components", "/api/v1/components", authz.RegistryWrite, false, bad},
		{"PATCH", "/api/v1/components/" + componentCode, "/api/v1/components/{code}", authz.RegistryWrite, false, bad},
		{"GET", "/api/v1/entities", "/api/v1/entities", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/entities/export?format=csv", "/api/v1/entities/export", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/entities/" + entityCode, "/api/v1/entities/{code}", authz.RegistryRead, false, nil},
		{"POST", "/api/v1/entities", "/api/v1/entities", authz.RegistryWrite, false, bad},
		{"PATCH", "/api/v1/entities/" + entityCode, "/api/v1/entities/{code}", authz.RegistryWrite, false, bad},
		{"GET", "/api/v1/registry/reference", "/api/v1/registry/reference", "", false, nil},
		{"GET", "/api/v1/registry/purposes", "/api/v1/registry/purposes", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/registry/search?q=" + url.QueryEscape("平江"), "/api/v1/registry/search", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/registry/history?kind=person&id=" + personID, "/api/v1/registry/history", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/registry/changes", "/api/v1/registry/changes", authz.RegistryRead, false, nil},
		{"GET", "/api/v1/registry/changes/nonexistent", "/api/v1/registry/changes/{id}", authz.RegistryRead, false, nil},
		{"POST", "/api/v1/registry/changes", "/api/v1/registry/changes", authz.RegistryPropose, false, bad},
		{"POST", "/api/v1/registry/changes/nonexistent/decision", "/api/v1/registry/changes/{id}/decision", authz.RegistryWrite, false, bad},
		{"POST", "/api/v1/registry/imports", "/api/v1/registry/imports", authz.RegistryImport, false, bad},
		{"GET", "/api/v1/registry/imports", "/api/v1/registry/imports", authz.RegistryImport, false, nil},
		{"GET", "/api/v1/registry/imports/template?kind=people&format=csv", "/api/v1/registry/imports/template", authz.RegistryImport, false, nil},
		{"GET", "/api/v1/registry/imports/nonexistent", "/api/v1/registry/imports/{id}", authz.RegistryImport, false, nil},
		{"GET", "/api/v1/registry/imports/nonexistent/errors", "/api/v1/registry/imports/{id}/errors", authz.RegistryImport, false, nil},
		{"DELETE", "/api/v1/registry/imports/nonexistent", "/api/v1/registry/imports/{id}", authz.RegistryImport, false, nil},
		{"GET", "/api/v1/grid-workers", "/api/v1/grid-workers", authz.RegistryRead, false, nil},
		{"POST", "/api/v1/grid-workers", "/api/v1/grid-workers", authz.GridsAssign, false, bad},
		{"DELETE", "/api/v1/grid-workers/320508018001001/nobody", "/api/v1/grid-workers/{gridCode}/{userId}", authz.GridsAssign, false, nil},
		{"GET", "/api/v1/me/grids", "/api/v1/me/grids", authz.RegistryRead, false, nil},
		// Cases (一网统管).
		{"GET", "/api/v1/cases", "/api/v1/cases", authz.CasesRead, false, nil},
		{"GET", "/api/v1/cases/export?format=csv", "/api/v1/cases/export", authz.CasesRead, false, nil},
		{"POST", "/api/v1/cases", "/api/v1/cases", authz.CasesReport, false, bad},
		{"POST", "/api/v1/cases/classify", "/api/v1/cases/classify", authz.CasesReport, false, bad},
		{"GET", "/api/v1/cases/places?q=" + url.QueryEscape("平江"), "/api/v1/cases/places", authz.CasesReport, false, nil},
		{"GET", "/api/v1/cases/nonexistent", "/api/v1/cases/{id}", "", false, nil},
		{"POST", "/api/v1/cases/nonexistent/actions/comment", "/api/v1/cases/{id}/actions/{action}", authz.CasesRead, false, nil},
		{"GET", "/api/v1/cases/nonexistent/duplicates", "/api/v1/cases/{id}/duplicates", authz.CasesRead, false, nil},
		{"GET", "/api/v1/cases/nonexistent/photos/nonexistent", "/api/v1/cases/{id}/photos/{photo}", "", false, nil},
		{"POST", "/api/v1/cases/video-alerts", "/api/v1/cases/video-alerts", authz.CasesReport, false, bad},
		{"GET", "/api/v1/cases/indicators", "/api/v1/cases/indicators", authz.CasesRead, false, nil},
		{"GET", "/api/v1/cases/indicators/export?format=csv", "/api/v1/cases/indicators/export", authz.CasesRead, false, nil},
		{"GET", "/api/v1/case-categories", "/api/v1/case-categories", "", false, nil},
		{"PUT", "/api/v1/case-categories/E0102", "/api/v1/case-categories/{code}", authz.CasesConfigure, false, bad},
		{"GET", "/api/v1/case-categories/E0102/versions", "/api/v1/case-categories/{code}/versions", authz.CasesRead, false, nil},
		{"GET", "/api/v1/case-area-rules", "/api/v1/case-area-rules", authz.CasesRead, false, nil},
		{"POST", "/api/v1/case-area-rules", "/api/v1/case-area-rules", authz.CasesConfigure, false, bad},
		{"DELETE", "/api/v1/case-area-rules/nonexistent", "/api/v1/case-area-rules/{id}", authz.CasesConfigure, false, nil},
		{"GET", "/api/v1/case-alarm-rules", "/api/v1/case-alarm-rules", authz.CasesRead, false, nil},
		{"GET", "/api/v1/case-notices", "/api/v1/case-notices", "", false, nil},
		{"POST", "/api/v1/case-notices/read", "/api/v1/case-notices/read", "", false, map[string]any{"ids": []string{"nonexistent"}}},
		// Working-day calendar.
		{"GET", "/api/v1/calendar/2026", "/api/v1/calendar/{year}", "", false, nil},
		{"PUT", "/api/v1/calendar/2026", "/api/v1/calendar/{year}", authz.CalendarWrite, false, bad},
		{"GET", "/api/v1/calendar/deadline?from=2026-11-23T09:00:00%2B08:00&n=10&unit=work_days", "/api/v1/calendar/deadline", "", false, nil},
		{"GET", "/api/v1/calendar/hours", "/api/v1/calendar/hours", "", false, nil},
		{"PUT", "/api/v1/calendar/hours", "/api/v1/calendar/hours", authz.CalendarWrite, false, bad},
		// Exchange (共享交换).
		{"GET", "/api/v1/exchange/resources", "/api/v1/exchange/resources", authz.ExchangeRead, false, nil},
		{"GET", "/api/v1/exchange/resources/export?format=csv", "/api/v1/exchange/resources/export", authz.ExchangeRead, false, nil},
		{"POST", "/api/v1/exchange/resources", "/api/v1/exchange/resources", authz.ExchangePublish, false, bad},
		{"GET", "/api/v1/exchange/resources/nonexistent", "/api/v1/exchange/resources/{id}", authz.ExchangeRead, false, nil},
		{"PUT", "/api/v1/exchange/resources/nonexistent", "/api/v1/exchange/resources/{id}", authz.ExchangePublish, false, bad},
		{"POST", "/api/v1/exchange/resources/nonexistent/status", "/api/v1/exchange/resources/{id}/status", authz.ExchangePublish, false, bad},
		{"GET", "/api/v1/exchange/resources/nonexistent/versions", "/api/v1/exchange/resources/{id}/versions", authz.ExchangeRead, false, nil},
		{"POST", "/api/v1/exchange/resources/nonexistent/records", "/api/v1/exchange/resources/{id}/records", authz.ExchangePublish, false, bad},
		{"POST", "/api/v1/exchange/resources/nonexistent/records.csv", "/api/v1/exchange/resources/{id}/records.csv", authz.ExchangePublish, false, "a,b\n"},
		{"GET", "/api/v1/exchange/resources/nonexistent/sample", "/api/v1/exchange/resources/{id}/sample", authz.ExchangePublish, false, nil},
		{"GET", "/api/v1/exchange/resources/nonexistent/quality", "/api/v1/exchange/resources/{id}/quality", authz.ExchangeRead, false, nil},
		{"POST", "/api/v1/exchange/resources/nonexistent/quality", "/api/v1/exchange/resources/{id}/quality", authz.ExchangePublish, false, nil},
		{"GET", "/api/v1/exchange/quality", "/api/v1/exchange/quality", authz.ExchangeRead, false, nil},
		{"GET", "/api/v1/exchange/requests", "/api/v1/exchange/requests", authz.ExchangeRead, false, nil},
		{"POST", "/api/v1/exchange/requests", "/api/v1/exchange/requests", authz.ExchangeRequest, false, bad},
		{"GET", "/api/v1/exchange/requests/nonexistent", "/api/v1/exchange/requests/{id}", authz.ExchangeRead, false, nil},
		{"POST", "/api/v1/exchange/requests/nonexistent/decision", "/api/v1/exchange/requests/{id}/decision", authz.ExchangeDecide, false, bad},
		{"GET", "/api/v1/exchange/grants", "/api/v1/exchange/grants", authz.ExchangeRead, false, nil},
		{"POST", "/api/v1/exchange/grants/nonexistent/revoke", "/api/v1/exchange/grants/{id}/revoke", authz.ExchangeDecide, false, bad},
		{"POST", "/api/v1/exchange/query", "/api/v1/exchange/query", authz.ExchangeQuery, false, bad},
		{"GET", "/api/v1/exchange/access", "/api/v1/exchange/access", authz.ExchangeRead, false, nil},
		{"GET", "/api/v1/exchange/access/nonexistent/proof", "/api/v1/exchange/access/{id}/proof", "", false, nil},
		{"GET", "/api/v1/exchange/subscriptions", "/api/v1/exchange/subscriptions", authz.ExchangeQuery, false, nil},
		{"POST", "/api/v1/exchange/subscriptions", "/api/v1/exchange/subscriptions", authz.ExchangeQuery, false, bad},
		{"DELETE", "/api/v1/exchange/subscriptions/nonexistent", "/api/v1/exchange/subscriptions/{id}", authz.ExchangeQuery, false, nil},
		{"GET", "/api/v1/exchange/tracker", "/api/v1/exchange/tracker", authz.ExchangeTracker, false, nil},
		{"GET", "/api/v1/exchange/tracker/links", "/api/v1/exchange/tracker/links", authz.ExchangeTracker, false, nil},
		{"POST", "/api/v1/exchange/tracker/links", "/api/v1/exchange/tracker/links", authz.ExchangeTracker, false, bad},
		{"GET", "/api/v1/exchange/tracker/disputes", "/api/v1/exchange/tracker/disputes", authz.ExchangeTracker, false, nil},
		{"POST", "/api/v1/exchange/tracker/disputes", "/api/v1/exchange/tracker/disputes", authz.ExchangeTracker, false, bad},
		{"GET", "/api/v1/exchange/disputes", "/api/v1/exchange/disputes", authz.ExchangeRead, false, nil},
		{"POST", "/api/v1/exchange/disputes/nonexistent/answer", "/api/v1/exchange/disputes/{id}/answer", authz.ExchangeDecide, false, bad},
		{"GET", "/api/v1/exchange/nodes", "/api/v1/exchange/nodes", authz.ExchangeRead, false, nil},
		{"POST", "/api/v1/exchange/nodes/invitations", "/api/v1/exchange/nodes/invitations", authz.ExchangeNodes, false, bad},
		{"POST", "/api/v1/exchange/nodes/parent", "/api/v1/exchange/nodes/parent", authz.ExchangeNodes, false, bad},
		{"POST", "/api/v1/exchange/nodes/sync", "/api/v1/exchange/nodes/sync", authz.ExchangeNodes, false, nil},
		{"POST", "/api/v1/exchange/nodes/320508/revoke", "/api/v1/exchange/nodes/{id}/revoke", authz.ExchangeNodes, false, bad},
		// The ledger is public: anyone may verify it.
		{"GET", "/api/v1/ledger", "/api/v1/ledger", "", true, nil},
		{"GET", "/api/v1/ledger/keys", "/api/v1/ledger/keys", "", true, nil},
		{"GET", "/api/v1/ledger/entries/0", "/api/v1/ledger/entries/{index}", "", true, nil},
		{"GET", "/api/v1/ledger/proof/inclusion?index=0", "/api/v1/ledger/proof/inclusion", "", true, nil},
		{"GET", "/api/v1/ledger/proof/consistency?from=1", "/api/v1/ledger/proof/consistency", "", true, nil},
		{"POST", "/api/v1/ledger/cosignatures", "/api/v1/ledger/cosignatures", "", true, bad},
	}
}

func testAuthzMatrix(t *testing.T, e *apptest.Env) {
	rs := routes(t, e)
	// The table must cover every operation the API documents.
	covered := map[string]bool{}
	for _, r := range rs {
		covered[r.method+" "+r.template] = true
	}
	for path, item := range e.Server.API.OpenAPI().Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op != nil && !covered[method+" "+path] {
				t.Errorf("route %s %s is not in the authorisation matrix", method, path)
			}
		}
	}
	anon := e.Anonymous(t)
	for _, r := range rs {
		if r.public {
			continue
		}
		if res := anon.Do(r.method, r.path, r.body); res.Status != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s: %d, want 401", r.method, r.path, res.Status)
		} else {
			res.Problem()
		}
	}
	writes := count(t, e, "audit_log")
	for user, role := range demoUsers {
		c := e.Login(t, user)
		perms := authz.PermissionsOf([]authz.Role{role})
		for _, r := range rs {
			if r.public || r.path == "/api/v1/auth/logout" {
				continue
			}
			res := c.Do(r.method, r.path, r.body)
			allowed := r.perm == "" || slices.Contains(perms, r.perm)
			switch {
			case allowed && (res.Status == 401 || res.Status == 403):
				t.Errorf("%s (%s) %s %s: %d, want access; %s", user, role, r.method, r.path, res.Status, res.Body)
			case !allowed && res.Status != 403:
				t.Errorf("%s (%s) %s %s: %d, want 403", user, role, r.method, r.path, res.Status)
			case !allowed:
				if p := res.Problem(); p.Code != "forbidden" {
					t.Errorf("403 with code %q", p.Code)
				}
			case res.Status >= 500:
				t.Errorf("%s %s %s: %d %s", user, r.method, r.path, res.Status, res.Body)
			}
		}
	}
	// Ten logins wrote ten audit entries; the refused and invalid writes none.
	if got := count(t, e, "audit_log") - writes; got != len(demoUsers) {
		t.Errorf("audit entries written by the matrix: %d, want %d (logins only)", got, len(demoUsers))
	}
}

func testScope(t *testing.T, e *apptest.Env) {
	staff, staff2 := e.Login(t, "staff"), e.Login(t, "staff2")
	staff2ID := userID(t, e, "staff2")
	var page struct {
		Items []struct{ ID, DivisionCode, Username string }
		Total int
	}
	staff.Do("GET", "/api/v1/users?pageSize=200", nil).JSON(&page)
	if page.Total == 0 {
		t.Fatal("staff sees no users of their own street")
	}
	for _, u := range page.Items {
		if !strings.HasPrefix(u.DivisionCode, "320508018") {
			t.Errorf("staff of 平江街道 sees %s in %s", u.Username, u.DivisionCode)
		}
	}
	cases := []struct{ name, path string }{
		{"user of another street", "/api/v1/users/" + staff2ID},
		{"another street", "/api/v1/divisions/" + jinchang},
		{"community of another street", "/api/v1/divisions/320508019001"},
		{"organisation of another street", "/api/v1/orgs/" + orgIDByName(t, e, "金阊街道办事处")},
	}
	for _, c := range cases {
		t.Run("staff cannot read "+c.name, func(t *testing.T) {
			if r := staff.Do("GET", c.path, nil); r.Status != 404 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	t.Run("filters cannot widen the scope", func(t *testing.T) {
		var p struct{ Total int }
		staff.Do("GET", "/api/v1/users?divisionCode="+jinchang, nil).JSON(&p)
		if p.Total != 0 {
			t.Fatalf("staff listed %d users of 金阊街道 by filter", p.Total)
		}
		staff.Do("GET", "/api/v1/grids?divisionCode="+jinchang, nil).JSON(&p)
		if p.Total != 0 {
			t.Fatalf("staff listed %d grids of 金阊街道", p.Total)
		}
		var exp = staff.Do("GET", "/api/v1/users/export?format=csv", nil)
		if bytes.Contains(exp.Body, []byte("320508019")) {
			t.Fatal("export leaks users of another street")
		}
	})
	t.Run("the other street's staff sees theirs, not ours", func(t *testing.T) {
		if r := staff2.Do("GET", "/api/v1/users/"+userID(t, e, "staff"), nil); r.Status != 404 {
			t.Fatalf("%d", r.Status)
		}
		if r := staff2.Do("GET", "/api/v1/users/"+staff2ID, nil); r.Status != 200 {
			t.Fatalf("own account: %d", r.Status)
		}
	})
	t.Run("a street's administrator cannot change another street", func(t *testing.T) {
		// A sys_admin bound to 平江街道 (created by the command line).
		_, err := e.Server.Identity.CreateUserWithRoles(system(), identity.NewUser{Username: "pjadmin", DisplayName: "平江管理员",
			Password: "Pj-admin-2026", OrgID: orgIDByName(t, e, "平江街道办事处")}, []authz.Role{authz.SysAdmin})
		if err != nil {
			t.Fatal(err)
		}
		c := e.Anonymous(t)
		if r := c.Do("POST", "/api/v1/auth/login", map[string]string{"username": "pjadmin", "password": "Pj-admin-2026"}); r.Status != 200 {
			t.Fatalf("login %d", r.Status)
		} else {
			var out struct{ CSRFToken string }
			r.JSON(&out)
			c = withCSRF(c, out.CSRFToken)
		}
		before := count(t, e, "orgs")
		r := c.Do("POST", "/api/v1/orgs", map[string]any{"name": "越权机构", "kind": "unit", "divisionCode": jinchang})
		if r.Status != 422 || r.Problem().Errors[0].Rule != "scope" {
			t.Fatalf("create org in another street: %d %s", r.Status, r.Body)
		}
		if r := c.Do("PATCH", "/api/v1/users/"+staff2ID, map[string]any{"displayName": "改名"}); r.Status != 404 {
			t.Fatalf("edit user of another street: %d", r.Status)
		}
		if r := c.Do("PATCH", "/api/v1/divisions/"+jinchang, map[string]any{"name": "改名"}); r.Status != 404 {
			t.Fatalf("rename another street: %d", r.Status)
		}
		if count(t, e, "orgs") != before {
			t.Fatal("an organisation was written")
		}
	})
}

func withCSRF(c *apptest.Client, token string) *apptest.Client {
	return apptest.WithCSRF(c, token)
}

func testBadInput(t *testing.T, e *apptest.Env) {
	admin := e.Login(t, "sysadmin").Lang("zh-CN")
	tables := []string{"users", "orgs", "divisions", "audit_log"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = count(t, e, tb)
	}
	orgID := orgIDByName(t, e, "平江街道办事处")
	good := func() map[string]any {
		return map[string]any{"username": "newuser", "displayName": "新用户", "password": "Good-pass-1", "orgId": orgID}
	}
	with := func(k string, v any) map[string]any { m := good(); m[k] = v; return m }
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field, rule        string
	}{
		{"malformed JSON", "POST", "/api/v1/users", `{"username": "x",`, 400, "", "json"},
		{"unknown field", "POST", "/api/v1/users", with("isAdmin", true), 422, "isAdmin", "additionalProperties"},
		{"wrong type", "POST", "/api/v1/users", with("displayName", 42), 422, "displayName", "type"},
		{"over-long string", "POST", "/api/v1/users", with("displayName", strings.Repeat("长", 65)), 422, "displayName", "maxLength"},
		{"missing field", "POST", "/api/v1/users", map[string]any{"username": "abc"}, 422, "displayName", "required"},
		{"weak password", "POST", "/api/v1/users", with("password", "alllowercase"), 422, "password", "complexity"},
		{"bad username", "POST", "/api/v1/users", with("username", "Root User"), 422, "username", "pattern"},
		{"bad phone", "POST", "/api/v1/users", with("phone", "12345"), 422, "phone", "pattern"},
		{"unknown organisation", "POST", "/api/v1/users", with("orgId", "nope"), 422, "orgId", "exists"},
		{"division code with letters", "POST", "/api/v1/divisions", map[string]any{"code": "32050801800A", "name": "x"}, 422, "code", "pattern"},
		{"division code of wrong length", "POST", "/api/v1/divisions", map[string]any{"code": "3205080", "name": "x"}, 422, "code", "length"},
		{"division code with bad province", "POST", "/api/v1/divisions", map[string]any{"code": "990000", "name": "x"}, 422, "code", "province"},
		{"division code skipping a level", "POST", "/api/v1/divisions", map[string]any{"code": "320000001000", "name": "x"}, 422, "code", "hierarchy"},
		{"division whose parent is missing", "POST", "/api/v1/divisions", map[string]any{"code": "320508099001", "name": "x"}, 422, "code", "parent"},
		{"division under the wrong parent", "POST", "/api/v1/divisions", map[string]any{"code": "320508018099", "name": "x", "parentCode": jinchang}, 422, "parentCode", "parent"},
		{"duplicate division", "POST", "/api/v1/divisions", map[string]any{"code": pingjiang, "name": "x"}, 409, "code", "unique"},
		{"bad page size", "GET", "/api/v1/users?pageSize=5000", nil, 422, "pageSize", "maximum"},
		{"unknown query parameter", "GET", "/api/v1/users?colour=red", nil, 422, "colour", ""},
		{"bad enum", "GET", "/api/v1/users?status=sleeping", nil, 422, "status", "enum"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := admin.Do(c.method, c.path, c.body)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			p := r.Problem()
			found := false
			for _, fe := range p.Errors {
				if (c.field == "" || fe.Field == c.field) && (c.rule == "" || fe.Rule == c.rule) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no error names field %q rule %q: %s", c.field, c.rule, r.Body)
			}
			if !containsHan(p.Title + p.Detail) {
				t.Errorf("Accept-Language zh-CN but the problem is not in Chinese: %s", r.Body)
			}
		})
	}
	for _, tb := range tables {
		if n := count(t, e, tb); n != before[tb] {
			t.Errorf("table %s changed from %d to %d rows", tb, before[tb], n)
		}
	}
}

func containsHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

func testLockout(t *testing.T, e *apptest.Env) {
	a := e.Anonymous(t)
	login := func(pw string) *apptest.Resp {
		return a.Do("POST", "/api/v1/auth/login", map[string]string{"username": "leader", "password": pw})
	}
	for i := range 5 {
		if r := login("wrong-password"); r.Status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.Status)
		}
	}
	r := login("Shuzhi@2026")
	if r.Status != 423 || r.Problem().Code != "locked" {
		t.Fatalf("after 5 failures the right password gives %d %s, want 423", r.Status, r.Body)
	}
	sec := e.Login(t, "secadmin")
	if r := sec.Do("POST", "/api/v1/users/"+userID(t, e, "leader")+"/unlock", nil); r.Status != 200 {
		t.Fatalf("unlock: %d %s", r.Status, r.Body)
	}
	if r := login("Shuzhi@2026"); r.Status != 200 {
		t.Fatalf("after unlock: %d", r.Status)
	}
	// a now holds leader's session; a fresh browser asks for an unknown user.
	a = e.Anonymous(t)
	if r := a.Do("POST", "/api/v1/auth/login", map[string]string{"username": "no-such-user", "password": "x"}); r.Status != 401 {
		t.Fatalf("unknown user: %d", r.Status)
	}
	// The session cookie is HttpOnly and SameSite=Strict.
	res := a.Do("POST", "/api/v1/auth/login", map[string]string{"username": "head", "password": "Shuzhi@2026"})
	var session string
	for _, c := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "shuzhi_session=") {
			session = c
		}
	}
	if !strings.Contains(session, "HttpOnly") || !strings.Contains(session, "SameSite=Strict") {
		t.Fatalf("session cookie %q", session)
	}
}

func testCSRF(t *testing.T, e *apptest.Env) {
	admin := e.Login(t, "sysadmin")
	body := map[string]any{"name": "CSRF 测试"}
	if r := admin.WithoutCSRF().Do("PATCH", "/api/v1/divisions/"+pingjiang, body); r.Status != 403 || r.Problem().Errors[0].Rule != "csrf" {
		t.Fatalf("without CSRF: %d %s", r.Status, r.Body)
	}
	if r := apptest.WithCSRF(admin, "forged").Do("PATCH", "/api/v1/divisions/"+pingjiang, body); r.Status != 403 {
		t.Fatalf("forged CSRF: %d", r.Status)
	}
	if r := admin.WithoutCSRF().Do("GET", "/api/v1/divisions/"+pingjiang, nil); r.Status != 200 {
		t.Fatalf("safe method without CSRF: %d", r.Status)
	}
}

func testTokens(t *testing.T, e *apptest.Env) {
	sec := e.Login(t, "secadmin")
	org := orgIDByName(t, e, "平江街道办事处")
	r := sec.Do("POST", "/api/v1/tokens", map[string]any{"name": "民政系统", "orgId": org, "scopes": []string{"users:read", "divisions:read"}, "expiresInDays": 30})
	if r.Status != 200 {
		t.Fatalf("issue: %d %s", r.Status, r.Body)
	}
	var tok struct{ ID, Token, Status string }
	r.JSON(&tok)
	if !strings.HasPrefix(tok.Token, "shz_") || tok.Status != "active" {
		t.Fatalf("token = %+v", tok)
	}
	var n int
	_ = e.Server.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM api_tokens WHERE hash = ? OR prefix = ?", tok.Token, tok.Token).Scan(&n)
	if n != 0 {
		t.Fatal("the token is stored in clear")
	}
	sys := e.Bearer(t, tok.Token)
	var page struct {
		Items []struct{ DivisionCode string }
		Total int
	}
	if r := sys.Do("GET", "/api/v1/users?pageSize=200", nil); r.Status != 200 {
		t.Fatalf("token read: %d %s", r.Status, r.Body)
	} else {
		r.JSON(&page)
	}
	for _, u := range page.Items {
		if !strings.HasPrefix(u.DivisionCode, "320508018") {
			t.Fatalf("token of 平江街道 sees a user in %s", u.DivisionCode)
		}
	}
	if r := sys.Do("GET", "/api/v1/orgs", nil); r.Status != 403 {
		t.Fatalf("outside its scopes: %d", r.Status)
	}
	if r := sys.Do("POST", "/api/v1/users", map[string]any{}); r.Status != 403 {
		t.Fatalf("token writing: %d", r.Status)
	}
	if r := sec.Do("POST", "/api/v1/tokens", map[string]any{"name": "x", "orgId": org, "scopes": []string{"users:write"}, "expiresInDays": 30}); r.Status != 422 {
		t.Fatalf("administrative scope on a token: %d", r.Status)
	}
	if r := sec.Do("DELETE", "/api/v1/tokens/"+tok.ID, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := sys.Do("GET", "/api/v1/users", nil); r.Status != 401 {
		t.Fatalf("revoked token: %d", r.Status)
	}
	if r := e.Bearer(t, "shz_madeup").Do("GET", "/api/v1/users", nil); r.Status != 401 {
		t.Fatalf("made-up token: %d", r.Status)
	}
}

func testSeparation(t *testing.T, e *apptest.Env) {
	sec := e.Login(t, "secadmin")
	id := userID(t, e, "head")
	r := sec.Do("PUT", "/api/v1/users/"+id+"/roles", map[string]any{"roles": []string{"sys_admin", "auditor"}})
	if r.Status != 422 || r.Problem().Errors[0].Rule != "separation" {
		t.Fatalf("two admin roles: %d %s", r.Status, r.Body)
	}
	if r := sec.Do("PUT", "/api/v1/users/"+userID(t, e, "secadmin")+"/roles", map[string]any{"roles": []string{"sec_admin", "leader"}}); r.Status != 403 {
		t.Fatalf("own roles: %d", r.Status)
	}
	r = sec.Do("PUT", "/api/v1/users/"+id+"/roles", map[string]any{"roles": []string{"dept_head", "leader"}})
	if r.Status != 200 {
		t.Fatalf("grant: %d %s", r.Status, r.Body)
	}
	var u struct{ Roles []string }
	r.JSON(&u)
	if !slices.Equal(u.Roles, []string{"dept_head", "leader"}) {
		t.Fatalf("roles = %v", u.Roles)
	}
	sec.Do("PUT", "/api/v1/users/"+id+"/roles", map[string]any{"roles": []string{"dept_head"}})
}

func testAdminFlowAudited(t *testing.T, e *apptest.Env) {
	admin := e.Login(t, "sysadmin")
	org := orgIDByName(t, e, "平江街道办事处")
	r := admin.Do("POST", "/api/v1/users", map[string]any{"username": "audited.user", "displayName": "被审计", "password": "Audit-me-2026", "orgId": org, "phone": "13912345678"})
	if r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var u struct {
		ID, PhoneMasked string
		Roles           []string
	}
	r.JSON(&u)
	if u.PhoneMasked != "1**-****-5678" || len(u.Roles) != 0 {
		t.Fatalf("created user = %+v", u)
	}
	if bytes.Contains(r.Body, []byte("13912345678")) {
		t.Fatal("the phone number is returned in clear")
	}
	var stored string
	_ = e.Server.DB.QueryRow(context.Background(), "SELECT phone_enc FROM users WHERE id = ?", u.ID).Scan(&stored)
	if stored == "" || strings.Contains(stored, "1391234") {
		t.Fatalf("phone not encrypted at rest: %q", stored)
	}
	aud := e.Login(t, "auditor")
	var page struct {
		Items []struct{ Action, Subject, ActorName, RequestID string }
	}
	aud.Do("GET", "/api/v1/audit?action=user.create&pageSize=5", nil).JSON(&page)
	if len(page.Items) == 0 || page.Items[0].Subject != "user:"+u.ID || page.Items[0].ActorName != "sysadmin" || page.Items[0].RequestID == "" {
		t.Fatalf("audit of user creation: %+v", page.Items)
	}
	aud.Do("GET", "/api/v1/audit?action=login.failure", nil).JSON(&page)
	if len(page.Items) == 0 {
		t.Fatal("failed logins are not audited")
	}
}

func testExport(t *testing.T, e *apptest.Env) {
	admin := e.Login(t, "sysadmin")
	r := admin.Do("GET", "/api/v1/users/export?format=xlsx&q=staff", nil)
	if r.Status != 200 || !bytes.HasPrefix(r.Body, []byte("PK")) || !strings.Contains(r.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("xlsx: %d %s %q", r.Status, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"))
	}
	r = admin.Do("GET", "/api/v1/orgs/export?format=csv&q="+url.QueryEscape("街道办事处"), nil)
	lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
	if r.Status != 200 || len(lines) != 1+8 { // header + the 8 street offices of 姑苏区
		t.Fatalf("csv: %d, %d lines: %s", r.Status, len(lines), r.Body)
	}
}

func testEvents(t *testing.T, e *apptest.Env) {
	got := make(chan identity.UserChanged, 16)
	calls := 0
	stop, err := bus.Subscribe(e.Server.Bus, "test-user-changed", func(ctx context.Context, env bus.Envelope, ev identity.UserChanged) error {
		calls++
		if calls == 1 {
			return errors.New("fail the first delivery")
		}
		got <- ev
		return nil
	}, db.Dedup{DB: e.Server.DB}, bus.WithBackoff(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	id := userID(t, e, "gridworker")
	if r := e.Login(t, "secadmin").Do("PUT", "/api/v1/users/"+id+"/roles", map[string]any{"roles": []string{"grid_worker", "leader"}}); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-got:
			if ev.UserID == id && ev.Change == "user.roles" {
				// The relay deletes a row after publishing it: the outbox drains.
				for n, _ := e.Server.Outbox.Pending(context.Background()); n != 0; n, _ = e.Server.Outbox.Pending(context.Background()) {
					select {
					case <-deadline:
						t.Fatalf("%d events stay in the outbox", n)
					case <-time.After(50 * time.Millisecond):
					}
				}
				var processed int
				_ = e.Server.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM bus_processed WHERE consumer = ?", "test-user-changed").Scan(&processed)
				if processed == 0 {
					t.Error("the consumer's processed events are not recorded")
				}
				return
			}
		case <-deadline:
			t.Fatal("no identity.user.changed event for the role change within 20s")
		}
	}
}

func testAuditOnLedger(t *testing.T, e *apptest.Env) {
	sec := e.Login(t, "secadmin")
	id := userID(t, e, "supervisor")
	if r := sec.Do("POST", "/api/v1/users/"+id+"/unlock", nil); r.Status != 200 {
		t.Fatalf("unlock: %d", r.Status)
	}
	// The unlock reaches the ledger through the outbox and the bus.
	a := e.Anonymous(t)
	found := findLedger(t, e, func(d map[string]any) bool { return d["action"] == "user.unlock" && d["subject"] == "user:"+id })
	var en struct{ Data map[string]any }
	a.Do("GET", fmt.Sprintf("/api/v1/ledger/entries/%d", found), nil).JSON(&en)
	if en.Data["actorName"] != "secadmin" || en.Data["payloadHash"] == "" {
		t.Fatalf("ledger record: %v", en.Data)
	}
	// Served as C2SP tlog-tiles with a checkpoint.
	if r := a.Do("GET", "/ledger/checkpoint", nil); r.Status != 200 || !strings.HasPrefix(string(r.Body), "shuzhi.local/ledger\n") {
		t.Fatalf("checkpoint: %d %q", r.Status, r.Body)
	}
	if r := a.Do("GET", "/ledger/tile/0/000", nil); r.Status != 200 || len(r.Body) != 256*32 {
		t.Fatalf("tile 0/000: %d, %d bytes", r.Status, len(r.Body))
	}
	if r := a.Do("GET", "/ledger/tile/entries/000", nil); r.Status != 200 {
		t.Fatalf("entries 000: %d", r.Status)
	}
	if r := a.Do("GET", "/ledger/tile/0/x999/999", nil); r.Status != 404 {
		t.Fatalf("missing tile: %d", r.Status)
	}
	rep, err := ledger.Verify(context.Background(), e.Server.DB, e.Server.Crypto, e.Server.Cfg.LedgerOrigin, app.CheckpointFile(e.Server.Cfg))
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

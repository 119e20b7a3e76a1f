package httpx

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
)

// NewAPI creates the huma API on mux. The OpenAPI 3.1 document is served at
// /openapi.json; the browsable docs at /docs come from the web UI (offline),
// not from huma's CDN-backed renderer.
func NewAPI(mux *http.ServeMux, version string) huma.API {
	cfg := huma.DefaultConfig("数治 Shuzhi API", version)
	cfg.Info.Description = "Digital-government platform API. Errors are RFC 9457 problem details " +
		"(application/problem+json) whose `errors` name each offending field and rule. " +
		"Lists take `page` (from 1) and `pageSize` (1-200) and return `{items,total,page,pageSize}`; " +
		"`q` searches. Authenticate with the session cookie (browser; unsafe methods need the " +
		"X-CSRF-Token header) or `Authorization: Bearer <token>` (department systems)."
	cfg.OpenAPIPath = "/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil // no $schema links in bodies: clients echo them back
	cfg.RejectUnknownQueryParameters = true
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"session": {Type: "apiKey", In: "cookie", Name: SessionCookie, Description: "Browser session (login via POST /api/v1/auth/login)."},
		"bearer":  {Type: "http", Scheme: "bearer", Description: "API token issued to a department system."},
	}
	return humago.New(mux, cfg)
}

// Op describes one operation and the permission it needs ("" = any
// authenticated caller; Public = anyone).
type Op struct {
	huma.Operation
	Perm   authz.Permission
	Public bool
}

// Register adds a handler behind the permission check. The check runs
// before huma parses the body, so an anonymous caller gets 401, not a
// validation error.
func Register[I, O any](api huma.API, op Op, h func(context.Context, *I) (*O, error)) {
	o := op.Operation
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata["perm"] = op.Perm
	o.Metadata["public"] = op.Public
	if !op.Public {
		o.Security = []map[string][]string{{"session": {}}, {"bearer": {}}}
		o.Errors = append(o.Errors, http.StatusUnauthorized, http.StatusForbidden)
		o.Middlewares = append(o.Middlewares, requirePerm(api, op.Perm))
	}
	o.Errors = append(o.Errors, http.StatusUnprocessableEntity)
	huma.Register(api, o, h)
}

func requirePerm(api huma.API, perm authz.Permission) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if _, err := authz.Require(ctx.Context(), perm); err != nil {
			_ = huma.WriteErr(api, ctx, http.StatusForbidden, "", err)
			return
		}
		next(ctx)
	}
}

// PageQuery is embedded in list inputs.
type PageQuery struct {
	Page     int `query:"page" default:"1" minimum:"1" maximum:"100000" doc:"Page number, from 1"`
	PageSize int `query:"pageSize" default:"20" minimum:"1" maximum:"200" doc:"Items per page"`
}

// Limit and Offset translate the page into SQL terms.
func (p PageQuery) Limit() int  { return p.PageSize }
func (p PageQuery) Offset() int { return (p.Page - 1) * p.PageSize }

// Page is one page of a list.
type Page[T any] struct {
	Items    []T `json:"items" nullable:"false"`
	Total    int `json:"total"`
	Page     int `json:"page"`
	PageSize int `json:"pageSize"`
}

// NewPage builds a page, never with a nil item list.
func NewPage[T any](items []T, total int, q PageQuery) *Page[T] {
	if items == nil {
		items = []T{}
	}
	return &Page[T]{Items: items, Total: total, Page: q.Page, PageSize: q.PageSize}
}

// Body wraps a response body for huma.
type Body[T any] struct {
	Body T
}

// Reply wraps v as a response.
func Reply[T any](v T) *Body[T] { return &Body[T]{Body: v} }

// Empty is a response without a body (204).
type Empty struct{}

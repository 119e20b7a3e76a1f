package identity

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

// CookieOptions configure the session cookies.
type CookieOptions struct {
	Secure bool
}

// Routes registers the module's API. It reads as an index of the module.
func (s *Service) Routes(api huma.API, co CookieOptions) {
	h := &handlers{s: s, co: co}
	tag := func(t string, id, method, path, summary string) huma.Operation {
		return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{t}}
	}
	const v = "/api/v1"

	httpx.Register(api, httpx.Op{Operation: tag("Auth", "login", http.MethodPost, v+"/auth/login", "Log in with username and password"), Public: true}, h.login)
	httpx.Register(api, httpx.Op{Operation: tag("Auth", "logout", http.MethodPost, v+"/auth/logout", "Log out"), Public: true}, h.logout)
	httpx.Register(api, httpx.Op{Operation: tag("Auth", "me", http.MethodGet, v+"/auth/me", "The calling user or system")}, h.me)
	httpx.Register(api, httpx.Op{Operation: tag("Roles", "list-roles", http.MethodGet, v+"/roles", "List roles"), Perm: authz.RolesRead}, h.roles)

	httpx.Register(api, httpx.Op{Operation: tag("Divisions", "list-divisions", http.MethodGet, v+"/divisions", "List divisions in your region"), Perm: authz.DivisionsRead}, h.listDivisions)
	httpx.Register(api, httpx.Op{Operation: tag("Divisions", "export-divisions", http.MethodGet, v+"/divisions/export", "Export divisions (xlsx or csv)"), Perm: authz.DivisionsRead}, h.exportDivisions)
	httpx.Register(api, httpx.Op{Operation: tag("Divisions", "get-division", http.MethodGet, v+"/divisions/{code}", "Get a division"), Perm: authz.DivisionsRead}, h.getDivision)
	httpx.Register(api, httpx.Op{Operation: tag("Divisions", "create-division", http.MethodPost, v+"/divisions", "Create a division"), Perm: authz.DivisionsWrite}, h.createDivision)
	httpx.Register(api, httpx.Op{Operation: tag("Divisions", "rename-division", http.MethodPatch, v+"/divisions/{code}", "Rename a division"), Perm: authz.DivisionsWrite}, h.renameDivision)

	httpx.Register(api, httpx.Op{Operation: tag("Organisations", "list-orgs", http.MethodGet, v+"/orgs", "List organisations in your region"), Perm: authz.OrgsRead}, h.listOrgs)
	httpx.Register(api, httpx.Op{Operation: tag("Organisations", "export-orgs", http.MethodGet, v+"/orgs/export", "Export organisations"), Perm: authz.OrgsRead}, h.exportOrgs)
	httpx.Register(api, httpx.Op{Operation: tag("Organisations", "get-org", http.MethodGet, v+"/orgs/{id}", "Get an organisation"), Perm: authz.OrgsRead}, h.getOrg)
	httpx.Register(api, httpx.Op{Operation: tag("Organisations", "create-org", http.MethodPost, v+"/orgs", "Create an organisation"), Perm: authz.OrgsWrite}, h.createOrg)
	httpx.Register(api, httpx.Op{Operation: tag("Organisations", "update-org", http.MethodPut, v+"/orgs/{id}", "Replace an organisation's fields"), Perm: authz.OrgsWrite}, h.updateOrg)

	httpx.Register(api, httpx.Op{Operation: tag("Users", "list-users", http.MethodGet, v+"/users", "List users in your region"), Perm: authz.UsersRead}, h.listUsers)
	httpx.Register(api, httpx.Op{Operation: tag("Users", "export-users", http.MethodGet, v+"/users/export", "Export users"), Perm: authz.UsersRead}, h.exportUsers)
	httpx.Register(api, httpx.Op{Operation: tag("Users", "get-user", http.MethodGet, v+"/users/{id}", "Get a user"), Perm: authz.UsersRead}, h.getUser)
	httpx.Register(api, httpx.Op{Operation: tag("Users", "create-user", http.MethodPost, v+"/users", "Create a user account (without roles)"), Perm: authz.UsersWrite}, h.createUser)
	httpx.Register(api, httpx.Op{Operation: tag("Users", "update-user", http.MethodPatch, v+"/users/{id}", "Edit a user's name, phone or status"), Perm: authz.UsersWrite}, h.updateUser)
	httpx.Register(api, httpx.Op{Operation: tag("Users", "set-user-roles", http.MethodPut, v+"/users/{id}/roles", "Replace a user's roles"), Perm: authz.UsersSecurity}, h.setRoles)
	httpx.Register(api, httpx.Op{Operation: tag("Users", "reset-user-password", http.MethodPost, v+"/users/{id}/password", "Reset a user's password"), Perm: authz.UsersSecurity}, h.resetPassword)
	httpx.Register(api, httpx.Op{Operation: tag("Users", "unlock-user", http.MethodPost, v+"/users/{id}/unlock", "Unlock a locked-out user"), Perm: authz.UsersSecurity}, h.unlock)

	httpx.Register(api, httpx.Op{Operation: tag("Tokens", "list-tokens", http.MethodGet, v+"/tokens", "List API tokens"), Perm: authz.TokensManage}, h.listTokens)
	httpx.Register(api, httpx.Op{Operation: tag("Tokens", "export-tokens", http.MethodGet, v+"/tokens/export", "Export API tokens"), Perm: authz.TokensManage}, h.exportTokens)
	httpx.Register(api, httpx.Op{Operation: tag("Tokens", "issue-token", http.MethodPost, v+"/tokens", "Issue an API token to a department system"), Perm: authz.TokensManage}, h.issueToken)
	httpx.Register(api, httpx.Op{Operation: withStatus(tag("Tokens", "revoke-token", http.MethodDelete, v+"/tokens/{id}", "Revoke an API token"), 204), Perm: authz.TokensManage}, h.revokeToken)

	httpx.Register(api, httpx.Op{Operation: tag("Audit", "list-audit", http.MethodGet, v+"/audit", "List the administrative audit trail"), Perm: authz.AuditRead}, h.listAudit)
	httpx.Register(api, httpx.Op{Operation: tag("Audit", "export-audit", http.MethodGet, v+"/audit/export", "Export the audit trail"), Perm: authz.AuditRead}, h.exportAudit)
}

func withStatus(op huma.Operation, status int) huma.Operation {
	op.DefaultStatus = status
	return op
}

type handlers struct {
	s  *Service
	co CookieOptions
}

// ---- auth ----

type loginIn struct {
	Body struct {
		Username string `json:"username" minLength:"1" maxLength:"64"`
		Password string `json:"password" minLength:"1" maxLength:"128"`
	}
}

type loginOut struct {
	SetCookie []http.Cookie `header:"Set-Cookie"`
	Body      struct {
		User      *Me    `json:"user"`
		CSRFToken string `json:"csrfToken" doc:"Send as X-CSRF-Token on unsafe requests"`
	}
}

func (h *handlers) cookies(token, csrf string, expires time.Time) []http.Cookie {
	maxAge := int(time.Until(expires).Seconds())
	if token == "" {
		maxAge = -1
	}
	return []http.Cookie{
		{Name: httpx.SessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.co.Secure, MaxAge: maxAge},
		{Name: httpx.CSRFCookie, Value: csrf, Path: "/", HttpOnly: false, SameSite: http.SameSiteStrictMode, Secure: h.co.Secure, MaxAge: maxAge},
	}
}

func (h *handlers) login(ctx context.Context, in *loginIn) (*loginOut, error) {
	sess, err := h.s.Login(ctx, in.Body.Username, in.Body.Password)
	if err != nil {
		return nil, err
	}
	out := &loginOut{SetCookie: h.cookies(sess.Token, sess.CSRF, sess.ExpiresAt)}
	out.Body.User, out.Body.CSRFToken = sess.Me, sess.CSRF
	return out, nil
}

type logoutOut struct {
	SetCookie []http.Cookie `header:"Set-Cookie"`
}

func (h *handlers) logout(ctx context.Context, _ *struct{}) (*logoutOut, error) {
	if err := h.s.Logout(ctx); err != nil {
		return nil, err
	}
	return &logoutOut{SetCookie: h.cookies("", "", time.Time{})}, nil
}

func (h *handlers) me(ctx context.Context, _ *struct{}) (*httpx.Body[*Me], error) {
	m, err := h.s.Me(ctx)
	if err != nil {
		return nil, err
	}
	return httpx.Reply(m), nil
}

func (h *handlers) roles(ctx context.Context, _ *struct{}) (*httpx.Body[httpx.Page[authz.RoleInfo]], error) {
	return httpx.Reply(httpx.Page[authz.RoleInfo]{Items: authz.Roles, Total: len(authz.Roles), Page: 1, PageSize: len(authz.Roles)}), nil
}

// ---- divisions ----

// DivisionQuery filters divisions (exported: huma reads parameters only from exported embedded structs).
type DivisionQuery struct {
	Parent string `query:"parent" maxLength:"12" pattern:"^[0-9]*$" doc:"List the children of this division"`
	Q      string `query:"q" maxLength:"64" doc:"Search name or code"`
	Level  string `query:"level" enum:"province,city,county,township,community,"`
}

type listDivisionsIn struct {
	DivisionQuery
	httpx.PageQuery
}

func (h *handlers) listDivisions(ctx context.Context, in *listDivisionsIn) (*httpx.Body[*httpx.Page[Division]], error) {
	items, total, err := h.s.ListDivisions(ctx, DivisionFilter(in.DivisionQuery), in.Limit(), in.Offset())
	if err != nil {
		return nil, err
	}
	return httpx.Reply(httpx.NewPage(items, total, in.PageQuery)), nil
}

type exportDivisionsIn struct {
	DivisionQuery
	httpx.ExportQuery
}

func (h *handlers) exportDivisions(ctx context.Context, in *exportDivisionsIn) (*httpx.File, error) {
	items, _, err := h.s.ListDivisions(ctx, DivisionFilter(in.DivisionQuery), httpx.MaxExportRows, 0)
	if err != nil {
		return nil, err
	}
	rows := make([][]string, len(items))
	for i, d := range items {
		rows[i] = []string{d.Code, d.Name, levelsZh[d.Level], d.ParentCode}
	}
	return httpx.Export("divisions", in.Format, []string{"代码 Code", "名称 Name", "层级 Level", "上级代码 Parent"}, rows)
}

// CodePath is the {code} path parameter of a division.
type CodePath struct {
	Code string `path:"code" minLength:"6" maxLength:"12" pattern:"^[0-9]+$"`
}

func (h *handlers) getDivision(ctx context.Context, in *CodePath) (*httpx.Body[*Division], error) {
	d, err := h.s.GetDivision(ctx, in.Code)
	if err != nil {
		return nil, err
	}
	return httpx.Reply(d), nil
}

type createDivisionIn struct {
	Body struct {
		Code       string   `json:"code" minLength:"6" maxLength:"12" pattern:"^[0-9]+$" doc:"6-, 9- or 12-digit division code"`
		Name       string   `json:"name" minLength:"1" maxLength:"64"`
		ParentCode string   `json:"parentCode,omitempty" maxLength:"12" pattern:"^[0-9]*$"`
		Lon        *float64 `json:"lon,omitempty" minimum:"73" maximum:"136"`
		Lat        *float64 `json:"lat,omitempty" minimum:"3" maximum:"54"`
	}
}

func (h *handlers) createDivision(ctx context.Context, in *createDivisionIn) (*httpx.Body[*Division], error) {
	b := in.Body
	d, err := h.s.CreateDivision(ctx, NewDivision{Code: b.Code, Name: b.Name, ParentCode: b.ParentCode, Lon: b.Lon, Lat: b.Lat})
	if err != nil {
		return nil, err
	}
	return httpx.Reply(d), nil
}

type renameDivisionIn struct {
	CodePath
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"64"`
	}
}

func (h *handlers) renameDivision(ctx context.Context, in *renameDivisionIn) (*httpx.Body[*Division], error) {
	d, err := h.s.RenameDivision(ctx, in.Code, in.Body.Name)
	if err != nil {
		return nil, err
	}
	return httpx.Reply(d), nil
}

// ---- organisations ----

// OrgQuery filters organisations (exported: huma reads parameters only from exported embedded structs).
type OrgQuery struct {
	Q            string `query:"q" maxLength:"64"`
	DivisionCode string `query:"divisionCode" maxLength:"12" pattern:"^[0-9]*$"`
	Kind         string `query:"kind" enum:"department,unit,committee,enterprise,social,"`
	DeptType     string `query:"deptType" maxLength:"16"`
}

type listOrgsIn struct {
	OrgQuery
	httpx.PageQuery
}

func (h *handlers) listOrgs(ctx context.Context, in *listOrgsIn) (*httpx.Body[*httpx.Page[Org]], error) {
	items, total, err := h.s.ListOrgs(ctx, OrgFilter(in.OrgQuery), in.Limit(), in.Offset())
	if err != nil {
		return nil, err
	}
	return httpx.Reply(httpx.NewPage(items, total, in.PageQuery)), nil
}

type exportOrgsIn struct {
	OrgQuery
	httpx.ExportQuery
}

func (h *handlers) exportOrgs(ctx context.Context, in *exportOrgsIn) (*httpx.File, error) {
	items, _, err := h.s.ListOrgs(ctx, OrgFilter(in.OrgQuery), httpx.MaxExportRows, 0)
	if err != nil {
		return nil, err
	}
	rows := make([][]string, len(items))
	for i, o := range items {
		rows[i] = []string{o.ID, o.Name, o.Code, o.Kind, o.DeptType, o.DivisionCode, o.DivisionName, levelsZh[o.Level]}
	}
	return httpx.Export("orgs", in.Format, []string{"ID", "名称 Name", "代码 Code", "类型 Kind", "部门类别 Dept", "区划代码 Division", "区划 Division name", "层级 Level"}, rows)
}

// IDPath is the {id} path parameter (exported so that embedding works).
type IDPath struct {
	ID string `path:"id" minLength:"1" maxLength:"64"`
}

func (h *handlers) getOrg(ctx context.Context, in *IDPath) (*httpx.Body[*Org], error) {
	o, err := h.s.GetOrg(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return httpx.Reply(o), nil
}

type orgBody struct {
	Name         string `json:"name" minLength:"1" maxLength:"100"`
	Code         string `json:"code,omitempty" maxLength:"18"`
	Kind         string `json:"kind" enum:"department,unit,committee,enterprise,social"`
	DeptType     string `json:"deptType,omitempty" maxLength:"16"`
	ParentID     string `json:"parentId,omitempty" maxLength:"64"`
	DivisionCode string `json:"divisionCode" minLength:"6" maxLength:"12" pattern:"^[0-9]+$"`
}

type createOrgIn struct{ Body orgBody }

func (h *handlers) createOrg(ctx context.Context, in *createOrgIn) (*httpx.Body[*Org], error) {
	o, err := h.s.CreateOrg(ctx, OrgInput(in.Body))
	if err != nil {
		return nil, err
	}
	return httpx.Reply(o), nil
}

type updateOrgIn struct {
	IDPath
	Body orgBody
}

func (h *handlers) updateOrg(ctx context.Context, in *updateOrgIn) (*httpx.Body[*Org], error) {
	o, err := h.s.UpdateOrg(ctx, in.ID, OrgInput(in.Body))
	if err != nil {
		return nil, err
	}
	return httpx.Reply(o), nil
}

// ---- users ----

// UserQuery filters users (exported: huma reads parameters only from exported embedded structs).
type UserQuery struct {
	Q            string `query:"q" maxLength:"64"`
	Role         string `query:"role" enum:"citizen,enterprise,grid_worker,dept_staff,dept_head,supervisor,leader,auditor,sys_admin,sec_admin,"`
	OrgID        string `query:"orgId" maxLength:"64"`
	DivisionCode string `query:"divisionCode" maxLength:"12" pattern:"^[0-9]*$"`
	Status       string `query:"status" enum:"active,disabled,locked,"`
}

type listUsersIn struct {
	UserQuery
	httpx.PageQuery
}

func (h *handlers) listUsers(ctx context.Context, in *listUsersIn) (*httpx.Body[*httpx.Page[User]], error) {
	items, total, err := h.s.ListUsers(ctx, UserFilter(in.UserQuery), in.Limit(), in.Offset())
	if err != nil {
		return nil, err
	}
	return httpx.Reply(httpx.NewPage(items, total, in.PageQuery)), nil
}

type exportUsersIn struct {
	UserQuery
	httpx.ExportQuery
}

func (h *handlers) exportUsers(ctx context.Context, in *exportUsersIn) (*httpx.File, error) {
	items, _, err := h.s.ListUsers(ctx, UserFilter(in.UserQuery), httpx.MaxExportRows, 0)
	if err != nil {
		return nil, err
	}
	rows := make([][]string, len(items))
	for i, u := range items {
		roles := make([]string, len(u.Roles))
		for j, r := range u.Roles {
			roles[j] = string(r)
		}
		rows[i] = []string{u.Username, u.DisplayName, u.PhoneMasked, u.OrgName, u.DivisionCode, u.DivisionName, strings.Join(roles, " "), u.Status, u.CreatedAt.Format(time.RFC3339)}
	}
	return httpx.Export("users", in.Format, []string{"用户名 Username", "姓名 Name", "手机 Phone", "机构 Organisation", "区划代码 Division", "区划 Division name", "角色 Roles", "状态 Status", "创建时间 Created"}, rows)
}

func (h *handlers) getUser(ctx context.Context, in *IDPath) (*httpx.Body[*User], error) {
	u, err := h.s.GetUser(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return httpx.Reply(u), nil
}

type createUserIn struct {
	Body struct {
		Username     string `json:"username" minLength:"3" maxLength:"32"`
		DisplayName  string `json:"displayName" minLength:"1" maxLength:"64"`
		Password     string `json:"password" minLength:"8" maxLength:"128"`
		OrgID        string `json:"orgId,omitempty" maxLength:"64"`
		DivisionCode string `json:"divisionCode,omitempty" maxLength:"12" pattern:"^[0-9]*$"`
		Phone        string `json:"phone,omitempty" maxLength:"11"`
	}
}

func (h *handlers) createUser(ctx context.Context, in *createUserIn) (*httpx.Body[*User], error) {
	b := in.Body
	u, err := h.s.CreateUser(ctx, NewUser{Username: b.Username, DisplayName: b.DisplayName, Password: b.Password, OrgID: b.OrgID, DivisionCode: b.DivisionCode, Phone: b.Phone})
	if err != nil {
		return nil, err
	}
	return httpx.Reply(u), nil
}

type updateUserIn struct {
	IDPath
	Body struct {
		DisplayName *string `json:"displayName,omitempty" minLength:"1" maxLength:"64"`
		Phone       *string `json:"phone,omitempty" maxLength:"11"`
		Status      *string `json:"status,omitempty" enum:"active,disabled"`
	}
}

func (h *handlers) updateUser(ctx context.Context, in *updateUserIn) (*httpx.Body[*User], error) {
	u, err := h.s.UpdateUser(ctx, in.ID, UserPatch(in.Body))
	if err != nil {
		return nil, err
	}
	return httpx.Reply(u), nil
}

type setRolesIn struct {
	IDPath
	Body struct {
		Roles []authz.Role `json:"roles" maxItems:"10" nullable:"false"`
	}
}

func (h *handlers) setRoles(ctx context.Context, in *setRolesIn) (*httpx.Body[*User], error) {
	u, err := h.s.SetRoles(ctx, in.ID, in.Body.Roles)
	if err != nil {
		return nil, err
	}
	return httpx.Reply(u), nil
}

type passwordIn struct {
	IDPath
	Body struct {
		Password string `json:"password" minLength:"8" maxLength:"128"`
	}
}

func (h *handlers) resetPassword(ctx context.Context, in *passwordIn) (*struct{}, error) {
	return nil, h.s.ResetPassword(ctx, in.ID, in.Body.Password)
}

func (h *handlers) unlock(ctx context.Context, in *IDPath) (*httpx.Body[*User], error) {
	u, err := h.s.Unlock(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return httpx.Reply(u), nil
}

// ---- tokens ----

// TokenQuery filters tokens (exported: huma reads parameters only from exported embedded structs).
type TokenQuery struct {
	OrgID string `query:"orgId" maxLength:"64"`
	Q     string `query:"q" maxLength:"64"`
}

type listTokensIn struct {
	TokenQuery
	httpx.PageQuery
}

func (h *handlers) listTokens(ctx context.Context, in *listTokensIn) (*httpx.Body[*httpx.Page[Token]], error) {
	items, total, err := h.s.ListTokens(ctx, in.OrgID, in.Q, in.Limit(), in.Offset())
	if err != nil {
		return nil, err
	}
	return httpx.Reply(httpx.NewPage(items, total, in.PageQuery)), nil
}

type exportTokensIn struct {
	TokenQuery
	httpx.ExportQuery
}

func (h *handlers) exportTokens(ctx context.Context, in *exportTokensIn) (*httpx.File, error) {
	items, _, err := h.s.ListTokens(ctx, in.OrgID, in.Q, httpx.MaxExportRows, 0)
	if err != nil {
		return nil, err
	}
	rows := make([][]string, len(items))
	for i, t := range items {
		rows[i] = []string{t.Name, t.OrgName, strings.Join(t.Scopes, " "), t.Prefix, t.Status, t.CreatedBy, t.CreatedAt.Format(time.RFC3339), t.ExpiresAt.Format(time.RFC3339)}
	}
	return httpx.Export("tokens", in.Format, []string{"名称 Name", "机构 Organisation", "权限范围 Scopes", "前缀 Prefix", "状态 Status", "签发人 Issued by", "签发时间 Issued", "到期 Expires"}, rows)
}

type issueTokenIn struct {
	Body struct {
		Name          string   `json:"name" minLength:"1" maxLength:"64"`
		OrgID         string   `json:"orgId" minLength:"1" maxLength:"64"`
		Scopes        []string `json:"scopes" minItems:"1" maxItems:"16" nullable:"false"`
		ExpiresInDays int      `json:"expiresInDays" minimum:"1" maximum:"366"`
	}
}

type issuedToken struct {
	Token
	Secret string `json:"token" doc:"The token itself; shown only now"`
}

func (h *handlers) issueToken(ctx context.Context, in *issueTokenIn) (*httpx.Body[*issuedToken], error) {
	t, secret, err := h.s.IssueToken(ctx, NewToken(in.Body))
	if err != nil {
		return nil, err
	}
	return httpx.Reply(&issuedToken{Token: *t, Secret: secret}), nil
}

func (h *handlers) revokeToken(ctx context.Context, in *IDPath) (*struct{}, error) {
	return nil, h.s.RevokeToken(ctx, in.ID)
}

// ---- audit ----

// AuditQuery filters the audit trail (exported: huma reads parameters only from exported embedded structs).
type AuditQuery struct {
	Actor  string    `query:"actor" maxLength:"64"`
	Action string    `query:"action" maxLength:"64"`
	From   time.Time `query:"from" doc:"RFC 3339 time, inclusive"`
	To     time.Time `query:"to" doc:"RFC 3339 time, exclusive"`
}

type listAuditIn struct {
	AuditQuery
	httpx.PageQuery
}

func (h *handlers) listAudit(ctx context.Context, in *listAuditIn) (*httpx.Body[*httpx.Page[AuditEntry]], error) {
	items, total, err := h.s.ListAudit(ctx, AuditFilter(in.AuditQuery), in.Limit(), in.Offset())
	if err != nil {
		return nil, err
	}
	return httpx.Reply(httpx.NewPage(items, total, in.PageQuery)), nil
}

type exportAuditIn struct {
	AuditQuery
	httpx.ExportQuery
}

func (h *handlers) exportAudit(ctx context.Context, in *exportAuditIn) (*httpx.File, error) {
	items, _, err := h.s.ListAudit(ctx, AuditFilter(in.AuditQuery), httpx.MaxExportRows, 0)
	if err != nil {
		return nil, err
	}
	rows := make([][]string, len(items))
	for i, e := range items {
		rows[i] = []string{e.At.Format(time.RFC3339), e.ActorKind, e.ActorName, e.Action, e.Subject, e.IP, e.RequestID}
	}
	return httpx.Export("audit", in.Format, []string{"时间 Time", "主体类型 Actor kind", "操作人 Actor", "操作 Action", "对象 Subject", "IP", "请求 Request"}, rows)
}

// Package authz holds who is calling (Principal), what roles grant
// (permissions), and the region-scope rule: a caller sees only data inside
// the subtree of their division. Every module's service checks both here,
// so the rules hold whatever the client.
package authz

import (
	"context"
	"slices"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Role is a user role.
type Role string

const (
	Citizen    Role = "citizen"
	Enterprise Role = "enterprise"
	GridWorker Role = "grid_worker"
	DeptStaff  Role = "dept_staff"
	DeptHead   Role = "dept_head"
	Supervisor Role = "supervisor"
	Leader     Role = "leader"
	Auditor    Role = "auditor"
	SysAdmin   Role = "sys_admin"
	SecAdmin   Role = "sec_admin"
)

// RoleInfo describes a role for people.
type RoleInfo struct {
	Code        Role   `json:"code"`
	NameZh      string `json:"nameZh"`
	NameEn      string `json:"nameEn"`
	Description string `json:"description"`
}

// Roles lists every role in display order.
var Roles = []RoleInfo{
	{Citizen, "市民", "Citizen", "Uses the citizen portal: services, requests, own data."},
	{Enterprise, "企业用户", "Enterprise user", "Acts for an enterprise in the portal."},
	{GridWorker, "网格员", "Grid worker", "Collects and verifies information in assigned grids."},
	{DeptStaff, "部门工作人员", "Department staff", "Handles the department's work within its region."},
	{DeptHead, "部门负责人", "Department head", "Approves and oversees the department's work within its region."},
	{Supervisor, "城运中心监督员", "Operations supervisor", "City operations centre: dispatch and supervision."},
	{Leader, "领导", "Leader", "Reads dashboards and reports for the region."},
	{Auditor, "安全审计员", "Auditor", "Reads the audit trail of administrators and systems (three-role separation)."},
	{SysAdmin, "系统管理员", "System administrator", "Maintains divisions, organisations and user accounts (three-role separation)."},
	{SecAdmin, "安全管理员", "Security administrator", "Grants roles, resets passwords, unlocks accounts, issues API tokens (three-role separation)."},
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return slices.ContainsFunc(Roles, func(i RoleInfo) bool { return i.Code == r })
}

// AdminRoles are the three separated administrative roles: no account may
// hold two of them (GB/T 39477: administrator, auditor and operator apart).
var AdminRoles = []Role{SysAdmin, SecAdmin, Auditor}

// Permission is one capability checked by services.
type Permission string

const (
	DivisionsRead  Permission = "divisions:read"
	DivisionsWrite Permission = "divisions:write"
	OrgsRead       Permission = "orgs:read"
	OrgsWrite      Permission = "orgs:write"
	UsersRead      Permission = "users:read"
	UsersWrite     Permission = "users:write"    // create and edit accounts
	UsersSecurity  Permission = "users:security" // roles, passwords, unlock
	TokensManage   Permission = "tokens:manage"
	AuditRead      Permission = "audit:read"
	RolesRead      Permission = "roles:read"
	// Base data (people, places, things, organisations).
	RegistryRead    Permission = "registry:read"    // masked reads of the region's base data
	RegistryWrite   Permission = "registry:write"   // create and change records, decide routed changes
	RegistryPropose Permission = "registry:propose" // propose additions and corrections (grid workers)
	RegistryImport  Permission = "registry:import"  // bulk import
	GridsAssign     Permission = "grids:assign"     // assign grid workers to grids
	// 一网统管 cases.
	CasesRead      Permission = "cases:read"      // cases of the region and of one's unit
	CasesReport    Permission = "cases:report"    // report a case (every channel)
	CasesHandle    Permission = "cases:handle"    // handle, return, ask for postponement (the unit)
	CasesDispatch  Permission = "cases:dispatch"  // file, dispatch, merge, approve postponements (operations centre)
	CasesVerify    Permission = "cases:verify"    // verify on site and close (grid workers)
	CasesSupervise Permission = "cases:supervise" // supervise (督办)
	CasesConfigure Permission = "cases:configure" // categories, area rules
	// Working-day calendar: enter a year's holiday notice, set working hours.
	CalendarWrite Permission = "calendar:write"
	// 共享交换.
	ExchangeRead    Permission = "exchange:read"    // browse the catalog, see one's requests, grants and accesses
	ExchangePublish Permission = "exchange:publish" // catalogue and load the department's resources
	ExchangeRequest Permission = "exchange:request" // ask to use a resource
	ExchangeQuery   Permission = "exchange:query"   // query under a grant, subscribe
	ExchangeDecide  Permission = "exchange:decide"  // decide requests, revoke grants, answer disputes (the provider's head)
	ExchangeAudit   Permission = "exchange:audit"   // read every access and refusal
	ExchangeTracker Permission = "exchange:tracker" // the data tracker: see uses of one's own data, dispute them
	ExchangeNodes   Permission = "exchange:nodes"   // federation: invite children, join a parent
	// RegistryShare lets the exchange read base data in clear to serve it
	// under grants; no role holds it.
	RegistryShare Permission = "registry:share"
)

var staffRead = []Permission{DivisionsRead, OrgsRead, RolesRead}

var registryEdit = []Permission{RegistryRead, RegistryWrite, RegistryPropose, RegistryImport, GridsAssign}

var exchangeUse = []Permission{ExchangeRead, ExchangePublish, ExchangeRequest, ExchangeQuery}

var grants = map[Role][]Permission{
	Citizen:    {CasesReport, ExchangeTracker},
	Enterprise: {CasesReport, ExchangeTracker},
	GridWorker: append(slices.Clone(staffRead), RegistryRead, RegistryPropose, CasesRead, CasesReport, CasesVerify),
	DeptStaff:  append(append(append(slices.Clone(staffRead), UsersRead, CasesRead, CasesReport, CasesHandle), registryEdit...), exchangeUse...),
	DeptHead:   append(append(append(slices.Clone(staffRead), UsersRead, CasesRead, CasesReport, CasesHandle, CasesSupervise, ExchangeDecide), registryEdit...), exchangeUse...),
	Supervisor: append(slices.Clone(staffRead), UsersRead, RegistryRead, CasesRead, CasesReport, CasesDispatch, CasesVerify, CasesSupervise, CasesConfigure, ExchangeRead),
	Leader:     append(slices.Clone(staffRead), UsersRead, RegistryRead, CasesRead, CasesSupervise, ExchangeRead),
	Auditor:    {AuditRead, RolesRead, DivisionsRead, OrgsRead, UsersRead, ExchangeRead, ExchangeAudit},
	SysAdmin:   append(slices.Clone(staffRead), DivisionsWrite, OrgsWrite, UsersRead, UsersWrite, CalendarWrite, ExchangeRead, ExchangeNodes),
	SecAdmin:   append(slices.Clone(staffRead), UsersRead, UsersSecurity, TokensManage),
}

// TokenScopes are the permissions an API token may carry. Administrative
// permissions are never given to machines.
var TokenScopes = []Permission{DivisionsRead, OrgsRead, UsersRead, RolesRead, RegistryRead, CasesRead, CasesReport, ExchangeRead, ExchangeRequest, ExchangeQuery, ExchangePublish}

// PermissionsOf returns the union of the roles' permissions.
func PermissionsOf(roles []Role) []Permission {
	var out []Permission
	for _, r := range roles {
		for _, p := range grants[r] {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// Kind says whether a principal is a person or a department system.
type Kind string

const (
	KindUser   Kind = "user"
	KindSystem Kind = "system"
)

// Principal is the authenticated caller.
type Principal struct {
	Kind        Kind
	ID          string // user id, or token id for systems
	Name        string // username or token name
	DisplayName string
	OrgID       string
	Roles       []Role
	Permissions []Permission
	// Scope is the short (significant-digit) code of the division whose
	// subtree the caller may see, e.g. "320508001" for one street.
	Scope string
	// Nationwide is set only for the command line and internal jobs.
	Nationwide bool
	SessionID  string
}

// Has reports whether the principal holds the permission.
func (p *Principal) Has(perm Permission) bool {
	return p != nil && slices.Contains(p.Permissions, perm)
}

// HasRole reports whether the principal holds the role.
func (p *Principal) HasRole(r Role) bool { return p != nil && slices.Contains(p.Roles, r) }

// InScope reports whether a division (given by its short code) lies inside
// the principal's subtree.
func (p *Principal) InScope(short string) bool {
	return p != nil && (p.Nationwide || (p.Scope != "" && strings.HasPrefix(short, p.Scope)))
}

// PrefixRange returns the bounds lo <= key < hi of the keys that start
// with prefix. Scope keys are digits, and '~' sorts after every digit, so a
// B-tree index serves the range on every backend (a LIKE 'p%' filter does
// not, on SQLite or on PostgreSQL without text_pattern_ops).
func PrefixRange(prefix string) (lo, hi string) { return prefix, prefix + "~" }

// ScopeRange is PrefixRange of the principal's scope: everything for
// nationwide callers, nothing without a scope.
func (p *Principal) ScopeRange() (lo, hi string) { return PrefixRange(p.scopePrefix()) }

// scopePrefix is the prefix of the keys in the principal's region ("" for
// nationwide callers: everything; "-" without a scope: nothing).
func (p *Principal) scopePrefix() string {
	if p.Nationwide {
		return ""
	}
	if p.Scope == "" {
		return "-" // matches nothing: no scope, no data
	}
	return p.Scope
}

type ctxKey struct{}

// With stores the principal in the context.
func With(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal, or nil for an anonymous caller.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Require returns the principal when it holds perm, else an
// unauthenticated or forbidden error.
func Require(ctx context.Context, perm Permission) (*Principal, error) {
	p := From(ctx)
	if p == nil {
		return nil, errs.Unauthenticated("login required", "请先登录")
	}
	if perm != "" && !p.Has(perm) {
		return nil, errs.Forbidden("permission "+string(perm)+" required", "没有权限："+string(perm))
	}
	return p, nil
}

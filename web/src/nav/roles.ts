// Which roles see what: home area, home heading, console menu and editing
// rights. The single place that maps roles to navigation (unit-tested).
import type { RoleCode } from '@/api/types'

export const allRoles: RoleCode[] = [
  'citizen',
  'enterprise',
  'grid_worker',
  'dept_staff',
  'dept_head',
  'supervisor',
  'leader',
  'auditor',
  'sys_admin',
  'sec_admin',
]

export type Area = 'portal' | 'grid' | 'console'

export const roleArea: Record<RoleCode, Area> = {
  citizen: 'portal',
  enterprise: 'portal',
  grid_worker: 'grid',
  dept_staff: 'console',
  dept_head: 'console',
  supervisor: 'console',
  leader: 'console',
  auditor: 'console',
  sys_admin: 'console',
  sec_admin: 'console',
}

export const areaHome: Record<Area, string> = { portal: '/portal', grid: '/grid', console: '/console' }

// The role whose workspace a multi-role account lands on, most privileged first.
const precedence: RoleCode[] = [
  'sys_admin',
  'sec_admin',
  'auditor',
  'leader',
  'supervisor',
  'dept_head',
  'dept_staff',
  'grid_worker',
  'enterprise',
  'citizen',
]

export function primaryRole(roles: readonly string[]): RoleCode | undefined {
  return precedence.find((r) => roles.includes(r))
}

export function areasOf(roles: readonly string[]): Area[] {
  const set = new Set<Area>()
  for (const r of roles) if (r in roleArea) set.add(roleArea[r as RoleCode])
  return [...set]
}

export function homeArea(roles: readonly string[]): Area {
  const role = primaryRole(roles)
  return role ? roleArea[role] : 'portal'
}

export function homePath(roles: readonly string[]): string {
  return areaHome[homeArea(roles)]
}

export type MenuKey =
  | 'home'
  | 'divisions'
  | 'map'
  | CasesMenuKey
  | RegistryMenuKey
  | ExchangeMenuKey
  | 'orgs'
  | 'users'
  | 'roles'
  | 'calendar'
  | 'tokens'
  | 'audit'
  | 'ledger'

// 一网统管 (city management cases): the case list, the 12345 hotline intake
// and the categories with their area rules (cases:configure).
export type CasesMenuKey = 'cases' | 'hotline' | 'caseCategories'

// 基础数据 (base data): people, organisations, buildings, components, routed
// changes, imports and grid-worker assignments.
export type RegistryMenuKey = 'people' | 'entities' | 'buildings' | 'components' | 'registryChanges' | 'registryImports' | 'gridWorkers'

// 共享交换 (data exchange): the catalog, requests, grants, the access log,
// data quality, disputes from the data tracker and the federation's nodes.
export type ExchangeMenuKey = 'exCatalog' | 'exRequests' | 'exGrants' | 'exAccess' | 'exQuality' | 'exDisputes' | 'exNodes'

export interface MenuItem {
  key: MenuKey
  path: string
  // i18n key of the label
  label: string
  // i18n key of the heading of the group the item belongs to, if any.
  group?: string
}

// Canonical menu order.
export const menuItems: MenuItem[] = [
  { key: 'home', path: '/console', label: 'nav.home' },
  { key: 'divisions', path: '/console/divisions', label: 'nav.divisions' },
  // 一张图: divisions, grids and components on a map (needs divisions:read).
  { key: 'map', path: '/console/map', label: 'map.title' },
  { key: 'cases', path: '/console/cases', label: 'cases.nav.list', group: 'cases.nav.group' },
  { key: 'hotline', path: '/console/cases/hotline', label: 'cases.nav.hotline', group: 'cases.nav.group' },
  { key: 'caseCategories', path: '/console/cases/categories', label: 'cases.nav.categories', group: 'cases.nav.group' },
  { key: 'people', path: '/console/registry/people', label: 'registry.nav.people', group: 'registry.nav.group' },
  { key: 'entities', path: '/console/registry/entities', label: 'registry.nav.entities', group: 'registry.nav.group' },
  { key: 'buildings', path: '/console/registry/buildings', label: 'registry.nav.buildings', group: 'registry.nav.group' },
  { key: 'components', path: '/console/registry/components', label: 'registry.nav.components', group: 'registry.nav.group' },
  { key: 'registryChanges', path: '/console/registry/changes', label: 'registry.nav.changes', group: 'registry.nav.group' },
  { key: 'registryImports', path: '/console/registry/imports', label: 'registry.nav.imports', group: 'registry.nav.group' },
  { key: 'gridWorkers', path: '/console/registry/grid-workers', label: 'registry.nav.gridWorkers', group: 'registry.nav.group' },
  { key: 'exCatalog', path: '/console/exchange/catalog', label: 'exchange.nav.catalog', group: 'exchange.nav.group' },
  { key: 'exRequests', path: '/console/exchange/requests', label: 'exchange.nav.requests', group: 'exchange.nav.group' },
  { key: 'exGrants', path: '/console/exchange/grants', label: 'exchange.nav.grants', group: 'exchange.nav.group' },
  { key: 'exAccess', path: '/console/exchange/access', label: 'exchange.nav.access', group: 'exchange.nav.group' },
  { key: 'exQuality', path: '/console/exchange/quality', label: 'exchange.nav.quality', group: 'exchange.nav.group' },
  { key: 'exDisputes', path: '/console/exchange/disputes', label: 'exchange.nav.disputes', group: 'exchange.nav.group' },
  { key: 'exNodes', path: '/console/exchange/nodes', label: 'exchange.nav.nodes', group: 'exchange.nav.group' },
  { key: 'orgs', path: '/console/orgs', label: 'nav.orgs' },
  { key: 'users', path: '/console/users', label: 'nav.users' },
  { key: 'roles', path: '/console/roles', label: 'nav.roles' },
  // 工作日历: the holiday notice every statutory deadline counts in (calendar:write).
  { key: 'calendar', path: '/console/calendar', label: 'nav.calendar' },
  { key: 'tokens', path: '/console/tokens', label: 'nav.tokens' },
  { key: 'audit', path: '/console/audit', label: 'nav.audit' },
  { key: 'ledger', path: '/console/ledger', label: 'nav.ledger' },
]

const staffMenu: MenuKey[] = ['home', 'divisions', 'map', 'users']
// Base data: read by staff, heads, supervisors and leaders (registry:read);
// imports (registry:import) and grid-worker assignments (grids:assign) for
// staff and heads only.
const registryRead: MenuKey[] = ['people', 'entities', 'buildings', 'components', 'registryChanges']
const registryWrite: MenuKey[] = ['registryImports', 'gridWorkers']
// Data exchange, by permission: the catalog, the access log and quality for
// every exchange:read role; requests and grants for those who request and
// decide (exchange:request, exchange:decide: staff and heads); disputes for
// heads (exchange:decide); the federation's nodes for sys_admin (exchange:nodes).
const exchangeRead: MenuKey[] = ['exCatalog', 'exAccess', 'exQuality']
const exchangeWork: MenuKey[] = ['exCatalog', 'exRequests', 'exGrants', 'exAccess', 'exQuality']

export const roleMenus: Record<RoleCode, MenuKey[]> = {
  citizen: [],
  enterprise: [],
  grid_worker: [],
  // Cases: read by units, the operations centre and leaders (cases:read);
  // the hotline intake and the categories for the operations centre
  // (cases:dispatch, cases:configure).
  dept_staff: [...staffMenu, 'cases', ...registryRead, ...registryWrite, ...exchangeWork],
  dept_head: [...staffMenu, 'cases', ...registryRead, ...registryWrite, ...exchangeWork, 'exDisputes'],
  // Supervisors and leaders also read the tamper-evident ledger.
  supervisor: [...staffMenu, 'cases', 'hotline', 'caseCategories', ...registryRead, ...exchangeRead, 'ledger'],
  leader: [...staffMenu, 'cases', ...registryRead, ...exchangeRead, 'ledger'],
  // The auditor reads the whole access log (exchange:audit).
  auditor: ['home', ...exchangeRead, 'audit', 'ledger'],
  sys_admin: ['home', 'divisions', 'map', 'exCatalog', 'exQuality', 'exNodes', 'orgs', 'users', 'roles', 'calendar'],
  sec_admin: ['home', 'users', 'roles', 'tokens'],
}

export function menuFor(roles: readonly string[]): MenuItem[] {
  const keys = new Set<MenuKey>()
  for (const r of roles) for (const k of roleMenus[r as RoleCode] ?? []) keys.add(k)
  return menuItems.filter((m) => keys.has(m.key))
}

export function canOpen(roles: readonly string[], key: MenuKey): boolean {
  return menuFor(roles).some((m) => m.key === key)
}

// Actions beyond reading, following the three-role separation:
// sys_admin keeps divisions, orgs and accounts; sec_admin roles, passwords,
// unlocking and API tokens; the auditor reads the audit trail and the ledger
// (read-only for everyone: the ledger has no editing actions).
export interface Abilities {
  editDivisions: boolean
  editOrgs: boolean
  editUsers: boolean
  manageUserSecurity: boolean
  manageTokens: boolean
}

export function abilities(roles: readonly string[]): Abilities {
  const sys = roles.includes('sys_admin')
  const sec = roles.includes('sec_admin')
  return {
    editDivisions: sys,
    editOrgs: sys,
    editUsers: sys,
    manageUserSecurity: sec,
    manageTokens: sec,
  }
}

// Roles that may not be held together on one account.
export const separatedRoles: RoleCode[] = ['sys_admin', 'sec_admin', 'auditor']

export function violatesSeparation(roles: readonly string[]): boolean {
  return roles.filter((r) => separatedRoles.includes(r as RoleCode)).length > 1
}

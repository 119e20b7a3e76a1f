// Pure helpers of the 共享交换 pages: who may do what (mirroring
// internal/platform/authz), tag tones, and the small input conversions of
// the request, decision and query forms. Unit-tested in tests/exchange-labels.test.ts.
import type { Item, Resource, SharingClass } from './types'

export type ExchangePermission =
  | 'exchange:read'
  | 'exchange:publish'
  | 'exchange:request'
  | 'exchange:query'
  | 'exchange:decide'
  | 'exchange:audit'
  | 'exchange:tracker'
  | 'exchange:nodes'

// The roles' exchange permissions, for when /auth/me does not list them.
const byRole: Record<string, ExchangePermission[]> = {
  citizen: ['exchange:tracker'],
  enterprise: ['exchange:tracker'],
  dept_staff: ['exchange:read', 'exchange:publish', 'exchange:request', 'exchange:query'],
  dept_head: ['exchange:read', 'exchange:publish', 'exchange:request', 'exchange:query', 'exchange:decide'],
  supervisor: ['exchange:read'],
  leader: ['exchange:read'],
  auditor: ['exchange:read', 'exchange:audit'],
  sys_admin: ['exchange:read', 'exchange:nodes'],
}

export interface MeLike {
  roles: readonly string[]
  orgId?: string | null
  permissions?: readonly string[] | null
}

// The permissions the server lists, else those of the roles. A server that
// lists permissions but none of the exchange's yet (older than the module)
// is completed from the roles too.
export function exchangePermissions(me: MeLike | null | undefined): Set<string> {
  if (!me) return new Set()
  const listed = Array.isArray(me.permissions) ? me.permissions : []
  if (listed.some((p) => p.startsWith('exchange:'))) return new Set(listed)
  return new Set([...listed, ...me.roles.flatMap((r) => byRole[r] ?? [])])
}

export function canEx(me: MeLike | null | undefined, perm: ExchangePermission): boolean {
  return exchangePermissions(me).has(perm)
}

// Whether the user manages the resource in the UI (edit, publish, load,
// sample, quality): a publisher of the providing organisation. Drafts are
// only listed to those who manage them.
export function managesResource(me: MeLike | null | undefined, r: Pick<Resource, 'providerOrg' | 'status' | 'node'>): boolean {
  if (!me || !canEx(me, 'exchange:publish') || r.node) return false
  return r.status === 'draft' || (!!me.orgId && me.orgId === r.providerOrg)
}

export type Tone = 'primary' | 'success' | 'warning' | 'danger' | 'info'

export const sharingTone: Record<SharingClass, Tone> = { unconditional: 'success', conditional: 'warning', none: 'danger' }
export const statusTone: Record<string, Tone> = {
  draft: 'info',
  published: 'success',
  retired: 'warning',
  pending: 'warning',
  approved: 'success',
  rejected: 'danger',
  refused: 'danger',
  active: 'success',
  expired: 'info',
  revoked: 'danger',
  cancelled: 'info',
  open: 'warning',
  accepted: 'success',
  ok: 'success',
}
export const gradingTone: Record<string, Tone> = { core: 'danger', important: 'warning', general: 'info' }

export function toneOf(map: Record<string, Tone>, v: string | undefined | null): Tone {
  return (v && map[v]) || 'info'
}

// A quality score's tone: green from 90, orange from 70, red below; grey
// when never checked (-1).
export function scoreTone(score: number | null | undefined): Tone {
  if (typeof score !== 'number' || score < 0) return 'info'
  if (score >= 90) return 'success'
  if (score >= 70) return 'warning'
  return 'danger'
}

export function isPersonal(it: Pick<Item, 'personal'>): boolean {
  return !!it.personal
}

// Fields of the request that may be asked in clear: the chosen personal items.
export function clearable(items: readonly Item[], chosen: readonly string[]): Item[] {
  return items.filter((it) => isPersonal(it) && chosen.includes(it.name))
}

// Keeps only the clear fields still allowed after the field choice changed.
export function pruneClear(clear: readonly string[], allowed: readonly string[]): string[] {
  return clear.filter((f) => allowed.includes(f))
}

// The bulk keys of the query form: one per line (commas, semicolons and
// blanks also separate), trimmed, empty lines and repeats dropped.
export function parseKeys(text: string): string[] {
  const out: string[] = []
  for (const k of text.split(/[\n\r,，;；\t ]+/)) {
    const v = k.trim()
    if (v && !out.includes(v)) out.push(v)
  }
  return out
}

export interface FilterRow {
  item: string
  value: string
}

// The filter rows of the query form as the API wants them; rows without an
// item are left out, a later row of the same item wins.
export function filterOf(rows: readonly FilterRow[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const r of rows) if (r.item) out[r.item] = r.value.trim()
  return out
}

// Whether a shown value was masked by the exchange (contains *).
export function looksMasked(v: string | null | undefined): boolean {
  return !!v && v.includes('*')
}

// A date input (YYYY-MM-DD) n days from now, in China Standard Time.
export function dateFromNow(days: number, now: Date = new Date()): string {
  const d = new Date(now.getTime() + 8 * 3600_000 + days * 86_400_000)
  return d.toISOString().slice(0, 10)
}

// The last day (CST) a grant or request expiring at ms is valid: the
// server stores a picked date as the start of the day after.
export function expiryDate(ms: number | null | undefined): string {
  if (!ms || ms <= 0) return ''
  return new Date(ms - 1 + 8 * 3600_000).toISOString().slice(0, 10)
}

// Quality-rule kind order for display.
export const ruleKinds = ['completeness', 'validity', 'uniqueness', 'timeliness', 'consistency'] as const

// The department families shown in the catalog's provider filter.
export const providerDepts = ['ga', 'mz', 'rs', 'wj', 'scjg', 'cg', 'zj', 'jt', 'yj', 'cz', 'sw', 'sj', 'cyzx', 'jd'] as const

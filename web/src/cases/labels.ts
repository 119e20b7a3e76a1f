// Pure helpers of the cases pages: state tones and map colours, which
// actions a user may take on a case (mirroring internal/cases/actions.go),
// what each action asks for, and counts per area for the map's heat layer.
// Unit-tested in tests/cases-labels.test.ts.
import type { Case, CaseAction, CaseState, Rating } from './types'

export const caseStates: CaseState[] = ['reported', 'filed', 'dispatched', 'handled', 'closed', 'rejected', 'merged', 'suspended']
export const openStates: CaseState[] = ['reported', 'filed', 'dispatched', 'handled', 'suspended']
export const channels = ['grid', 'portal', 'hotline', 'open311', 'sensor', 'video', 'referral'] as const
export const ratings: Rating[] = ['satisfied', 'basically', 'dissatisfied']

export type Tone = 'primary' | 'success' | 'warning' | 'danger' | 'info'

export const stateTone: Record<CaseState, Tone> = {
  reported: 'warning',
  filed: 'primary',
  dispatched: 'primary',
  handled: 'warning',
  closed: 'success',
  rejected: 'info',
  merged: 'info',
  suspended: 'info',
}

// Colours of case points on the map, by state (distinguishable, with a white border).
export const stateColor: Record<CaseState, string> = {
  reported: '#d46b08',
  filed: '#722ed1',
  dispatched: '#1658c4',
  handled: '#08979c',
  closed: '#389e0d',
  rejected: '#8c8c8c',
  merged: '#8c8c8c',
  suspended: '#595959',
}

// 0 none, 1 黄灯 (deadline near), 2 红灯 (overdue).
export const warningColor: Record<number, string> = { 1: '#fadb14', 2: '#f5222d' }
export const warningTone: Record<number, Tone> = { 1: 'warning', 2: 'danger' }

export function isOpen(s: CaseState): boolean {
  return openStates.includes(s)
}

// --- Permissions and actions -----------------------------------------------

// The roles' case permissions (internal/platform/authz), for when the
// session does not list permissions.
const rolePerms: Record<string, string[]> = {
  citizen: ['cases:report'],
  enterprise: ['cases:report'],
  grid_worker: ['cases:read', 'cases:report', 'cases:verify'],
  dept_staff: ['cases:read', 'cases:report', 'cases:handle'],
  dept_head: ['cases:read', 'cases:report', 'cases:handle', 'cases:supervise'],
  supervisor: ['cases:read', 'cases:report', 'cases:dispatch', 'cases:verify', 'cases:supervise', 'cases:configure'],
  leader: ['cases:read', 'cases:supervise'],
}

export interface Actor {
  id: string
  roles: readonly string[]
  orgId?: string | null
  permissions?: readonly string[]
}

export function permissionsOf(me: Actor): Set<string> {
  if (me.permissions?.length) return new Set(me.permissions)
  return new Set(me.roles.flatMap((r) => rolePerms[r] ?? []))
}

export function can(me: Actor | null | undefined, perm: string): boolean {
  return !!me && permissionsOf(me).has(perm)
}

// Every action, the states it starts from and the permission it needs
// ('' = the reporter, checked separately).
export const actionRules: Record<CaseAction, { from: CaseState[]; perm: string }> = {
  file: { from: ['reported'], perm: 'cases:dispatch' },
  dispatch: { from: ['reported', 'filed'], perm: 'cases:dispatch' },
  reject: { from: ['reported', 'filed'], perm: 'cases:dispatch' },
  merge: { from: ['reported', 'filed', 'dispatched'], perm: 'cases:dispatch' },
  handle: { from: ['dispatched'], perm: 'cases:handle' },
  return: { from: ['dispatched'], perm: 'cases:handle' },
  'postpone-request': { from: ['dispatched'], perm: 'cases:handle' },
  'postpone-approve': { from: ['dispatched'], perm: 'cases:dispatch' },
  'postpone-reject': { from: ['dispatched'], perm: 'cases:dispatch' },
  'verify-pass': { from: ['handled'], perm: 'cases:verify' },
  'verify-fail': { from: ['handled'], perm: 'cases:verify' },
  suspend: { from: ['filed', 'dispatched'], perm: 'cases:dispatch' },
  resume: { from: ['suspended'], perm: 'cases:dispatch' },
  escalate: { from: openStates, perm: 'cases:supervise' },
  reopen: { from: ['closed'], perm: 'cases:dispatch' },
  rate: { from: ['closed'], perm: '' },
  comment: { from: [...openStates, 'closed', 'rejected', 'merged'], perm: 'cases:read' },
}

// Display order of the action buttons: the main step first.
export const actionOrder: CaseAction[] = [
  'dispatch',
  'file',
  'handle',
  'verify-pass',
  'verify-fail',
  'rate',
  'postpone-approve',
  'postpone-reject',
  'postpone-request',
  'return',
  'merge',
  'reject',
  'suspend',
  'resume',
  'escalate',
  'reopen',
  'comment',
]

type CaseLike = Pick<Case, 'state' | 'orgId' | 'supervised'> &
  Partial<Pick<Case, 'postponeRequested' | 'rating' | 'ratedAt' | 'closedAt' | 'reporterId'>>

// The actions the user can take on the case now.
export function availableActions(c: CaseLike, me: Actor | null | undefined, opts: { reporter?: boolean } = {}): CaseAction[] {
  if (!me) return []
  const perms = permissionsOf(me)
  const reporter = opts.reporter ?? (!!c.reporterId && c.reporterId === me.id)
  return actionOrder.filter((a) => {
    const rule = actionRules[a]
    if (!rule.from.includes(c.state)) return false
    if (rule.perm && !perms.has(rule.perm)) return false
    switch (a) {
      case 'handle':
      case 'return':
      case 'postpone-request':
        // Only the unit the case is with.
        return !!me.orgId && me.orgId === c.orgId && !(a === 'postpone-request' && c.postponeRequested)
      case 'postpone-approve':
      case 'postpone-reject':
        return !!c.postponeRequested
      case 'escalate':
        return (c.supervised ?? 0) < 2
      case 'rate':
        return reporter && !(c.rating && (c.ratedAt ?? 0) >= (c.closedAt ?? 0))
    }
    return true
  })
}

export interface ActionNeeds {
  note: 'required' | 'optional' | 'none'
  category?: boolean
  dept?: boolean
  until?: boolean
  target?: boolean
  level?: boolean
  rating?: boolean
  photos?: boolean
  danger?: boolean
}

const noteRequired: CaseAction[] = ['reject', 'return', 'handle', 'verify-fail', 'postpone-request', 'suspend', 'comment']

// What the action's dialog asks for.
export function actionNeeds(a: CaseAction): ActionNeeds {
  const n: ActionNeeds = { note: noteRequired.includes(a) ? 'required' : 'optional' }
  if (a === 'file' || a === 'dispatch') n.category = true
  if (a === 'dispatch') n.dept = true
  if (a === 'postpone-request') n.until = true
  if (a === 'merge') n.target = true
  if (a === 'escalate') n.level = true
  if (a === 'rate') n.rating = true
  if (a === 'handle' || a === 'verify-pass' || a === 'verify-fail') n.photos = true
  if (a === 'reject' || a === 'verify-fail' || a === 'return') n.danger = true
  return n
}

// --- Display -----------------------------------------------------------------

// "99%" for a classifier confidence.
export function percent(x: number | null | undefined): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return ''
  return `${Math.round(x * 100)}%`
}

// Whether the classifier's category is sure enough to be shown as such (the
// server dispatches at once above its own threshold).
export function confidenceTone(x: number): Tone {
  if (x >= 0.8) return 'success'
  if (x >= 0.5) return 'warning'
  return 'danger'
}

// The state filter as the API wants it (comma list).
export function stateParam(states: readonly string[]): string {
  return states.filter((s) => (caseStates as string[]).includes(s)).join(',')
}

// --- Map ---------------------------------------------------------------------

type Placed = Pick<Case, 'grid' | 'community' | 'street' | 'district'>

// How many cases fall in each of the regions (a region code is a grid,
// community, street or district code of the case).
export function countByRegion(cases: readonly Placed[], regionCodes: readonly string[]): Map<string, number> {
  const out = new Map<string, number>(regionCodes.map((c) => [c, 0]))
  for (const c of cases) {
    for (const code of [c.grid, c.community, c.street, c.district]) {
      if (code && out.has(code)) {
        out.set(code, out.get(code)! + 1)
        break
      }
    }
  }
  return out
}

// A heat colour from pale yellow (few) to dark red (the most); '' for none.
export function heatColor(n: number, max: number): string {
  if (n <= 0 || max <= 0) return ''
  const stops = ['#fff1b8', '#ffd666', '#ffa940', '#fa541c', '#a8071a']
  const i = Math.min(stops.length - 1, Math.floor((n / max) * (stops.length - 1) + 0.0001))
  return stops[i]!
}

// Scales an image's size to fit within max×max, keeping its aspect ratio.
export function fitWithin(w: number, h: number, max: number): { w: number; h: number } {
  if (w <= max && h <= max) return { w, h }
  const s = max / Math.max(w, h)
  return { w: Math.max(1, Math.round(w * s)), h: Math.max(1, Math.round(h * s)) }
}

// Display helpers shared by the base-data pages: department names, field
// outcomes of an update (一数一源) and change states, as pure functions of a
// translator so that they are unit-tested without mounting anything.
import type { Change, FieldOutcome, ImportStatus, Outcome } from './types'

export type Translate = (key: string, named?: Record<string, unknown>) => string
// vue-i18n's `te`: whether a key exists.
export type HasKey = (key: string) => boolean

export const deptCodes = ['ga', 'mz', 'scjg', 'cg', 'zj', 'jt', 'yj', 'jd', 'sq'] as const

// Chinese (or English) name of a department type code; unknown codes as they are.
export function deptName(code: string | null | undefined, t: Translate, te: HasKey): string {
  if (!code) return ''
  const key = `registry.depts.${code}`
  return te(key) ? t(key) : code
}

export type OutcomeTone = 'success' | 'info' | 'warning'

export const outcomeTone: Record<Outcome, OutcomeTone> = { applied: 'success', unchanged: 'info', routed: 'warning' }

// "已生效", "未变化" or "已转权威部门核实（公安）".
export function outcomeLabel(o: Pick<FieldOutcome, 'outcome' | 'authorityDept'>, t: Translate, te: HasKey): string {
  switch (o.outcome) {
    case 'applied':
      return t('registry.outcomes.applied')
    case 'unchanged':
      return t('registry.outcomes.unchanged')
    case 'routed':
      return o.authorityDept
        ? t('registry.outcomes.routed', { dept: deptName(o.authorityDept, t, te) })
        : t('registry.outcomes.routedUnknown')
    default:
      return String((o as { outcome: string }).outcome)
  }
}

// The outcomes of one save in a stable order: routed first (they need the
// user's attention), then applied, then unchanged.
export function sortOutcomes(list: readonly FieldOutcome[]): FieldOutcome[] {
  const rank: Record<string, number> = { routed: 0, applied: 1, unchanged: 2 }
  return [...list].sort((a, b) => (rank[a.outcome] ?? 3) - (rank[b.outcome] ?? 3) || a.field.localeCompare(b.field))
}

export function anyRouted(list: readonly FieldOutcome[]): boolean {
  return list.some((o) => o.outcome === 'routed')
}

export const changeStatusTone: Record<Change['status'], 'warning' | 'success' | 'danger'> = {
  open: 'warning',
  accepted: 'success',
  rejected: 'danger',
}

// Import states still moving (poll again) and final ones.
const runningStates: ImportStatus[] = ['checking', 'writing']

export function importRunning(status: ImportStatus | string | undefined): boolean {
  return runningStates.includes(status as ImportStatus)
}

export const importStatusTone: Record<ImportStatus, 'info' | 'primary' | 'success' | 'danger' | 'warning'> = {
  checking: 'primary',
  writing: 'primary',
  done: 'success',
  rejected: 'danger',
  failed: 'danger',
  cancelled: 'info',
  interrupted: 'warning',
}

// Local date and time from Unix milliseconds; '' when missing.
export function msTime(ms: number | null | undefined, locale: string): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return ''
  return new Date(ms).toLocaleString(locale, { hour12: false })
}

export function msDate(ms: number | null | undefined, locale: string): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return ''
  return new Date(ms).toLocaleDateString(locale)
}

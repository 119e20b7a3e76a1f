import { describe, expect, it } from 'vitest'
import { i18n } from '@/i18n'
import { anyRouted, deptName, importRunning, msTime, outcomeLabel, sortOutcomes } from '@/registry/labels'
import { registryAbilities } from '@/registry/perms'
import type { FieldOutcome } from '@/registry/types'

const g = i18n.global
const t = (k: string, named?: Record<string, unknown>) => (named ? g.t(k, named) : g.t(k))
const te = (k: string) => g.te(k)

describe('department names', () => {
  it('names each deptType in Chinese', () => {
    expect(deptName('ga', t, te)).toBe('公安')
    expect(deptName('jd', t, te)).toBe('街道办事处')
    expect(deptName('scjg', t, te)).toBe('市场监管')
    expect(deptName('sq', t, te)).toBe('社区居委会')
  })
  it('leaves unknown codes and empty values as they are', () => {
    expect(deptName('xyz', t, te)).toBe('xyz')
    expect(deptName('', t, te)).toBe('')
    expect(deptName(undefined, t, te)).toBe('')
  })
})

describe('field outcome labels', () => {
  it('says 已生效 and 未变化', () => {
    expect(outcomeLabel({ outcome: 'applied' }, t, te)).toBe('已生效')
    expect(outcomeLabel({ outcome: 'unchanged' }, t, te)).toBe('未变化')
  })
  it('names the authority of a routed field', () => {
    expect(outcomeLabel({ outcome: 'routed', authorityDept: 'ga' }, t, te)).toBe('已转权威部门核实（公安）')
    expect(outcomeLabel({ outcome: 'routed', authorityDept: 'mz' }, t, te)).toBe('已转权威部门核实（民政）')
    expect(outcomeLabel({ outcome: 'routed' }, t, te)).toBe('已转权威部门核实')
  })
  it('puts routed fields first and tells whether any was routed', () => {
    const list: FieldOutcome[] = [
      { field: 'phone', outcome: 'applied' },
      { field: 'status', outcome: 'unchanged' },
      { field: 'name', outcome: 'routed', authorityDept: 'ga' },
    ]
    expect(sortOutcomes(list).map((o) => o.field)).toEqual(['name', 'phone', 'status'])
    expect(anyRouted(list)).toBe(true)
    expect(anyRouted(list.slice(0, 2))).toBe(false)
  })
  it('has English labels too', () => {
    g.locale.value = 'en-US'
    try {
      expect(outcomeLabel({ outcome: 'routed', authorityDept: 'ga' }, t, te)).toBe('Sent to the authority to confirm (Public Security)')
      expect(outcomeLabel({ outcome: 'applied' }, t, te)).toBe('Applied')
    } finally {
      g.locale.value = 'zh-CN'
    }
  })
})

describe('times and states', () => {
  it('formats Unix milliseconds and leaves missing ones empty', () => {
    expect(msTime(Date.UTC(2026, 0, 2, 3, 4, 5), 'zh-CN')).toMatch(/2026/)
    expect(msTime(0, 'zh-CN')).toBe('')
    expect(msTime(undefined, 'zh-CN')).toBe('')
  })
  it('knows which import states still run', () => {
    expect(importRunning('checking')).toBe(true)
    expect(importRunning('writing')).toBe(true)
    for (const s of ['done', 'rejected', 'failed', 'cancelled', 'interrupted', undefined]) expect(importRunning(s)).toBe(false)
  })
})

describe('registry abilities', () => {
  it('uses the permissions /auth/me sends', () => {
    expect(registryAbilities({ roles: ['dept_staff'], permissions: ['registry:read'] })).toEqual({
      read: true,
      write: false,
      propose: false,
      import: false,
      assign: false,
    })
  })
  it('falls back to the role table without them', () => {
    expect(registryAbilities({ roles: ['dept_staff'] })).toEqual({ read: true, write: true, propose: true, import: true, assign: true })
    expect(registryAbilities({ roles: ['grid_worker'] })).toMatchObject({ read: true, write: false, propose: true })
    expect(registryAbilities({ roles: ['leader'] })).toMatchObject({ read: true, write: false, propose: false, import: false })
    expect(registryAbilities({ roles: ['auditor'] }).read).toBe(false)
    expect(registryAbilities(null).read).toBe(false)
  })
})

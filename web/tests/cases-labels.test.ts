import { describe, expect, it } from 'vitest'
import zh from '@/i18n/zh-CN'
import en from '@/i18n/en-US'
import {
  actionNeeds,
  actionOrder,
  availableActions,
  can,
  caseStates,
  countByRegion,
  fitWithin,
  heatColor,
  isOpen,
  percent,
  stateColor,
  stateParam,
  stateTone,
  type Actor,
} from '@/cases/labels'
import type { Case, CaseState } from '@/cases/types'

const unit = 'org-cg'
const me = (roles: string[], extra: Partial<Actor> = {}): Actor => ({ id: 'u1', roles, orgId: unit, ...extra })
const kase = (state: CaseState, extra: Partial<Case> = {}) => ({ state, orgId: unit, supervised: 0, ...extra })

describe('case state labels', () => {
  it('names every state in Chinese and English, with a tone and a map colour', () => {
    expect(caseStates).toHaveLength(8)
    for (const s of caseStates) {
      expect(typeof zh.cases.states[s]).toBe('string')
      expect(typeof en.cases.states[s]).toBe('string')
      expect(stateTone[s]).toBeTruthy()
      expect(stateColor[s]).toMatch(/^#[0-9a-f]{6}$/)
    }
  })
  it('uses the agreed Chinese state names', () => {
    expect(zh.cases.states).toMatchObject({
      reported: '待受理',
      filed: '已立案',
      dispatched: '处置中',
      handled: '待核查',
      closed: '已结案',
      rejected: '不予立案',
      merged: '已合并',
      suspended: '已挂起',
    })
    expect(zh.cases.warnings).toEqual({ '1': '黄灯', '2': '红灯' })
    expect(zh.cases.ratings).toEqual({ satisfied: '满意', basically: '基本满意', dissatisfied: '不满意' })
  })
  it('labels every action in both languages', () => {
    for (const a of actionOrder) {
      expect(typeof zh.cases.actions[a]).toBe('string')
      expect(typeof en.cases.actions[a]).toBe('string')
    }
  })
  it('knows the open states', () => {
    expect(isOpen('dispatched')).toBe(true)
    expect(isOpen('handled')).toBe(true)
    expect(isOpen('closed')).toBe(false)
    expect(isOpen('merged')).toBe(false)
  })
  it('formats confidence and the state filter', () => {
    expect(percent(0.9953)).toBe('100%')
    expect(percent(0.664)).toBe('66%')
    expect(percent(undefined)).toBe('')
    expect(stateParam(['reported', 'bogus', 'filed'])).toBe('reported,filed')
    expect(stateParam([])).toBe('')
  })
})

describe('actions by role and state', () => {
  it('gives the operations centre the queue actions on a reported case', () => {
    expect(availableActions(kase('reported'), me(['supervisor']))).toEqual(['dispatch', 'file', 'merge', 'reject', 'escalate', 'comment'])
  })
  it('lets the handling unit handle, postpone or return a dispatched case', () => {
    expect(availableActions(kase('dispatched'), me(['dept_staff']))).toEqual(['handle', 'postpone-request', 'return', 'comment'])
  })
  it('does not let another unit handle it', () => {
    expect(availableActions(kase('dispatched'), me(['dept_staff'], { orgId: 'org-other' }))).toEqual(['comment'])
  })
  it('lets a grid worker verify a handled case, but not handle or dispatch', () => {
    expect(availableActions(kase('handled'), me(['grid_worker']))).toEqual(['verify-pass', 'verify-fail', 'comment'])
    expect(availableActions(kase('dispatched'), me(['grid_worker']))).toEqual(['comment'])
    expect(availableActions(kase('reported'), me(['grid_worker']))).toEqual(['comment'])
  })
  it('lets only the reporter rate a closed case, once', () => {
    expect(availableActions(kase('closed', { reporterId: 'u1' }), me(['grid_worker']))).toEqual(['rate', 'comment'])
    expect(availableActions(kase('closed', { reporterId: 'someone' }), me(['grid_worker']))).toEqual(['comment'])
    expect(availableActions(kase('closed', { reporterId: 'u1', rating: 'satisfied', ratedAt: 20, closedAt: 10 }), me(['grid_worker']))).toEqual(['comment'])
    // Reopened and closed again: rated before the last closing, so again.
    expect(availableActions(kase('closed', { reporterId: 'u1', rating: 'dissatisfied', ratedAt: 5, closedAt: 10 }), me(['grid_worker']))).toContain('rate')
  })
  it('lets a citizen rate what they reported and nothing else', () => {
    expect(availableActions(kase('closed'), me(['citizen']), { reporter: true })).toEqual(['rate'])
    expect(availableActions(kase('dispatched'), me(['citizen']), { reporter: true })).toEqual([])
  })
  it('offers the decision on a pending postponement to the operations centre only', () => {
    expect(availableActions(kase('dispatched'), me(['supervisor']))).not.toContain('postpone-approve')
    const pending = kase('dispatched', { postponeRequested: 123 })
    expect(availableActions(pending, me(['supervisor']))).toEqual(expect.arrayContaining(['postpone-approve', 'postpone-reject']))
    expect(availableActions(pending, me(['dept_staff']))).not.toContain('postpone-request')
  })
  it('lets leaders supervise up to the operations centre level', () => {
    expect(availableActions(kase('dispatched'), me(['leader']))).toEqual(['escalate', 'comment'])
    expect(availableActions(kase('dispatched', { supervised: 2 }), me(['leader']))).toEqual(['comment'])
  })
  it('prefers the permissions the session lists', () => {
    expect(can(me(['citizen'], { permissions: ['cases:read', 'cases:dispatch'] }), 'cases:dispatch')).toBe(true)
    expect(can(me(['supervisor'], { permissions: ['cases:read'] }), 'cases:dispatch')).toBe(false)
    expect(can(null, 'cases:read')).toBe(false)
  })
  it('says what each action asks for', () => {
    expect(actionNeeds('handle')).toMatchObject({ note: 'required', photos: true })
    expect(actionNeeds('verify-pass')).toMatchObject({ note: 'optional', photos: true })
    expect(actionNeeds('verify-fail')).toMatchObject({ note: 'required', photos: true, danger: true })
    expect(actionNeeds('dispatch')).toMatchObject({ category: true, dept: true })
    expect(actionNeeds('postpone-request')).toMatchObject({ until: true, note: 'required' })
    expect(actionNeeds('merge')).toMatchObject({ target: true })
    expect(actionNeeds('rate')).toMatchObject({ rating: true, note: 'optional' })
    expect(actionNeeds('escalate')).toMatchObject({ level: true })
  })
})

describe('map helpers', () => {
  const c = (grid: string) => ({ grid, community: grid.slice(0, 12), street: grid.slice(0, 9) + '000', district: grid.slice(0, 6) + '000000' })
  it('counts cases per grid, community or street drawn', () => {
    const cases = [c('320508018014001'), c('320508018014001'), c('320508018014002'), c('320508019001001')]
    expect([...countByRegion(cases, ['320508018014001', '320508018014002', '320508018014003'])]).toEqual([
      ['320508018014001', 2],
      ['320508018014002', 1],
      ['320508018014003', 0],
    ])
    expect(countByRegion(cases, ['320508018000', '320508019000']).get('320508018000')).toBe(3)
  })
  it('colours heat from pale to dark and nothing for none', () => {
    expect(heatColor(0, 5)).toBe('')
    expect(heatColor(1, 5)).toBe('#fff1b8')
    expect(heatColor(5, 5)).toBe('#a8071a')
  })
  it('scales photos to fit 1600 px keeping the aspect ratio', () => {
    expect(fitWithin(4000, 3000, 1600)).toEqual({ w: 1600, h: 1200 })
    expect(fitWithin(1000, 3000, 1600)).toEqual({ w: 533, h: 1600 })
    expect(fitWithin(800, 600, 1600)).toEqual({ w: 800, h: 600 })
  })
})

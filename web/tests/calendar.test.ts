import { describe, expect, it } from 'vitest'
import { dayErrors, formatCst, formatMinutes, isWeekend, monthGrid, sortDays, toRfc3339, weekday, type CalDay } from '@/calendar/calendar'
import { canOpen, menuFor } from '@/nav/roles'
import zh from '@/i18n/zh-CN'
import en from '@/i18n/en-US'

const spring: CalDay[] = [
  { date: '2026-02-14', kind: 'workday', name: '春节调休' },
  ...[15, 16, 17, 18, 19, 20, 21, 22, 23].map((d): CalDay => ({ date: `2026-02-${d}`, kind: 'holiday', name: '春节' })),
  { date: '2026-02-28', kind: 'workday', name: '春节调休' },
]
const byDate = new Map(spring.map((d) => [d.date, d]))

describe('month grid', () => {
  it('starts February 2026 on Sunday, in the last column (Monday first)', () => {
    const weeks = monthGrid(2026, 2, byDate)
    expect(weeks).toHaveLength(5) // 28 days from a Sunday: 1 + 3*7 + 6, five rows
    expect(weeks[0]!.slice(0, 6)).toEqual([null, null, null, null, null, null])
    expect(weeks[0]![6]).toMatchObject({ date: '2026-02-01', day: 1, weekend: true, work: false })
    expect(weeks.every((w) => w.length === 7)).toBe(true)
  })

  it('marks holidays, make-up working days and weekends', () => {
    const cells = monthGrid(2026, 2, byDate).flat().filter((c) => c !== null)
    expect(cells).toHaveLength(28)
    const cell = (d: number) => cells[d - 1]!
    expect(cell(13)).toMatchObject({ kind: undefined, weekend: false, work: true }) // Friday
    expect(cell(14)).toMatchObject({ kind: 'workday', name: '春节调休', weekend: true, work: true }) // Saturday
    expect(cell(16)).toMatchObject({ kind: 'holiday', name: '春节', weekend: false, work: false }) // Monday
    expect(cell(24)).toMatchObject({ kind: undefined, work: true })
    expect(cell(28)).toMatchObject({ kind: 'workday', weekend: true, work: true })
    expect(cells.filter((c) => c.work)).toHaveLength(16) // as the server counts
  })

  it('pads the last week of a month', () => {
    const weeks = monthGrid(2026, 10, new Map()) // 1 Oct 2026 is a Thursday
    expect(weeks[0]!.slice(0, 3)).toEqual([null, null, null])
    expect(weeks.at(-1)!.filter((c) => c === null).length).toBe(7 * weeks.length - 3 - 31)
  })
})

describe('dates', () => {
  it.each([
    ['2026-02-14', 6],
    ['2026-02-15', 0],
    ['2026-10-10', 6],
    ['2026-10-08', 4],
  ])('%s is weekday %i', (d, w) => {
    expect(weekday(d)).toBe(w)
  })
  it('knows weekends', () => {
    expect(isWeekend('2026-09-20')).toBe(true)
    expect(isWeekend('2026-02-24')).toBe(false)
  })
  it('sorts days by date without changing the input', () => {
    const input = [spring[3]!, spring[0]!]
    expect(sortDays(input).map((d) => d.date)).toEqual(['2026-02-14', '2026-02-17'])
    expect(input[0]!.date).toBe('2026-02-17')
  })
  it('sends picker times as China Standard Time', () => {
    expect(toRfc3339('2026-02-12T10:00:00')).toBe('2026-02-12T10:00:00+08:00')
    expect(toRfc3339('2026-02-12T10:00:00Z')).toBe('2026-02-12T10:00:00Z')
    expect(toRfc3339('2026-02-12T10:00:00+09:00')).toBe('2026-02-12T10:00:00+09:00')
  })
  it('shows deadlines in China Standard Time', () => {
    expect(formatCst('2026-03-04T17:30:00+08:00')).toBe('2026-03-04 17:30')
    expect(formatCst('2026-03-04T09:30:00Z')).toBe('2026-03-04 17:30')
    expect(formatMinutes(810)).toBe('13:30')
    expect(formatMinutes(540)).toBe('09:00')
  })
})

describe('server errors', () => {
  it('puts errors on the day that was sent at that index', () => {
    const sent = sortDays(spring)
    const { byDate: dates, other } = dayErrors(
      [
        { field: 'days[10].date', message: '2026-02-28 错误' },
        { field: 'days[0].name', message: '名称' },
        { field: 'notice', message: '请填写通知' },
        { field: 'days[99].date', message: '越界' },
      ],
      sent,
    )
    expect(dates).toEqual({ '2026-02-28': '2026-02-28 错误', '2026-02-14': '名称' })
    expect(other).toEqual({ notice: '请填写通知', 'days[99].date': '越界' })
  })
})

describe('menu and messages', () => {
  it('gives the calendar page to sys_admin only', () => {
    expect(canOpen(['sys_admin'], 'calendar')).toBe(true)
    for (const r of ['sec_admin', 'auditor', 'dept_staff', 'dept_head', 'leader', 'supervisor', 'grid_worker', 'citizen']) {
      expect(canOpen([r], 'calendar'), r).toBe(false)
    }
    expect(menuFor(['sys_admin']).find((m) => m.key === 'calendar')).toEqual({ key: 'calendar', path: '/console/calendar', label: 'nav.calendar' })
  })
  it('has seven weekday and twelve month names in both languages', () => {
    for (const m of [zh, en]) {
      expect(m.calendar.weekdayShort.split(',')).toHaveLength(7)
      expect(m.calendar.monthNames.split(',')).toHaveLength(12)
    }
    expect(zh.calendar.title).toBe('工作日历')
  })
})

describe('CalendarView', () => {
  const year2026 = {
    year: 2026,
    known: true,
    notice: '国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）',
    days: spring,
    months: Array.from({ length: 12 }, (_, i) => ({ month: i + 1, workDays: i === 1 ? 16 : 21, restDays: 9 })),
    workDays: 248,
  }
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status < 300 ? 'application/json' : 'application/problem+json' } })

  it('shows the year, and a server error next to the day it is about', async () => {
    const { mount, flushPromises } = await import('@vue/test-utils')
    const { vi } = await import('vitest')
    const { i18n } = await import('@/i18n')
    const { installElement } = await import('@/plugins/element')
    const { default: CalendarView } = await import('@/views/console/CalendarView.vue')
    i18n.global.locale.value = 'zh-CN'
    const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
      if (url.startsWith('/api/v1/calendar/hours')) return json(200, { windows: [{ start: 540, end: 720 }, { start: 810, end: 1050 }] })
      if (init?.method === 'PUT')
        return json(422, {
          status: 422,
          title: '输入有误',
          detail: 'days[10].date: 2026-02-28 本来就是工作日',
          errors: [{ field: 'days[10].date', rule: 'weekend', message: '调休上班日只能是星期六或星期日' }],
        })
      return json(200, year2026)
    })
    vi.stubGlobal('fetch', fetchMock)
    try {
      const w = mount(CalendarView, { global: { plugins: [i18n, installElement] }, attachTo: document.body })
      await flushPromises()
      await new Promise((r) => setTimeout(r, 0))
      await flushPromises()
      expect(fetchMock.mock.calls.map((c) => c[0])).toContain('/api/v1/calendar/' + new Date().getFullYear())
      expect(w.findAll('table.month')).toHaveLength(12)
      expect(w.text()).toContain('工作时间：09:00–12:00、13:30–17:30')
      expect(w.get('[data-testid=work-days]').text()).toBe('248')

      await w.get('[data-testid=save]').trigger('click')
      await flushPromises()
      const put = fetchMock.mock.calls.find((c) => c[1]?.method === 'PUT')!
      expect(JSON.parse(String(put[1]!.body)).days[10]).toEqual({ date: '2026-02-28', kind: 'workday', name: '春节调休' })
      expect(w.get('[data-error-date="2026-02-28"]').text()).toBe('调休上班日只能是星期六或星期日')
      w.unmount()
    } finally {
      vi.unstubAllGlobals()
    }
  }, 60_000)
})

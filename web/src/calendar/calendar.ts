// The working-day calendar (工作日历): types of GET/PUT /api/v1/calendar,
// the month grids of the page, and the small conversions the page needs.
// Pure functions, unit-tested in tests/calendar.test.ts.
import { api } from '@/api/client'

export type DayKind = 'holiday' | 'workday'

export interface CalDay {
  date: string // YYYY-MM-DD
  kind: DayKind
  name: string
}

export interface MonthCount {
  month: number
  workDays: number
  restDays: number
}

export interface YearView {
  year: number
  known: boolean
  notice: string
  updatedBy?: string
  updatedAt?: string
  days: CalDay[]
  months: MonthCount[]
  workDays: number
}

export interface CalWindow {
  start: number // minutes after midnight
  end: number
}

export type DeadlineUnit = 'work_days' | 'work_hours' | 'hours'
export const deadlineUnits: DeadlineUnit[] = ['work_days', 'work_hours', 'hours']

export interface DeadlineReply {
  from: string
  n: number
  unit: DeadlineUnit
  deadline: string
  known: boolean
  unknownYears: number[]
}

export const calendarApi = {
  year: (year: number) => api.get<YearView>(`/calendar/${year}`),
  saveYear: (year: number, notice: string, days: CalDay[]) =>
    api.put<YearView>(`/calendar/${year}`, { notice, days: sortDays(days) }, { silent: true }),
  hours: () => api.get<{ windows: CalWindow[] }>('/calendar/hours'),
  deadline: (from: string, n: number, unit: DeadlineUnit) =>
    api.get<DeadlineReply>('/calendar/deadline', { query: { from, n, unit }, silent: true }),
}

export function sortDays(days: readonly CalDay[]): CalDay[] {
  return [...days].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
}

const pad = (n: number) => String(n).padStart(2, '0')

export function isoDate(year: number, month: number, day: number): string {
  return `${year}-${pad(month)}-${pad(day)}`
}

// Day of the week of a civil date, 0 = Sunday ... 6 = Saturday (UTC
// arithmetic: the browser's time zone does not matter).
export function weekday(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay()
}

export const isWeekend = (date: string) => {
  const w = weekday(date)
  return w === 0 || w === 6
}

export interface Cell {
  date: string
  day: number
  weekend: boolean
  // The entered day, if any.
  kind?: DayKind
  name?: string
  // Whether people work that day: weekdays and make-up days, not holidays.
  work: boolean
}

// The weeks of a month (1-12), Monday first, with null before the first
// and after the last day.
export function monthGrid(year: number, month: number, days: ReadonlyMap<string, CalDay>): (Cell | null)[][] {
  const count = new Date(Date.UTC(year, month, 0)).getUTCDate()
  const lead = (weekday(isoDate(year, month, 1)) + 6) % 7 // Monday = 0
  const cells: (Cell | null)[] = Array.from({ length: lead }, () => null)
  for (let d = 1; d <= count; d++) {
    const date = isoDate(year, month, d)
    const weekend = isWeekend(date)
    const e = days.get(date)
    cells.push({ date, day: d, weekend, kind: e?.kind, name: e?.name, work: e ? e.kind === 'workday' : !weekend })
  }
  while (cells.length % 7 !== 0) cells.push(null)
  const weeks: (Cell | null)[][] = []
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7))
  return weeks
}

// Server field errors "days[i].date|kind|name" belong to the i-th day
// sent (the sorted list); the rest stay by field name ("notice", "year").
export function dayErrors(fieldErrors: readonly { field: string; message: string }[], sent: readonly CalDay[]) {
  const byDate: Record<string, string> = {}
  const other: Record<string, string> = {}
  for (const fe of fieldErrors) {
    const m = /^(?:body\.)?days\[(\d+)\]/.exec(fe.field)
    const day = m ? sent[Number(m[1])] : undefined
    if (day) byDate[day.date] = byDate[day.date] ? `${byDate[day.date]}; ${fe.message}` : fe.message
    else {
      const f = fe.field.replace(/^body\./, '')
      other[f] = other[f] ? `${other[f]}; ${fe.message}` : fe.message
    }
  }
  return { byDate, other }
}

// "2026-02-12T10:00:00" (a date-time picker's value, China Standard Time)
// -> RFC 3339 with the +08:00 offset the API expects.
export function toRfc3339(local: string): string {
  return /[zZ]|[+-]\d\d:\d\d$/.test(local) ? local : `${local}+08:00`
}

// An RFC 3339 time as "YYYY-MM-DD HH:mm" in China Standard Time.
export function formatCst(rfc3339: string): string {
  const t = new Date(rfc3339)
  if (Number.isNaN(t.getTime())) return rfc3339
  const c = new Date(t.getTime() + 8 * 3600_000)
  return `${c.getUTCFullYear()}-${pad(c.getUTCMonth() + 1)}-${pad(c.getUTCDate())} ${pad(c.getUTCHours())}:${pad(c.getUTCMinutes())}`
}

export const formatMinutes = (m: number) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`

import { describe, expect, it } from 'vitest'
import {
  canEx,
  clearable,
  dateFromNow,
  exchangePermissions,
  expiryDate,
  filterOf,
  looksMasked,
  managesResource,
  parseKeys,
  pruneClear,
  scoreTone,
} from '@/exchange/labels'
import type { Item } from '@/exchange/types'
import zh from '@/i18n/zh-CN'
import en from '@/i18n/en-US'

const items: Item[] = [
  { name: 'idNumber', nameZh: '身份证号', type: 'idnumber', key: true, personal: 'sensitive', mask: 'id' },
  { name: 'name', nameZh: '姓名', type: 'string', personal: 'personal', mask: 'name' },
  { name: 'householdNumber', nameZh: '户号', type: 'string' },
  { name: 'address', nameZh: '住址', type: 'string', personal: 'personal', mask: 'address' },
]

describe('exchange permissions', () => {
  it('uses the permissions the server lists', () => {
    const me = { roles: ['dept_staff'], permissions: ['exchange:read', 'exchange:query'] }
    expect(canEx(me, 'exchange:query')).toBe(true)
    expect(canEx(me, 'exchange:request')).toBe(false)
  })
  it('falls back to the roles when the server lists none of the exchange', () => {
    expect([...exchangePermissions({ roles: ['dept_head'], permissions: ['cases:read'] })].sort()).toEqual(
      ['cases:read', 'exchange:decide', 'exchange:publish', 'exchange:query', 'exchange:read', 'exchange:request'].sort(),
    )
    expect(canEx({ roles: ['dept_staff'] }, 'exchange:decide')).toBe(false)
    expect(canEx({ roles: ['citizen'] }, 'exchange:tracker')).toBe(true)
    expect(canEx({ roles: ['sys_admin'] }, 'exchange:nodes')).toBe(true)
    expect(canEx({ roles: ['auditor'] }, 'exchange:audit')).toBe(true)
    expect(canEx(null, 'exchange:read')).toBe(false)
  })
  it('lets publishers of the providing organisation manage a resource, and drafts they see', () => {
    const me = { roles: ['dept_staff'], orgId: 'ga', permissions: ['exchange:publish'] }
    expect(managesResource(me, { providerOrg: 'ga', status: 'published', node: '' })).toBe(true)
    expect(managesResource(me, { providerOrg: 'mz', status: 'published', node: '' })).toBe(false)
    expect(managesResource(me, { providerOrg: 'mz', status: 'draft', node: '' })).toBe(true)
    expect(managesResource(me, { providerOrg: 'ga', status: 'published', node: '3205' })).toBe(false)
    expect(managesResource({ roles: ['leader'], orgId: 'ga' }, { providerOrg: 'ga', status: 'published', node: '' })).toBe(false)
  })
})

describe('request and query inputs', () => {
  it('offers clear values only for chosen personal items and drops those no longer chosen', () => {
    expect(clearable(items, ['name', 'householdNumber', 'address']).map((i) => i.name)).toEqual(['name', 'address'])
    expect(clearable(items, ['householdNumber'])).toEqual([])
    expect(pruneClear(['name', 'address'], ['address'])).toEqual(['address'])
  })
  it('reads bulk keys one per line, trimmed, without blanks or repeats', () => {
    expect(parseKeys(' 320508198806152310 \n\n320508199001011234,320508198806152310；x\r\n')).toEqual(['320508198806152310', '320508199001011234', 'x'])
    expect(parseKeys('   ')).toEqual([])
  })
  it('turns filter rows into an object, skipping rows without an item', () => {
    expect(
      filterOf([
        { item: 'householdNumber', value: ' 3205080001 ' },
        { item: '', value: 'x' },
        { item: 'relation', value: '户主' },
      ]),
    ).toEqual({ householdNumber: '3205080001', relation: '户主' })
  })
  it('sees masked values', () => {
    expect(looksMasked('王*明')).toBe(true)
    expect(looksMasked('3205080001')).toBe(false)
    expect(looksMasked(undefined)).toBe(false)
  })
})

describe('dates and scores', () => {
  it('shows the last valid day of a grant in China Standard Time', () => {
    // 2026-12-31 picked: the grant ends at 2027-01-01 00:00 CST.
    expect(expiryDate(Date.parse('2027-01-01T00:00:00+08:00'))).toBe('2026-12-31')
    expect(expiryDate(Date.parse('2027-03-05T10:30:00+08:00'))).toBe('2027-03-05')
    expect(expiryDate(0)).toBe('')
  })
  it('counts days from now in CST', () => {
    expect(dateFromNow(1, new Date('2026-05-01T17:00:00Z'))).toBe('2026-05-03') // 01:00 CST on 2 May
    expect(dateFromNow(0, new Date('2026-05-01T15:00:00Z'))).toBe('2026-05-01')
  })
  it('colours scores', () => {
    expect(scoreTone(-1)).toBe('info')
    expect(scoreTone(95)).toBe('success')
    expect(scoreTone(80)).toBe('warning')
    expect(scoreTone(40)).toBe('danger')
  })
})

describe('exchange messages', () => {
  it('names the pages as the brief does', () => {
    expect(zh.exchange.nav.group).toBe('共享交换')
    expect(zh.exchange.nav.catalog).toBe('资源目录')
    expect(zh.exchange.nav.tracker).toBe('数据使用记录')
    expect(zh.exchange.requestStatuses).toEqual({ pending: '待审批', approved: '已同意', rejected: '未同意', refused: '不予共享' })
    expect(zh.exchange.proof.verified).toContain('已验证')
    expect(en.exchange.nav.group).toBe('Data exchange')
  })
})

describe('exchange messages compile', () => {
  function keys(obj: unknown, prefix: string): string[] {
    if (typeof obj !== 'object' || obj === null) return [prefix]
    return Object.entries(obj).flatMap(([k, v]) => keys(v, `${prefix}.${k}`))
  }
  it.each(['zh-CN', 'en-US'] as const)('renders every %s message without a compile error', async (locale) => {
    const { i18n } = await import('@/i18n')
    const { vi } = await import('vitest')
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      i18n.global.locale.value = locale
      for (const k of keys(zh.exchange, 'exchange')) {
        const out = i18n.global.t(k, { n: 1, name: 'x', field: 'x', code: 'x', status: 'x', score: 1, items: 'x', reason: 'x' })
        expect(out, k).not.toBe(k)
      }
      expect(i18n.global.t('exchange.form.backendRefHttp')).toContain('{key}')
      expect(error).not.toHaveBeenCalled()
      expect(warn).not.toHaveBeenCalled()
    } finally {
      warn.mockRestore()
      error.mockRestore()
      i18n.global.locale.value = 'zh-CN'
    }
  })
})

import { describe, expect, it } from 'vitest'
import zh from '@/i18n/zh-CN'
import en from '@/i18n/en-US'
import { allRoles, menuItems } from '@/nav/roles'

function keys(obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null) return [prefix]
  return Object.entries(obj).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

function get(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj)
}

describe('i18n messages', () => {
  it('has the same keys in zh-CN and en-US', () => {
    const z = keys(zh).sort()
    const e = keys(en).sort()
    expect(z.filter((k) => !e.includes(k))).toEqual([])
    expect(e.filter((k) => !z.includes(k))).toEqual([])
  })

  it('has no empty message', () => {
    for (const [name, msgs] of [['zh-CN', zh], ['en-US', en]] as const) {
      for (const k of keys(msgs)) expect(get(msgs, k), `${name} ${k}`).not.toBe('')
    }
  })

  it('names every role and has a home heading for each', () => {
    for (const r of allRoles) {
      for (const msgs of [zh, en]) {
        expect(typeof get(msgs, `roles.${r}`)).toBe('string')
        expect(typeof get(msgs, `home.title.${r}`)).toBe('string')
      }
    }
  })

  it('labels every menu item', () => {
    for (const m of menuItems) for (const msgs of [zh, en]) expect(typeof get(msgs, m.label)).toBe('string')
  })

  it('uses the headings the contract and the e2e tests expect', () => {
    expect(zh.home.title.sys_admin).toBe('系统管理员工作台')
    expect(en.home.title.sys_admin).toBe('System administrator workspace')
    expect(zh.home.title.auditor).toBe('安全审计员工作台')
    expect(zh.home.title.dept_staff).toBe('部门工作人员工作台')
    expect(zh.login.locked).toBe('账号已锁定')
    expect(zh.login.badCredentials).toBe('用户名或密码错误')
  })
})

import { describe, expect, it } from 'vitest'
import { abilities, canOpen, homePath, menuFor, primaryRole, violatesSeparation } from '@/nav/roles'

const keysFor = (...roles: string[]) => menuFor(roles).map((m) => m.key)

describe('home path per role', () => {
  it.each([
    ['citizen', '/portal'],
    ['enterprise', '/portal'],
    ['grid_worker', '/grid'],
    ['dept_staff', '/console'],
    ['dept_head', '/console'],
    ['supervisor', '/console'],
    ['leader', '/console'],
    ['auditor', '/console'],
    ['sys_admin', '/console'],
    ['sec_admin', '/console'],
  ])('sends %s to %s', (role, path) => {
    expect(homePath([role])).toBe(path)
  })

  it('sends a staff member who is also a citizen to the console', () => {
    expect(homePath(['citizen', 'dept_staff'])).toBe('/console')
    expect(primaryRole(['citizen', 'dept_staff'])).toBe('dept_staff')
  })

  it('sends an account without known roles to the portal', () => {
    expect(homePath([])).toBe('/portal')
    expect(homePath(['unknown'])).toBe('/portal')
  })
})

describe('console menu per role', () => {
  it('gives sys_admin divisions, orgs, users and roles', () => {
    expect(keysFor('sys_admin')).toEqual(['home', 'divisions', 'orgs', 'users', 'roles'])
  })
  it('gives sec_admin users, roles and tokens', () => {
    expect(keysFor('sec_admin')).toEqual(['home', 'users', 'roles', 'tokens'])
  })
  it('gives the auditor the audit log and the ledger', () => {
    expect(keysFor('auditor')).toEqual(['home', 'audit', 'ledger'])
    expect(canOpen(['auditor'], 'ledger')).toBe(true)
  })
  it.each(['supervisor', 'leader'])('gives %s the ledger to read as well', (role) => {
    expect(keysFor(role)).toEqual(['home', 'divisions', 'users', 'ledger'])
    expect(canOpen([role], 'ledger')).toBe(true)
  })
  it.each(['dept_staff', 'dept_head', 'sys_admin', 'sec_admin', 'citizen', 'enterprise', 'grid_worker'])(
    'does not give %s the ledger',
    (role) => {
      expect(canOpen([role], 'ledger')).toBe(false)
    },
  )
  it('serves the ledger at /console/ledger', () => {
    expect(menuFor(['auditor']).find((m) => m.key === 'ledger')).toEqual({ key: 'ledger', path: '/console/ledger', label: 'nav.ledger' })
  })
  it.each(['dept_staff', 'dept_head'])('gives %s read-only divisions and users', (role) => {
    expect(keysFor(role)).toEqual(['home', 'divisions', 'users'])
    expect(abilities([role])).toEqual({
      editDivisions: false,
      editOrgs: false,
      editUsers: false,
      manageUserSecurity: false,
      manageTokens: false,
    })
    expect(canOpen([role], 'tokens')).toBe(false)
    expect(canOpen([role], 'audit')).toBe(false)
  })
  it.each(['supervisor', 'leader'])('gives %s nothing to edit', (role) => {
    expect(Object.values(abilities([role])).some(Boolean)).toBe(false)
    expect(canOpen([role], 'audit')).toBe(false)
  })
  it.each(['citizen', 'enterprise', 'grid_worker'])('gives %s no console menu', (role) => {
    expect(keysFor(role)).toEqual([])
  })
  it('merges the menus of several roles in the canonical order without repeats', () => {
    expect(keysFor('leader', 'sys_admin')).toEqual(['home', 'divisions', 'orgs', 'users', 'roles', 'ledger'])
  })
})

describe('three-role separation', () => {
  it('splits editing rights between sys_admin and sec_admin', () => {
    expect(abilities(['sys_admin'])).toMatchObject({ editUsers: true, editDivisions: true, manageUserSecurity: false, manageTokens: false })
    expect(abilities(['sec_admin'])).toMatchObject({ editUsers: false, editDivisions: false, manageUserSecurity: true, manageTokens: true })
  })
  it('flags accounts holding two of sys_admin, sec_admin and auditor', () => {
    expect(violatesSeparation(['sys_admin', 'auditor'])).toBe(true)
    expect(violatesSeparation(['sys_admin', 'dept_staff'])).toBe(false)
  })
})

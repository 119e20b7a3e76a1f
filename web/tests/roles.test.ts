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
  it('gives sys_admin divisions, the map, the catalog, quality and the exchange nodes, orgs, users, roles and the working-day calendar', () => {
    expect(keysFor('sys_admin')).toEqual(['home', 'divisions', 'map', 'exCatalog', 'exQuality', 'exNodes', 'orgs', 'users', 'roles', 'calendar'])
  })
  it('gives sec_admin users, roles and tokens', () => {
    expect(keysFor('sec_admin')).toEqual(['home', 'users', 'roles', 'tokens'])
  })
  it('gives the auditor the catalog, the access log, quality, the audit log and the ledger', () => {
    expect(keysFor('auditor')).toEqual(['home', 'exCatalog', 'exAccess', 'exQuality', 'audit', 'ledger'])
    expect(canOpen(['auditor'], 'ledger')).toBe(true)
  })
  it.each(['supervisor', 'leader'])('gives %s the ledger to read as well', (role) => {
    const cases = role === 'supervisor' ? ['cases', 'hotline', 'caseCategories'] : ['cases']
    expect(keysFor(role)).toEqual([
      'home',
      'divisions',
      'map',
      ...cases,
      'people',
      'entities',
      'buildings',
      'components',
      'registryChanges',
      'exCatalog',
      'exAccess',
      'exQuality',
      'users',
      'ledger',
    ])
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
  it.each(['dept_staff', 'dept_head'])('gives %s read-only divisions, the map and users, and base data', (role) => {
    const exchange = ['exCatalog', 'exRequests', 'exGrants', 'exAccess', 'exQuality', ...(role === 'dept_head' ? ['exDisputes'] : [])]
    expect(keysFor(role)).toEqual([
      'home',
      'divisions',
      'map',
      'cases',
      'people',
      'entities',
      'buildings',
      'components',
      'registryChanges',
      'registryImports',
      'gridWorkers',
      ...exchange,
      'users',
    ])
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
  it.each(['dept_staff', 'dept_head', 'supervisor', 'leader', 'sys_admin'])('gives %s the map (一张图), who read divisions', (role) => {
    expect(canOpen([role], 'map')).toBe(true)
  })
  it.each(['auditor', 'sec_admin', 'citizen', 'enterprise', 'grid_worker'])('does not give %s the map', (role) => {
    expect(canOpen([role], 'map')).toBe(false)
  })
  it('serves the map at /console/map', () => {
    expect(menuFor(['leader']).find((m) => m.key === 'map')).toEqual({ key: 'map', path: '/console/map', label: 'map.title' })
  })
  it.each(['citizen', 'enterprise', 'grid_worker'])('gives %s no console menu', (role) => {
    expect(keysFor(role)).toEqual([])
  })
  it('merges the menus of several roles in the canonical order without repeats', () => {
    expect(keysFor('leader', 'sys_admin')).toEqual([
      'home',
      'divisions',
      'map',
      'cases',
      'people',
      'entities',
      'buildings',
      'components',
      'registryChanges',
      'exCatalog',
      'exAccess',
      'exQuality',
      'exNodes',
      'orgs',
      'users',
      'roles',
      'calendar',
      'ledger',
    ])
  })
})

describe('base data (基础数据) menu', () => {
  const registryRead = ['people', 'entities', 'buildings', 'components', 'registryChanges'] as const
  it.each(['dept_staff', 'dept_head', 'supervisor', 'leader'])('lets %s (registry:read) read people, organisations, buildings, components and changes', (role) => {
    for (const k of registryRead) expect(canOpen([role], k), k).toBe(true)
  })
  it.each(['dept_staff', 'dept_head'])('gives %s imports and grid-worker assignments', (role) => {
    expect(canOpen([role], 'registryImports')).toBe(true)
    expect(canOpen([role], 'gridWorkers')).toBe(true)
  })
  it.each(['supervisor', 'leader'])('gives %s no imports or assignments (read only)', (role) => {
    expect(canOpen([role], 'registryImports')).toBe(false)
    expect(canOpen([role], 'gridWorkers')).toBe(false)
  })
  it.each(['auditor', 'sys_admin', 'sec_admin', 'citizen', 'enterprise', 'grid_worker'])('gives %s no base data in the console', (role) => {
    for (const k of [...registryRead, 'registryImports', 'gridWorkers'] as const) expect(canOpen([role], k), k).toBe(false)
  })
  it('serves base data under /console/registry/ in one group', () => {
    const items = menuFor(['dept_staff']).filter((m) => m.group === 'registry.nav.group')
    expect(items.map((m) => m.key)).toEqual([...registryRead, 'registryImports', 'gridWorkers'])
    for (const m of items) expect(m.path.startsWith('/console/registry/')).toBe(true)
    expect(menuFor(['leader']).find((m) => m.key === 'people')).toMatchObject({ path: '/console/registry/people', label: 'registry.nav.people' })
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

describe('cases menus (一网统管)', () => {
  it.each(['dept_staff', 'dept_head', 'supervisor', 'leader'])('gives %s the case list', (role) => {
    expect(canOpen([role], 'cases')).toBe(true)
  })
  it.each(['sys_admin', 'sec_admin', 'auditor', 'citizen', 'enterprise', 'grid_worker'])('does not give %s the case list', (role) => {
    expect(canOpen([role], 'cases')).toBe(false)
  })
  it('gives the hotline intake and the categories to the operations centre only', () => {
    for (const role of ['dept_staff', 'dept_head', 'leader', 'sys_admin']) {
      expect(canOpen([role], 'hotline')).toBe(false)
      expect(canOpen([role], 'caseCategories')).toBe(false)
    }
    expect(canOpen(['supervisor'], 'hotline')).toBe(true)
    expect(canOpen(['supervisor'], 'caseCategories')).toBe(true)
  })
  it('groups the case menus under 一网统管', () => {
    expect(menuFor(['supervisor']).filter((m) => m.group === 'cases.nav.group').map((m) => m.path)).toEqual([
      '/console/cases',
      '/console/cases/hotline',
      '/console/cases/categories',
    ])
  })
})

describe('data exchange menus (共享交换)', () => {
  it.each(['dept_staff', 'dept_head', 'supervisor', 'leader', 'auditor', 'sys_admin'])('gives %s (exchange:read) the catalog and quality', (role) => {
    expect(canOpen([role], 'exCatalog')).toBe(true)
    expect(canOpen([role], 'exQuality')).toBe(true)
  })
  it.each(['dept_staff', 'dept_head'])('gives %s requests and grants', (role) => {
    expect(canOpen([role], 'exRequests')).toBe(true)
    expect(canOpen([role], 'exGrants')).toBe(true)
  })
  it('gives disputes to heads (exchange:decide) and nodes to sys_admin (exchange:nodes) only', () => {
    for (const role of ['dept_staff', 'supervisor', 'leader', 'auditor', 'sys_admin', 'sec_admin']) expect(canOpen([role], 'exDisputes'), role).toBe(false)
    expect(canOpen(['dept_head'], 'exDisputes')).toBe(true)
    for (const role of ['dept_staff', 'dept_head', 'auditor', 'sec_admin']) expect(canOpen([role], 'exNodes'), role).toBe(false)
    expect(canOpen(['sys_admin'], 'exNodes')).toBe(true)
  })
  it.each(['citizen', 'enterprise', 'grid_worker', 'sec_admin'])('gives %s nothing of the exchange in the console', (role) => {
    expect(menuFor([role]).filter((m) => m.key.startsWith('ex'))).toEqual([])
  })
  it('groups the exchange menus under 共享交换 at /console/exchange/', () => {
    const items = menuFor(['dept_head', 'sys_admin']).filter((m) => m.group === 'exchange.nav.group')
    expect(items.map((m) => m.key)).toEqual(['exCatalog', 'exRequests', 'exGrants', 'exAccess', 'exQuality', 'exDisputes', 'exNodes'])
    for (const m of items) expect(m.path.startsWith('/console/exchange/')).toBe(true)
  })
})

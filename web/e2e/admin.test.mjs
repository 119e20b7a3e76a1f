// (c) Administration: sys_admin searches and pages users, sec_admin issues and
// revokes a token, department staff see no administration menu.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { assertClean, launch, login, newPage, shot } from './helpers.mjs'

const menuKeys = (page) => page.locator('[data-testid=side-menu] [data-menu]').evaluateAll((els) => els.map((e) => e.dataset.menu))
const rows = (page) => page.locator('[data-testid=table] .el-table__body-wrapper tbody tr')
const activePage = (page) => page.locator('[data-testid=pagination] .el-pager li.is-active').textContent()

// Waits until the table shows the reply to the request the action triggers.
async function reload(page, path, action) {
  const reply = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1${path}` && r.request().method() === 'GET')
  await action()
  const res = await reply
  assert.equal(res.status(), 200, `${path}: ${res.status()}`)
  await page.locator('[data-testid=table] .el-loading-mask').waitFor({ state: 'hidden' }).catch(() => {})
  return res.json()
}

describe('administration', () => {
  let browser
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('sys_admin opens users, searches and paginates', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'sysadmin')
      await page.getByTestId('home-title').waitFor()
      await shot(page, 'console-home')
      assert.deepEqual(await menuKeys(page), ['home', 'divisions', 'map', 'exCatalog', 'exQuality', 'exNodes', 'orgs', 'users', 'roles', 'calendar'])

      const first = await reload(page, '/users', () => page.locator('[data-menu=users]').click())
      await page.waitForURL('**/console/users')
      assert.ok(first.total >= 11, `demo has at least 11 users, got ${first.total}`)
      assert.equal(await rows(page).count(), Math.min(first.total, 20))
      await shot(page, 'console-users')

      // Search narrows the list to matching users.
      const found = await reload(page, '/users', async () => {
        await page.getByTestId('search').fill('secadmin')
        await page.getByTestId('search-submit').click()
      })
      assert.ok(found.total >= 1 && found.total < first.total, `search total ${found.total}`)
      assert.match(await rows(page).first().textContent(), /secadmin/)

      // Back to everything, 10 a page, then page 2.
      await reload(page, '/users', () => page.getByRole('button', { name: '重置' }).click())
      await reload(page, '/users', async () => {
        await page.locator('[data-testid=pagination] .el-pagination__sizes .el-select').click()
        await page.locator('.el-select-dropdown__item:visible', { hasText: '10' }).first().click()
      })
      assert.equal(await rows(page).count(), 10)
      const firstPageNames = await rows(page).locator('td:first-child').allTextContents()
      const second = await reload(page, '/users', () => page.locator('[data-testid=pagination] .btn-next').click())
      assert.equal(second.page, 2)
      assert.equal((await activePage(page)).trim(), '2')
      const secondPageNames = await rows(page).locator('td:first-child').allTextContents()
      assert.equal(secondPageNames.length, Math.min(10, first.total - 10))
      assert.ok(!secondPageNames.some((n) => firstPageNames.includes(n)), 'page 2 differs from page 1')

      // The create dialog validates before sending.
      await page.getByTestId('add').click()
      await page.getByTestId('user-save').click()
      await page.locator('[data-testid=user-dialog] .el-form-item__error').first().waitFor()
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('sec_admin issues a token, sees its secret once, and revokes it', async () => {
    const page = await newPage(browser)
    const name = `e2e-${Date.now()}`
    try {
      await login(page, 'secadmin')
      await page.getByTestId('home-title').waitFor()
      assert.deepEqual(await menuKeys(page), ['home', 'users', 'roles', 'tokens'])
      await reload(page, '/tokens', () => page.locator('[data-menu=tokens]').click())

      await page.getByTestId('issue').click()
      const dialog = page.getByTestId('issue-dialog')
      await dialog.getByTestId('token-name').fill(name)
      await dialog.getByTestId('token-org').click()
      await page.locator('.el-select-dropdown__item:visible').first().click()
      await dialog.locator('[data-scope="divisions:read"]').click()

      const issued = page.waitForResponse((r) => r.url().endsWith('/api/v1/tokens') && r.request().method() === 'POST')
      await dialog.getByTestId('issue-submit').click()
      const res = await issued
      assert.ok([200, 201].includes(res.status()), `issue: ${res.status()} ${await res.text()}`)

      const secret = page.getByTestId('secret-dialog')
      await secret.waitFor()
      const value = await secret.getByTestId('token-secret').inputValue()
      assert.match(value, /^shz_/)
      await shot(page, 'token-secret')
      await secret.getByTestId('secret-done').click()
      await secret.waitFor({ state: 'hidden' })

      const row = rows(page).filter({ hasText: name })
      await row.waitFor()
      assert.match(await row.textContent(), /有效/)
      assert.ok(!(await page.content()).includes(value), 'secret is gone from the page after closing')

      await row.getByTestId('revoke').click()
      const revoked = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().includes('/api/v1/tokens/'))
      await page.locator('.el-message-box').getByRole('button', { name: '吊销' }).click()
      const del = await revoked
      assert.ok(del.status() === 204 || del.status() === 200, `revoke: ${del.status()}`)
      await rows(page).filter({ hasText: name }).filter({ hasText: '已吊销' }).waitFor()
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('department staff see no administration menu and cannot open admin pages', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'staff')
      await page.getByTestId('home-title').waitFor()
      const keys = await menuKeys(page)
      assert.deepEqual(keys, [
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
        'exCatalog',
        'exRequests',
        'exGrants',
        'exAccess',
        'exQuality',
        'users',
      ])
      for (const k of ['orgs', 'roles', 'tokens', 'audit']) assert.equal(await page.locator(`[data-menu=${k}]`).count(), 0, k)
      await page.goto('/console/tokens')
      await page.waitForURL((u) => u.pathname === '/console')
      // Read-only lists: no add button.
      await reload(page, '/users', () => page.locator('[data-menu=users]').click())
      assert.equal(await page.getByTestId('add').count(), 0)
      await page.goto('/console/divisions')
      await page.getByTestId('division-tree').waitFor()
      assert.equal(await page.getByTestId('add').count(), 0)
      await shot(page, 'console-divisions-staff')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })
})

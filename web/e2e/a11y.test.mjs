// (b) axe-core finds no violations (of any impact) on the login page and the portal.
import { after, before, describe, it } from 'node:test'
import { launch, login, newPage, scan, shot } from './helpers.mjs'

describe('accessibility', () => {
  let browser
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('login page', async () => {
    const page = await newPage(browser)
    try {
      await page.goto('/login')
      await page.getByTestId('login-submit').waitFor()
      await scan(page, 'login')
    } finally {
      await page.context().close()
    }
  })

  it('login page in elder mode and English', async () => {
    const page = await newPage(browser)
    try {
      await page.goto('/login')
      await page.getByTestId('elder-switch').click()
      await page.getByTestId('lang-switch').getByText('English').click()
      await page.getByRole('heading', { name: 'Log in to Shuzhi' }).waitFor()
      await scan(page, 'login elder en')
    } finally {
      await page.context().close()
    }
  })

  it('citizen portal (home and 我的)', async () => {
    const page = await newPage(browser, { mobile: true })
    try {
      await login(page, 'citizen')
      await page.getByTestId('home-title').waitFor()
      await scan(page, 'portal home')
      await shot(page, 'portal-home')
      await page.locator('[data-tab="/portal/mine"]').click()
      await page.getByTestId('profile').waitFor()
      await scan(page, 'portal mine')
      await shot(page, 'portal-mine')
    } finally {
      await page.context().close()
    }
  })

  it('console home (sys_admin)', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'sysadmin')
      await page.getByTestId('home-title').waitFor()
      await page.getByTestId('stat-chart').or(page.locator('.el-empty')).first().waitFor()
      await scan(page, 'console home')
    } finally {
      await page.context().close()
    }
  })

  it('grid worker pages (我的网格, a grid, 我提交的) in elder mode', async () => {
    const page = await newPage(browser, { mobile: true })
    try {
      await login(page, 'gridworker')
      await page.getByTestId('my-grids').waitFor()
      await page.getByTestId('elder-switch').click()
      await scan(page, 'grid home elder')
      await page.getByTestId('my-grids').locator('a').first().click()
      await page.getByTestId('grid-records').locator('li').first().waitFor()
      await scan(page, 'grid records elder')
      await page.locator('[data-tab="/grid/mine"]').click()
      await page.getByTestId('mine-list').or(page.getByTestId('mine-empty')).first().waitFor()
      await scan(page, 'grid mine elder')
    } finally {
      await page.context().close()
    }
  })
})

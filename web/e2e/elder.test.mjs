// (d) Elder-friendly mode: the switch toggles the html class and the base font size, and persists.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { launch, login, newPage, shot } from './helpers.mjs'

const htmlState = (page) =>
  page.evaluate(() => ({
    elder: document.documentElement.classList.contains('elder'),
    fontSize: parseFloat(getComputedStyle(document.documentElement).fontSize),
    bodyFont: parseFloat(getComputedStyle(document.body).fontSize),
  }))

describe('elder mode', () => {
  let browser
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('toggles the class and font size on the login page and keeps it after reload', async () => {
    const page = await newPage(browser)
    try {
      await page.goto('/login')
      const before = await htmlState(page)
      assert.equal(before.elder, false)
      assert.ok(before.bodyFont < 20)

      await page.getByTestId('elder-switch').click()
      const on = await htmlState(page)
      assert.equal(on.elder, true)
      assert.ok(on.fontSize >= 20, `html font ${on.fontSize}`)
      assert.ok(on.bodyFont >= 20, `body font ${on.bodyFont}`)
      await shot(page, 'login-elder')

      await page.reload()
      assert.equal((await htmlState(page)).elder, true, 'persisted across reload')
      assert.equal(await page.getByRole('switch', { name: '长辈模式' }).getAttribute('aria-checked'), 'true')

      await page.getByTestId('elder-switch').click()
      assert.equal((await htmlState(page)).elder, false)
    } finally {
      await page.context().close()
    }
  })

  it('hides secondary chrome in the console', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'leader')
      await page.getByTestId('home-title').waitFor()
      const chart = page.locator('section.chart')
      assert.equal(await chart.isVisible(), true)
      await page.getByTestId('elder-switch').click()
      await chart.waitFor({ state: 'hidden' })
      assert.ok((await htmlState(page)).bodyFont >= 20)
      await shot(page, 'console-home-elder')
    } finally {
      await page.context().close()
    }
  })
})

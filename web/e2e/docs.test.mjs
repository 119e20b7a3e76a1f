// The offline API docs at /docs render the server's OpenAPI document.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { assertClean, launch, newPage } from './helpers.mjs'

describe('API docs', () => {
  let browser
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('renders /openapi.json with swagger-ui, without outside requests', async () => {
    const page = await newPage(browser)
    try {
      await page.goto('/docs')
      await page.locator('.opblock').first().waitFor({ timeout: 20_000 })
      assert.equal(await page.title(), '数治 API 文档')
      assert.ok((await page.locator('.opblock').count()) > 5)
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })
})

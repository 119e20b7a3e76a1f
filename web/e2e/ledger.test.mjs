// (e) 可信存证: the auditor sees the ledger fill up with the demo's audit
// entries, looks up entry 0 and the browser verifies its inclusion proof.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { assertClean, launch, login, newPage, scan, shot } from './helpers.mjs'

// The demo seeding's audit entries reach the ledger through the outbox within
// a few seconds; refresh until the log has entries and a checkpoint covers them.
async function waitForEntries(page, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const size = Number(await page.getByTestId('ledger-size').getAttribute('data-size'))
    const rows = await page.getByTestId('ledger-checkpoints').locator('tbody tr').count()
    if (size > 0 && rows > 0) return size
    if (Date.now() > deadline) assert.fail(`ledger still empty after ${timeoutMs} ms (size ${size}, checkpoints ${rows})`)
    await page.waitForTimeout(1000)
    await page.getByTestId('ledger-refresh').click()
    await page.waitForLoadState('networkidle')
  }
}

describe('ledger page', () => {
  let browser
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('auditor opens 可信存证, looks up entry 0 and sees it verified in the browser', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'auditor')
      await page.getByTestId('home-title').waitFor()
      await page.getByTestId('side-menu').getByText('可信存证').click()
      await page.waitForURL((u) => u.pathname === '/console/ledger')
      await page.getByRole('heading', { name: '可信存证', level: 1 }).waitFor()
      await page.getByTestId('ledger-size').waitFor()

      const size = await waitForEntries(page)
      assert.ok(size > 0)
      assert.match(await page.getByTestId('ledger-hasher').textContent(), /SHA-256|SM3/)
      assert.match(await page.getByTestId('ledger-note').textContent(), /\n— /, 'signed checkpoint text with a signature line')

      // A clear Chinese message for an invalid index, and nothing looked up.
      const input = page.getByLabel('条目序号')
      await input.fill('-1')
      await input.press('Enter')
      assert.equal((await page.getByTestId('ledger-index-error').textContent()).trim(), '请输入不小于 0 的整数序号')
      assert.equal(await input.getAttribute('aria-invalid'), 'true')

      // Keyboard: type the index and press Enter.
      await input.fill('0')
      await input.press('Enter')
      await page.getByTestId('ledger-entry').waitFor()
      assert.equal((await page.getByTestId('ledger-index-error').textContent()).trim(), '')
      assert.match(await page.getByTestId('ledger-entry').textContent(), /条目 #0/)
      assert.match(await page.getByTestId('ledger-entry').textContent(), /操作人/)
      assert.match(await page.getByTestId('ledger-leaf').textContent(), /^[0-9a-f]{64}$/)

      const verdict = page.getByTestId('ledger-verdict')
      await verdict.locator('.el-alert').waitFor()
      const state = await verdict.getAttribute('data-state')
      const hasher = (await page.getByTestId('ledger-hasher').textContent()).trim()
      if (hasher === 'SHA-256') {
        assert.equal(state, 'ok', await verdict.textContent())
        assert.match(await verdict.textContent(), /已在浏览器中验证/)
        assert.match(await verdict.textContent(), /条目内容的哈希与叶子哈希一致/)
      } else {
        assert.equal(state, 'cli')
        assert.match(await page.getByTestId('ledger-cli').textContent(), /shuzhi ledger prove 0/)
      }
      assert.equal(new URL(page.url()).searchParams.get('entry'), '0')

      await scan(page, 'ledger')
      await shot(page, 'console-ledger')

      // Elder mode: the same page stays usable and accessible.
      await page.getByTestId('elder-switch').click()
      await page.locator('html.elder').waitFor({ state: 'attached' })
      await scan(page, 'ledger elder')
      await shot(page, 'console-ledger-elder')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('is in the leader’s menu, read-only, and opens from a link with ?entry=', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'leader')
      await page.getByTestId('home-title').waitFor()
      await page.locator('[data-menu="ledger"]').waitFor()
      await page.goto('/console/ledger?entry=0')
      await page.getByTestId('ledger-entry').waitFor()
      assert.equal(await page.getByTestId('ledger-index').inputValue(), '0')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('shows a red failure for a tampered proof and the CLI for sm3', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'supervisor')
      await page.getByTestId('home-title').waitFor()
      // Flip one bit of the first proof hash on its way to the page.
      await page.route('**/api/v1/ledger/proof/inclusion?*', async (route) => {
        const res = await route.fetch()
        const body = await res.json()
        const h = Buffer.from(body.proof[0], 'base64')
        h[0] ^= 1
        body.proof[0] = h.toString('base64')
        await route.fulfill({ response: res, json: body })
      })
      await page.goto('/console/ledger?entry=0')
      const verdict = page.getByTestId('ledger-verdict')
      await verdict.locator('.el-alert--error').waitFor()
      assert.equal(await verdict.getAttribute('data-state'), 'failed')
      assert.match(await verdict.textContent(), /验证失败/)
      assert.doesNotMatch(await verdict.textContent(), /已在浏览器中验证/)
      await shot(page, 'console-ledger-tampered')

      // An SM3 ledger: no browser verification, the command to run instead.
      await page.unroute('**/api/v1/ledger/proof/inclusion?*')
      await page.route('**/api/v1/ledger/proof/inclusion?*', async (route) => {
        const res = await route.fetch()
        await route.fulfill({ response: res, json: { ...(await res.json()), hasher: 'sm3' } })
      })
      await page.getByLabel('条目序号').fill('1')
      await page.getByTestId('ledger-lookup-submit').click()
      await page.getByTestId('ledger-cli').waitFor()
      assert.equal((await page.getByTestId('ledger-cli').textContent()).trim(), 'shuzhi ledger prove 1')
      assert.match(await verdict.textContent(), /浏览器验证仅支持 SHA-256/)
    } finally {
      await page.context().close()
    }
  })

  it('is not open to department staff', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'staff')
      await page.getByTestId('home-title').waitFor()
      assert.equal(await page.locator('[data-menu="ledger"]').count(), 0)
      await page.goto('/console/ledger')
      await page.waitForURL((u) => u.pathname === '/console')
    } finally {
      await page.context().close()
    }
  })
})

// (g) The grid worker's phone: 我的网格, a grid's people (masked until 网格走访
// is switched on), a correction on the spot that goes to the authoritative
// department and shows under 我提交的, and the offline queue: a correction made
// without network waits on the phone and is sent when the network is back.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { assertClean, launch, login, newPage, scan, shot } from './helpers.mjs'

const records = (page) => page.getByTestId('grid-records').locator('li.record')

async function openGrid(page) {
  const link = page.getByTestId('my-grids').locator('a.grid-link').first()
  const code = await link.getAttribute('data-grid')
  const people = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/people' && new URL(r.url()).searchParams.get('within') === code)
  await link.click()
  await page.waitForURL(`**/grid/g/${code}`)
  assert.equal((await people).status(), 200)
  await records(page).first().waitFor()
  return code
}

// Opens 更正 on the n-th record, types a new phone number and submits.
async function correctPhone(page, n, phone, note) {
  await records(page).nth(n).getByTestId('fix').click()
  const dlg = page.getByTestId('fix-dialog')
  await dlg.locator('[data-field=phone] input').fill(phone)
  await dlg.getByTestId('edit-note').fill(note)
  return dlg
}

describe('grid worker phone pages', () => {
  let browser
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('shows 我的网格, a grid’s people masked, and sends a correction to the authority', async () => {
    const page = await newPage(browser, { mobile: true })
    await page.setViewportSize({ width: 375, height: 812 })
    try {
      await login(page, 'gridworker')
      await page.waitForURL((u) => u.pathname === '/grid')
      await page.getByTestId('home-title').waitFor()
      const grids = page.getByTestId('my-grids').locator('a.grid-link')
      await grids.first().waitFor()
      assert.ok((await grids.count()) >= 1)
      assert.match(await grids.first().textContent(), /人口 \d+/)
      const box = await grids.first().boundingBox()
      assert.ok(box.height >= 48, `large touch target (${box.height}px)`)
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375), 'no sideways scrolling at 375 px')
      await scan(page, 'grid home')
      await shot(page, 'grid-home')

      const code = await openGrid(page)
      assert.equal(await page.getByTestId('grid-records').getAttribute('data-kind'), 'person')
      for (const id of await records(page).locator('[data-col=idNumber]').allTextContents()) assert.match(id, /\*{8}/)
      for (const n of await records(page).locator('[data-col=name]').allTextContents()) assert.match(n, /\*/)
      assert.equal(await page.getByTestId('clear-mark').count(), 0)
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375), 'no sideways scrolling at 375 px')
      await scan(page, 'grid people (masked)')
      await shot(page, 'grid-people-masked')

      // 网格走访 shows names in clear, marked; ID numbers stay masked.
      const visit = page.waitForResponse((r) => r.url().includes('/api/v1/people?') && new URL(r.url()).searchParams.get('purpose') === 'grid-visit')
      await page.getByTestId('visit-switch').click()
      assert.equal((await visit).status(), 200)
      await page.getByTestId('clear-mark').first().waitFor()
      for (const n of await records(page).locator('[data-col=name]').allTextContents()) assert.doesNotMatch(n, /\*/)
      for (const id of await records(page).locator('[data-col=idNumber]').allTextContents()) assert.match(id, /\*{8}/)

      // 更正 the first person's phone: it goes to the authority.
      const tail = String(1000 + Math.floor(Math.random() * 9000))
      const dlg = await correctPhone(page, 0, `1391234${tail}`, '走访核实的新号码')
      await shot(page, 'grid-fix-dialog')
      const posted = page.waitForResponse((r) => r.url().endsWith('/api/v1/registry/changes') && r.request().method() === 'POST')
      await dlg.getByTestId('edit-submit').click()
      const res = await posted
      assert.equal(res.status(), 200)
      const body = await res.json()
      assert.equal(body.outcomes[0].outcome, 'routed')
      const result = page.getByTestId('submit-result')
      await result.waitFor()
      assert.match(await result.textContent(), /已转权威部门核实/)
      assert.equal(await result.getAttribute('data-queued'), 'false')
      // Scan once the dialog has closed and the toast has gone (axe misreads them mid-animation).
      await dlg.waitFor({ state: 'hidden' })
      await page.locator('.el-message').waitFor({ state: 'detached', timeout: 10_000 })
      await scan(page, 'grid correction result')

      // 我提交的 lists it as 待核实.
      await page.locator('[data-tab="/grid/mine"]').click()
      await page.waitForURL('**/grid/mine')
      const mine = page.getByTestId('mine-list').locator('li')
      await mine.first().waitFor()
      const item = mine.filter({ hasText: `139****${tail}` }).first()
      await item.waitFor()
      assert.match(await item.textContent(), /联系电话/)
      assert.equal((await item.getByTestId('mine-status').textContent()).trim(), '待核实')
      assert.equal(await item.getAttribute('data-status'), 'open')
      assert.ok(code)
      await scan(page, 'grid mine')
      await shot(page, 'grid-mine')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('keeps a correction made offline in a queue and sends it when back online', async () => {
    const page = await newPage(browser, { mobile: true })
    await page.setViewportSize({ width: 375, height: 812 })
    const context = page.context()
    try {
      await login(page, 'gridworker')
      await page.getByTestId('home-title').waitFor()
      await openGrid(page)
      const before = await (await page.request.get('/api/v1/registry/changes?mine=true&pageSize=1')).json()

      const tail = String(1000 + Math.floor(Math.random() * 9000))
      const dlg = await correctPhone(page, 1, `1370000${tail}`, '离线时提交')
      await context.setOffline(true)
      await dlg.getByTestId('edit-submit').click()
      const queue = page.getByTestId('queue')
      await queue.waitFor()
      assert.equal(await queue.getAttribute('data-count'), '1')
      assert.match(await queue.textContent(), /1 条待发送/)
      assert.equal(await page.getByTestId('submit-result').getAttribute('data-queued'), 'true')
      assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('shuzhi.grid.outbox.')).map((k) => JSON.parse(localStorage.getItem(k)).length)[0]), 1)
      await shot(page, 'grid-offline-queued')

      // Back online: the `online` event sends the queue.
      const sent = page.waitForResponse((r) => r.url().endsWith('/api/v1/registry/changes') && r.request().method() === 'POST', { timeout: 40_000 })
      await context.setOffline(false)
      assert.equal((await sent).status(), 200)
      await queue.waitFor({ state: 'detached', timeout: 40_000 })
      const afterwards = await (await page.request.get('/api/v1/registry/changes?mine=true&pageSize=1')).json()
      assert.equal(afterwards.total, before.total + 1)
      assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('shuzhi.grid.outbox.')).length), 0)

      await page.locator('[data-tab="/grid/mine"]').click()
      await page.getByTestId('mine-list').locator('li').filter({ hasText: `137****${tail}` }).first().waitFor()
      await shot(page, 'grid-offline-sent')
      // Failed requests while offline are expected; nothing else.
      page.problems.console = page.problems.console.filter((t) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch|net::/.test(t))
      assertClean(page)
    } finally {
      await context.close()
    }
  })
})

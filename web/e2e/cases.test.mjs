import { execFileSync } from 'node:child_process'
// (h) 一网统管: the case loop through the UI. A grid worker reports a case on
// the phone with a photo and the GPS position; it is dispatched at once to
// 城管局; the handler marks it handled in the console; the grid worker
// verifies it on site and, as the reporter, rates it. The timeline then has
// every step. Plus the operations centre's map layer, hotline intake and
// categories pages, with axe scans throughout.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { assertClean, launch, login, newPage, scan, shot } from './helpers.mjs'

// A point in 察院场社区第1网格, the demo grid worker's grid.
const HERE = { longitude: 120.6166, latitude: 31.3209 }
const tag = String(1000 + Math.floor(Math.random() * 9000))
const description = `路边有暴露垃圾没人清理，编号${tag}`

async function phone(browser) {
  const page = await newPage(browser, { mobile: true })
  await page.setViewportSize({ width: 390, height: 844 })
  await page.context().grantPermissions(['geolocation'])
  await page.context().setGeolocation(HERE)
  return page
}

// A small real JPEG drawn by the browser.
async function jpeg(page) {
  const url = await page.evaluate(() => {
    const c = document.createElement('canvas')
    c.width = 64
    c.height = 48
    const x = c.getContext('2d')
    x.fillStyle = '#2d6a4f'
    x.fillRect(0, 0, 64, 48)
    x.fillStyle = '#ffd166'
    x.fillRect(10, 10, 30, 20)
    return c.toDataURL('image/jpeg', 0.8)
  })
  return Buffer.from(url.split(',')[1], 'base64')
}

async function noToast(page) {
  await page.locator('.el-message').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => {})
}

const actionDone = (page, action) =>
  page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(`/actions/${action}`))

describe('cases (一网统管)', () => {
  let browser
  let caseId = ''
  let caseNo = ''
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('a grid worker reports a case with a photo and the GPS position; it is dispatched at once', async () => {
    const page = await phone(browser)
    try {
      await login(page, 'gridworker')
      await page.waitForURL((u) => u.pathname === '/grid')
      await page.locator('[data-tab="/grid/report"]').click()
      await page.waitForURL('**/grid/report')
      await page.getByTestId('report-form').waitFor()
      await page.getByTestId('description').fill(description)
      // Live category suggestions from the classifier.
      await page.getByTestId('category-suggestions').locator('[data-code="E0102"]').waitFor()
      await page.getByTestId('photo-input').setInputFiles({ name: 'scene.jpg', mimeType: 'image/jpeg', buffer: await jpeg(page) })
      await page.locator('[data-testid=photo-picker][data-count="1"]').waitFor()
      await page.getByTestId('gps').click()
      await page.getByTestId('picked').waitFor()
      assert.match(await page.getByTestId('picked').textContent(), /120\.6166/)
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling at 390 px')
      await scan(page, 'grid report form')
      await shot(page, 'cases-grid-report')

      const posted = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/cases' && r.request().method() === 'POST')
      await page.getByTestId('report-submit').click()
      const res = await posted
      assert.equal(res.status(), 200)
      const body = await res.json()
      caseId = body.case.id
      caseNo = body.case.no
      assert.equal(body.case.state, 'dispatched')
      assert.equal(body.case.category, 'E0102')
      const result = page.locator('[data-testid=report-result][data-state=dispatched]')
      await result.waitFor()
      assert.match(await result.textContent(), /处置中/)
      assert.match(await result.textContent(), /城市管理局/)
      assert.equal(await result.getAttribute('data-queued'), 'false')
      await scan(page, 'grid report result')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('the handler (城管局) handles it in the console', async () => {
    assert.ok(caseNo, 'reported in the previous test')
    const page = await newPage(browser)
    try {
      await login(page, 'handler')
      await page.getByTestId('home-title').waitFor()
      // The dispatch notice is on the bell.
      const bell = page.getByTestId('notices-bell')
      await bell.waitFor()
      await page.locator('[data-menu=cases]').click()
      await page.waitForURL('**/console/cases')
      await page.getByTestId('filter-q').fill(caseNo)
      await page.getByTestId('search').click()
      const link = page.getByTestId('case-link').filter({ hasText: caseNo })
      await link.waitFor()
      await scan(page, 'console case list')
      await shot(page, 'cases-console-list')
      await link.click()
      const detail = page.locator(`[data-testid=case-detail][data-no="${caseNo}"]`)
      await detail.waitFor()
      assert.equal((await detail.getByTestId('case-state').textContent()).trim(), '处置中')
      assert.match(await detail.getByTestId('case-confidence').textContent(), /\d+%/)
      await detail.getByTestId('case-photos').locator('img').first().waitFor()
      assert.ok(await detail.getByTestId('case-timeline').locator('[data-action=dispatch]').count(), 'the timeline shows the dispatch')
      await scan(page, 'console case detail')
      await shot(page, 'cases-console-detail')

      await detail.getByTestId('case-actions').locator('[data-action=handle]').click()
      const dlg = page.locator('[data-testid=action-dialog][data-action=handle]')
      await dlg.waitFor()
      // The note is required: an empty submit is refused on the form.
      await dlg.getByTestId('action-submit').click()
      await dlg.getByText('请填写说明').waitFor()
      await dlg.getByTestId('action-note').fill('已安排保洁人员清运完毕')
      await dlg.getByTestId('photo-input').setInputFiles({ name: 'after.jpg', mimeType: 'image/jpeg', buffer: await jpeg(page) })
      await dlg.locator('[data-testid=photo-picker][data-count="1"]').waitFor()
      await scan(page, 'console handle dialog')
      const done = actionDone(page, 'handle')
      await dlg.getByTestId('action-submit').click()
      assert.equal((await done).status(), 200)
      await page.locator(`[data-testid=case-detail][data-state=handled]`).waitFor()
      assert.equal((await detail.getByTestId('case-state').textContent()).trim(), '待核查')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('the grid worker verifies it on site and rates it as the reporter', async () => {
    assert.ok(caseNo)
    const page = await phone(browser)
    try {
      await login(page, 'gridworker')
      await page.waitForURL((u) => u.pathname === '/grid')
      await page.locator('[data-tab="/grid/cases"]').click()
      await page.waitForURL('**/grid/cases**')
      const item = page.locator(`[data-testid=grid-cases] li[data-no="${caseNo}"]`)
      await item.waitFor()
      assert.equal(await item.getAttribute('data-state'), 'handled')
      await scan(page, 'grid verify list')
      await shot(page, 'cases-grid-verify')
      await item.locator('[data-action=verify-pass]').click()
      const dlg = page.locator('[data-testid=action-dialog][data-action=verify-pass]')
      await dlg.waitFor()
      await dlg.getByTestId('action-note').fill('现场已清理干净')
      await dlg.getByTestId('photo-input').setInputFiles({ name: 'check.jpg', mimeType: 'image/jpeg', buffer: await jpeg(page) })
      await dlg.locator('[data-testid=photo-picker][data-count="1"]').waitFor()
      const verified = actionDone(page, 'verify-pass')
      await dlg.getByTestId('action-submit').click()
      assert.equal((await verified).status(), 200)
      await item.waitFor({ state: 'detached' })

      // 我上报的: closed, to rate.
      await page.getByTestId('cases-tab').locator('[data-tab-key=mine]').click()
      const mine = page.locator(`[data-testid=grid-cases] li[data-no="${caseNo}"][data-state=closed]`)
      await mine.waitFor()
      await mine.locator('[data-action=rate]').click()
      const rate = page.locator('[data-testid=action-dialog][data-action=rate]')
      await rate.waitFor()
      await rate.getByTestId('action-submit').click()
      await rate.getByText('请选择评价').waitFor()
      await rate.locator('[data-rating=satisfied]').click()
      await rate.getByTestId('action-note').fill('处理及时')
      await noToast(page)
      await scan(page, 'grid rate dialog')
      const rated = actionDone(page, 'rate')
      await rate.getByTestId('action-submit').click()
      assert.equal((await rated).status(), 200)
      await rate.waitFor({ state: 'hidden' })
      await mine.locator('[data-action=rate]').waitFor({ state: 'detached' })
      assert.match(await mine.textContent(), /已评价：满意/)
      await noToast(page)
      await scan(page, 'grid my cases')
      await shot(page, 'cases-grid-mine')

      // The timeline has every step of the loop.
      const res = await page.request.get(`/api/v1/cases/${caseId}`)
      assert.equal(res.status(), 200)
      const d = await res.json()
      const actions = d.events.map((e) => e.action)
      for (const a of ['report', 'dispatch', 'handle', 'verify-pass', 'rate']) assert.ok(actions.includes(a), `events have ${a}: ${actions.join(', ')}`)
      assert.equal(d.state, 'closed')
      assert.equal(d.rating, 'satisfied')
      assert.deepEqual(d.photos.map((p) => p.stage).sort(), ['handle', 'report', 'verify'])

      // Every step is on the ledger, and the whole ledger verifies.
      const want = d.events.map((e) => 'case.' + e.action).sort()
      let got = []
      for (let tries = 0; tries < 150; tries++) {
        const st = await (await page.request.get('/api/v1/ledger')).json()
        got = []
        for (let i = st.size - 1; i >= 0 && i >= st.size - 400; i--) {
          const en = await (await page.request.get(`/api/v1/ledger/entries/${i}`)).json()
          if (en.data && en.data.subject === `case:${d.no}`) got.push(en.data.action)
        }
        if (got.length >= want.length) break
        await new Promise((r) => setTimeout(r, 200))
      }
      assert.deepEqual(got.sort(), want, 'the ledger holds every step of the case')
      if (process.env.SHUZHI_BIN && process.env.SHUZHI_DATA) {
        const out = execFileSync(process.env.SHUZHI_BIN, ['ledger', 'verify', '--data-dir', process.env.SHUZHI_DATA], { encoding: 'utf8' })
        assert.match(out, /OK/, out)
      }
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('a citizen without GPS finds the place by its address on the portal and reports', async () => {
    const page = await newPage(browser, { mobile: true })
    try {
      await page.setViewportSize({ width: 390, height: 844 })
      await login(page, 'citizen')
      await page.getByTestId('home-title').waitFor()
      await page.goto('/portal/report')
      await page.getByTestId('portal-form').waitFor()
      await page.locator('#pr-desc').fill(`路口的交通标志牌被撞歪了，编号${tag}`)
      const box = page.locator('input[data-testid=address], [data-testid=address] input').first()
      await box.fill('平江')
      const found = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/cases/places')
      await page.getByTestId('address-search').click()
      assert.equal((await found).status(), 200)
      await page.getByTestId('address-hits').locator('button').first().click()
      const sent = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/cases' && r.request().method() === 'POST')
      await page.getByTestId('portal-submit').click()
      const res = await sent
      assert.equal(res.status(), 200, await res.text())
      const body = await res.json()
      assert.equal(body.case.channel, 'portal')
      assert.ok(body.case.lon > 0 && body.case.grid, 'placed in a grid')
      await page.getByTestId('portal-result').waitFor()
      await scan(page, 'portal report result')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('the operations centre sees the case on the map, and has the hotline and categories pages', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'supervisor')
      await page.getByTestId('home-title').waitFor()
      // An open case (the one above is closed; the layer shows open cases first).
      const csrf = (await page.context().cookies()).find((c) => c.name === 'shuzhi_csrf')?.value
      const open = await page.request.post('/api/v1/cases', {
        headers: { 'X-CSRF-Token': csrf ?? '' },
        data: { channel: 'hotline', description: `店外占道经营摆摊，编号${tag}`, lon: HERE.longitude + 0.001, lat: HERE.latitude, reporterName: '李四', reporterPhone: '13912345678' },
      })
      assert.equal(open.status(), 200)
      await page.locator('[data-menu=map]').click()
      await page.waitForURL('**/console/map**')
      const panel = page.getByTestId('cases-panel')
      await panel.waitFor()
      const count = page.getByTestId('cases-count')
      await count.waitFor()
      await page.waitForFunction(() => Number(document.querySelector('[data-testid=cases-count]')?.getAttribute('data-count') ?? 0) >= 1, null, { timeout: 15_000 })
      await page.getByTestId('cases-heat').click()
      await scan(page, 'map with cases layer')
      await shot(page, 'cases-map')

      await page.locator('[data-menu=hotline]').click()
      await page.waitForURL('**/console/cases/hotline')
      await page.getByTestId('hotline-form').waitFor()
      await scan(page, 'hotline intake')
      await shot(page, 'cases-hotline')

      await page.locator('[data-menu=caseCategories]').click()
      await page.waitForURL('**/console/cases/categories')
      await page.getByTestId('categories-table').locator('tbody tr').first().waitFor()
      await scan(page, 'case categories')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })
})

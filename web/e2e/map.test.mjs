// 一张图: the leader sees the district's 8 streets drawn, drills into 平江街道,
// a community and its unit grids, goes back up with the breadcrumb, searches
// a community by name and lands on it, and clicks the map to geocode a point.
// Department staff (平江街道 scope) see only their street. Boundaries come from
// /ogc/collections/*/items, the location from /api/v1/geocode.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { launch, login, newPage, scan, shot } from './helpers.mjs'

const PINGJIANG = '320508018000'

// Waits until the map shows the children of `code` (data-map) and returns
// how many regions it drew.
async function mapShows(page, code, timeout = 15_000) {
  const canvas = page.getByTestId('map-canvas')
  const drawn = (want) => {
    const el = document.querySelector('[data-testid=map-canvas]')
    const wrap = document.querySelector('[data-testid=map-wrap]')
    return el?.getAttribute('data-map') === `sz-${want}` && Number(el.getAttribute('data-regions')) > 0 && wrap?.getAttribute('aria-busy') === 'false'
  }
  try {
    await page.waitForFunction(drawn, code, { timeout })
  } catch {
    const list = (await page.getByTestId('map-regions').textContent()).replace(/\s+/g, ' ').slice(0, 160)
    assert.fail(
      `the map does not draw the children of ${code} (boundaries from /ogc/collections/*/items?): ` +
        `data-map=${await canvas.getAttribute('data-map')} data-regions=${await canvas.getAttribute('data-regions')}; list: ${list}`,
    )
  }
  return Number(await canvas.getAttribute('data-regions'))
}

async function crumbs(page) {
  return page
    .getByTestId('map-breadcrumb')
    .locator('li')
    .evaluateAll((lis) => lis.map((li) => ({ level: li.dataset.level, code: li.dataset.code, text: li.textContent.replace(/\s+/g, ' ').trim() })))
}

async function waitCrumbs(page, n) {
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=map-breadcrumb] li').length === k, n)
  return crumbs(page)
}

// The location panel once the geocode has answered: level → { name, code }.
async function location(page) {
  const panel = page.getByTestId('map-location')
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid=map-location]')?.getAttribute('data-state')
    return s && s !== 'idle' && s !== 'loading'
  })
  assert.equal(await panel.getAttribute('data-state'), 'ok', await panel.textContent())
  return panel.locator('dl > div').evaluateAll((rows) =>
    Object.fromEntries(
      rows.map((r) => [r.dataset.level, { name: r.querySelector('dd button')?.textContent.trim() ?? '', code: r.querySelector('.code')?.textContent.trim() ?? '' }]),
    ),
  )
}

// Console errors other than 40x of requests the page handles on purpose
// (a component collection not yet served is "no components").
function assertNoErrors(page) {
  const errors = page.problems.console.filter((t) => !/status of 40[134]/.test(t))
  assert.deepEqual(errors, [], `console errors on ${page.url()}`)
  assert.deepEqual(page.problems.offsite, [], 'requests to other hosts (the map must work offline: no tiles, no CDNs)')
}

describe('一张图 map page', () => {
  let browser
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('leader: 8 streets, drill-down to grids, breadcrumb, search, click to geocode', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'leader')
      await page.getByTestId('home-title').waitFor()
      await page.getByTestId('side-menu').getByText('一张图').click()
      await page.waitForURL((u) => u.pathname === '/console/map')
      await page.getByRole('heading', { name: '一张图', level: 1 }).waitFor()

      // The district: its 8 streets drawn and listed.
      const root = await waitCrumbs(page, 1)
      assert.equal(root.length, 1)
      assert.equal(root[0].level, 'district')
      const districtCode = root[0].code
      assert.equal(districtCode, '320508000000')
      assert.equal(await mapShows(page, districtCode), 8, 'the 8 streets of 姑苏区 are drawn')
      const streets = page.getByTestId('map-regions').locator('button[data-code]')
      assert.equal(await streets.count(), 8)
      assert.match(await page.getByTestId('map-breadcrumb').textContent(), /姑苏区/)
      await shot(page, 'map-district')
      await scan(page, 'map district')

      // The cases layer (on for readers of cases) would take clicks that
      // land on a case's point; this test is about the regions.
      const casesToggle = page.getByTestId('cases-toggle')
      if (await casesToggle.count()) {
        await casesToggle.click()
        await page.locator('[data-testid=cases-toggle]:not(.is-checked)').waitFor()
      }

      // Into 平江街道 from the list (the keyboard way).
      await page.getByTestId('map-regions').locator(`button[data-code="${PINGJIANG}"]`).click()
      const communities = await mapShows(page, PINGJIANG)
      assert.ok(communities > 1, `平江街道 has communities on the map (${communities})`)
      let cs = await waitCrumbs(page, 2)
      assert.deepEqual(
        cs.map((c) => c.level),
        ['district', 'street'],
      )
      assert.match(cs[1].text, /平江街道/)
      assert.equal(new URL(page.url()).searchParams.get('code'), PINGJIANG)

      // Click the middle of the map: a community opens and the point is geocoded.
      await page.getByTestId('map-canvas').click()
      cs = await waitCrumbs(page, 3)
      const community = cs[2]
      assert.equal(community.level, 'community')
      assert.ok(community.code.startsWith('320508018'), community.code)
      const grids = await mapShows(page, community.code)
      assert.ok(grids >= 1, `the community's unit grids are drawn (${grids})`)
      const loc = await location(page)
      assert.equal(loc.street.name, '平江街道')
      assert.equal(loc.street.code, PINGJIANG)
      assert.equal(loc.community.code, community.code)
      assert.equal(loc.district.code, districtCode)
      assert.match(loc.grid.code, /^\d{15}$/)
      assert.match(await page.getByTestId('map-location-lonlat').textContent(), /^120\.\d+, 31\.\d+$/)
      await shot(page, 'map-community')

      // Click again: the grid under the middle is selected and highlighted.
      await page.getByTestId('map-canvas').click()
      cs = await waitCrumbs(page, 4)
      assert.deepEqual(
        cs.map((c) => c.level),
        ['district', 'street', 'community', 'grid'],
      )
      const grid = cs[3].code
      assert.match(grid, /^\d{15}$/)
      assert.ok(grid.startsWith(community.code))
      assert.equal(await page.getByTestId('map-canvas').getAttribute('data-highlight'), grid)
      assert.equal((await location(page)).grid.code, grid)

      // Components of the grid from the OGC collection (the demo district
      // has about fourteen per grid).
      const summary = page.getByTestId('map-components-summary')
      await page.waitForFunction(() => document.querySelector('[data-testid=map-components-summary]')?.getAttribute('data-loading') === 'false')
      const compText = await summary.textContent()
      assert.match(compText, /共 [1-9]\d* 个部件/, compText)

      // Back up to the street with the breadcrumb.
      await page.getByTestId('map-breadcrumb').locator('li[data-level=street] button').click()
      await mapShows(page, PINGJIANG)
      assert.equal((await waitCrumbs(page, 2))[1].code, PINGJIANG)

      // Search a community of another street by name and land on it.
      const input = page.getByTestId('map-search-input')
      await input.fill('石幢社区')
      await input.press('Enter')
      const hit = page.getByTestId('map-search-results').locator('button[data-kind=division]').filter({ hasText: '石幢社区' }).first()
      await hit.waitFor()
      const target = await hit.getAttribute('data-code')
      assert.match(target, /^320508\d{6}$/)
      await hit.click()
      await mapShows(page, target)
      cs = await waitCrumbs(page, 3)
      assert.equal(cs[2].code, target)
      assert.match(cs[2].text, /石幢社区/)
      assert.equal(cs[1].code, target.slice(0, 9) + '000')
      assert.equal(new URL(page.url()).searchParams.get('code'), target)
      await shot(page, 'map-search')
      await scan(page, 'map community')

      // English.
      await page.getByTestId('lang-switch').getByText('English').click()
      await page.getByRole('heading', { name: 'City map', level: 1 }).waitFor()
      assert.match(await page.getByTestId('map-breadcrumb').textContent(), /Community/)
      assertNoErrors(page)
    } finally {
      await page.context().close()
    }
  })

  it('department staff (平江街道) see only their street', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'staff')
      await page.getByTestId('home-title').waitFor()
      await page.locator('[data-menu="map"]').click()
      await page.waitForURL((u) => u.pathname === '/console/map')
      const root = await waitCrumbs(page, 1)
      assert.equal(await mapShows(page, root[0].code), 1, 'one street drawn')
      const streets = page.getByTestId('map-regions').locator('button[data-code]')
      assert.equal(await streets.count(), 1)
      assert.equal(await streets.first().getAttribute('data-code'), PINGJIANG)
      await shot(page, 'map-staff')
      assertNoErrors(page)
    } finally {
      await page.context().close()
    }
  })

  it('is not in the menu of the auditor', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'auditor')
      await page.getByTestId('home-title').waitFor()
      assert.equal(await page.locator('[data-menu="map"]').count(), 0)
      await page.goto('/console/map')
      await page.waitForURL((u) => u.pathname === '/console')
    } finally {
      await page.context().close()
    }
  })
})

// The working-day calendar (工作日历): sys_admin opens 2026, sees the Spring
// Festival and National Day with their make-up working days, is told by the
// server next to the day that a make-up working day must be a weekend day,
// and computes a 10-working-day deadline across National Day; department
// staff have no calendar page but may ask the API for deadlines.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { assertClean, launch, login, newPage, scan, shot } from './helpers.mjs'

const menuKeys = (page) => page.locator('[data-testid=side-menu] [data-menu]').evaluateAll((els) => els.map((e) => e.dataset.menu))
// The text box of an Element Plus field: some put data-testid on the <input>
// itself, others on a wrapper around it.
const field = (page, id) => page.locator(`input[data-testid=${id}], [data-testid=${id}] input`).first()
const cell = (page, date) => page.locator(`[data-testid=months] [data-date="${date}"]`)

// Switches the page to a year and waits for its reply.
async function openYear(page, year) {
  const reply = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/calendar/${year}` && r.request().method() === 'GET')
  const input = field(page, 'year')
  await input.fill(String(year))
  await input.press('Enter')
  const res = await reply
  assert.equal(res.status(), 200)
  return res.json()
}

describe('working-day calendar', () => {
  let browser
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('sys_admin reads 2026, is refused a weekday make-up day, and computes a deadline', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'sysadmin')
      await page.getByTestId('home-title').waitFor()
      assert.ok((await menuKeys(page)).includes('calendar'), 'the menu has the calendar')
      await page.locator('[data-menu=calendar]').click()
      await page.waitForURL('**/console/calendar')
      await page.getByRole('heading', { name: '工作日历', level: 1 }).waitFor()

      // The page opens on the current year; switch away and back so that
      // the test waits for a reply it caused, whatever today's date.
      await openYear(page, 2025)
      const y = await openYear(page, 2026)
      assert.equal(y.known, true)
      assert.equal(y.workDays, 248)
      assert.match(await field(page, 'notice').inputValue(), /2026年部分节假日安排/)
      // Spring Festival: Sat 14 Feb and Sat 28 Feb work, 15-23 Feb off.
      assert.equal(await cell(page, '2026-02-14').getAttribute('data-kind'), 'workday')
      assert.equal(await cell(page, '2026-02-16').getAttribute('data-kind'), 'holiday')
      assert.equal(await cell(page, '2026-02-28').getAttribute('data-kind'), 'workday')
      assert.equal(await cell(page, '2026-03-07').getAttribute('data-kind'), 'weekend')
      // National Day: 1-7 Oct off, Sat 10 Oct works.
      assert.equal(await cell(page, '2026-10-01').getAttribute('data-kind'), 'holiday')
      assert.equal(await cell(page, '2026-10-10').getAttribute('data-kind'), 'workday')
      // Holidays red, make-up days blue.
      const colour = (date) => cell(page, date).evaluate((e) => getComputedStyle(e).color)
      assert.equal(await colour('2026-02-16'), 'rgb(168, 7, 26)')
      assert.equal(await colour('2026-02-14'), 'rgb(29, 78, 216)')
      await shot(page, 'calendar-2026')
      await scan(page, 'calendar')

      // Wednesday 4 March as a make-up working day: the server refuses it,
      // in Chinese, next to that day.
      await cell(page, '2026-03-04').click()
      await page.getByTestId('day-kind').getByText('调休上班').click()
      await field(page, 'day-name').fill('测试调休')
      await page.getByTestId('day-ok').click()
      await page.getByTestId('dirty').waitFor()
      const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/calendar/2026') && r.request().method() === 'PUT')
      await page.getByTestId('save').click()
      assert.equal((await refused).status(), 422)
      // The browser logs the refused request; that one is expected.
      page.problems.console = page.problems.console.filter((t) => !/status of 422/.test(t))
      const err = page.locator('[data-error-date="2026-03-04"]')
      await err.waitFor()
      assert.match(await err.textContent(), /星期六或星期日/)
      await shot(page, 'calendar-refused')

      // Removing it again and saving stores the notice as it was.
      await page.getByRole('button', { name: '删除 2026-03-04' }).click()
      const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/calendar/2026') && r.request().method() === 'PUT')
      await page.getByTestId('save').click()
      const ok = await saved
      assert.equal(ok.status(), 200)
      assert.equal((await ok.json()).days.length, 39)
      await page.getByTestId('dirty').waitFor({ state: 'hidden' })

      // 10 working days from Wed 30 Sep 2026: 8, 9, 10 (Sat), 12-16, 19, 20 Oct.
      const from = page.locator('input#calc-from')
      await from.fill('2026-09-30 15:00')
      await from.press('Enter')
      await page.locator('input#calc-n, #calc-n input').first().fill('10')
      const computed = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/calendar/deadline')
      await page.getByTestId('calc-submit').click()
      assert.equal((await computed).status(), 200)
      await page.getByTestId('calc-result').waitFor()
      assert.match(await page.getByTestId('calc-result').textContent(), /^2026-10-20 17:30/)
      // The refused save's console line can arrive after the filter above.
      page.problems.console = page.problems.console.filter((t) => !/status of 422/.test(t))
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('staff have no calendar page but get deadlines from the API', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'staff')
      await page.getByTestId('home-title').waitFor()
      assert.ok(!(await menuKeys(page)).includes('calendar'))
      await page.goto('/console/calendar')
      await page.waitForURL((u) => !u.pathname.endsWith('/calendar'))

      const q = new URLSearchParams({ from: '2026-02-12T10:00:00+08:00', n: '10', unit: 'work_days' })
      const res = await page.request.get(`/api/v1/calendar/deadline?${q}`)
      assert.equal(res.status(), 200)
      const body = await res.json()
      assert.equal(body.deadline, '2026-03-04T17:30:00+08:00')
      assert.equal(body.known, true)
      const put = await page.request.put('/api/v1/calendar/2026', { data: { notice: 'x', days: [] } })
      assert.ok([403, 401].includes(put.status()), `staff PUT: ${put.status()}`)
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })
})

// (f) 基础数据: department staff read people masked, state a purpose to see
// names in clear, change a name (routed to 公安, the authority for identity
// fields), which the police then accept; and a bulk import that is checked
// first (the bad row with its number and reason) and then writes its good rows.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { assertClean, launch, login, newPage, scan, shot } from './helpers.mjs'

const table = (page) => page.getByTestId('table')

// Waits for the GET of an API path (optionally with a query parameter) that an action triggers.
async function reply(page, path, action, param) {
  const wait = page.waitForResponse((r) => {
    const u = new URL(r.url())
    return u.pathname === `/api/v1${path}` && r.request().method() === 'GET' && (!param || u.searchParams.get(param[0]) === param[1])
  })
  await action()
  const res = await wait
  assert.equal(res.status(), 200, `${path}: ${res.status()}`)
  await table(page).locator('.el-loading-mask').waitFor({ state: 'hidden' }).catch(() => {})
  return res.json()
}

async function pick(page, testId, label) {
  await page.getByTestId(testId).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: label }).first().click()
}

// A valid GB 11643 ID number nobody in the demo has (random birth date and sequence).
function idNumber(seed) {
  const d = new Date(Date.UTC(1960, 0, 1) + Math.floor(seed * 15000) * 86400_000)
  const birth = d.toISOString().slice(0, 10).replaceAll('-', '')
  const seq = String(100 + Math.floor(Math.random() * 899))
  // 321283 (泰兴): no demo person is registered there, so no number collides.
  const body = `321283${birth}${seq}`
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = [...body].reduce((s, c, i) => s + Number(c) * w[i], 0)
  return body + '10X98765432'[sum % 11]
}

describe('base data (基础数据)', () => {
  let browser
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('staff sees people masked, states a purpose, changes a name that police accept', async () => {
    const staff = await newPage(browser)
    const newName = `测试${'甲乙丙丁戊己庚辛'[Math.floor(Math.random() * 8)]}${'子丑寅卯辰巳'[Math.floor(Math.random() * 6)]}`
    let personId
    try {
      await login(staff, 'staff')
      await staff.getByTestId('home-title').waitFor()
      const first = await reply(staff, '/people', () => staff.locator('[data-menu=people]').click())
      await staff.waitForURL('**/console/registry/people')
      await staff.getByRole('heading', { name: '人口', level: 1 }).waitFor()
      assert.ok(first.total > 0, 'the demo has people in 平江街道')

      // Masked by default: ID numbers and names, no clear marker, no purpose sent.
      const ids = await table(staff).locator('[data-col=idNumber]').allTextContents()
      assert.equal(ids.length, Math.min(first.total, 20))
      for (const id of ids) assert.match(id, /\*{8}/)
      for (const n of await table(staff).locator('[data-col=name]').allTextContents()) assert.match(n, /\*/)
      assert.equal(await table(staff).getByTestId('clear-mark').count(), 0)
      assert.match(await staff.getByTestId('purpose-hint').textContent(), /脱敏/)
      await scan(staff, 'registry people (masked)')
      await shot(staff, 'registry-people-masked')

      // 查看用途: 登记核验 shows names and ID numbers in clear, with a marker and the legal basis.
      const clear = await reply(staff, '/people', () => pick(staff, 'purpose-select', '登记核验'), ['purpose', 'registration'])
      assert.ok(clear.items[0].clearFields.includes('name'))
      const names = await table(staff).locator('[data-col=name]').allTextContents()
      assert.ok(names.length > 0)
      for (const n of names) assert.doesNotMatch(n, /\*/, `name in clear: ${n}`)
      assert.ok((await table(staff).getByTestId('clear-mark').count()) >= names.length)
      assert.match(await staff.getByTestId('purpose-hint').textContent(), /法律依据/)
      await shot(staff, 'registry-people-clear')

      // Change the first person's name: 姓名 belongs to 公安, so it is routed.
      personId = clear.items[0].id
      await staff.getByTestId('open-record').first().click()
      const drawer = staff.locator('.el-drawer').filter({ has: staff.getByTestId('record-fields') })
      await drawer.getByTestId('record-fields').waitFor()
      assert.match(await drawer.locator('[data-source=name]').textContent(), /来源：公安/)
      await drawer.getByRole('tab', { name: '修改', exact: true }).click()
      const nameInput = drawer.locator('[data-field=name] input')
      assert.equal(await nameInput.inputValue(), clear.items[0].name, 'the clear name is the starting value')
      await nameInput.fill(newName)
      await drawer.getByTestId('edit-note').fill('e2e：姓名登记有误')
      const patched = staff.waitForResponse((r) => r.url().includes(`/api/v1/people/${personId}`) && r.request().method() === 'PATCH')
      await drawer.getByTestId('edit-submit').click()
      assert.equal((await patched).status(), 200)
      const outcomes = drawer.getByTestId('outcomes')
      await outcomes.waitFor()
      assert.equal(await outcomes.locator('[data-field=name]').getAttribute('data-outcome'), 'routed')
      assert.match(await outcomes.textContent(), /已转权威部门核实（公安）/)
      await scan(staff, 'registry person drawer')
      await shot(staff, 'registry-person-routed')
      assertClean(staff)
    } finally {
      await staff.context().close()
    }

    // The police (平江派出所, 公安) find it under 待核实变更 → 待我处理 and accept it.
    const police = await newPage(browser)
    try {
      await login(police, 'police')
      await police.getByTestId('home-title').waitFor()
      const inbox = await reply(police, '/registry/changes', () => police.locator('[data-menu=registryChanges]').click(), ['forMe', 'true'])
      await police.waitForURL('**/console/registry/changes')
      const change = inbox.items.find((c) => c.recordId === personId && c.field === 'name' && c.status === 'open')
      assert.ok(change, 'the routed name change is in the police inbox')
      assert.equal(change.authorityDept, 'ga')
      assert.equal(await police.locator('[data-scope=forMe].is-active').count(), 1, '待我处理 is the default')
      const row = table(police).locator('tbody tr').nth(inbox.items.indexOf(change))
      assert.match(await row.textContent(), /姓名/)
      assert.match(await row.textContent(), /街道办事处/)
      await scan(police, 'registry changes')
      await shot(police, 'registry-changes')

      await row.getByTestId('accept').click()
      const dlg = police.getByTestId('decision-dialog')
      await dlg.getByTestId('decision-note').fill('经核对户籍登记，予以采纳')
      const decided = police.waitForResponse((r) => r.url().includes(`/registry/changes/${change.id}/decision`))
      await dlg.getByTestId('decision-submit').click()
      const res = await decided
      assert.equal(res.status(), 200)
      assert.equal((await res.json()).status, 'accepted')

      // It leaves the open list; under 已采纳 it shows as accepted.
      const accepted = await reply(police, '/registry/changes', () => pick(police, 'filter-status', '已采纳'), ['status', 'accepted'])
      const i = accepted.items.findIndex((c) => c.id === change.id)
      assert.ok(i >= 0)
      assert.equal((await table(police).locator('tbody tr').nth(i).getByTestId('change-status').textContent()).trim(), '已采纳')

      // The name is now the new one (read with a purpose the police may state).
      const person = await police.request.get(`/api/v1/people/${personId}?purpose=registration`)
      assert.equal((await person.json()).name, newName)
      assertClean(police)
    } finally {
      await police.context().close()
    }
  })

  it('staff imports people: a dry run lists the bad row, then only the good rows are written', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'staff')
      await page.getByTestId('home-title').waitFor()
      await page.locator('[data-menu=registryImports]').click()
      await page.waitForURL('**/console/registry/imports')
      await page.getByRole('heading', { name: '批量导入', level: 1 }).waitFor()
      await page.getByTestId('import-columns').getByText('身份证号').waitFor()

      const csv = [
        '身份证号,姓名,户籍人口,实有人口,户号,与户主关系,地址,网格编码,联系电话,标签',
        `${idNumber(Math.random())},导入甲,true,true,,,,320508018014001,13800000001,`,
        '12345,导入乙,true,true,,,,320508018014001,,',
        `${idNumber(Math.random())},导入丙,false,true,,,,320508018014001,,elderly-alone`,
      ].join('\n')
      await page.getByTestId('import-file').setInputFiles({ name: 'people-e2e.csv', mimeType: 'text/csv', buffer: Buffer.from('\ufeff' + csv, 'utf8') })
      await page.getByTestId('import-file-name').waitFor()
      await page.getByTestId('import-dry-run').click()

      const job = page.getByTestId('import-job')
      await page.locator('[data-testid=import-job][data-mode=dry-run][data-status=done]').waitFor()
      assert.equal((await job.locator('[data-count=total]').textContent()).trim(), '3')
      assert.equal((await job.locator('[data-count=good]').textContent()).trim(), '2')
      assert.equal((await job.locator('[data-count=bad]').textContent()).trim(), '1')
      const bad = page.getByTestId('import-errors').locator('tbody tr')
      assert.equal(await bad.count(), 1)
      const cells = (await bad.first().locator('td').allTextContents()).map((s) => s.trim())
      assert.equal(cells[0], '3', 'row number (the header is row 1)')
      assert.equal(cells[1], '身份证号')
      assert.match(cells[2], /公民身份号码/)
      assert.ok(await page.getByTestId('import-all').isDisabled(), '全部无误才写入 is not offered for a file with a bad row')
      await scan(page, 'registry import (dry run)')
      await shot(page, 'registry-import-dry-run')

      await page.getByTestId('import-good').click()
      await page.locator('.el-message-box').getByRole('button', { name: '确定' }).click()
      await page.locator('[data-testid=import-job][data-mode=good-rows]').waitFor()
      await page.locator('[data-testid=import-job][data-mode=good-rows][data-status=done]').waitFor()
      assert.equal(await page.getByTestId('import-progress').getAttribute('data-percent'), '100')
      assert.equal((await page.getByTestId('import-phase').textContent()).trim(), '已完成')
      assert.equal((await job.locator('[data-count=written]').textContent()).trim(), '2')
      await page.getByTestId('import-recent').getByText('people-e2e.csv').first().waitFor()
      await shot(page, 'registry-import-done')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('gives leaders the base data read-only: no imports, no editing, no decisions', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'leader')
      await page.getByTestId('home-title').waitFor()
      for (const k of ['people', 'entities', 'buildings', 'components', 'registryChanges']) assert.equal(await page.locator(`[data-menu=${k}]`).count(), 1, k)
      for (const k of ['registryImports', 'gridWorkers']) assert.equal(await page.locator(`[data-menu=${k}]`).count(), 0, k)
      await reply(page, '/components', () => page.locator('[data-menu=components]').click())
      assert.equal(await page.getByTestId('add').count(), 0)
      await scan(page, 'registry components (leader)')
      await page.goto('/console/registry/imports')
      await page.waitForURL((u) => u.pathname === '/console')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })
})

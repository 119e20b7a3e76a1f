// 共享交换 through the UI: 民政局 staff find 户籍人口信息 in the catalog and
// ask for three items for a subsidy review (conditional: 待审批); the head of
// 公安局 approves two of them; 民政局 queries a person by ID number and gets
// exactly those two, the name masked; the person (王小明) sees the use in
// the portal's 数据使用记录 and the browser verifies its proof on the ledger.
// axe scans throughout.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { assertClean, launch, login, newPage, scan, shot } from './helpers.mjs'

const RESOURCE = 'GA-HJRK-001'
const ID_NUMBER = '320508198806152310'
const PURPOSE = '最低生活保障家庭经济状况核对'
const BASIS = '《社会救助暂行办法》第十一条'

// Element Plus puts an el-input's attributes on its <input>.
const field = (scope, id) => scope.locator(`input[data-testid=${id}], [data-testid=${id}] input`).first()
const isApi = (r, method, path) => r.request().method() === method && new URL(r.url()).pathname === path

describe('data exchange (共享交换)', () => {
  let browser
  let requestId = ''
  let grantId = ''
  let accessId = ''
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('民政局 staff find 户籍人口信息 in the catalog and ask for three items: 待审批', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'mzstaff')
      await page.getByTestId('home-title').waitFor()
      const group = page.locator('[data-menu-group="exchange.nav.group"]')
      await group.waitFor()
      await page.locator('[data-menu=exCatalog]').click()
      await page.waitForURL((u) => u.pathname === '/console/exchange/catalog')
      await page.getByRole('heading', { name: '资源目录', level: 1 }).waitFor()
      await page.getByTestId('catalog-table').locator('tbody tr').first().waitFor()
      await scan(page, 'exchange catalog')

      await field(page, 'catalog-q').fill('户籍人口')
      const searched = page.waitForResponse((r) => isApi(r, 'GET', '/api/v1/exchange/resources') && new URL(r.url()).searchParams.get('q') === '户籍人口')
      await page.getByTestId('search').click()
      assert.equal((await searched).status(), 200)
      const link = page.locator(`[data-testid=resource-link][data-code="${RESOURCE}"]`)
      await link.waitFor()
      assert.equal((await link.textContent()).trim(), '户籍人口信息')
      await shot(page, 'exchange-catalog')
      await link.click()

      const detail = page.locator(`[data-testid=resource-detail][data-code="${RESOURCE}"]`)
      await detail.waitFor()
      assert.equal((await detail.getByTestId('resource-sharing').textContent()).trim(), '有条件共享')
      assert.match(await detail.textContent(), /姑苏区公安局/)
      const items = detail.getByTestId('resource-items')
      for (const name of ['idNumber', 'name', 'sex', 'birthYear', 'householdNumber', 'relation', 'address', 'phone', 'status']) {
        await items.locator('code', { hasText: new RegExp(`^${name}$`) }).waitFor()
      }
      // The key item is marked, and 民政局 does not manage 公安's resource.
      assert.equal(await detail.getByTestId('resource-edit').count(), 0)
      await detail.getByTestId('resource-quality-state').or(detail.getByTestId('quality-run')).first().waitFor()
      await scan(page, 'exchange resource drawer')
      await shot(page, 'exchange-resource')

      await detail.getByTestId('resource-request').click()
      const dlg = page.getByTestId('request-dialog')
      await dlg.waitFor()
      // Nothing chosen: refused on the form, in Chinese.
      await dlg.getByTestId('request-submit').click()
      await dlg.getByText('请至少选择一个数据项').waitFor()
      for (const f of ['name', 'householdNumber', 'address']) await dlg.locator(`[data-testid=request-fields] [data-field="${f}"]`).click()
      // Personal items among those chosen may be asked in clear.
      await dlg.locator('[data-testid=request-clear] [data-field="address"]').waitFor()
      await field(dlg, 'request-purpose').fill(PURPOSE)
      await field(dlg, 'request-basis').fill(BASIS)
      await scan(page, 'exchange request form')
      const posted = page.waitForResponse((r) => isApi(r, 'POST', '/api/v1/exchange/requests'))
      await dlg.getByTestId('request-submit').click()
      const res = await posted
      assert.equal(res.status(), 200, await res.text())
      const body = await res.json()
      assert.equal(body.status, 'pending')
      assert.deepEqual(body.fields, ['name', 'householdNumber', 'address'])
      assert.ok(body.dueAt > Date.now(), 'a decision deadline in the future')
      requestId = body.id
      const result = dlg.locator('[data-testid=request-result][data-status=pending]')
      await result.waitFor()
      assert.match(await result.textContent(), /待审批/)
      assert.match(await result.textContent(), /10 个工作日/)
      assert.match(await result.getByTestId('request-due').textContent(), /\d{4}/)
      await scan(page, 'exchange request result')
      await shot(page, 'exchange-request-result')
      await dlg.getByTestId('request-close').click()
      await dlg.waitFor({ state: 'hidden' })
      await page.keyboard.press('Escape')
      await page.getByTestId('resource-drawer').waitFor({ state: 'hidden' })

      // 我的申请 lists it, pending with its deadline.
      await page.locator('[data-menu=exRequests]').click()
      await page.waitForURL((u) => u.pathname === '/console/exchange/requests')
      const row = page.locator(`[data-testid=request-row][data-id="${requestId}"]`)
      await row.waitFor()
      assert.equal(await row.getAttribute('data-status'), 'pending')
      await scan(page, 'exchange my requests')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('the head of 公安局 approves only name and householdNumber', async () => {
    assert.ok(requestId, 'requested in the previous test')
    const page = await newPage(browser)
    try {
      await login(page, 'gahead')
      await page.getByTestId('home-title').waitFor()
      await page.locator('[data-menu=exRequests]').click()
      await page.waitForURL((u) => u.pathname === '/console/exchange/requests')
      const listed = page.waitForResponse((r) => isApi(r, 'GET', '/api/v1/exchange/requests') && new URL(r.url()).searchParams.get('role') === 'provider')
      await page.getByRole('tab', { name: '待我审批' }).click()
      const list = await listed
      assert.equal(new URL(list.url()).searchParams.get('status'), 'pending')
      const cell = page.locator(`[data-testid=request-row][data-id="${requestId}"]`)
      await cell.waitFor()
      const row = page.locator('tr', { has: cell })
      assert.match(await row.textContent(), /姑苏区民政局/)
      assert.match(await row.textContent(), /待审批/)
      await scan(page, 'exchange requests to decide')
      await shot(page, 'exchange-requests-provider')

      await row.getByTestId('request-approve').click()
      const dlg = page.locator('[data-testid=decision-dialog][data-approve=true]')
      await dlg.waitFor()
      await dlg.locator('[data-testid=decision-fields] [data-field="address"]').click()
      await scan(page, 'exchange decision dialog')
      const decided = page.waitForResponse((r) => isApi(r, 'POST', `/api/v1/exchange/requests/${requestId}/decision`))
      await dlg.getByTestId('decision-submit').click()
      const res = await decided
      assert.equal(res.status(), 200, await res.text())
      const body = await res.json()
      assert.equal(body.status, 'approved')
      assert.ok(body.grantId)
      grantId = body.grantId
      assert.deepEqual(JSON.parse(res.request().postData()).fields, ['name', 'householdNumber'])
      // The pending list no longer has it.
      await cell.waitFor({ state: 'detached' })
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('民政局 staff query by ID number and get exactly name and householdNumber, the name masked', async () => {
    assert.ok(grantId, 'approved in the previous test')
    const page = await newPage(browser)
    try {
      await login(page, 'mzstaff')
      await page.getByTestId('home-title').waitFor()
      await page.locator('[data-menu=exGrants]').click()
      await page.waitForURL((u) => u.pathname === '/console/exchange/grants')
      const cell = page.locator(`[data-testid=grant-row][data-id="${grantId}"]`)
      await cell.waitFor()
      const row = page.locator('tr', { has: cell })
      await scan(page, 'exchange grants')
      await row.getByTestId('grant-query').click()

      const dlg = page.getByTestId('query-dialog')
      await dlg.waitFor()
      await field(dlg, 'query-key').fill(ID_NUMBER)
      const queried = page.waitForResponse((r) => isApi(r, 'POST', '/api/v1/exchange/query'))
      await dlg.getByTestId('query-submit').click()
      const res = await queried
      assert.equal(res.status(), 200, await res.text())
      const body = await res.json()
      accessId = body.accessId
      assert.ok(accessId)

      const answer = dlg.getByTestId('query-answer')
      await answer.waitFor()
      const cols = await answer.locator('[data-testid=query-records] thead th').evaluateAll((ths) => ths.map((th) => th.getAttribute('data-field')))
      assert.deepEqual(cols, ['name', 'householdNumber'])
      const name = (await answer.locator('[data-testid=query-records] tbody td[data-field=name]').first().textContent()).trim()
      assert.ok(name.includes('*'), `the name is masked: ${name}`)
      assert.notEqual(name, '王小明')
      const household = (await answer.locator('[data-testid=query-records] tbody td[data-field=householdNumber]').first().textContent()).trim()
      assert.ok(household && !household.includes('*'), `the household number is in clear: ${household}`)
      assert.match(await answer.getByTestId('query-masked').textContent(), /已脱敏：姓名/)
      assert.equal((await answer.getByTestId('query-access-id').textContent()).trim(), accessId)
      await scan(page, 'exchange query result')
      await shot(page, 'exchange-query')

      // The access's proof opens from the answer (on the ledger, or on its way).
      await answer.getByTestId('query-proof').click()
      const proof = page.getByTestId('proof-dialog')
      await proof.waitFor()
      await page.waitForFunction(
        () => ['ok', 'pending'].includes(document.querySelector('[data-testid=proof-dialog]')?.getAttribute('data-state') ?? ''),
        null,
        { timeout: 15_000 },
      )
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('王小明 sees the use in 数据使用记录 and the browser verifies it on the ledger', async () => {
    assert.ok(accessId, 'queried in the previous test')
    const page = await newPage(browser, { mobile: true })
    try {
      await page.setViewportSize({ width: 390, height: 844 })
      await login(page, 'citizen')
      await page.getByTestId('home-title').waitFor()
      await page.getByTestId('tile-dataTracker').click()
      await page.waitForURL((u) => u.pathname === '/portal/data')
      await page.getByRole('heading', { name: '数据使用记录', level: 1 }).waitFor()
      await page.getByTestId('tracker-linked').waitFor()
      const row = page.locator(`[data-testid=tracker-row][data-access="${accessId}"]`)
      await row.waitFor()
      assert.equal(await row.getAttribute('data-consumer'), '姑苏区民政局')
      assert.equal((await row.getByTestId('use-resource').textContent()).trim(), '户籍人口信息')
      assert.match(await row.textContent(), /姓名、户号/)
      assert.match(await row.textContent(), new RegExp(PURPOSE))
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling at 390 px')
      await scan(page, 'portal data tracker')
      await shot(page, 'exchange-tracker')

      // The proof, verified in the browser; the batch may still be on its way
      // to the ledger and a signed checkpoint: fetch again until verified.
      await row.locator('[data-action=proof]').click()
      const proof = page.getByTestId('proof-dialog')
      await proof.waitFor()
      const deadline = Date.now() + 20_000
      for (;;) {
        const state = await proof.getAttribute('data-state')
        if (state === 'ok') break
        assert.ok(!['failed', 'error', 'unsupported', 'nocrypto'].includes(state), `proof: ${state}: ${await proof.textContent()}`)
        if (Date.now() > deadline) assert.fail(`not verified within 20 s (state ${state})`)
        await page.waitForTimeout(1000)
        if (state === 'pending') await proof.getByTestId('proof-retry').click()
      }
      assert.match(await proof.getByTestId('proof-verdict').textContent(), /已验证/)
      assert.equal(await proof.locator('[data-testid=proof-steps] [data-ok=true]').count(), 6)
      await scan(page, 'portal proof verified')
      await shot(page, 'exchange-tracker-proof')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('王小明 objects to the use; the head of 公安局 answers it in 纠错与异议', async () => {
    assert.ok(accessId)
    const phone = await newPage(browser, { mobile: true })
    try {
      await phone.setViewportSize({ width: 390, height: 844 })
      await login(phone, 'citizen')
      await phone.getByTestId('home-title').waitFor()
      await phone.goto('/portal/data')
      const row = phone.locator(`[data-testid=tracker-row][data-access="${accessId}"]`)
      await row.waitFor()
      await row.locator('[data-action=object]').click()
      const dlg = phone.locator('[data-testid=dispute-dialog][data-kind=objection]')
      await dlg.waitFor()
      await dlg.getByTestId('dispute-submit').click()
      await dlg.getByText('请填写说明（至少 2 个字）').waitFor()
      await dlg.locator('textarea[data-testid=dispute-text], [data-testid=dispute-text] textarea').first().fill('我没有申请低保，不清楚为何核对我的户籍信息')
      await scan(phone, 'portal objection dialog')
      const raised = phone.waitForResponse((r) => isApi(r, 'POST', '/api/v1/exchange/tracker/disputes'))
      await dlg.getByTestId('dispute-submit').click()
      assert.equal((await raised).status(), 200)
      await phone.locator('[data-testid=my-disputes] li[data-status=open]').first().waitFor()
      assertClean(phone)
    } finally {
      await phone.context().close()
    }

    const page = await newPage(browser)
    try {
      await login(page, 'gahead')
      await page.getByTestId('home-title').waitFor()
      await page.locator('[data-menu=exDisputes]').click()
      await page.waitForURL((u) => u.pathname === '/console/exchange/disputes')
      const cell = page.getByTestId('dispute-row').first()
      await cell.waitFor()
      const row = page.locator('tr', { has: cell })
      assert.match(await row.textContent(), /我没有申请低保/)
      await scan(page, 'exchange disputes')
      await row.getByTestId('dispute-answer').click()
      const dlg = page.getByTestId('answer-dialog')
      await dlg.waitFor()
      await dlg.locator('[data-accept=false]').click()
      await dlg.locator('textarea[data-testid=answer-text], [data-testid=answer-text] textarea').first().fill('民政部门依据《社会救助暂行办法》第十一条开展家庭经济状况核对，属依法履职')
      const disputeId = await cell.getAttribute('data-id')
      const answered = page.waitForResponse((r) => isApi(r, 'POST', `/api/v1/exchange/disputes/${disputeId}/answer`))
      await dlg.getByTestId('answer-submit').click()
      const res = await answered
      assert.equal(res.status(), 200, await res.text())
      assert.equal((await res.json()).status, 'rejected')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('the auditor reads the whole access log with proofs and the quality board', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'auditor')
      await page.getByTestId('home-title').waitFor()
      await page.locator('[data-menu=exAccess]').click()
      await page.waitForURL((u) => u.pathname === '/console/exchange/access')
      const listed = page.getByTestId('access-row').first()
      await listed.waitFor()
      assert.equal(await page.locator('[data-testid=access-role] [data-role=all]').count(), 1, 'auditors see every access')
      if (accessId) await page.locator(`[data-testid=access-row][data-id="${accessId}"]`).waitFor()
      await scan(page, 'exchange access log')
      await shot(page, 'exchange-access')
      await page.getByTestId('access-proof').first().click()
      await page.waitForFunction(
        () => ['ok', 'pending'].includes(document.querySelector('[data-testid=proof-dialog]')?.getAttribute('data-state') ?? ''),
        null,
        { timeout: 15_000 },
      )
      await scan(page, 'exchange access proof')
      await page.keyboard.press('Escape')
      await page.getByTestId('proof-dialog').waitFor({ state: 'hidden' })

      await page.locator('[data-menu=exQuality]').click()
      await page.waitForURL((u) => u.pathname === '/console/exchange/quality')
      await page.getByTestId('quality-table').locator('tbody tr').first().waitFor()
      await page.getByTestId('stat-chart').waitFor()
      assert.match(await page.getByTestId('quality-average').textContent(), /\d/)
      await scan(page, 'exchange quality')
      await shot(page, 'exchange-quality')
      // The 民政 resource has a wrong date for the board to find.
      await page.locator('[data-testid=quality-link][data-code="MZ-DBDX-001"]').click()
      const dlg = page.getByTestId('quality-dialog')
      await dlg.getByTestId('quality-run').or(dlg.locator('.el-alert')).first().waitFor()
      await scan(page, 'exchange quality run')
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('sys_admin sees this node on 共享节点, invites a child node and revokes it', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'sysadmin')
      await page.getByTestId('home-title').waitFor()
      await page.locator('[data-menu=exNodes]').click()
      await page.waitForURL((u) => u.pathname === '/console/exchange/nodes')
      await page.getByTestId('node-self').getByText('3205').waitFor()
      await page.getByTestId('nodes-invite').waitFor()
      await scan(page, 'exchange nodes')
      await page.getByTestId('nodes-invite').click()
      const dlg = page.getByTestId('invite-dialog')
      await dlg.waitFor()
      await dlg.getByTestId('invite-submit').click()
      await dlg.getByText('请填写节点编号').waitFor()
      await scan(page, 'exchange invite dialog')
      const child = `3205${String(Date.now()).slice(-5)}`
      await dlg.getByLabel('节点编号').fill(child)
      await dlg.getByLabel('节点名称').fill('端到端测试节点')
      await dlg.getByTestId('invite-submit').click()
      await dlg.getByTestId('invite-token').waitFor()
      await dlg.getByRole('button', { name: '关闭', exact: true }).click()
      // Revoke it: a reason is required; then the row shows 已吊销 and
      // offers no second revocation.
      await page.getByTestId(`node-revoke-${child}`).click()
      const rd = page.getByTestId('revoke-dialog')
      await rd.waitFor()
      await rd.getByTestId('revoke-submit').click()
      await rd.getByText('请填写理由（至少 2 个字）').waitFor()
      await scan(page, 'exchange revoke node dialog')
      await rd.locator('textarea').fill('节点密钥遗失')
      const revoked = page.waitForResponse((r) => isApi(r, 'POST', `/api/v1/exchange/nodes/${child}/revoke`))
      await rd.getByTestId('revoke-submit').click()
      assert.equal((await revoked).status(), 200)
      await page.getByTestId('nodes-children').getByText('已吊销').first().waitFor()
      assert.equal(await page.getByTestId(`node-revoke-${child}`).count(), 0)
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })

  it('民政局 staff catalogue a hosted resource, load a CSV, publish it and check its quality', async () => {
    const code = `MZ-E2E-${String(Date.now()).slice(-6)}`
    const page = await newPage(browser)
    try {
      await login(page, 'mzstaff')
      await page.getByTestId('home-title').waitFor()
      await page.goto('/console/exchange/catalog')
      await page.getByTestId('catalog-create').click()
      const form = page.getByTestId('resource-form')
      await form.waitFor()
      await form.getByTestId('form-submit').click()
      await form.getByText('请填写资源代码').waitFor()
      await form.getByText('请填写共享条件').waitFor()
      await field(form, 'form-code').fill(code)
      await field(form, 'form-name').fill('困难群众走访记录')
      await form.locator('textarea[data-testid=form-conditions], [data-testid=form-conditions] textarea').first().fill('限于社会救助核对')
      await form.getByLabel('字段名 1').fill('visitNo')
      await form.getByLabel('中文名称 1').fill('走访编号')
      await form.getByTestId('form-add-item').click()
      await form.getByLabel('字段名 2').fill('note')
      await form.getByLabel('中文名称 2').fill('走访情况')
      await scan(page, 'exchange resource form')
      const created = page.waitForResponse((r) => isApi(r, 'POST', '/api/v1/exchange/resources'))
      await form.getByTestId('form-submit').click()
      const res = await created
      assert.equal(res.status(), 200, await res.text())
      const made = await res.json()
      assert.equal(made.status, 'draft')

      const detail = page.locator(`[data-testid=resource-detail][data-code="${code}"]`)
      await page.locator(`[data-testid=resource-detail][data-code="${code}"][data-status=draft]`).waitFor()
      await detail.getByTestId('resource-import').click()
      const imp = page.getByTestId('import-dialog')
      await imp.waitFor()
      await imp.getByTestId('import-file').setInputFiles({ name: 'visits.csv', mimeType: 'text/csv', buffer: Buffer.from('visitNo,note\nV001,已走访\nV002,\n', 'utf8') })
      const loaded = page.waitForResponse((r) => isApi(r, 'POST', `/api/v1/exchange/resources/${made.id}/records.csv`))
      await imp.getByTestId('import-submit').click()
      assert.equal((await loaded).status(), 200)
      assert.match(await imp.getByTestId('import-result').textContent(), /新增 2 条/)
      await scan(page, 'exchange import dialog')
      await page.keyboard.press('Escape')
      await imp.waitFor({ state: 'hidden' })

      await detail.getByTestId('resource-publish').click()
      await page.locator(`[data-testid=resource-detail][data-code="${code}"][data-status=published]`).waitFor()
      await detail.getByTestId('resource-quality').click()
      await detail.getByTestId('quality-run').waitFor()
      await scan(page, 'exchange managed resource')
      await shot(page, 'exchange-managed')
      await detail.getByTestId('resource-sample').click()
      const sample = page.getByTestId('sample-dialog')
      await sample.locator('tbody tr').nth(1).waitFor()
      assertClean(page)
    } finally {
      await page.context().close()
    }
  })
})

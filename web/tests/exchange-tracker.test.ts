/// <reference types="node" />
// The citizen's 数据使用记录 page against a mocked API: the link form with
// its Chinese errors (the form's own and the server's, next to the field),
// then the list, and a proof verified in the browser.
import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'

const H = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest()
const leafH = (d: string) => H(Buffer.from([0x00]), Buffer.from(d, 'utf8'))
const nodeH = (l: Buffer, r: Buffer) => H(Buffer.from([0x01]), l, r)

// One access in a batch of one; its batch entry is entry 1 of a 2-entry ledger.
const record = JSON.stringify({ consumerName: '姑苏区民政局', fields: ['name', 'householdNumber'], id: 'acc-1', outcome: 'ok', resource: 'GA-HJRK-001' })
const leaf = leafH(record)
const entry0 = '{"kind":"record","module":"identity","v":1}'
const entry1 = `{"kind":"record","module":"exchange","payloadHash":"${leaf.toString('hex')}","v":1}`
const root = nodeH(leafH(entry0), leafH(entry1))
const proof = {
  accessId: 'acc-1',
  record,
  leafHash: leaf.toString('hex'),
  hasher: 'sha256',
  batch: 7,
  leafIndex: 0,
  batchSize: 1,
  batchRoot: leaf.toString('hex'),
  batchPath: [],
  onLedger: true,
  ledger: {
    index: 1,
    size: 2,
    leafHash: leafH(entry1).toString('hex'),
    entry: entry1,
    root: root.toString('base64'),
    proof: [leafH(entry0).toString('base64')],
    checkpoint: `shuzhi.local/ledger\n2\n${root.toString('base64')}\n\n— shuzhi.local/ledger sig\n`,
  },
}
const use = {
  accessId: 'acc-1',
  at: Date.parse('2026-03-02T10:00:00+08:00'),
  subject: 'person:abc',
  consumer: '姑苏区民政局',
  resource: 'GA-HJRK-001',
  resourceName: '户籍人口信息',
  fields: ['name', 'householdNumber'],
  clear: [],
  purpose: '最低生活保障家庭经济状况核对',
  basis: '《社会救助暂行办法》第十一条',
  outcome: 'ok',
  proofUrl: '/api/v1/exchange/access/acc-1/proof',
  disputed: false,
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status < 300 ? 'application/json' : 'application/problem+json' } })

describe('PortalTracker', () => {
  it('links the citizen, lists the uses of their data and verifies a proof', async () => {
    const { mount, flushPromises } = await import('@vue/test-utils')
    const { vi } = await import('vitest')
    const { i18n } = await import('@/i18n')
    const { installElement } = await import('@/plugins/element')
    const { session } = await import('@/session/session')
    const { default: PortalTracker } = await import('@/views/portal/PortalTracker.vue')
    i18n.global.locale.value = 'zh-CN'
    session.me = { id: 'u1', username: 'citizen', displayName: '王小明', roles: ['citizen'], permissions: ['exchange:tracker'] }
    session.checked = true

    let linked = false
    const posted: unknown[] = []
    const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
      const path = url.split('?')[0]
      if (path === '/api/v1/exchange/tracker/links' && init?.method === 'POST') {
        const body = JSON.parse(String(init.body))
        posted.push(body)
        if (body.idNumber !== '320508198806152310')
          return json(422, {
            status: 422,
            title: '输入有误',
            detail: '身份证号与姓名核验不一致',
            errors: [{ field: 'idNumber', rule: 'verified', message: '身份证号与姓名核验不一致' }],
          })
        linked = true
        return json(200, { subject: 'person:abc', kind: 'person', label: '3205**********2310', linkedAt: 1 })
      }
      if (path === '/api/v1/exchange/tracker/links') return json(200, linked ? [{ subject: 'person:abc', kind: 'person', label: '3205**********2310', linkedAt: 1 }] : [])
      if (path === '/api/v1/exchange/tracker') return json(200, { items: [use], total: 1, page: 1, pageSize: 20 })
      if (path === '/api/v1/exchange/tracker/disputes') return json(200, { items: [], total: 0, page: 1, pageSize: 50 })
      if (path === '/api/v1/exchange/access/acc-1/proof') return json(200, proof)
      return json(404, { status: 404, title: '未找到' })
    })
    vi.stubGlobal('fetch', fetchMock)
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        await flushPromises()
        await new Promise((r) => setTimeout(r, 0))
      }
      // Element Plus shows a form item's error after a 100 ms debounce.
      await new Promise((r) => setTimeout(r, 150))
      await flushPromises()
    }
    try {
      const w = mount(PortalTracker, { global: { plugins: [i18n, installElement], stubs: { transition: false, 'transition-group': false } }, attachTo: document.body })
      await settle()
      expect(w.find('[data-testid=tracker-link-form]').exists()).toBe(true)

      // The form's own check, in Chinese, without a request.
      await w.get('#tr-id').setValue('12345')
      await w.get('#tr-name').setValue('王小明')
      await w.get('form').trigger('submit')
      await settle()
      expect(w.text()).toContain('请输入 18 位身份证号')
      expect(posted).toHaveLength(0)

      // The server's verdict next to the field.
      await w.get('#tr-id').setValue('320508198806152311')
      await w.get('form').trigger('submit')
      await settle()
      expect(posted).toHaveLength(1)
      expect(w.text()).toContain('身份证号与姓名核验不一致')

      // Linked: the list.
      await w.get('#tr-id').setValue('320508198806152310')
      await w.get('form').trigger('submit')
      await settle()
      expect(posted.at(-1)).toEqual({ idNumber: '320508198806152310', name: '王小明' })
      const row = w.get('[data-testid=tracker-row]')
      expect(row.attributes('data-consumer')).toBe('姑苏区民政局')
      expect(row.text()).toContain('户籍人口信息')
      expect(row.text()).toContain('姓名、户号')
      expect(row.text()).toContain('全部脱敏')
      expect(row.text()).toContain('《社会救助暂行办法》第十一条')

      // The proof, verified here.
      await row.get('[data-action=proof]').trigger('click')
      await settle()
      const dialog = document.body.querySelector('[data-testid=proof-dialog]')!
      for (let i = 0; i < 20 && dialog.getAttribute('data-state') !== 'ok'; i++) await settle()
      expect(dialog.getAttribute('data-state')).toBe('ok')
      expect(dialog.textContent).toContain('已验证')
      expect(dialog.querySelectorAll('[data-ok=true]')).toHaveLength(6)
      expect(fetchMock.mock.calls.map((c) => String(c[0]))).toContain('/api/v1/exchange/access/acc-1/proof')
      w.unmount()
    } finally {
      vi.unstubAllGlobals()
      session.me = null
    }
  }, 60_000)
})

// (a) Every demo account logs in through the form and lands on its role's home page.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { assertClean, homeTitle, launch, login, newPage } from './helpers.mjs'

const demo = [
  ['citizen', 'citizen', '/portal', '市民服务'],
  ['enterprise', 'enterprise', '/portal', '企业服务'],
  ['gridworker', 'grid_worker', '/grid', '我的网格'],
  ['staff', 'dept_staff', '/console', '部门工作人员工作台'],
  ['head', 'dept_head', '/console', '部门负责人工作台'],
  ['supervisor', 'supervisor', '/console', '城运中心监督员工作台'],
  ['leader', 'leader', '/console', '领导工作台'],
  ['auditor', 'auditor', '/console', '安全审计员工作台'],
  ['sysadmin', 'sys_admin', '/console', '系统管理员工作台'],
  ['secadmin', 'sec_admin', '/console', '安全管理员工作台'],
]

describe('demo accounts reach their home page', () => {
  let browser
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  for (const [username, role, path, heading] of demo) {
    it(`${username} sees the ${role} home at ${path}`, async () => {
      const page = await newPage(browser, { mobile: path !== '/console' })
      try {
        await login(page, username)
        await page.waitForURL((u) => u.pathname === path)
        const h = await homeTitle(page)
        assert.equal(h.role, role)
        assert.equal(h.text, heading)
        assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN')
        assertClean(page)
      } finally {
        await page.context().close()
      }
    })
  }

  it('shows the English heading after switching the language', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'sysadmin')
      await page.waitForURL('**/console')
      await page.getByTestId('lang-switch').getByText('English').click()
      await page.getByTestId('home-title').filter({ hasText: 'System administrator workspace' }).waitFor()
      assert.equal(await page.locator('html').getAttribute('lang'), 'en')
    } finally {
      await page.context().close()
    }
  })

  it('says 用户名或密码错误 for a wrong password and stays on /login', async () => {
    const page = await newPage(browser)
    try {
      await login(page, 'leader', 'wrong-password')
      const alert = page.getByTestId('login-error')
      await alert.waitFor()
      assert.match(await alert.textContent(), /用户名或密码错误/)
      assert.equal(new URL(page.url()).pathname, '/login')
    } finally {
      await page.context().close()
    }
  })

  it('sends a visitor without a session to /login', async () => {
    const page = await newPage(browser)
    try {
      await page.goto('/console/users')
      await page.waitForURL((u) => u.pathname === '/login')
      assert.equal(new URL(page.url()).searchParams.get('redirect'), '/console/users')
    } finally {
      await page.context().close()
    }
  })
})

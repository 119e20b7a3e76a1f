// Shared browser set-up for the e2e tests: playwright-core driving Debian's
// Chromium against a running server at $SHUZHI_URL.
import { chromium } from 'playwright-core'
import { AxeBuilder } from '@axe-core/playwright'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import assert from 'node:assert/strict'

export const BASE = (process.env.SHUZHI_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '')
export const PASSWORD = process.env.SHUZHI_DEMO_PASSWORD ?? 'Shuzhi@2026'
export const SHOTS = process.env.SHUZHI_SCREENSHOTS ?? path.join(os.tmpdir(), 'shuzhi-e2e-shots')
fs.mkdirSync(SHOTS, { recursive: true })

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}

// A fresh context (no cookies, empty localStorage) with a page that records
// console errors and any request leaving the server under test.
export async function newPage(browser, { mobile = false } = {}) {
  const context = await browser.newContext({
    baseURL: BASE,
    viewport: mobile ? { width: 390, height: 844 } : { width: 1366, height: 860 },
    deviceScaleFactor: 1,
    isMobile: mobile,
    hasTouch: mobile,
    locale: 'zh-CN',
  })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const problems = { console: [], offsite: [] }
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.console.push(msg.text())
  })
  page.on('pageerror', (err) => problems.console.push(String(err)))
  page.on('request', (req) => {
    const u = req.url()
    if (!u.startsWith(BASE) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.offsite.push(u)
  })
  page.problems = problems
  return page
}

// Console errors other than failed requests the test provoked on purpose (401s).
export function assertClean(page) {
  const errors = page.problems.console.filter((t) => !/status of 40[13]/.test(t))
  assert.deepEqual(errors, [], `console errors on ${page.url()}`)
  assert.deepEqual(page.problems.offsite, [], 'requests to other hosts (the UI must work offline)')
}

export async function login(page, username, password = PASSWORD) {
  await page.goto('/login')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码', { exact: true }).fill(password)
  await page.getByTestId('login-submit').click()
}

export async function homeTitle(page) {
  const h = page.getByTestId('home-title')
  await h.waitFor()
  return { role: await h.getAttribute('data-role'), text: (await h.textContent())?.trim() }
}

export async function shot(page, name) {
  const file = path.join(SHOTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  return file
}

// axe-core over the current page: prints every violation and fails on any
// (moderate and minor ones included: the pages have none, and this keeps it
// so; dialog title bars are kept from being banners by
// plugins/dialogHeaders.ts).
export async function scan(page, label) {
  // Colours are checked as they end up, not halfway through a CSS
  // transition (Element Plus animates radio buttons and menus).
  await page.addStyleTag({ content: '*, *::before, *::after { transition: none !important; animation: none !important; }' })
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze()
  const bad = result.violations
  for (const v of result.violations) {
    console.log(`[axe ${label}] ${v.impact} ${v.id}: ${v.help}`)
    for (const n of v.nodes.slice(0, 5)) console.log(`    ${n.target.join(' ')} — ${n.failureSummary?.split('\n').join(' ')}`)
  }
  assert.deepEqual(bad.map((v) => `${v.impact} ${v.id}`), [], `${label}: axe violations`)
}

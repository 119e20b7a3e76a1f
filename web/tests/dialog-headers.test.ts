import { afterEach, describe, expect, it } from 'vitest'
import { watchDialogHeaders } from '@/plugins/dialogHeaders'

describe('dialog title bars are not banners', () => {
  let mo: MutationObserver | undefined
  afterEach(() => {
    mo?.disconnect()
    document.body.innerHTML = ''
  })

  it('marks title bars present at start and added later, and nothing else', async () => {
    document.body.innerHTML = '<header class="console-header"></header><div class="el-overlay"><header class="el-dialog__header"></header></div>'
    mo = watchDialogHeaders()
    expect(document.querySelector('.el-dialog__header')?.getAttribute('role')).toBe('none')

    const overlay = document.createElement('div')
    overlay.innerHTML = '<div class="el-drawer"><header class="el-drawer__header"><span>标题</span></header></div>'
    document.body.appendChild(overlay)
    const bar = document.createElement('header')
    bar.className = 'el-dialog__header'
    document.body.appendChild(bar)
    await new Promise((r) => setTimeout(r, 0)) // observer callbacks run as microtasks

    expect(overlay.querySelector('.el-drawer__header')?.getAttribute('role')).toBe('none')
    expect(bar.getAttribute('role')).toBe('none')
    // The page's own header stays the banner.
    expect(document.querySelector('.console-header')?.hasAttribute('role')).toBe(false)
  })
})

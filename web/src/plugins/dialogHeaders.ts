// Element Plus renders the title bar of a dialog or drawer as a <header>
// and teleports the dialog to <body>, where a <header> is a banner
// landmark: every open dialog put a second banner beside the page's own,
// and screen-reader users navigating by landmarks met "banner" twice (axe:
// landmark-no-duplicate-banner, landmark-unique). The title bar is part of
// the dialog (which is labelled by its title), not a banner of the page, so
// it gets role="none".

const TITLE_BARS = 'header.el-dialog__header, header.el-drawer__header'

// unbanner marks the dialog title bars in root (and root itself).
export function unbanner(root: Element): void {
  const bars = root.matches(TITLE_BARS) ? [root] : []
  bars.push(...root.querySelectorAll(TITLE_BARS))
  for (const el of bars) {
    if (el.getAttribute('role') !== 'none') el.setAttribute('role', 'none')
  }
}

// watchDialogHeaders marks title bars already in the document and those
// of dialogs opened later; it returns the observer (to disconnect in tests).
export function watchDialogHeaders(doc: Document = document): MutationObserver {
  unbanner(doc.body)
  const mo = new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeType === Node.ELEMENT_NODE) unbanner(n as Element)
      }
    }
  })
  mo.observe(doc.body, { childList: true, subtree: true })
  return mo
}

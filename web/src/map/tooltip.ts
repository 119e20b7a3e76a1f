// Tooltip HTML for the map: lines of plain text, escaped, the first in bold.

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

export function tipHtml(lines: readonly string[]): string {
  const [first, ...rest] = lines.filter((l) => l !== '')
  if (first === undefined) return ''
  return [`<strong>${escapeHtml(first)}</strong>`, ...rest.map(escapeHtml)].join('<br/>')
}

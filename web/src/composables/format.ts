import { i18n } from '@/i18n'

// Local date and time in the UI language; '' for missing values.
export function formatTime(iso?: string | null): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString(i18n.global.locale.value as string, { hour12: false })
}

// Turning API errors into text for people, and field errors into form item errors.
import { i18n } from '@/i18n'
import { ApiError } from './client'

export function describeError(err: unknown): string {
  const t = i18n.global.t
  if (!(err instanceof ApiError)) return t('app.requestFailed')
  if (err.status === 0) return t('app.networkError')
  const p = err.problem
  const parts: string[] = []
  if (p.title) parts.push(p.title)
  if (p.detail && p.detail !== p.title) parts.push(p.detail)
  // Field errors belong next to their fields; without an open form, list them.
  for (const fe of p.errors ?? []) parts.push(`${fe.field}: ${fe.message}`)
  if (parts.length === 0) parts.push(err.status === 403 ? t('app.forbidden') : t('app.requestFailed'))
  return parts.join(' — ')
}

// Copies an ApiError's field errors into a record bound to el-form-item :error.
// Returns true when at least one field of the form got an error, so the
// caller can skip the general message. Fields are matched by name, also when
// the server names them with a path ("roles[0]" -> "roles").
export function applyFieldErrors(err: unknown, target: Record<string, string>, fields: readonly string[]): boolean {
  for (const k of Object.keys(target)) target[k] = ''
  if (!(err instanceof ApiError)) return false
  let any = false
  for (const fe of err.fieldErrors) {
    const name = fe.field.replace(/^body\./, '').replace(/[[.].*$/, '')
    if (fields.includes(name)) {
      target[name] = target[name] ? `${target[name]}; ${fe.message}` : fe.message
      any = true
    }
  }
  return any
}

// Edit and propose forms: which values changed, and server field errors of a
// nested body ("record.idNumber", "values.phone") put back on the form's fields.
import { ApiError } from '@/api/client'

// The fields whose value differs from the initial one. Values left empty are
// not sent: an empty input means "keep" (masked personal fields start empty).
export function changedValues(initial: Record<string, string>, current: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(current)) {
    const now = (v ?? '').trim()
    if (now === '') continue
    if (now !== (initial[k] ?? '').trim()) out[k] = now
  }
  return out
}

// A copy of the error whose field names lose a leading "record." or
// "values." (and "body."), so that useFormErrors finds them on the form.
export function unnestFieldErrors(err: unknown): unknown {
  if (!(err instanceof ApiError) || !err.problem.errors?.length) return err
  const errors = err.problem.errors.map((fe) => ({ ...fe, field: fe.field.replace(/^(body\.)?(record|values)\./, '') }))
  return new ApiError(err.status, { ...err.problem, errors })
}

// The body of a new record for POST /registry/changes or the create
// endpoints: empty strings and NaN left out, numbers as numbers.
export function compactRecord(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(input)) {
    if (v === '' || v === null || v === undefined) continue
    if (typeof v === 'number' && !Number.isFinite(v)) continue
    if (typeof v === 'string') {
      const s = v.trim()
      if (s !== '') out[k] = s
      continue
    }
    if (Array.isArray(v) && v.length === 0) continue
    out[k] = v
  }
  return out
}

import { reactive } from 'vue'
import { ElMessage } from 'element-plus'
import { ApiError } from '@/api/client'
import { applyFieldErrors, describeError } from '@/api/errors'

// Server-side field errors shown on the open form's items (bind
// `:error="errors.<field>"` on el-form-item), the rest as a message.
export function useFormErrors<K extends string>(fields: readonly K[]) {
  const errors = reactive(Object.fromEntries(fields.map((f) => [f, ''])) as Record<K, string>)

  function clear() {
    const all = errors as Record<string, string>
    for (const f of fields) all[f] = ''
  }

  function report(err: unknown) {
    const mapped = applyFieldErrors(err, errors as Record<string, string>, fields)
    if (err instanceof ApiError && mapped) {
      const p = err.problem
      const unmapped = err.fieldErrors.filter((fe) => !fields.includes(fe.field.replace(/^body\./, '').replace(/[[.].*$/, '') as K))
      const text = [p.title, p.detail !== p.title ? p.detail : undefined, ...unmapped.map((fe) => `${fe.field}: ${fe.message}`)]
        .filter(Boolean)
        .join(' — ')
      if (text) ElMessage({ type: 'error', message: text, showClose: true })
      return
    }
    ElMessage({ type: 'error', message: describeError(err), showClose: true, duration: 6000 })
  }

  return { errors, clear, report }
}

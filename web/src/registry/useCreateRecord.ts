// The "新增" dialog of a registry list: post the record, report field
// errors on the form, tell the user and reload the list on success.
import { ref } from 'vue'
import { ElMessage } from 'element-plus'
import { api } from '@/api/client'
import { useFormErrors } from '@/composables/formErrors'

export function useCreateRecord(path: string, fields: string[], created: () => string, reload: () => Promise<unknown>) {
  const create = ref({ open: false, busy: false })
  const fe = useFormErrors([...fields, 'note'])
  async function submit(p: { record: Record<string, unknown> }) {
    create.value.busy = true
    fe.clear()
    try {
      await api.post(path, p.record, { silent: true })
      ElMessage({ type: 'success', message: created() })
      create.value.open = false
      await reload()
    } catch (e) {
      fe.report(e)
    } finally {
      create.value.busy = false
    }
  }
  return { create, fe, submit }
}

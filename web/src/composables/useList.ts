// State of a paged, filtered list page: filters, page, loading, total.
import { reactive, ref, computed, watch, type Ref } from 'vue'
import { api, ApiError, type Query } from '@/api/client'
import type { Page } from '@/api/types'

export function useList<T, F extends Record<string, unknown>>(path: string, initialFilters: F, pageSize = 20) {
  const filters = reactive({ ...initialFilters }) as F
  const page = ref(1)
  const size = ref(pageSize)
  const total = ref(0)
  const items = ref([]) as Ref<T[]>
  const loading = ref(false)
  const error = ref<ApiError | null>(null)
  let seq = 0

  // The filters as sent to the server (also used for export).
  const query = computed<Query>(() => {
    const q: Query = {}
    for (const [k, v] of Object.entries(filters)) {
      if (v === undefined || v === null || v === '') continue
      q[k] = v as Query[string]
    }
    return q
  })

  const filtered = computed(() => Object.keys(query.value).length > 0)

  async function load() {
    const mine = ++seq
    loading.value = true
    error.value = null
    try {
      const res = await api.get<Page<T>>(path, { query: { ...query.value, page: page.value, pageSize: size.value } })
      if (mine !== seq) return
      items.value = res.items ?? []
      total.value = res.total ?? 0
    } catch (e) {
      if (mine !== seq) return
      items.value = []
      total.value = 0
      error.value = e instanceof ApiError ? e : null
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  function search() {
    page.value = 1
    return load()
  }

  function reset() {
    Object.assign(filters, initialFilters)
    return search()
  }

  watch([page, size], () => void load())

  return { filters, page, pageSize: size, total, items, loading, error, query, filtered, load, search, reset }
}

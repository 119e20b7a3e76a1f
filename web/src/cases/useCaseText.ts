// Labels of the cases pages in the UI language.
import { useI18n } from 'vue-i18n'
import { deptName, msTime } from '@/registry/labels'
import type { Case, CaseAction } from './types'

export function useCaseText() {
  const { t, te, locale } = useI18n()
  const tr = (k: string, named?: Record<string, unknown>) => (named ? t(k, named) : t(k))
  const state = (s: string) => (te(`cases.states.${s}`) ? t(`cases.states.${s}`) : s)
  const channel = (c: string) => (te(`cases.channels.${c}`) ? t(`cases.channels.${c}`) : c)
  const action = (a: CaseAction | string) => (te(`cases.actions.${a}`) ? t(`cases.actions.${a}`) : a)
  const event = (a: string) => (te(`cases.events.${a}`) ? t(`cases.events.${a}`) : action(a))
  const dept = (d: string | undefined | null) => (d && te(`cases.depts.${d}`) ? t(`cases.depts.${d}`) : deptName(d, tr, te))
  const warning = (w: number) => (w ? t(`cases.warnings.${w}`) : '')
  const rating = (r: string | undefined) => (r ? t(`cases.ratings.${r}`) : '')
  const time = (ms: number | null | undefined) => msTime(ms, locale.value as string)
  const category = (c: Pick<Case, 'category' | 'categoryName'>) => (c.category ? `${c.categoryName || c.category}` : t('cases.noCategory'))
  return { t, te, locale, state, channel, action, event, dept, warning, rating, time, category }
}

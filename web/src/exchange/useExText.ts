// Labels of the 共享交换 pages in the UI language; unknown codes as they are.
import { useI18n } from 'vue-i18n'
import { msDate, msTime } from '@/registry/labels'
import type { Item } from './types'

export function useExText() {
  const { t, te, locale } = useI18n()
  const pick = (group: string) => (v: string | null | undefined) => {
    if (!v) return ''
    const k = `exchange.${group}.${v}`
    return te(k) ? t(k) : v
  }
  const zh = () => String(locale.value).startsWith('zh')
  // An item's name for people: its Chinese name in Chinese (from the
  // resource when known, else the common names), its field name otherwise.
  const item = (name: string, items?: readonly Item[] | null) => {
    const it = items?.find((x) => x.name === name)
    if (!zh()) return name
    if (it?.nameZh) return it.nameZh
    const k = `exchange.itemNames.${name}`
    return te(k) ? t(k) : name
  }
  const items = (names: readonly string[] | null | undefined, list?: readonly Item[] | null) => (names ?? []).map((n) => item(n, list)).join('、')
  return {
    t,
    te,
    locale,
    sharing: pick('sharing'),
    klass: pick('classes'),
    grading: pick('gradings'),
    status: pick('statuses'),
    format: pick('formats'),
    opening: pick('openings'),
    cycle: pick('cycles'),
    backend: pick('backends'),
    itemType: pick('itemTypes'),
    personal: pick('personal'),
    mask: pick('masks'),
    requestStatus: pick('requestStatuses'),
    grantStatus: pick('grantStatuses'),
    outcome: pick('outcomes'),
    refusal: pick('refusals'),
    dept: pick('depts'),
    ruleKind: pick('quality.kinds'),
    trigger: pick('resource.triggers'),
    disputeStatus: pick('disputes.statuses'),
    disputeKind: pick('disputes.kinds'),
    level: pick('nodes.levels'),
    relation: pick('nodes.relations'),
    nodeStatus: pick('nodes.nodeStatuses'),
    item,
    items,
    time: (ms: number | null | undefined) => msTime(ms, locale.value as string),
    date: (ms: number | null | undefined) => msDate(ms, locale.value as string),
  }
}

export type ExText = ReturnType<typeof useExText>

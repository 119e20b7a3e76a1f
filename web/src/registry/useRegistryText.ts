// Labels of fields and values of base-data records in the UI language.
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { loadReference } from './api'
import { deptName, msDate, msTime, outcomeLabel } from './labels'
import { enumOfField, type EnumName } from './fields'
import type { FieldOutcome, RecordKind, Reference } from './types'

const reference = ref<Reference | null>(null)
let asked = false

export function useReference() {
  if (!asked) {
    asked = true
    loadReference()
      .then((r) => (reference.value = r))
      .catch(() => {
        asked = false
      })
  }
  return reference
}

export function useRegistryText() {
  const { t, te, locale } = useI18n()
  const ref_ = useReference()
  const tr = (k: string, named?: Record<string, unknown>) => (named ? t(k, named) : t(k))

  function fieldLabel(kind: RecordKind | 'common', field: string): string {
    for (const k of [`registry.fields.${kind}.${field}`, `registry.fields.common.${field}`]) if (te(k)) return t(k)
    return field
  }

  function dept(code: string | null | undefined): string {
    return deptName(code, tr, te)
  }

  function industryLabel(code: string): string {
    const hit = ref_.value?.industries.find((i) => i.code === code)
    return hit ? `${code} ${hit.nameZh}` : code
  }

  function tagLabel(tag: string): string {
    const k = `registry.tags.${tag}`
    if (te(k)) return t(k)
    return ref_.value?.tags.find((x) => x.tag === tag)?.nameZh ?? tag
  }

  function enumLabel(name: EnumName, value: string): string {
    if (value === '' || value === undefined || value === null) return ''
    if (name === 'dept') return dept(value)
    if (name === 'industry') return industryLabel(value)
    const k = `registry.enums.${name}.${value}`
    return te(k) ? t(k) : value
  }

  function yesNo(v: boolean): string {
    return v ? t('registry.yes') : t('registry.no')
  }

  // A record's field as text for a detail view.
  function value(kind: RecordKind, field: string, rec: Record<string, unknown>): string {
    const v = rec[field]
    if (v === undefined || v === null || v === '') return ''
    if (typeof v === 'boolean') return yesNo(v)
    if (field === 'sex') return v === 'M' ? t('registry.sex.M') : v === 'F' ? t('registry.sex.F') : String(v)
    if (kind === 'component' && field === 'ownerDept') return (rec.ownerName as string) || dept(String(v))
    if (kind === 'entity' && field === 'industry') return rec.industryName ? `${v} ${rec.industryName}` : industryLabel(String(v))
    const e = enumOfField(kind, field)
    if (e) return enumLabel(e, String(v))
    return String(v)
  }

  const time = (ms: number | null | undefined) => msTime(ms, locale.value as string)
  const date = (ms: number | null | undefined) => msDate(ms, locale.value as string)
  const outcome = (o: FieldOutcome) => outcomeLabel(o, tr, te)

  return { t, te, locale, reference: ref_, fieldLabel, dept, enumLabel, tagLabel, industryLabel, yesNo, value, time, date, outcome }
}

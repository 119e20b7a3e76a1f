// Purpose of use (查看用途): personal fields come masked unless the reader
// states a purpose their roles may state; the server records each clear read
// on the ledger and lists the fields it shows in clear in `clearFields`.
// The UI never picks a purpose by itself: the default is none (masked).
import type { Purpose, RecordKind } from './types'

export const NO_PURPOSE = ''

// Personal fields of each kind: masked unless the purpose allows them.
export const personalFields: Record<RecordKind, readonly string[]> = {
  person: ['name', 'idNumber', 'phone', 'address'],
  entity: ['legalRep'],
  building: [],
  component: [],
}

export function isPersonal(kind: RecordKind, field: string): boolean {
  return personalFields[kind].includes(field)
}

// The query parameter for a purpose; nothing at all for none.
export function purposeQuery(code: string | null | undefined): { purpose?: string } {
  return code ? { purpose: code } : {}
}

// Purposes the given roles may state (the server already filters by the
// caller; this also keeps a stale list from offering a purpose after a role change).
export function purposesFor(list: readonly Purpose[], roles: readonly string[]): Purpose[] {
  return list.filter((p) => !p.roles || p.roles.length === 0 || p.roles.some((r) => roles.includes(r)))
}

// A purpose is still valid when it is in the list; otherwise fall back to none.
export function validPurpose(code: string | null | undefined, list: readonly Purpose[]): string {
  return code && list.some((p) => p.code === code) ? code : NO_PURPOSE
}

export function purposeName(p: Pick<Purpose, 'nameZh' | 'nameEn'>, locale: string): string {
  return locale.startsWith('zh') ? p.nameZh : p.nameEn || p.nameZh
}

// Whether a field of this record is shown in clear (for the visible marker).
export function isClear(record: { clearFields?: readonly string[] | null } | null | undefined, field: string): boolean {
  return !!record?.clearFields?.includes(field)
}

// A masked value as the server sends it ("李**", "320506********7382").
export function looksMasked(v: unknown): boolean {
  return typeof v === 'string' && v.includes('*')
}

// The value to put into an edit form: a masked personal value is not a value
// (sending it back would overwrite the real one), so the field starts empty.
export function editableValue(kind: RecordKind, record: { clearFields?: readonly string[] | null }, field: string, value: unknown): string {
  if (value === null || value === undefined) return ''
  if (isPersonal(kind, field) && (!isClear(record, field) || looksMasked(value))) return ''
  return typeof value === 'boolean' ? String(value) : String(value)
}

// Field schemas of the four record kinds: what a detail view shows, what an
// update may change (the server's changeable fields) and what a new record
// has. One table for the console forms and the grid worker's forms.
import type { RecordKind } from './types'

export type FieldType = 'text' | 'phone' | 'bool' | 'enum' | 'int' | 'float' | 'date' | 'class' | 'tags' | 'grid'

// Enumerations whose labels are i18n keys registry.enums.<name>.<value>;
// 'industry', 'dept' and 'tag' come from reference data.
export type EnumName = 'personStatus' | 'buildingUse' | 'componentState' | 'entityStatus' | 'entityKind' | 'industry' | 'dept'

export interface FieldDef {
  key: string
  type: FieldType
  enum?: EnumName
  required?: boolean
  max?: number
  // For 'int'/'float'.
  min?: number
  maxValue?: number
}

export const enums: Record<Exclude<EnumName, 'industry' | 'dept'>, readonly string[]> = {
  personStatus: ['active', 'moved-out', 'deceased'],
  buildingUse: ['residential', 'commercial', 'office', 'mixed', 'public', 'industrial'],
  componentState: ['normal', 'damaged', 'missing', 'removed'],
  entityStatus: ['active', 'revoked', 'cancelled', 'moved-out'],
  entityKind: ['enterprise', 'individual', 'social', 'institution', 'other'],
}

export const industryCodes = 'ABCDEFGHIJKLMNOPQRST'.split('')

// The fields PATCH /{kind}/{id} and POST /registry/changes (values) accept.
export const editableFields: Record<RecordKind, FieldDef[]> = {
  person: [
    { key: 'name', type: 'text', max: 32 },
    { key: 'phone', type: 'phone', max: 20 },
    { key: 'relation', type: 'text', max: 16 },
    { key: 'registered', type: 'bool' },
    { key: 'resident', type: 'bool' },
    { key: 'status', type: 'enum', enum: 'personStatus' },
    { key: 'address', type: 'text', max: 128 },
  ],
  building: [
    { key: 'name', type: 'text', max: 64 },
    { key: 'useType', type: 'enum', enum: 'buildingUse' },
    { key: 'floors', type: 'int', min: 1, maxValue: 200 },
  ],
  component: [
    { key: 'name', type: 'text', max: 64 },
    { key: 'state', type: 'enum', enum: 'componentState' },
    { key: 'ownerDept', type: 'enum', enum: 'dept' },
    { key: 'address', type: 'text', max: 128 },
  ],
  entity: [
    { key: 'name', type: 'text', max: 100 },
    { key: 'legalRep', type: 'text', max: 32 },
    { key: 'industry', type: 'enum', enum: 'industry' },
    { key: 'address', type: 'text', max: 128 },
    { key: 'status', type: 'enum', enum: 'entityStatus' },
  ],
}

// The create input of each kind (POST /{kind}, or `record` of a proposal).
export const createFields: Record<RecordKind, FieldDef[]> = {
  person: [
    { key: 'idNumber', type: 'text', required: true, max: 18 },
    { key: 'name', type: 'text', required: true, max: 32 },
    { key: 'phone', type: 'phone', max: 20 },
    { key: 'registered', type: 'bool' },
    { key: 'resident', type: 'bool' },
    { key: 'householdNumber', type: 'text', max: 32 },
    { key: 'relation', type: 'text', max: 16 },
    { key: 'address', type: 'text', max: 128 },
    { key: 'gridCode', type: 'grid' },
    { key: 'tags', type: 'tags' },
  ],
  building: [
    { key: 'name', type: 'text', required: true, max: 64 },
    { key: 'road', type: 'text', required: true, max: 32 },
    { key: 'houseNo', type: 'text', required: true, max: 16 },
    { key: 'useType', type: 'enum', enum: 'buildingUse', required: true },
    { key: 'floors', type: 'int', required: true, min: 1, maxValue: 200 },
    { key: 'gridCode', type: 'grid' },
    { key: 'lon', type: 'float', min: -180, maxValue: 180 },
    { key: 'lat', type: 'float', min: -90, maxValue: 90 },
  ],
  component: [
    { key: 'class', type: 'class', required: true },
    { key: 'name', type: 'text', max: 64 },
    { key: 'state', type: 'enum', enum: 'componentState' },
    { key: 'ownerDept', type: 'enum', enum: 'dept' },
    { key: 'address', type: 'text', max: 128 },
    { key: 'gridCode', type: 'grid' },
    { key: 'lon', type: 'float', min: -180, maxValue: 180 },
    { key: 'lat', type: 'float', min: -90, maxValue: 90 },
  ],
  entity: [
    { key: 'creditCode', type: 'text', required: true, max: 18 },
    { key: 'name', type: 'text', required: true, max: 100 },
    { key: 'legalRep', type: 'text', required: true, max: 32 },
    { key: 'industry', type: 'enum', enum: 'industry', required: true },
    { key: 'address', type: 'text', required: true, max: 128 },
    { key: 'status', type: 'enum', enum: 'entityStatus' },
    { key: 'established', type: 'date' },
    { key: 'gridCode', type: 'grid' },
    { key: 'lon', type: 'float', min: -180, maxValue: 180 },
    { key: 'lat', type: 'float', min: -90, maxValue: 90 },
  ],
}

// The fields a detail view lists, in order.
export const detailFields: Record<RecordKind, string[]> = {
  person: ['idNumber', 'name', 'sex', 'birthYear', 'age', 'hukouDivision', 'registered', 'resident', 'householdNumber', 'relation', 'address', 'phone', 'status', 'gridCode'],
  building: ['code', 'name', 'road', 'houseNo', 'address', 'useType', 'floors', 'rooms', 'gridCode', 'lon', 'lat'],
  component: ['code', 'majorName', 'className', 'name', 'state', 'ownerDept', 'address', 'gridCode', 'lon', 'lat'],
  entity: ['creditCode', 'name', 'typeName', 'kind', 'legalRep', 'industry', 'address', 'status', 'established', 'gridCode', 'lon', 'lat'],
}

// The key of `sources` that tells where a shown field came from.
const sourceAlias: Record<string, string> = {
  gridCode: 'grid',
  householdNumber: 'household',
  age: 'birthYear',
  lon: 'location',
  lat: 'location',
  majorName: 'class',
  className: 'class',
  typeName: 'creditCode',
}

export function sourceKey(field: string): string {
  return sourceAlias[field] ?? field
}

// The enum a shown field's value is translated with, if any.
export function enumOfField(kind: RecordKind, field: string): EnumName | undefined {
  const all = [...editableFields[kind], ...createFields[kind]]
  return all.find((f) => f.key === field)?.enum ?? (kind === 'entity' && field === 'kind' ? 'entityKind' : undefined)
}

// Only the editable fields the server accepts for this kind (guards a stale form).
export function isEditable(kind: RecordKind, field: string): boolean {
  return editableFields[kind].some((f) => f.key === field)
}

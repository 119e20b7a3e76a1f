import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import { applyFieldErrors } from '@/api/errors'
import { changedValues, compactRecord, unnestFieldErrors } from '@/registry/forms'
import { editableValue, isClear, looksMasked, NO_PURPOSE, purposeName, purposeQuery, purposesFor, validPurpose } from '@/registry/purpose'
import type { Purpose } from '@/registry/types'

const purposes: Purpose[] = [
  { code: 'grid-visit', nameZh: '网格走访', nameEn: 'Grid visit', basis: 'GB/T 34300-2017', fields: ['name', 'address', 'phone'], roles: ['grid_worker', 'dept_staff'] },
  { code: 'registration', nameZh: '登记核验', nameEn: 'Registration check', basis: '个人信息保护法', fields: ['name', 'idNumber'], roles: ['dept_staff'] },
  { code: 'open', nameZh: '公开', nameEn: 'Open', basis: '-', fields: null, roles: null },
]

describe('purpose of use', () => {
  it('sends no purpose parameter at all by default (masked)', () => {
    expect(NO_PURPOSE).toBe('')
    expect(purposeQuery('')).toEqual({})
    expect(purposeQuery(undefined)).toEqual({})
    expect(purposeQuery('grid-visit')).toEqual({ purpose: 'grid-visit' })
  })
  it('offers only the purposes the roles may state', () => {
    expect(purposesFor(purposes, ['grid_worker']).map((p) => p.code)).toEqual(['grid-visit', 'open'])
    expect(purposesFor(purposes, ['dept_staff']).map((p) => p.code)).toEqual(['grid-visit', 'registration', 'open'])
    expect(purposesFor(purposes, ['leader']).map((p) => p.code)).toEqual(['open'])
  })
  it('falls back to none for a purpose no longer offered', () => {
    expect(validPurpose('registration', purposes)).toBe('registration')
    expect(validPurpose('gone', purposes)).toBe('')
    expect(validPurpose(null, purposes)).toBe('')
  })
  it('names a purpose in the UI language', () => {
    expect(purposeName(purposes[0]!, 'zh-CN')).toBe('网格走访')
    expect(purposeName(purposes[0]!, 'en-US')).toBe('Grid visit')
  })
  it('marks exactly the fields the server lists in clearFields', () => {
    const rec = { clearFields: ['name'] }
    expect(isClear(rec, 'name')).toBe(true)
    expect(isClear(rec, 'idNumber')).toBe(false)
    expect(isClear({ clearFields: [] }, 'name')).toBe(false)
    expect(isClear(null, 'name')).toBe(false)
  })
  it('recognises masked values', () => {
    expect(looksMasked('320506********7382')).toBe(true)
    expect(looksMasked('李**')).toBe(true)
    expect(looksMasked('李雨新')).toBe(false)
  })
})

describe('edit forms', () => {
  it('never prefills a masked personal value (it would overwrite the real one)', () => {
    expect(editableValue('person', { clearFields: [] }, 'name', '李**')).toBe('')
    expect(editableValue('person', { clearFields: ['name'] }, 'name', '李雨新')).toBe('李雨新')
    expect(editableValue('person', { clearFields: ['address'] }, 'address', '白塔东路34号***')).toBe('')
    expect(editableValue('person', { clearFields: [] }, 'relation', '户主')).toBe('户主')
    expect(editableValue('person', { clearFields: [] }, 'registered', false)).toBe('false')
    expect(editableValue('entity', { clearFields: [] }, 'legalRep', '王**')).toBe('')
    expect(editableValue('building', {}, 'floors', 7)).toBe('7')
  })
  it('sends only the fields that changed; empty means keep', () => {
    const initial = { name: '', phone: '', relation: '户主', status: 'active' }
    expect(changedValues(initial, { name: '', phone: ' 13800001234 ', relation: '户主', status: 'active' })).toEqual({ phone: '13800001234' })
    expect(changedValues(initial, { name: '李测试', phone: '', relation: '配偶', status: 'active' })).toEqual({ name: '李测试', relation: '配偶' })
    expect(changedValues(initial, { ...initial })).toEqual({})
    expect(changedValues(initial, { ...initial, relation: '' })).toEqual({})
  })
  it('puts field errors of a nested body back on the form fields', () => {
    const err = new ApiError(422, {
      title: '输入有误',
      errors: [
        { field: 'record.idNumber', message: '身份证号有误' },
        { field: 'values.phone', message: '电话有误' },
        { field: 'note', message: '太长' },
      ],
    })
    const target = { idNumber: '', phone: '', note: '' }
    expect(applyFieldErrors(unnestFieldErrors(err), target, ['idNumber', 'phone', 'note'])).toBe(true)
    expect(target).toEqual({ idNumber: '身份证号有误', phone: '电话有误', note: '太长' })
    const plain = new Error('x')
    expect(unnestFieldErrors(plain)).toBe(plain)
  })
  it('builds a create body without empty values', () => {
    expect(compactRecord({ name: ' 楼 ', road: '', floors: 7, lon: Number.NaN, tags: [], registered: false, x: null })).toEqual({
      name: '楼',
      floors: 7,
      registered: false,
    })
  })
})

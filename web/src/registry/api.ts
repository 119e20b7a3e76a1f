// Base-data calls that do not fit the JSON client: raw file uploads for
// imports and file downloads outside the list export endpoints. Reference
// lists (purposes, tags, classes) are fetched once per session.
import { ApiError, API_BASE, CSRF_COOKIE, CSRF_HEADER, api, buildUrl, readCookie, type Problem, type Query } from '@/api/client'
import type { ComponentClass, ImportJob, ImportKind, ImportMode, Purpose, Reference } from './types'

async function problemOf(res: Response): Promise<Problem> {
  const type = res.headers.get('Content-Type') ?? ''
  if (type.includes('json')) {
    try {
      const body = (await res.json()) as Problem
      if (body && typeof body === 'object') return { status: res.status, ...body }
    } catch {
      // a generic problem below
    }
  }
  return { status: res.status, title: res.statusText || `HTTP ${res.status}` }
}

// POST /registry/imports with the file itself as the body.
export async function uploadImport(kind: ImportKind, mode: ImportMode, file: Blob, filename: string): Promise<ImportJob> {
  const headers: Record<string, string> = {
    Accept: 'application/json, application/problem+json',
    'Content-Type': 'application/octet-stream',
  }
  const csrf = readCookie(CSRF_COOKIE)
  if (csrf) headers[CSRF_HEADER] = csrf
  let res: Response
  try {
    res = await fetch(buildUrl('/registry/imports', { kind, mode, filename }), {
      method: 'POST',
      headers,
      body: file,
      credentials: 'same-origin',
    })
  } catch (e) {
    throw new ApiError(0, { title: 'network', detail: (e as Error)?.message })
  }
  if (!res.ok) throw new ApiError(res.status, await problemOf(res))
  return (await res.json()) as ImportJob
}

function filenameFrom(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition)
  if (star) return decodeURIComponent(star[1]!)
  const plain = /filename="?([^";]+)"?/i.exec(disposition)
  return plain ? plain[1]! : fallback
}

// Downloads GET /api/v1<path>?<query> as a file (errors come back as ApiError).
export async function downloadFile(path: string, query: Query, fallbackName: string): Promise<void> {
  let res: Response
  try {
    res = await fetch(buildUrl(path, query), { headers: { Accept: '*/*' }, credentials: 'same-origin' })
  } catch (e) {
    throw new ApiError(0, { title: 'network', detail: (e as Error)?.message })
  }
  if (!res.ok) throw new ApiError(res.status, await problemOf(res))
  const blob = await res.blob()
  const href = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = href
  a.download = filenameFrom(res.headers.get('Content-Disposition'), fallbackName)
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 10_000)
}

export const templateUrl = (kind: ImportKind, format: 'xlsx' | 'csv') => buildUrl('/registry/imports/template', { kind, format })
export const API_PREFIX = API_BASE

let reference: Promise<Reference> | null = null
let purposes: Promise<Purpose[]> | null = null
let purposesFor = ''
let classes: Promise<ComponentClass[]> | null = null

export function loadReference(): Promise<Reference> {
  reference ??= api.get<Reference>('/registry/reference', { silent: true }).catch((e) => {
    reference = null
    throw e
  })
  return reference
}

// The purposes the user's roles may state (cached per user).
export function loadPurposes(userId = ''): Promise<Purpose[]> {
  if (purposesFor !== userId) purposes = null
  purposesFor = userId
  purposes ??= api
    .get<{ items: Purpose[] }>('/registry/purposes', { silent: true })
    .then((r) => r.items ?? [])
    .catch((e) => {
      purposes = null
      throw e
    })
  return purposes
}

export function loadComponentClasses(): Promise<ComponentClass[]> {
  classes ??= api
    .get<{ items: ComponentClass[] }>('/component-classes', { silent: true })
    .then((r) => r.items ?? [])
    .catch((e) => {
      classes = null
      throw e
    })
  return classes
}

// Reference lists belong to the signed-in user (purposes depend on roles).
export function forgetRegistryCache() {
  reference = null
  purposes = null
  classes = null
}

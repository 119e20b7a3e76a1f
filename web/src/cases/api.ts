// Calls of the cases API and the client-side photo preparation.
import { api } from '@/api/client'
import { fitWithin } from './labels'
import type { ActionInput, Candidate, Case, CaseAction, CaseCategory, CaseDetail, Intake, NewCase, Photo, Suggestion } from './types'

export const casePath = (id: string) => `/cases/${encodeURIComponent(id)}`
export const photoUrl = (caseId: string, photoId: string) => `/api/v1/cases/${encodeURIComponent(caseId)}/photos/${encodeURIComponent(photoId)}`

export function getCase(id: string, purpose?: 'case-handling'): Promise<CaseDetail> {
  return api.get<CaseDetail>(casePath(id), { query: { purpose }, silent: true })
}

export function act(id: string, action: CaseAction, body: ActionInput): Promise<Case> {
  return api.post<Case>(`${casePath(id)}/actions/${action}`, body, { silent: true })
}

export function reportCase(body: NewCase): Promise<Intake> {
  return api.post<Intake>('/cases', body, { silent: true })
}

export async function classify(description: string, signal?: AbortSignal): Promise<Candidate[]> {
  return (await api.post<Candidate[]>('/cases/classify', { description }, { silent: true, signal })) ?? []
}

export async function duplicates(id: string): Promise<Suggestion[]> {
  return (await api.get<Suggestion[]>(`${casePath(id)}/duplicates`, { silent: true })) ?? []
}

let categories: Promise<CaseCategory[]> | null = null
// The categories (cached for the page's life; `fresh` reloads them).
export function loadCategories(fresh = false): Promise<CaseCategory[]> {
  if (!categories || fresh) {
    categories = api.get<CaseCategory[]>('/case-categories', { silent: true }).then((x) => x ?? [])
    categories.catch(() => (categories = null))
  }
  return categories
}

const MAX_SIDE = 1600

function toBase64(buf: ArrayBuffer): string {
  const bytes = new Uint8Array(buf)
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

// A photo for the API: scaled to at most 1600 px and re-encoded as JPEG in
// the browser; a file the browser cannot draw is sent as it is.
export async function preparePhoto(file: File): Promise<Photo> {
  try {
    const bmp = await createImageBitmap(file)
    const { w, h } = fitWithin(bmp.width, bmp.height, MAX_SIDE)
    const canvas = document.createElement('canvas')
    canvas.width = w
    canvas.height = h
    const ctx = canvas.getContext('2d')
    if (!ctx) throw new Error('no canvas')
    ctx.fillStyle = '#ffffff'
    ctx.fillRect(0, 0, w, h)
    ctx.drawImage(bmp, 0, 0, w, h)
    bmp.close?.()
    const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/jpeg', 0.82))
    if (!blob) throw new Error('no blob')
    return { mime: 'image/jpeg', data: toBase64(await blob.arrayBuffer()) }
  } catch {
    return { mime: file.type || 'image/jpeg', data: toBase64(await file.arrayBuffer()) }
  }
}

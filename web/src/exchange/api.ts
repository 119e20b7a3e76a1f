// Calls of the 共享交换 API (/api/v1/exchange). Errors come back as ApiError
// and are not shown by the client (silent): the pages show them where they
// belong (form fields, alerts).
import { ApiError, API_BASE, CSRF_COOKIE, CSRF_HEADER, api, buildUrl, readCookie, type Problem } from '@/api/client'
import type {
  AccessProof,
  Answer,
  Decision,
  Dispute,
  ExchangeQuery,
  Grant,
  Invitation,
  JoinInput,
  Link,
  LinkInput,
  LoadResult,
  NewDispute,
  NewRequest,
  NewResource,
  NewSubscription,
  NodeInvite,
  NodeView,
  ExchangeNode,
  QualityBoard,
  QualityRun,
  Resource,
  ShareRequest,
  Subscription,
  SyncResult,
} from './types'

export const EX = '/exchange'
const enc = encodeURIComponent
const res = (id: string) => `${EX}/resources/${enc(id)}`
const silent = { silent: true } as const

// Catalog.
export const getResource = (id: string) => api.get<Resource>(res(id), silent)
export const resourceVersions = async (id: string) => (await api.get<Resource[]>(`${res(id)}/versions`, silent)) ?? []
export const createResource = (body: NewResource) => api.post<Resource>(`${EX}/resources`, body, silent)
export const updateResource = (id: string, version: number, body: NewResource) =>
  api.put<Resource>(res(id), body, { ...silent, query: { version } })
export const setResourceStatus = (id: string, status: 'draft' | 'published' | 'retired') =>
  api.post<Resource>(`${res(id)}/status`, { status }, silent)
export const resourceSample = async (id: string, n = 10) => (await api.get<Record<string, string>[]>(`${res(id)}/sample`, { ...silent, query: { n } })) ?? []
export const latestQuality = (id: string) => api.get<QualityRun>(`${res(id)}/quality`, silent)
export const runQuality = (id: string) => api.post<QualityRun>(`${res(id)}/quality`, undefined, silent)
export const qualityBoard = () => api.get<QualityBoard>(`${EX}/quality`, silent)

async function problemOf(r: Response): Promise<Problem> {
  const type = r.headers.get('Content-Type') ?? ''
  if (type.includes('json')) {
    try {
      const body = (await r.json()) as Problem
      if (body && typeof body === 'object') return { status: r.status, ...body }
    } catch {
      // a generic problem below
    }
  }
  return { status: r.status, title: r.statusText || `HTTP ${r.status}` }
}

// POST …/resources/{id}/records.csv with the CSV file itself as the body.
export async function loadCsv(id: string, file: Blob, replace: boolean): Promise<LoadResult> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', 'Content-Type': 'text/csv' }
  const csrf = readCookie(CSRF_COOKIE)
  if (csrf) headers[CSRF_HEADER] = csrf
  let r: Response
  try {
    r = await fetch(buildUrl(`${res(id)}/records.csv`, { replace: replace ? 'true' : 'false' }), {
      method: 'POST',
      headers,
      body: file,
      credentials: 'same-origin',
    })
  } catch (e) {
    throw new ApiError(0, { title: 'network', detail: (e as Error)?.message })
  }
  if (!r.ok) throw new ApiError(r.status, await problemOf(r))
  return (await r.json()) as LoadResult
}

// Requests and grants.
export const requestAccess = (body: NewRequest) => api.post<ShareRequest>(`${EX}/requests`, body, silent)
export const decide = (id: string, body: Decision) => api.post<ShareRequest>(`${EX}/requests/${enc(id)}/decision`, body, silent)
export const revokeGrant = (id: string, reason: string) => api.post<Grant>(`${EX}/grants/${enc(id)}/revoke`, { reason }, silent)
export const queryGrant = (body: ExchangeQuery) => api.post<Answer>(`${EX}/query`, body, silent)

// The proof of an access, by id or by the proofUrl the tracker gives
// ("/api/v1/exchange/access/{id}/proof").
export function accessProof(idOrUrl: string): Promise<AccessProof> {
  const path = idOrUrl.startsWith(API_BASE + '/') ? idOrUrl.slice(API_BASE.length) : `${EX}/access/${enc(idOrUrl)}/proof`
  return api.get<AccessProof>(path, silent)
}

// Subscriptions.
export const subscribe = (body: NewSubscription) => api.post<Subscription>(`${EX}/subscriptions`, body, silent)
export const subscriptions = async () => (await api.get<Subscription[]>(`${EX}/subscriptions`, silent)) ?? []
export const unsubscribe = (id: string) => api.del<void>(`${EX}/subscriptions/${enc(id)}`, silent)

// Data tracker and disputes.
export const trackerLinks = async () => (await api.get<Link[]>(`${EX}/tracker/links`, silent)) ?? []
export const linkSubject = (body: LinkInput) => api.post<Link>(`${EX}/tracker/links`, body, silent)
// The person's own disputes live under the tracker; /disputes is the providers' inbox.
export const raiseDispute = (body: NewDispute) => api.post<Dispute>(`${EX}/tracker/disputes`, body, silent)
export const answerDispute = (id: string, accept: boolean, answer: string) =>
  api.post<Dispute>(`${EX}/disputes/${enc(id)}/answer`, { accept, answer }, silent)

// Federation.
export const nodes = () => api.get<NodeView>(`${EX}/nodes`, silent)
export const inviteNode = (body: NodeInvite) => api.post<Invitation>(`${EX}/nodes/invitations`, body, silent)
export const joinParent = (body: JoinInput) => api.post<ExchangeNode>(`${EX}/nodes/parent`, body, silent)
export const syncNodes = () => api.post<SyncResult>(`${EX}/nodes/sync`, undefined, silent)
export const revokeNode = (id: string, reason: string) => api.post<ExchangeNode>(`${EX}/nodes/${enc(id)}/revoke`, { reason }, silent)

// A small fetch wrapper for the Shuzhi API: JSON in and out, same-origin
// cookies, the CSRF header on unsafe methods, and RFC 9457 problem details
// turned into ApiError (shown to the user unless the caller asks otherwise).

export const API_BASE = '/api/v1'
export const CSRF_COOKIE = 'shuzhi_csrf'
export const CSRF_HEADER = 'X-CSRF-Token'

export interface FieldError {
  field: string
  rule?: string
  message: string
}

export interface Problem {
  type?: string
  title?: string
  status?: number
  detail?: string
  instance?: string
  requestId?: string
  errors?: FieldError[]
}

export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem

  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.problem = problem
  }

  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? []
  }
}

export type Query = Record<string, string | number | boolean | null | undefined | string[]>

export interface RequestOptions {
  query?: Query
  body?: unknown
  signal?: AbortSignal
  // Do not show the error to the user; the caller handles it.
  silent?: boolean
  // Do not redirect to /login on 401 (the login form and the session probe).
  no401Redirect?: boolean
}

type Notifier = (err: ApiError) => void
type UnauthorizedHandler = () => void

let notify: Notifier = () => {}
let onUnauthorized: UnauthorizedHandler = () => {}

// Wired up in main.ts; tests substitute their own.
export function configureClient(opts: { notify?: Notifier; onUnauthorized?: UnauthorizedHandler }) {
  if (opts.notify) notify = opts.notify
  if (opts.onUnauthorized) onUnauthorized = opts.onUnauthorized
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export function readCookie(name: string): string | undefined {
  if (typeof document === 'undefined') return undefined
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim())
  }
  return undefined
}

// Builds "/api/v1/path?..." leaving out empty values, so that a cleared filter
// is not sent as "?q=".
export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue
    if (Array.isArray(v)) v.forEach((x) => x !== '' && params.append(k, x))
    else params.append(k, String(v))
  }
  const qs = params.toString()
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`
}

async function parseProblem(res: Response): Promise<Problem> {
  const type = res.headers.get('Content-Type') ?? ''
  if (type.includes('json')) {
    try {
      const body = (await res.json()) as Problem
      if (body && typeof body === 'object') return { status: res.status, ...body }
    } catch {
      // fall through to a generic problem
    }
  }
  return { status: res.status, title: res.statusText || `HTTP ${res.status}` }
}

function send(method: string, path: string, opts: RequestOptions, accept: string): Promise<Response> {
  return sendUrl(method, buildUrl(path, opts.query), opts, accept)
}

async function sendUrl(method: string, url: string, opts: RequestOptions, accept: string): Promise<Response> {
  const headers: Record<string, string> = { Accept: accept }
  let body: BodyInit | undefined
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  if (unsafeMethods.has(method)) {
    const csrf = readCookie(CSRF_COOKIE)
    if (csrf) headers[CSRF_HEADER] = csrf
  }
  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e
    const err = new ApiError(0, { title: 'network', detail: (e as Error)?.message })
    if (!opts.silent) notify(err)
    throw err
  }
  if (!res.ok) {
    const err = new ApiError(res.status, await parseProblem(res))
    if (res.status === 401 && !opts.no401Redirect) {
      onUnauthorized()
    } else if (!opts.silent) {
      notify(err)
    }
    throw err
  }
  return res
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(method, path, opts, 'application/json, application/problem+json')
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body }),
  del: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
}

// GET of a plain-text resource outside /api/v1 (e.g. the signed checkpoint
// at /ledger/checkpoint); errors are problem details as for the API.
export async function getText(url: string, opts: Omit<RequestOptions, 'body' | 'query'> = {}): Promise<string> {
  const res = await sendUrl('GET', url, opts, 'text/plain, application/problem+json')
  return res.text()
}

// The export endpoint of a list: GET /api/v1/<list>/export?format=xlsx&<filters>.
export function exportUrl(list: string, filters: Query, format: 'xlsx' | 'csv' = 'xlsx'): string {
  const rest: Query = { ...filters }
  delete rest.page
  delete rest.pageSize
  return buildUrl(`/${list}/export`, { format, ...rest })
}

function filenameFrom(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition)
  if (star) return decodeURIComponent(star[1]!)
  const plain = /filename="?([^";]+)"?/i.exec(disposition)
  return plain ? plain[1]! : fallback
}

// Downloads a file through fetch (not a plain link) so that an error comes
// back as a readable message instead of a saved problem+json file.
export async function download(list: string, filters: Query, format: 'xlsx' | 'csv' = 'xlsx'): Promise<void> {
  const url = exportUrl(list, filters, format)
  const res = await sendUrl('GET', url, {}, '*/*')
  const blob = await res.blob()
  const name = filenameFrom(res.headers.get('Content-Disposition'), `${list}.${format}`)
  const href = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = href
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 10_000)
}

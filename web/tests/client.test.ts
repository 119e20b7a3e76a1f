import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, buildUrl, configureClient, exportUrl, getText } from '@/api/client'
import { applyFieldErrors } from '@/api/errors'

function reply(status: number, body: unknown, type = 'application/json') {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p
  } catch (e) {
    return e as ApiError
  }
  throw new Error('expected the request to fail')
}

let fetchMock: ReturnType<typeof vi.fn>
const notify = vi.fn()
const onUnauthorized = vi.fn()

beforeEach(() => {
  fetchMock = vi.fn()
  vi.stubGlobal('fetch', fetchMock)
  notify.mockReset()
  onUnauthorized.mockReset()
  configureClient({ notify, onUnauthorized })
  document.cookie = 'shuzhi_csrf=tok%2Babc; path=/'
})

afterEach(() => {
  vi.unstubAllGlobals()
  document.cookie = 'shuzhi_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/'
})

function sentHeaders(call = 0): Record<string, string> {
  return fetchMock.mock.calls[call]![1].headers as Record<string, string>
}

describe('CSRF header', () => {
  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])('is sent on %s from the shuzhi_csrf cookie', async (method) => {
    fetchMock.mockResolvedValue(reply(200, { ok: true }))
    const call = { POST: api.post, PUT: api.put, PATCH: api.patch, DELETE: api.del }[method]!
    await (call as (p: string) => Promise<unknown>)('/things')
    expect(fetchMock.mock.calls[0]![1].method).toBe(method)
    expect(sentHeaders()['X-CSRF-Token']).toBe('tok+abc')
  })

  it('is not sent on GET', async () => {
    fetchMock.mockResolvedValue(reply(200, { items: [] }))
    await api.get('/things')
    expect(sentHeaders()['X-CSRF-Token']).toBeUndefined()
  })

  it('sends same-origin credentials and JSON bodies', async () => {
    fetchMock.mockResolvedValue(reply(201, { id: '1' }))
    await api.post('/users', { username: 'a' })
    const init = fetchMock.mock.calls[0]![1]
    expect(init.credentials).toBe('same-origin')
    expect(init.body).toBe('{"username":"a"}')
    expect(sentHeaders()['Content-Type']).toBe('application/json')
    expect(fetchMock.mock.calls[0]![0]).toBe('/api/v1/users')
  })
})

describe('problem details', () => {
  const problem = {
    type: 'about:blank',
    title: '请求参数无效',
    status: 422,
    detail: '有 2 个字段不符合要求',
    requestId: 'r-1',
    errors: [
      { field: 'username', rule: 'pattern', message: '用户名格式不正确' },
      { field: 'roles[1]', rule: 'separation', message: '三员分立' },
    ],
  }

  it('become an ApiError with the problem and its field errors, shown to the user', async () => {
    fetchMock.mockResolvedValue(reply(422, problem, 'application/problem+json'))
    const err = await failure(api.post('/users', {}))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(422)
    expect(err.problem.title).toBe('请求参数无效')
    expect(err.problem.requestId).toBe('r-1')
    expect(err.fieldErrors).toHaveLength(2)
    expect(err.message).toBe('有 2 个字段不符合要求')
    expect(notify).toHaveBeenCalledTimes(1)
    expect(notify.mock.calls[0]![0]).toBe(err)
  })

  it('are not shown when the caller handles them', async () => {
    fetchMock.mockResolvedValue(reply(409, { title: 'conflict', status: 409 }, 'application/problem+json'))
    await expect(api.post('/users', {}, { silent: true })).rejects.toBeInstanceOf(ApiError)
    expect(notify).not.toHaveBeenCalled()
  })

  it('map field errors onto form items by name', async () => {
    fetchMock.mockResolvedValue(reply(422, problem, 'application/problem+json'))
    const err = await failure(api.post('/users', {}, { silent: true }))
    const target = { username: 'old', roles: '', password: 'stale' }
    expect(applyFieldErrors(err, target, ['username', 'roles', 'password'])).toBe(true)
    expect(target).toEqual({ username: '用户名格式不正确', roles: '三员分立', password: '' })
  })

  it('fall back to the status text when the body is not JSON', async () => {
    fetchMock.mockResolvedValue(new Response('boom', { status: 502, statusText: 'Bad Gateway', headers: { 'Content-Type': 'text/plain' } }))
    const err = await failure(api.get('/x'))
    expect(err.status).toBe(502)
    expect(err.problem.title).toBe('Bad Gateway')
  })

  it('turn a network failure into status 0', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'))
    const err = await failure(api.get('/x'))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(0)
    expect(notify).toHaveBeenCalled()
  })
})

describe('plain text outside /api/v1', () => {
  it('is fetched as is from the given path', async () => {
    fetchMock.mockResolvedValue(new Response('shuzhi.local/ledger\n5\nroot\n', { status: 200, headers: { 'Content-Type': 'text/plain' } }))
    expect(await getText('/ledger/checkpoint')).toBe('shuzhi.local/ledger\n5\nroot\n')
    expect(fetchMock.mock.calls[0]![0]).toBe('/ledger/checkpoint')
  })
  it('turns a problem into an ApiError', async () => {
    fetchMock.mockResolvedValue(reply(404, { title: 'not found', status: 404 }, 'application/problem+json'))
    const err = await failure(getText('/ledger/checkpoint', { silent: true }))
    expect(err.status).toBe(404)
    expect(notify).not.toHaveBeenCalled()
  })
})

describe('401', () => {
  it('leads to the login page instead of a message', async () => {
    fetchMock.mockResolvedValue(reply(401, { title: 'unauthenticated', status: 401 }, 'application/problem+json'))
    await expect(api.get('/users')).rejects.toBeInstanceOf(ApiError)
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    expect(notify).not.toHaveBeenCalled()
  })

  it('is left to the caller on the login form', async () => {
    fetchMock.mockResolvedValue(reply(401, { title: 'bad credentials', status: 401 }, 'application/problem+json'))
    await expect(api.post('/auth/login', {}, { silent: true, no401Redirect: true })).rejects.toMatchObject({ status: 401 })
    expect(onUnauthorized).not.toHaveBeenCalled()
  })
})

describe('URLs', () => {
  it('leave out empty filters', () => {
    expect(buildUrl('/users', { q: '', role: 'auditor', page: 2, status: undefined })).toBe('/api/v1/users?role=auditor&page=2')
  })
  it('build the export link from the current filters without paging', () => {
    expect(exportUrl('users', { q: '张', role: 'dept_staff', page: 3, pageSize: 50 })).toBe(
      '/api/v1/users/export?format=xlsx&q=%E5%BC%A0&role=dept_staff',
    )
  })
})

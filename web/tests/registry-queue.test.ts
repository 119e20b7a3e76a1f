import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/client'
import { isNetworkFailure, isRetryable, OfflineQueue, QUEUE_PREFIX, type KeyValueStorage } from '@/registry/offlineQueue'
import { createOutbox } from '@/registry/outbox'
import type { ProposeBody, ProposeResult } from '@/registry/types'

class MemoryStorage implements KeyValueStorage {
  data = new Map<string, string>()
  getItem(k: string) {
    return this.data.get(k) ?? null
  }
  setItem(k: string, v: string) {
    this.data.set(k, v)
  }
  removeItem(k: string) {
    this.data.delete(k)
  }
}

const fix = (phone: string): ProposeBody => ({ kind: 'person', recordId: 'p1', values: { phone }, note: 'visit' })
const offline = () => new ApiError(0, { title: 'network', detail: 'Failed to fetch' })
const ok: ProposeResult = { outcomes: [{ field: 'phone', outcome: 'routed', authorityDept: 'jd', changeId: 'c1' }] }

describe('network failures', () => {
  it('are fetch throwing (status 0 or a TypeError), not HTTP errors', () => {
    expect(isNetworkFailure(offline())).toBe(true)
    expect(isNetworkFailure(new TypeError('Failed to fetch'))).toBe(true)
    expect(isNetworkFailure(new ApiError(422, {}))).toBe(false)
    expect(isNetworkFailure(new ApiError(500, {}))).toBe(false)
  })
  it('keep an item queued for network, 401, 429 and 5xx, not for 4xx', () => {
    for (const s of [0, 401, 408, 429, 500, 503]) expect(isRetryable(new ApiError(s, {})), String(s)).toBe(true)
    for (const s of [400, 403, 404, 409, 422]) expect(isRetryable(new ApiError(s, {})), String(s)).toBe(false)
  })
})

describe('OfflineQueue', () => {
  let store: MemoryStorage
  let q: OfflineQueue
  beforeEach(() => {
    store = new MemoryStorage()
    q = new OfflineQueue(store, QUEUE_PREFIX + 'u1')
  })

  it('keeps items in storage under the user key, in order, across instances', () => {
    q.add(fix('1'), 'first', 1000)
    q.add(fix('2'), 'second', 2000)
    expect(q.size).toBe(2)
    const again = new OfflineQueue(store, QUEUE_PREFIX + 'u1')
    expect(again.list().map((x) => x.label)).toEqual(['first', 'second'])
    expect(again.list()[0]).toMatchObject({ body: fix('1'), queuedAt: 1000, attempts: 0 })
    expect(new OfflineQueue(store, QUEUE_PREFIX + 'u2').size).toBe(0)
  })

  it('gives every item its own id and removes by id; an empty queue leaves no key', () => {
    const a = q.add(fix('1'), 'a')
    const b = q.add(fix('2'), 'b')
    expect(a.id).not.toBe(b.id)
    q.remove(a.id)
    expect(q.list().map((x) => x.id)).toEqual([b.id])
    q.remove(b.id)
    expect(store.data.has(q.key)).toBe(false)
  })

  it('treats corrupt or foreign storage as empty', () => {
    store.setItem(q.key, '{not json')
    expect(q.list()).toEqual([])
    store.setItem(q.key, JSON.stringify({ a: 1 }))
    expect(q.list()).toEqual([])
    store.setItem(q.key, JSON.stringify([{ id: 'x', body: { kind: 'person' }, label: 'ok', queuedAt: 1, attempts: 0 }, { id: 3 }, null]))
    expect(q.list().map((x) => x.id)).toEqual(['x'])
  })

  it('sends everything in order and empties the queue when the network is back', async () => {
    q.add(fix('1'), 'a')
    q.add(fix('2'), 'b')
    const sent: string[] = []
    const r = await q.flush(async (body) => {
      sent.push(body.values!.phone!)
      return ok
    })
    expect(sent).toEqual(['1', '2'])
    expect(r.sent).toHaveLength(2)
    expect(r.remaining).toBe(0)
    expect(q.size).toBe(0)
  })

  it('stops at the first network failure and keeps the rest, counting the try', async () => {
    q.add(fix('1'), 'a')
    q.add(fix('2'), 'b')
    q.add(fix('3'), 'c')
    let n = 0
    const r = await q.flush(
      async () => {
        if (++n === 2) throw offline()
        return ok
      },
      () => 4242,
    )
    expect(n).toBe(2)
    expect(r.sent.map((s) => s.item.label)).toEqual(['a'])
    expect(r.remaining).toBe(2)
    expect(q.list().map((x) => [x.label, x.attempts, x.lastTriedAt])).toEqual([
      ['b', 1, 4242],
      ['c', 0, undefined],
    ])
  })

  it('drops an item the server refuses for good and goes on with the next', async () => {
    q.add(fix('bad'), 'a')
    q.add(fix('2'), 'b')
    const r = await q.flush(async (body) => {
      if (body.values!.phone === 'bad') throw new ApiError(422, { errors: [{ field: 'phone', message: 'x' }] })
      return ok
    })
    expect(r.dropped.map((d) => d.item.label)).toEqual(['a'])
    expect(r.sent.map((s) => s.item.label)).toEqual(['b'])
    expect(q.size).toBe(0)
  })

  it('never submits an item twice when flushes overlap', async () => {
    q.add(fix('1'), 'a')
    const send = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 5))
      return ok
    })
    const [r1, r2, r3] = await Promise.all([q.flush(send), q.flush(send), q.flush(send)])
    expect(send).toHaveBeenCalledTimes(1)
    expect(r1.sent).toHaveLength(1)
    expect(r2).toBe(r3)
    expect(r2.sent).toHaveLength(0)
  })

  it('runs again after a failing run when asked meanwhile (online during an offline try)', async () => {
    q.add(fix('1'), 'a')
    let online = false
    const send = vi.fn(async () => {
      const up = online
      await new Promise((r) => setTimeout(r, 5))
      if (!up) throw offline()
      return ok
    })
    const first = q.flush(send)
    online = true
    const second = q.flush(send)
    expect((await first).remaining).toBe(1)
    expect((await second).sent).toHaveLength(1)
    expect(q.size).toBe(0)
  })
})

describe('outbox (submit or queue)', () => {
  beforeEach(() => localStorage.clear())
  afterEach(() => localStorage.clear())

  it('returns the server reply when online', async () => {
    const sender = vi.fn(async () => ok)
    const box = createOutbox('u1', localStorage, sender)
    const r = await box.submit(fix('1'), 'a')
    expect(r).toEqual({ queued: false, result: ok })
    expect(box.state.items).toHaveLength(0)
  })

  it('queues a submission when fetch throws and sends it on `online`', async () => {
    let online = false
    const sender = vi.fn(async (b: ProposeBody) => {
      if (!online) throw offline()
      return { ...ok, body: b } as unknown as ProposeResult
    })
    const box = createOutbox('u1', localStorage, sender)
    const r = await box.submit(fix('1'), 'a')
    expect(r.queued).toBe(true)
    expect(box.state.items.map((x) => x.label)).toEqual(['a'])
    expect(JSON.parse(localStorage.getItem(QUEUE_PREFIX + 'u1')!)).toHaveLength(1)

    box.start()
    online = true
    window.dispatchEvent(new Event('online'))
    await vi.waitFor(() => expect(box.state.items).toHaveLength(0))
    expect(box.state.lastFlush).toEqual({ sent: 1, dropped: [] })
    expect(localStorage.getItem(QUEUE_PREFIX + 'u1')).toBeNull()
    box.stop()
  })

  it('sends what an earlier page load left behind when it starts', async () => {
    new OfflineQueue(localStorage, QUEUE_PREFIX + 'u1').add(fix('1'), 'left over')
    const sender = vi.fn(async () => ok)
    const box = createOutbox('u1', localStorage, sender)
    expect(box.state.items).toHaveLength(1)
    box.start()
    await vi.waitFor(() => expect(sender).toHaveBeenCalledTimes(1))
    await vi.waitFor(() => expect(box.state.items).toHaveLength(0))
    box.stop()
  })

  it('does not queue a submission the server rejects: the form shows the error', async () => {
    const err = new ApiError(422, { errors: [{ field: 'phone', message: 'bad' }] })
    const box = createOutbox('u1', localStorage, async () => {
      throw err
    })
    await expect(box.submit(fix('x'), 'a')).rejects.toBe(err)
    expect(box.state.items).toHaveLength(0)
  })
})

// The grid worker's offline queue (待发送): a correction or addition whose
// submission failed because the network was down is kept in localStorage and
// sent again when the browser comes back online or the page is next opened.
// Pure logic over a Storage-like object, so that it is unit-tested.
import { ApiError } from '@/api/client'
import type { ProposeBody } from './types'

// What the queue holds: a registry proposal by default; the grid worker's
// outbox also queues reported cases ({ kind: 'case', … }).
export type QueueBody = { kind: string }

export interface QueuedProposal<B extends QueueBody = ProposeBody> {
  id: string
  body: B
  // What the user saw, for the list ("更正 李** 的 联系电话").
  label: string
  queuedAt: number
  attempts: number
  lastTriedAt?: number
}

export interface KeyValueStorage {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

export const QUEUE_PREFIX = 'shuzhi.grid.outbox.'

// True when a request never reached the server (fetch threw): offline, DNS,
// connection refused. The API client turns those into ApiError status 0.
export function isNetworkFailure(e: unknown): boolean {
  if (e instanceof ApiError) return e.status === 0
  return e instanceof TypeError
}

// Whether a failed resubmission should stay queued for another try: network
// failures, expired sessions (the user logs in again), rate limits, timeouts
// and server errors. Anything else (422, 403, 404) will never succeed.
export function isRetryable(e: unknown): boolean {
  if (isNetworkFailure(e)) return true
  if (e instanceof ApiError) return e.status === 401 || e.status === 408 || e.status === 429 || e.status >= 500
  return false
}

export interface FlushResult<R, B extends QueueBody = ProposeBody> {
  sent: { item: QueuedProposal<B>; result: R }[]
  // Rejected by the server for good: removed from the queue.
  dropped: { item: QueuedProposal<B>; error: unknown }[]
  // Still queued (the first retryable failure stops the run).
  remaining: number
  stoppedBy?: unknown
}

let counter = 0
function newId(now: number): string {
  counter = (counter + 1) % 1e6
  return `${now.toString(36)}-${counter.toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

export class OfflineQueue<B extends QueueBody = ProposeBody> {
  private flushing: Promise<FlushResult<unknown, B>> | null = null
  private again: Promise<FlushResult<unknown, B>> | null = null

  constructor(
    private readonly storage: KeyValueStorage,
    readonly key: string,
  ) {}

  list(): QueuedProposal<B>[] {
    let raw: string | null
    try {
      raw = this.storage.getItem(this.key)
    } catch {
      return []
    }
    if (!raw) return []
    try {
      const parsed = JSON.parse(raw) as unknown
      if (!Array.isArray(parsed)) return []
      return parsed.filter(
        (x): x is QueuedProposal<B> => !!x && typeof x === 'object' && typeof x.id === 'string' && !!x.body && typeof x.body.kind === 'string',
      )
    } catch {
      return []
    }
  }

  get size(): number {
    return this.list().length
  }

  private save(items: QueuedProposal<B>[]) {
    try {
      if (items.length === 0) this.storage.removeItem(this.key)
      else this.storage.setItem(this.key, JSON.stringify(items))
    } catch {
      // storage full or unavailable: the item lives until the page closes
    }
  }

  add(body: B, label: string, now = Date.now()): QueuedProposal<B> {
    const item: QueuedProposal<B> = { id: newId(now), body, label, queuedAt: now, attempts: 0 }
    this.save([...this.list(), item])
    return item
  }

  remove(id: string) {
    this.save(this.list().filter((x) => x.id !== id))
  }

  clear() {
    this.save([])
  }

  // Sends the queued items in order. A call while a run is going (say the
  // `online` event during a run that is failing offline) gets one more run
  // after it; calls meanwhile share that one. Never two runs at once.
  flush<R>(send: (body: B) => Promise<R>, now: () => number = Date.now): Promise<FlushResult<R, B>> {
    if (this.flushing) {
      this.again ??= this.flushing.then(
        () => {
          this.again = null
          return this.flush(send, now) as Promise<FlushResult<unknown, B>>
        },
        () => {
          this.again = null
          return this.flush(send, now) as Promise<FlushResult<unknown, B>>
        },
      )
      return this.again as Promise<FlushResult<R, B>>
    }
    const run = this.run(send, now).finally(() => {
      this.flushing = null
    })
    this.flushing = run as Promise<FlushResult<unknown, B>>
    return run
  }

  private async run<R>(send: (body: B) => Promise<R>, now: () => number): Promise<FlushResult<R, B>> {
    const result: FlushResult<R, B> = { sent: [], dropped: [], remaining: 0 }
    for (const item of this.list()) {
      try {
        const r = await send(item.body)
        this.remove(item.id)
        result.sent.push({ item, result: r })
      } catch (e) {
        if (isRetryable(e)) {
          // Count the try on the stored copy and stop: the rest would fail alike.
          this.save(this.list().map((x) => (x.id === item.id ? { ...x, attempts: x.attempts + 1, lastTriedAt: now() } : x)))
          result.stoppedBy = e
          break
        }
        this.remove(item.id)
        result.dropped.push({ item, error: e })
      }
    }
    result.remaining = this.size
    return result
  }
}

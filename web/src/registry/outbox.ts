// The grid worker's outbox: submits a correction or addition to
// POST /registry/changes (or a reported case to POST /cases), or queues it when the network is down, and sends
// the queue again on the `online` event, on the next page load and every
// half minute while anything waits. One reactive instance for the grid area.
import { reactive } from 'vue'
import { api } from '@/api/client'
import { isNetworkFailure, OfflineQueue, QUEUE_PREFIX, type FlushResult, type QueuedProposal } from './offlineQueue'
import { reportCase } from '@/cases/api'
import type { Intake, NewCase } from '@/cases/types'
import type { ProposeBody, ProposeResult } from './types'

// A reported case waiting in the queue.
export interface CaseBody {
  kind: 'case'
  report: NewCase
}
export type OutboxBody = ProposeBody | CaseBody
type Item = QueuedProposal<OutboxBody>

export type SubmitOutcome = { queued: false; result: ProposeResult } | { queued: true; item: Item }
export type CaseOutcome = { queued: false; result: Intake } | { queued: true; item: Item }

export interface Outbox {
  readonly state: { items: Item[]; flushing: boolean; lastFlush: FlushSummary | null }
  submit(body: ProposeBody, label: string): Promise<SubmitOutcome>
  submitCase(report: NewCase, label: string): Promise<CaseOutcome>
  flush(): Promise<FlushResult<ProposeResult | Intake, OutboxBody> | null>
  discard(id: string): void
  start(): void
  stop(): void
}

const RETRY_MS = 30_000

// What the last flush that did anything sent and had refused (a new object each time, for watchers).
export interface FlushSummary {
  sent: number
  dropped: { label: string; error: unknown }[]
}

export function send(body: ProposeBody): Promise<ProposeResult> {
  return api.post<ProposeResult>('/registry/changes', body, { silent: true })
}

export function createOutbox(
  userId: string,
  storage: Storage = localStorage,
  sender: (b: ProposeBody) => Promise<ProposeResult> = send,
  caseSender: (b: NewCase) => Promise<Intake> = reportCase,
): Outbox {
  const queue = new OfflineQueue<OutboxBody>(storage, QUEUE_PREFIX + userId)
  const sendAny = (b: OutboxBody): Promise<ProposeResult | Intake> => (b.kind === 'case' ? caseSender((b as CaseBody).report) : sender(b as ProposeBody))
  const state = reactive({
    items: queue.list(),
    flushing: false,
    lastFlush: null as FlushSummary | null,
  })
  const listeners: (() => void)[] = []
  let timer: ReturnType<typeof setInterval> | undefined
  const refresh = () => {
    state.items = queue.list()
  }

  async function submit(body: ProposeBody, label: string): Promise<SubmitOutcome> {
    try {
      const result = await sender(body)
      return { queued: false, result }
    } catch (e) {
      if (!isNetworkFailure(e)) throw e
      const item = queue.add(body, label)
      refresh()
      return { queued: true, item }
    }
  }

  async function submitCase(report: NewCase, label: string): Promise<CaseOutcome> {
    try {
      const result = await caseSender(report)
      return { queued: false, result }
    } catch (e) {
      if (!isNetworkFailure(e)) throw e
      const item = queue.add({ kind: 'case', report }, label)
      refresh()
      return { queued: true, item }
    }
  }

  async function flush(): Promise<FlushResult<ProposeResult | Intake, OutboxBody> | null> {
    if (queue.size === 0) {
      refresh()
      return null
    }
    state.flushing = true
    try {
      const r = await queue.flush(sendAny)
      if (r.sent.length || r.dropped.length) {
        state.lastFlush = { sent: r.sent.length, dropped: r.dropped.map((d) => ({ label: d.item.label, error: d.error })) }
      }
      return r
    } finally {
      state.flushing = false
      refresh()
    }
  }

  function discard(id: string) {
    queue.remove(id)
    refresh()
  }

  function start() {
    if (listeners.length) return
    const onOnline = () => void flush()
    const onStorage = (e: StorageEvent) => {
      if (e.key === queue.key) refresh()
    }
    window.addEventListener('online', onOnline)
    window.addEventListener('storage', onStorage)
    listeners.push(
      () => window.removeEventListener('online', onOnline),
      () => window.removeEventListener('storage', onStorage),
    )
    timer = setInterval(() => {
      if (state.items.length && !state.flushing) void flush()
    }, RETRY_MS)
    void flush()
  }

  function stop() {
    for (const off of listeners.splice(0)) off()
    if (timer) clearInterval(timer)
    timer = undefined
  }

  return { state, submit, submitCase, flush, discard, start, stop }
}

let current: { userId: string; outbox: Outbox } | null = null

// The outbox of the signed-in grid worker (one per user id).
export function useOutbox(userId: string): Outbox {
  if (current?.userId !== userId) {
    current?.outbox.stop()
    current = { userId, outbox: createOutbox(userId) }
  }
  return current.outbox
}

// State of a running import (批量导入): progress from checked/written against
// total, which write modes a dry run allows, and polling
// GET /registry/imports/{id} until the job reaches a final state.
import { importRunning } from './labels'
import type { ImportJob, ImportMode } from './types'

export type ProgressStatus = 'active' | 'success' | 'exception' | 'warning'

export interface ImportProgress {
  phase: 'checking' | 'writing' | 'final'
  // 0–100, whole numbers.
  percent: number
  status: ProgressStatus
}

function pct(n: number, d: number): number {
  if (!(d > 0)) return 0
  return Math.max(0, Math.min(100, Math.floor((n / d) * 100)))
}

// Rows a write will write: the good ones in good-rows mode, all otherwise.
export function rowsToWrite(job: Pick<ImportJob, 'mode' | 'total' | 'good'>): number {
  return job.mode === 'good-rows' ? job.good : job.total
}

export function importProgress(job: Pick<ImportJob, 'status' | 'mode' | 'total' | 'checked' | 'good' | 'written'>): ImportProgress {
  switch (job.status) {
    case 'checking':
      return { phase: 'checking', percent: pct(job.checked, job.total), status: 'active' }
    case 'writing':
      return { phase: 'writing', percent: pct(job.written, rowsToWrite(job)), status: 'active' }
    case 'done':
      return { phase: 'final', percent: 100, status: 'success' }
    case 'rejected':
    case 'failed':
      return { phase: 'final', percent: pct(job.checked, job.total), status: 'exception' }
    default:
      // cancelled, interrupted
      return { phase: 'final', percent: pct(job.checked, job.total), status: 'warning' }
  }
}

export interface WriteChoices {
  // 全部无误才写入: only when the dry run found no bad row.
  allOrNothing: boolean
  // 仅写入正确行: when there is at least one good row.
  goodRows: boolean
}

// What may follow a finished dry run.
export function writeChoices(job: Pick<ImportJob, 'mode' | 'status' | 'good' | 'bad' | 'total'> | null | undefined): WriteChoices {
  if (!job || job.mode !== 'dry-run' || job.status !== 'done' || job.total === 0) return { allOrNothing: false, goodRows: false }
  return { allOrNothing: job.bad === 0 && job.good > 0, goodRows: job.good > 0 }
}

export interface PollOptions {
  // First wait between polls; doubles up to maxIntervalMs while nothing moves.
  intervalMs?: number
  maxIntervalMs?: number
  // Consecutive failed polls tolerated before giving up.
  maxFailures?: number
  signal?: AbortSignal
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

export class PollAborted extends Error {
  constructor() {
    super('poll aborted')
    this.name = 'AbortError'
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new PollAborted())
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(new PollAborted())
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function progressKey(j: ImportJob): string {
  return `${j.status}:${j.checked}:${j.written}`
}

// Polls until the job is final; every reply goes to onUpdate. Resolves with
// the final job; rejects with PollAborted when aborted, or with the last
// error after maxFailures consecutive failures.
export async function pollImport(
  id: string,
  get: (id: string) => Promise<ImportJob>,
  onUpdate: (job: ImportJob) => void,
  opts: PollOptions = {},
): Promise<ImportJob> {
  const base = opts.intervalMs ?? 400
  const max = opts.maxIntervalMs ?? 2000
  const maxFailures = opts.maxFailures ?? 5
  const sleep = opts.sleep ?? defaultSleep
  let wait = base
  let failures = 0
  let last = ''
  for (;;) {
    if (opts.signal?.aborted) throw new PollAborted()
    let job: ImportJob
    try {
      job = await get(id)
      failures = 0
    } catch (e) {
      if (opts.signal?.aborted) throw new PollAborted()
      if (++failures >= maxFailures) throw e
      await sleep(Math.min(max, base * 2 ** failures), opts.signal)
      continue
    }
    onUpdate(job)
    if (!importRunning(job.status)) return job
    const key = progressKey(job)
    wait = key === last ? Math.min(max, wait * 2) : base
    last = key
    await sleep(wait, opts.signal)
  }
}

export const writeModes: Exclude<ImportMode, 'dry-run'>[] = ['all-or-nothing', 'good-rows']

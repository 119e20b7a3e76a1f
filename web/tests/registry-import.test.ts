import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/client'
import { importProgress, pollImport, PollAborted, rowsToWrite, writeChoices } from '@/registry/importJob'
import type { ImportJob } from '@/registry/types'

function job(over: Partial<ImportJob>): ImportJob {
  return {
    id: 'j1',
    kind: 'people',
    filename: 'p.csv',
    mode: 'dry-run',
    status: 'checking',
    total: 10,
    checked: 0,
    good: 0,
    bad: 0,
    written: 0,
    errors: [],
    fileHash: 'h',
    actorName: 'staff',
    sourceDept: 'jd',
    createdAt: 1,
    ...over,
  }
}

describe('import progress', () => {
  it('follows checked against total while checking', () => {
    expect(importProgress(job({ checked: 0 }))).toEqual({ phase: 'checking', percent: 0, status: 'active' })
    expect(importProgress(job({ checked: 5 }))).toEqual({ phase: 'checking', percent: 50, status: 'active' })
    expect(importProgress(job({ checked: 3, total: 0 })).percent).toBe(0)
  })
  it('follows written against the rows to write while writing', () => {
    expect(importProgress(job({ status: 'writing', mode: 'all-or-nothing', written: 4 })).percent).toBe(40)
    expect(rowsToWrite(job({ mode: 'good-rows', good: 8 }))).toBe(8)
    expect(importProgress(job({ status: 'writing', mode: 'good-rows', good: 8, written: 2 })).percent).toBe(25)
    expect(importProgress(job({ status: 'writing', mode: 'good-rows', good: 8, written: 99 })).percent).toBe(100)
  })
  it('ends at 100 for done and marks failures', () => {
    expect(importProgress(job({ status: 'done', checked: 10 }))).toEqual({ phase: 'final', percent: 100, status: 'success' })
    expect(importProgress(job({ status: 'rejected', checked: 10 })).status).toBe('exception')
    expect(importProgress(job({ status: 'failed', checked: 2 }))).toMatchObject({ percent: 20, status: 'exception' })
    expect(importProgress(job({ status: 'cancelled', checked: 3 })).status).toBe('warning')
  })
})

describe('what may follow a dry run', () => {
  it('allows both modes for a clean file', () => {
    expect(writeChoices(job({ status: 'done', good: 10, bad: 0 }))).toEqual({ allOrNothing: true, goodRows: true })
  })
  it('allows only the good rows when some rows are bad', () => {
    expect(writeChoices(job({ status: 'done', good: 9, bad: 1 }))).toEqual({ allOrNothing: false, goodRows: true })
  })
  it('allows nothing when every row is bad, while checking, after a write or for an empty file', () => {
    expect(writeChoices(job({ status: 'done', good: 0, bad: 10 }))).toEqual({ allOrNothing: false, goodRows: false })
    expect(writeChoices(job({ status: 'checking' }))).toEqual({ allOrNothing: false, goodRows: false })
    expect(writeChoices(job({ status: 'done', mode: 'good-rows', good: 9 }))).toEqual({ allOrNothing: false, goodRows: false })
    expect(writeChoices(job({ status: 'done', total: 0 }))).toEqual({ allOrNothing: false, goodRows: false })
    expect(writeChoices(null)).toEqual({ allOrNothing: false, goodRows: false })
  })
})

describe('polling an import', () => {
  const noSleep = vi.fn(async () => {})

  it('reports every state until the job is final and resolves with it', async () => {
    const states = [job({ checked: 2 }), job({ status: 'writing', mode: 'good-rows', good: 9, checked: 10, written: 3 }), job({ status: 'done', checked: 10, written: 9 })]
    const get = vi.fn(async () => states.shift()!)
    const seen: string[] = []
    const final = await pollImport('j1', get, (j) => seen.push(`${j.status}:${j.checked}:${j.written}`), { sleep: noSleep })
    expect(seen).toEqual(['checking:2:0', 'writing:10:3', 'done:10:9'])
    expect(final.status).toBe('done')
    expect(get).toHaveBeenCalledTimes(3)
  })

  it('backs off while nothing moves and goes back to the short wait on progress', async () => {
    const states = [job({ checked: 1 }), job({ checked: 1 }), job({ checked: 1 }), job({ checked: 5 }), job({ status: 'done' })]
    const waits: number[] = []
    await pollImport('j1', async () => states.shift()!, () => {}, {
      intervalMs: 100,
      maxIntervalMs: 300,
      sleep: async (ms) => {
        waits.push(ms)
      },
    })
    expect(waits).toEqual([100, 200, 300, 100])
  })

  it('tolerates a few failed polls, then gives up with the error', async () => {
    const err = new ApiError(0, { title: 'network' })
    let n = 0
    const get = vi.fn(async () => {
      if (++n <= 2) throw err
      return job({ status: 'done' })
    })
    await expect(pollImport('j1', get, () => {}, { sleep: noSleep })).resolves.toMatchObject({ status: 'done' })
    const always = vi.fn(async () => {
      throw err
    })
    await expect(pollImport('j1', always, () => {}, { sleep: noSleep, maxFailures: 3 })).rejects.toBe(err)
    expect(always).toHaveBeenCalledTimes(3)
  })

  it('stops when aborted', async () => {
    const ctrl = new AbortController()
    const get = vi.fn(async () => job({ checked: 1 }))
    const p = pollImport('j1', get, () => ctrl.abort(), { intervalMs: 10_000, signal: ctrl.signal })
    await expect(p).rejects.toBeInstanceOf(PollAborted)
    expect(get).toHaveBeenCalledTimes(1)
  })
})

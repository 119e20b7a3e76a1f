/// <reference types="node" />
// @vitest-environment node
// The access proof check of the data tracker against a tiny batch and a
// tiny ledger built here by hand with Node's crypto (RFC 6962 hashing).
import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { parseCheckpoint, verifyAccessProof } from '@/exchange/proof'
import type { AccessProof } from '@/exchange/types'

const H = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest()
const leafH = (d: Buffer) => H(Buffer.from([0x00]), d)
const nodeH = (l: Buffer, r: Buffer) => H(Buffer.from([0x01]), l, r)
const b64 = (b: Buffer) => b.toString('base64')
const hex = (b: Buffer) => b.toString('hex')

// A batch of three access records: root = H(1 || H(1||L0||L1) || L2).
const records = [0, 1, 2].map((i) =>
  JSON.stringify({ actorId: `u${i}`, consumerName: '姑苏区民政局', fields: ['name', 'householdNumber'], id: `a${i}`, outcome: 'ok', records: 1, resource: 'GA-HJRK-001' }),
)
const [b0, b1, b2] = records.map((r) => leafH(Buffer.from(r, 'utf8'))) as [Buffer, Buffer, Buffer]
const batchRoot = nodeH(nodeH(b0, b1), b2)

// A ledger of four entries; entry 2 is the batch's, carrying its root.
const entries = [
  '{"actorId":"x","kind":"record","module":"identity","v":1}',
  '{"actorId":"y","kind":"record","module":"cases","v":1}',
  `{"action":"exchange.access.batch","actorId":"exchange","kind":"record","module":"exchange","payloadHash":"${hex(batchRoot)}","subject":"batch:1","time":1,"v":1}`,
  '{"actorId":"z","kind":"record","module":"registry","v":1}',
]
const [e0, e1, e2, e3] = entries.map((e) => leafH(Buffer.from(e, 'utf8'))) as [Buffer, Buffer, Buffer, Buffer]
const ledgerRoot = nodeH(nodeH(e0, e1), nodeH(e2, e3))
const checkpoint = `shuzhi.local/ledger\n4\n${b64(ledgerRoot)}\n\n— shuzhi.local/ledger AAAAsig=\n`

// The proof of record 1 (in the middle of the batch): path [L0, L2]; the
// entry's inclusion proof for index 2 of 4: [E3, H(E0,E1)].
function proof(): AccessProof {
  return {
    accessId: 'a1',
    record: records[1]!,
    leafHash: hex(b1),
    hasher: 'sha256',
    batch: 1,
    leafIndex: 1,
    batchSize: 3,
    batchRoot: hex(batchRoot),
    batchPath: [b64(b0), b64(b2)],
    onLedger: true,
    ledger: {
      index: 2,
      size: 4,
      leafHash: hex(e2),
      entry: entries[2]!,
      root: b64(ledgerRoot),
      proof: [b64(e3), b64(nodeH(e0, e1))],
      checkpoint,
    },
  }
}

const flip = (s: string) => {
  const b = Buffer.from(s, 'base64')
  b[0] = b[0]! ^ 1
  return b64(b)
}

describe('access proof (数据使用存证)', () => {
  it('verifies every step of a correct proof', async () => {
    const v = await verifyAccessProof(proof())
    expect(v.state).toBe('ok')
    expect(v.steps.map((s) => [s.id, s.ok])).toEqual([
      ['leaf', true],
      ['batch', true],
      ['entry', true],
      ['entryLeaf', true],
      ['ledger', true],
      ['checkpoint', true],
    ])
    expect(v.state === 'ok' && v.root).toBe(b64(ledgerRoot))
  })

  it('verifies the first and the last record of the batch too', async () => {
    const first = { ...proof(), accessId: 'a0', record: records[0]!, leafHash: hex(b0), leafIndex: 0, batchPath: [b64(b1), b64(b2)] }
    expect((await verifyAccessProof(first)).state).toBe('ok')
    const last = { ...proof(), accessId: 'a2', record: records[2]!, leafHash: hex(b2), leafIndex: 2, batchPath: [b64(nodeH(b0, b1))] }
    expect((await verifyAccessProof(last)).state).toBe('ok')
  })

  it('verifies a batch of one (the record is the root, no path)', async () => {
    const p = { ...proof(), leafIndex: 0, batchSize: 1, batchPath: [], batchRoot: hex(b1) }
    const entry = entries[2]!.replace(hex(batchRoot), hex(b1))
    const ent = leafH(Buffer.from(entry))
    const root = nodeH(nodeH(e0, e1), nodeH(ent, e3))
    p.ledger = { ...p.ledger!, entry, leafHash: hex(ent), root: b64(root), checkpoint: `o\n4\n${b64(root)}\n` }
    expect((await verifyAccessProof(p)).state).toBe('ok')
  })

  it('fails at the leaf when the record was changed', async () => {
    const p = proof()
    p.record = p.record.replace('姑苏区民政局', '姑苏区公安局')
    const v = await verifyAccessProof(p)
    expect(v).toMatchObject({ state: 'failed', failed: 'leaf' })
    expect(v.steps).toHaveLength(1)
  })

  it('fails in the batch when the audit path or the index is wrong', async () => {
    const p = proof()
    p.batchPath[1] = flip(p.batchPath[1]!)
    expect(await verifyAccessProof(p)).toMatchObject({ state: 'failed', failed: 'batch' })
    expect(await verifyAccessProof({ ...proof(), leafIndex: 0 })).toMatchObject({ state: 'failed', failed: 'batch' })
    expect(await verifyAccessProof({ ...proof(), batchPath: [b64(b0)] })).toMatchObject({ state: 'failed', failed: 'batch' })
    expect(await verifyAccessProof({ ...proof(), batchPath: ['not base64!'] })).toMatchObject({ state: 'failed', failed: 'batch' })
  })

  it('fails at the entry when it carries another payload hash', async () => {
    const p = proof()
    p.ledger!.entry = p.ledger!.entry.replace(hex(batchRoot), hex(b0))
    const v = await verifyAccessProof(p)
    expect(v).toMatchObject({ state: 'failed', failed: 'entry' })
    expect(v.steps.map((s) => s.ok)).toEqual([true, true, false])
  })

  it('fails at the entry leaf when the entry does not hash to it', async () => {
    const p = proof()
    p.ledger!.leafHash = hex(e3)
    expect(await verifyAccessProof(p)).toMatchObject({ state: 'failed', failed: 'entryLeaf' })
  })

  it('fails on the ledger when the inclusion proof is tampered with', async () => {
    const p = proof()
    p.ledger!.proof[0] = flip(p.ledger!.proof[0]!)
    expect(await verifyAccessProof(p)).toMatchObject({ state: 'failed', failed: 'ledger' })
    expect(await verifyAccessProof({ ...proof(), ledger: { ...proof().ledger!, index: 3 } })).toMatchObject({ state: 'failed', failed: 'ledger' })
  })

  it('fails at the checkpoint when the signed root or size differs', async () => {
    const p = proof()
    p.ledger!.checkpoint = `shuzhi.local/ledger\n4\n${flip(b64(ledgerRoot))}\n`
    expect(await verifyAccessProof(p)).toMatchObject({ state: 'failed', failed: 'checkpoint' })
    const q = proof()
    q.ledger!.checkpoint = `shuzhi.local/ledger\n5\n${b64(ledgerRoot)}\n`
    expect(await verifyAccessProof(q)).toMatchObject({ state: 'failed', failed: 'checkpoint' })
    expect(await verifyAccessProof({ ...proof(), ledger: { ...proof().ledger!, checkpoint: '' } })).toMatchObject({ state: 'failed', failed: 'checkpoint' })
  })

  it('is pending while the batch is not on the ledger, after checking the batch', async () => {
    const v = await verifyAccessProof({ ...proof(), onLedger: false, ledger: undefined })
    expect(v.state).toBe('pending')
    expect(v.steps.map((s) => s.id)).toEqual(['leaf', 'batch'])
  })

  it('leaves sm3 proofs to the command line', async () => {
    expect(await verifyAccessProof({ ...proof(), hasher: 'sm3' })).toMatchObject({ state: 'unsupported', hasher: 'sm3' })
  })

  it('reads the size and root of a checkpoint', () => {
    expect(parseCheckpoint(checkpoint)).toEqual({ origin: 'shuzhi.local/ledger', size: 4, root: b64(ledgerRoot) })
    expect(parseCheckpoint('origin\nnot a number\nroot')).toBeNull()
    expect(parseCheckpoint('only one line')).toBeNull()
  })
})

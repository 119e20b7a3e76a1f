/// <reference types="node" />
// @vitest-environment node
// Inclusion-proof verification against a reference RFC 6962 tree computed
// here with Node's crypto module.
import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  hexToBytes,
  leafHash,
  rootFromInclusionProof,
  verifyInclusion,
  type InclusionProofJson,
} from '@/ledger/verify'

const H = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest()
const leafH = (d: Buffer) => H(Buffer.from([0x00]), d)
const nodeH = (l: Buffer, r: Buffer) => H(Buffer.from([0x01]), l, r)

// Largest power of two smaller than n (n > 1).
function split(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

// RFC 6962 §2.1: MTH(D[n]).
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return H()
  if (leaves.length === 1) return leafH(leaves[0]!)
  const k = split(leaves.length)
  return nodeH(mth(leaves.slice(0, k)), mth(leaves.slice(k)))
}

// RFC 6962 §2.1.1: PATH(m, D[n]).
function path(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length <= 1) return []
  const k = split(leaves.length)
  if (m < k) return [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))]
  return [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))]
}

const leaves = ['a', 'b', 'c', 'd', 'e'].map((s) => Buffer.from(JSON.stringify({ kind: 'record', n: s })))
const root = mth(leaves)

function proofJson(index: number, data = leaves): InclusionProofJson {
  return {
    index,
    size: data.length,
    leafHash: leafH(data[index]!).toString('hex'),
    root: mth(data).toString('base64'),
    hasher: 'sha256',
    proof: path(index, data).map((h) => h.toString('base64')),
  }
}

describe('RFC 6962 inclusion proof of a 5-leaf tree', () => {
  it('has the expected shape for index 3 (hand-checked)', () => {
    // Tree of 5: root = H(1 || H(1 || H(1||L0||L1) || H(1||L2||L3)) || L4).
    const [l0, l1, l2, l3, l4] = leaves.map(leafH) as [Buffer, Buffer, Buffer, Buffer, Buffer]
    expect(root.equals(nodeH(nodeH(nodeH(l0, l1), nodeH(l2, l3)), l4))).toBe(true)
    // PATH(3) = [L2, H(L0,L1), L4].
    const p = path(3, leaves)
    expect(p.map((h) => h.toString('hex'))).toEqual([l2, nodeH(l0, l1), l4].map((h) => h.toString('hex')))
  })

  it('verifies index 3 with WebCrypto SHA-256', async () => {
    const res = await verifyInclusion(proofJson(3))
    expect(res).toEqual({ ok: true, computedRoot: root.toString('base64') })
  })

  it('verifies every index of trees of size 1 to 9', async () => {
    for (let n = 1; n <= 9; n++) {
      const data = Array.from({ length: n }, (_, i) => Buffer.from(`entry ${i}`))
      for (let i = 0; i < n; i++) {
        const res = await verifyInclusion(proofJson(i, data))
        expect(res.ok, `size ${n} index ${i}`).toBe(true)
      }
    }
  })

  it('computes the leaf hash as H(0x00 || data)', async () => {
    const got = await leafHash(new Uint8Array(leaves[3]!))
    expect(bytesToHex(got)).toBe(leafH(leaves[3]!).toString('hex'))
  })

  it('fails on a tampered proof hash', async () => {
    const p = proofJson(3)
    const b = Buffer.from(p.proof[1]!, 'base64')
    b[0] = b[0]! ^ 0x01
    p.proof[1] = b.toString('base64')
    const res = await verifyInclusion(p)
    expect(res.ok).toBe(false)
    expect(res.ok === false && res.reason).toBe('mismatch')
    expect(res.computedRoot).not.toBe(root.toString('base64'))
  })

  it('fails on a tampered leaf, a different root, or another index', async () => {
    const tamperedLeaf = { ...proofJson(3), leafHash: leafH(Buffer.from('forged')).toString('hex') }
    expect((await verifyInclusion(tamperedLeaf)).ok).toBe(false)
    const otherRoot = { ...proofJson(3), root: mth(leaves.slice(0, 4)).toString('base64') }
    expect((await verifyInclusion(otherRoot)).ok).toBe(false)
    const otherIndex = { ...proofJson(3), index: 2 }
    expect((await verifyInclusion(otherIndex)).ok).toBe(false)
  })

  it('rejects proofs of the wrong length and malformed hashes', async () => {
    const short = proofJson(3)
    short.proof.pop()
    expect(await verifyInclusion(short)).toMatchObject({ ok: false, reason: 'malformed' })
    const long = proofJson(3)
    long.proof.push(long.proof[0]!)
    expect(await verifyInclusion(long)).toMatchObject({ ok: false, reason: 'malformed' })
    expect(await verifyInclusion({ ...proofJson(3), index: 5 })).toMatchObject({ ok: false, reason: 'malformed' })
    expect(await verifyInclusion({ ...proofJson(3), leafHash: 'zz' })).toMatchObject({ ok: false, reason: 'malformed' })
  })

  it('leaves sm3 to the command line', async () => {
    expect(await verifyInclusion({ ...proofJson(3), hasher: 'sm3' })).toMatchObject({ ok: false, reason: 'unsupported' })
  })

  it('accepts a custom hash function', async () => {
    const nodeSha = async (d: Uint8Array) => new Uint8Array(createHash('sha256').update(d).digest())
    const p = proofJson(3)
    const got = await rootFromInclusionProof(3, 5, hexToBytes(p.leafHash), p.proof.map(base64ToBytes), nodeSha)
    expect(bytesToBase64(got)).toBe(root.toString('base64'))
  })
})

// Browser-side check of an access proof (数据使用存证), step by step:
//
//  1. leaf     SHA-256(0x00 || record bytes) equals the access's leafHash;
//  2. batch    its audit path in the batch (RFC 6962 / RFC 9162 §2.1.3.2,
//              leaf leafIndex of batchSize) leads to batchRoot;
//  3. entry    the batch's ledger entry carries "payloadHash":"<batchRoot>";
//  4. entryLeaf SHA-256(0x00 || entry bytes) equals the ledger leaf hash;
//  5. ledger   the ledger's inclusion proof (index of size) leads to its root;
//  6. checkpoint that root (and size) are those of the signed checkpoint.
//
// Pure functions of the proof and a hash function, so they are unit-tested
// with a tree built by hand. Only SHA-256 can be checked here (WebCrypto
// has no SM3); an sm3 proof is "unsupported".
import {
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  leafHash,
  rootFromInclusionProof,
  sha256,
  type HashFn,
} from '@/ledger/verify'
import type { AccessProof } from './types'

export type StepId = 'leaf' | 'batch' | 'entry' | 'entryLeaf' | 'ledger' | 'checkpoint'
export const stepIds: StepId[] = ['leaf', 'batch', 'entry', 'entryLeaf', 'ledger', 'checkpoint']

export interface Step {
  id: StepId
  ok: boolean
  // What was compared (hashes, sizes), or why it failed.
  detail?: string
}

export type ProofVerdict =
  // Every step passed.
  | { state: 'ok'; steps: Step[]; ledgerIndex: number; root: string; size: number }
  // A step failed (the last of steps, ok: false).
  | { state: 'failed'; steps: Step[]; failed: StepId; detail: string }
  // The record is in its batch, but the batch is not yet on the ledger or
  // in a signed checkpoint (等待上链).
  | { state: 'pending'; steps: Step[] }
  // Not SHA-256: verify with `shuzhi ledger verify` instead.
  | { state: 'unsupported'; hasher: string; steps: Step[] }

const utf8 = (s: string) => new TextEncoder().encode(s)

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!
  return d === 0
}

// The size and root (base64) of a C2SP checkpoint: origin, size and root on
// its first three lines.
export function parseCheckpoint(text: string): { origin: string; size: number; root: string } | null {
  const lines = text.split('\n')
  if (lines.length < 3) return null
  const size = lines[1]!.trim()
  const root = lines[2]!.trim()
  if (!/^\d+$/.test(size) || !root) return null
  return { origin: lines[0]!, size: Number(size), root }
}

function hashes(list: readonly string[], what: string): Uint8Array[] {
  return list.map((h, i) => {
    const b = base64ToBytes(h)
    if (b.length !== 32) throw new Error(`${what}[${i}]: not a 32-byte hash`)
    return b
  })
}

// Checks an access proof. Never throws: a malformed proof fails at the step
// that reads the malformed part.
export async function verifyAccessProof(p: AccessProof, hash: HashFn = sha256): Promise<ProofVerdict> {
  const steps: Step[] = []
  const fail = (id: StepId, detail: string): ProofVerdict => {
    steps.push({ id, ok: false, detail })
    return { state: 'failed', steps, failed: id, detail }
  }
  if (p.hasher !== 'sha256') return { state: 'unsupported', hasher: p.hasher, steps }

  // 1. The record hashes to its leaf.
  let leaf: Uint8Array
  try {
    leaf = await leafHash(utf8(p.record ?? ''), hash)
  } catch (e) {
    return fail('leaf', (e as Error).message)
  }
  const leafHex = bytesToHex(leaf)
  if (leafHex !== (p.leafHash ?? '').toLowerCase()) return fail('leaf', `${leafHex} ≠ ${p.leafHash}`)
  steps.push({ id: 'leaf', ok: true, detail: leafHex })

  // 2. The audit path in the batch leads to the batch root.
  try {
    const path = hashes(p.batchPath ?? [], 'batchPath')
    const root = await rootFromInclusionProof(p.leafIndex, p.batchSize, leaf, path, hash)
    const rootHex = bytesToHex(root)
    if (rootHex !== (p.batchRoot ?? '').toLowerCase()) return fail('batch', `${rootHex} ≠ ${p.batchRoot}`)
    steps.push({ id: 'batch', ok: true, detail: `${p.leafIndex + 1}/${p.batchSize} → ${rootHex}` })
  } catch (e) {
    return fail('batch', (e as Error).message)
  }

  const l = p.ledger
  if (!p.onLedger || !l) return { state: 'pending', steps }

  // 3. The ledger entry names the batch root as its payload hash.
  const want = `"payloadHash":"${p.batchRoot.toLowerCase()}"`
  let payload: unknown
  try {
    payload = (JSON.parse(l.entry) as Record<string, unknown>).payloadHash
  } catch {
    return fail('entry', 'the ledger entry is not JSON')
  }
  if (!l.entry.includes(want) || payload !== p.batchRoot.toLowerCase()) return fail('entry', `payloadHash ${String(payload ?? '—')} ≠ ${p.batchRoot}`)
  steps.push({ id: 'entry', ok: true, detail: p.batchRoot })

  // 4. The entry hashes to its ledger leaf.
  const entryLeaf = await leafHash(utf8(l.entry), hash)
  const entryHex = bytesToHex(entryLeaf)
  if (entryHex !== (l.leafHash ?? '').toLowerCase()) return fail('entryLeaf', `${entryHex} ≠ ${l.leafHash}`)
  steps.push({ id: 'entryLeaf', ok: true, detail: entryHex })

  // 5. The inclusion proof leads to the ledger root.
  let rootB64: string
  try {
    const proof = hashes(l.proof ?? [], 'proof')
    const root = await rootFromInclusionProof(l.index, l.size, entryLeaf, proof, hash)
    rootB64 = bytesToBase64(root)
    let claimed: Uint8Array
    try {
      claimed = base64ToBytes(l.root)
    } catch {
      return fail('ledger', `root ${l.root} is not base64`)
    }
    if (!equal(root, claimed)) return fail('ledger', `${rootB64} ≠ ${l.root}`)
    steps.push({ id: 'ledger', ok: true, detail: `#${l.index} / ${l.size} → ${rootB64}` })
  } catch (e) {
    return fail('ledger', (e as Error).message)
  }

  // 6. That root is the signed checkpoint's.
  const cp = parseCheckpoint(l.checkpoint ?? '')
  if (!cp) return fail('checkpoint', 'no checkpoint')
  if (cp.root !== rootB64) return fail('checkpoint', `${cp.root} ≠ ${rootB64}`)
  if (cp.size !== l.size) return fail('checkpoint', `size ${cp.size} ≠ ${l.size}`)
  steps.push({ id: 'checkpoint', ok: true, detail: `${cp.origin} · ${cp.size}` })

  return { state: 'ok', steps, ledgerIndex: l.index, root: rootB64, size: l.size }
}

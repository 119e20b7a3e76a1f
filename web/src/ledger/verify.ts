// Browser-side verification of the ledger's Merkle inclusion proofs
// (RFC 6962 / RFC 9162 §2.1.3.2): leaf = H(0x00 || data),
// node = H(0x01 || left || right). Only SHA-256 can be checked here
// (WebCrypto has no SM3); for the sm3 hasher use `shuzhi ledger prove N`.

export type HashFn = (data: Uint8Array) => Promise<Uint8Array>

// SHA-256 through WebCrypto. WebCrypto exists only in secure contexts
// (HTTPS or localhost); callers check webCryptoAvailable() first.
export const sha256: HashFn = async (data) => new Uint8Array(await crypto.subtle.digest('SHA-256', data as BufferSource))

export function webCryptoAvailable(): boolean {
  return typeof globalThis.crypto !== 'undefined' && typeof globalThis.crypto.subtle?.digest === 'function'
}

export function hexToBytes(hex: string): Uint8Array {
  const h = hex.trim()
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new Error('invalid hex')
  const out = new Uint8Array(h.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16)
  return out
}

export function bytesToHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}

export function base64ToBytes(s: string): Uint8Array {
  const bin = atob(s.trim())
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export function bytesToBase64(b: Uint8Array): string {
  let bin = ''
  for (const x of b) bin += String.fromCharCode(x)
  return btoa(bin)
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!
  return d === 0
}

export async function leafHash(data: Uint8Array, hash: HashFn = sha256): Promise<Uint8Array> {
  return hash(concat(new Uint8Array([0x00]), data))
}

export async function nodeHash(left: Uint8Array, right: Uint8Array, hash: HashFn = sha256): Promise<Uint8Array> {
  return hash(concat(new Uint8Array([0x01]), left, right))
}

// The root an inclusion proof leads to, or an error when the proof has the
// wrong shape for (index, size). RFC 9162 §2.1.3.2.
export async function rootFromInclusionProof(
  index: number | bigint,
  size: number | bigint,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  hash: HashFn = sha256,
): Promise<Uint8Array> {
  let fn = BigInt(index)
  let sn = BigInt(size) - 1n
  if (fn < 0n || fn > sn) throw new Error('index out of range')
  let r = leaf
  for (const p of proof) {
    if (sn === 0n) throw new Error('proof too long')
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r, hash)
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n
        sn >>= 1n
      }
    } else {
      r = await nodeHash(r, p, hash)
    }
    fn >>= 1n
    sn >>= 1n
  }
  if (sn !== 0n) throw new Error('proof too short')
  return r
}

// An inclusion proof as GET /api/v1/ledger/proof/inclusion returns it.
export interface InclusionProofJson {
  index: number
  size: number
  leafHash: string // hex
  root: string // base64
  hasher: string
  proof: string[] // base64, leaf to root
}

export type VerifyResult =
  | { ok: true; computedRoot: string }
  | { ok: false; computedRoot?: string; reason: 'mismatch' | 'malformed' | 'unsupported'; detail?: string }

// Checks the proof: the root computed from the leaf hash and the sibling
// hashes must equal the root the server claims. Never throws.
export async function verifyInclusion(p: InclusionProofJson, hash: HashFn = sha256): Promise<VerifyResult> {
  if (p.hasher !== 'sha256') return { ok: false, reason: 'unsupported', detail: p.hasher }
  let leaf: Uint8Array, root: Uint8Array, proof: Uint8Array[]
  try {
    leaf = hexToBytes(p.leafHash)
    root = base64ToBytes(p.root)
    proof = p.proof.map(base64ToBytes)
    if (leaf.length !== 32 || root.length !== 32 || proof.some((h) => h.length !== 32)) throw new Error('hash length')
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: (e as Error).message }
  }
  let computed: Uint8Array
  try {
    computed = await rootFromInclusionProof(p.index, p.size, leaf, proof, hash)
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: (e as Error).message }
  }
  const computedRoot = bytesToBase64(computed)
  return equalBytes(computed, root) ? { ok: true, computedRoot } : { ok: false, reason: 'mismatch', computedRoot }
}

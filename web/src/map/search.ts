// Searching the map: instant results from the divisions and grids already
// loaded in the browser, merged with what the server finds. Pure functions.
import { levelOf } from './drill'
import type { SearchHit, SearchKind } from './types'

export interface Named {
  code: string
  name: string
  kind: Extract<SearchKind, 'division' | 'grid'>
}

export function normalize(q: string): string {
  return q.trim().replace(/\s+/g, ' ').toLowerCase()
}

// 0 exact name or code, 1 name or code starts with q, 2 contains; -1 no match.
function rank(item: Named, q: string): number {
  const name = item.name.toLowerCase()
  if (name === q || item.code === q) return 0
  if (name.startsWith(q) || item.code.startsWith(q)) return 1
  if (name.includes(q)) return 2
  return -1
}

// Loaded divisions and grids matching q by name or code, best first, then
// divisions before grids and by code.
export function searchLocal(items: readonly Named[], query: string, limit = 20): SearchHit[] {
  const q = normalize(query)
  if (!q) return []
  return items
    .map((it) => ({ it, r: rank(it, q) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || (a.it.kind === b.it.kind ? 0 : a.it.kind === 'division' ? -1 : 1) || a.it.code.localeCompare(b.it.code))
    .slice(0, limit)
    .map(({ it }) => ({ kind: it.kind, code: it.code, name: it.name }))
}

// A full division or grid code typed in is a result by itself (its name is
// filled in once the map has it).
export function hitFromCode(query: string): SearchHit | null {
  const q = query.trim()
  const level = levelOf(q)
  if (!level) return null
  return { kind: level === 'grid' ? 'grid' : 'division', code: q, name: '' }
}

// Result lists merged in order, each kind+code once; a later list fills in
// what an earlier one lacked (name, position).
export function mergeHits(lists: readonly (readonly SearchHit[])[], limit = 20): SearchHit[] {
  const byKey = new Map<string, SearchHit>()
  for (const list of lists) {
    for (const h of list) {
      const key = `${h.kind}:${h.code}`
      const seen = byKey.get(key)
      if (!seen) byKey.set(key, { ...h })
      else {
        if (!seen.name && h.name) seen.name = h.name
        if (seen.lon == null && h.lon != null) seen.lon = h.lon
        if (seen.lat == null && h.lat != null) seen.lat = h.lat
        if (!seen.gridCode && h.gridCode) seen.gridCode = h.gridCode
      }
    }
  }
  return [...byKey.values()].slice(0, limit)
}

// Where choosing a result leads: into a division or grid on the map, or to a
// point (building, address, component, enterprise) to mark and geocode.
export type SearchTarget = { type: 'region'; code: string } | { type: 'point'; lon: number; lat: number; gridCode?: string } | null

export function targetOf(h: SearchHit): SearchTarget {
  if ((h.kind === 'division' || h.kind === 'grid') && levelOf(h.code)) return { type: 'region', code: h.code }
  if (typeof h.lon === 'number' && typeof h.lat === 'number' && Number.isFinite(h.lon) && Number.isFinite(h.lat)) {
    return { type: 'point', lon: h.lon, lat: h.lat, gridCode: h.gridCode ?? undefined }
  }
  if (h.gridCode && levelOf(h.gridCode) === 'grid') return { type: 'region', code: h.gridCode }
  return null
}

// Loading the map's data. Boundaries come from the OGC API - Features under
// /ogc/ (GeoJSON, WGS84); where a collection is not served (404, or the SPA's
// HTML page instead of JSON) divisions fall back to the JSON API without
// shapes (the page still lists them) and grids to /api/v1/grids with their
// polygons. Components and classes not served yet mean "none".
import { api, ApiError, type Problem, type Query } from '@/api/client'
import type { Division, Page } from '@/api/types'
import type {
  BBox,
  ComponentClass,
  ComponentProps,
  DivisionProps,
  Feature,
  FeatureCollection,
  GeocodeResult,
  Geometry,
  GridProps,
  Region,
  SearchHit,
} from './types'
import { bboxParam } from './geo'

export const OGC_BASE = '/ogc'

export function ogcUrl(collection: string, query: Query = {}): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    params.append(k, Array.isArray(v) ? v.join(',') : String(v))
  }
  const qs = params.toString()
  return `${OGC_BASE}/collections/${encodeURIComponent(collection)}/items${qs ? `?${qs}` : ''}`
}

// GET of an OGC items page: the FeatureCollection, null when the collection
// is not served, ApiError for other failures (problem details as for /api).
export async function ogcItems<P>(collection: string, query: Query = {}, signal?: AbortSignal): Promise<FeatureCollection<P> | null> {
  let res: Response
  try {
    res = await fetch(ogcUrl(collection, query), {
      credentials: 'same-origin',
      headers: { Accept: 'application/geo+json, application/json, application/problem+json' },
      signal,
    })
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e
    throw new ApiError(0, { title: 'network', detail: (e as Error)?.message })
  }
  const type = res.headers.get('Content-Type') ?? ''
  if (res.status === 404) return null
  if (!res.ok) {
    let problem: Problem = { status: res.status, title: res.statusText || `HTTP ${res.status}` }
    if (type.includes('json')) {
      try {
        problem = { status: res.status, ...((await res.json()) as Problem) }
      } catch {
        // keep the generic problem
      }
    }
    throw new ApiError(res.status, problem)
  }
  if (!type.includes('json')) return null
  const body = (await res.json()) as FeatureCollection<P>
  if (!body || body.type !== 'FeatureCollection' || !Array.isArray(body.features)) return null
  return body
}

function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404
}

// The server's 404 for a route it does not have (as opposed to a missing
// thing): its detail names the endpoint, 'endpoint "GET /api/v1/…" not found'
// (localised around the quoted route).
function isMissingEndpoint(e: unknown): boolean {
  return isNotFound(e) && /endpoint "[A-Z]+ \//.test((e as ApiError).problem.detail ?? '')
}

// Divisions and grids as map regions: code and name, sorted by code.
export function toRegions(features: readonly Feature<Partial<DivisionProps & GridProps>>[]): Region[] {
  return features
    .map((f) => {
      const code = String(f.properties?.code ?? f.id ?? '')
      return { type: 'Feature' as const, id: code, geometry: f.geometry ?? null, properties: { code, name: f.properties?.name || code } }
    })
    .filter((r) => r.properties.code !== '')
    .sort((a, b) => a.properties.code.localeCompare(b.properties.code))
}

export interface Loaded {
  regions: Region[]
  // false when the boundaries could not be had (fallback without shapes)
  shapes: boolean
}

function divisionsWithoutShapes(items: readonly Division[]): Loaded {
  return {
    regions: toRegions(items.map((d) => ({ type: 'Feature', id: d.code, geometry: null, properties: { code: d.code, name: d.name } }))),
    shapes: false,
  }
}

const LIMIT = 1000

// The streets (乡镇/街道) the user may see.
export async function loadStreets(signal?: AbortSignal): Promise<Loaded> {
  const fc = await ogcItems<DivisionProps>('divisions', { level: 'township', limit: LIMIT }, signal)
  if (fc) return { regions: toRegions(fc.features), shapes: true }
  const page = await api.get<Page<Division>>('/divisions', { query: { level: 'township', pageSize: 200 }, silent: true, signal })
  return divisionsWithoutShapes(page.items)
}

// The children of a division (the communities of a street).
export async function loadChildren(code: string, signal?: AbortSignal): Promise<Loaded> {
  const fc = await ogcItems<DivisionProps>('divisions', { parent: code, limit: LIMIT }, signal)
  if (fc) return { regions: toRegions(fc.features), shapes: true }
  const page = await api.get<Page<Division>>('/divisions', { query: { parent: code, pageSize: 200 }, silent: true, signal })
  return divisionsWithoutShapes(page.items)
}

interface ApiGrid {
  code: string
  name: string
  boundary?: Geometry | null
}

// The unit grids of a community.
export async function loadGrids(community: string, signal?: AbortSignal): Promise<Loaded> {
  const fc = await ogcItems<GridProps>('grids', { community, limit: LIMIT }, signal)
  if (fc) return { regions: toRegions(fc.features), shapes: true }
  const page = await api.get<Page<ApiGrid>>('/grids', { query: { divisionCode: community, boundary: true, pageSize: 200 }, silent: true, signal })
  const regions = toRegions(page.items.map((g) => ({ type: 'Feature', id: g.code, geometry: g.boundary ?? null, properties: { code: g.code, name: g.name } })))
  return { regions, shapes: regions.some((r) => r.geometry) }
}

export interface ComponentFilter {
  major?: string
  minor?: string
}

export interface LoadedComponents {
  points: Feature<ComponentProps>[]
  // the server had more than the limit
  truncated: boolean
  // the components collection is served
  available: boolean
}

export const COMPONENT_LIMIT = 5000

// Component points inside a box, optionally of one class.
export async function loadComponents(bbox: BBox, filter: ComponentFilter, signal?: AbortSignal): Promise<LoadedComponents> {
  const fc = await ogcItems<ComponentProps>(
    'components',
    { bbox: bboxParam(bbox), major: filter.major, minor: filter.major ? filter.minor : undefined, limit: COMPONENT_LIMIT },
    signal,
  )
  if (!fc) return { points: [], truncated: false, available: false }
  const points = fc.features.filter((f) => f.geometry?.type === 'Point' && f.properties?.code)
  const truncated = (fc.numberMatched ?? 0) > fc.features.length || fc.features.length >= COMPONENT_LIMIT
  return { points, truncated, available: true }
}

interface Place {
  code?: string
  name?: string
}

type RawGeocode = GeocodeResult & { grid?: Place; community?: Place; street?: Place; district?: Place }

// The geocoder's answer as flat fields, whether it comes flat (gridCode,
// gridName, …) or nested ({grid: {code, name}, community: …}).
export function normalizeGeocode(raw: RawGeocode): GeocodeResult {
  const out: GeocodeResult = {}
  for (const level of ['grid', 'community', 'street', 'district'] as const) {
    const code = raw[`${level}Code`] ?? raw[level]?.code
    const name = raw[`${level}Name`] ?? raw[level]?.name
    if (code) out[`${level}Code`] = code
    if (name) out[`${level}Name`] = name
  }
  return out
}

// The grid, community, street and district of a point; null when the point
// is in no grid (404). A server without the geocoder is an error to show.
export async function geocode(lon: number, lat: number, signal?: AbortSignal): Promise<GeocodeResult | null> {
  try {
    const raw = await api.get<RawGeocode>('/geocode', { query: { lon: lon.toFixed(6), lat: lat.toFixed(6) }, silent: true, signal })
    return normalizeGeocode(raw ?? {})
  } catch (e) {
    if (isNotFound(e) && !isMissingEndpoint(e)) return null
    throw e
  }
}

// The component classes; [] while the class list is not served.
export async function loadClasses(signal?: AbortSignal): Promise<ComponentClass[]> {
  try {
    const res = await api.get<{ items: ComponentClass[] }>('/component-classes', { silent: true, signal })
    return res?.items ?? []
  } catch (e) {
    if (isNotFound(e)) return []
    throw e
  }
}

// The registry's search over divisions, grids, buildings, addresses,
// components and enterprises; null while it is not served.
// searchPlaces finds public places (addresses, buildings, components,
// organisations, divisions) for someone reporting a case without GPS: the
// one search a citizen may use.
export async function searchPlaces(q: string, signal?: AbortSignal): Promise<SearchHit[]> {
  const res = await api.get<SearchHit[]>('/cases/places', { query: { q, limit: 10 }, silent: true, signal })
  return res ?? []
}

export async function searchRegistry(q: string, signal?: AbortSignal): Promise<SearchHit[] | null> {
  try {
    const res = await api.get<{ items: SearchHit[] }>('/registry/search', { query: { q, limit: 20 }, silent: true, signal })
    return res?.items ?? []
  } catch (e) {
    if (isNotFound(e)) return null
    throw e
  }
}

// Divisions by name or code through the divisions list (always served).
export async function searchDivisions(q: string, signal?: AbortSignal): Promise<SearchHit[]> {
  const page = await api.get<Page<Division>>('/divisions', { query: { q, pageSize: 20 }, silent: true, signal })
  return page.items
    .filter((d) => d.level === 'township' || d.level === 'community' || d.level === 'county')
    .map((d) => ({ kind: 'division', code: d.code, name: d.name }))
}

// A division's name; undefined when it cannot be read (outside the scope).
export async function divisionName(code: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    return (await api.get<Division>(`/divisions/${code}`, { silent: true, signal })).name
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e
    return undefined
  }
}

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, configureClient } from '@/api/client'
import { geocode, loadClasses, normalizeGeocode, loadComponents, loadGrids, loadStreets, ogcItems, ogcUrl, searchRegistry, toRegions } from '@/map/data'

function json(status: number, body: unknown, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

const fc = (features: unknown[], extra: Record<string, unknown> = {}) => ({ type: 'FeatureCollection', features, ...extra })
const poly = {
  type: 'Polygon',
  coordinates: [
    [
      [120.6, 31.3],
      [120.61, 31.3],
      [120.61, 31.31],
      [120.6, 31.3],
    ],
  ],
}

let fetchMock: ReturnType<typeof vi.fn>
const urls = () => fetchMock.mock.calls.map((c) => String(c[0]))

beforeEach(() => {
  fetchMock = vi.fn()
  vi.stubGlobal('fetch', fetchMock)
  configureClient({ notify: () => {}, onUnauthorized: () => {} })
})
afterEach(() => vi.unstubAllGlobals())

describe('OGC API - Features requests', () => {
  it('builds items URLs leaving out empty parameters', () => {
    expect(ogcUrl('divisions', { level: 'township', limit: 1000, parent: '' })).toBe('/ogc/collections/divisions/items?level=township&limit=1000')
    expect(ogcUrl('grids')).toBe('/ogc/collections/grids/items')
  })

  it('returns the FeatureCollection, with cookies and a GeoJSON Accept header', async () => {
    fetchMock.mockResolvedValue(json(200, fc([]), 'application/geo+json'))
    expect(await ogcItems('divisions', { level: 'township' })).toEqual(fc([]))
    const init = fetchMock.mock.calls[0]![1] as RequestInit
    expect(init.credentials).toBe('same-origin')
    expect((init.headers as Record<string, string>).Accept).toContain('application/geo+json')
  })

  it('reads a 404 or an HTML page (the SPA) as "not served"', async () => {
    fetchMock.mockResolvedValueOnce(json(404, { title: 'Not Found', status: 404 }, 'application/problem+json'))
    expect(await ogcItems('components')).toBeNull()
    fetchMock.mockResolvedValueOnce(new Response('<!doctype html>', { status: 200, headers: { 'Content-Type': 'text/html' } }))
    expect(await ogcItems('components')).toBeNull()
  })

  it('turns other failures into ApiError with the problem', async () => {
    fetchMock.mockResolvedValue(json(400, { title: 'Bad Request', detail: 'bbox: 4 numbers' }, 'application/problem+json'))
    const err = await ogcItems('components', { bbox: '1' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(400)
    expect((err as ApiError).message).toBe('bbox: 4 numbers')
  })
})

describe('loading regions', () => {
  it('takes the streets from the OGC divisions collection', async () => {
    fetchMock.mockResolvedValue(
      json(200, fc([{ type: 'Feature', id: '320508018000', geometry: poly, properties: { code: '320508018000', name: '平江街道', level: 'township' } }])),
    )
    const l = await loadStreets()
    expect(urls()).toEqual(['/ogc/collections/divisions/items?level=township&limit=1000'])
    expect(l.shapes).toBe(true)
    expect(l.regions.map((r) => r.properties)).toEqual([{ code: '320508018000', name: '平江街道' }])
  })

  it('falls back to the divisions list, without shapes, while /ogc/ is not served', async () => {
    fetchMock.mockImplementation(async (url: string) =>
      url.startsWith('/ogc/')
        ? json(404, { title: 'Not Found' })
        : json(200, { items: [{ code: '320508018000', name: '平江街道', level: 'township', hasChildren: true }], total: 1, page: 1, pageSize: 200 }),
    )
    const l = await loadStreets()
    expect(urls()[1]).toBe('/api/v1/divisions?level=township&pageSize=200')
    expect(l.shapes).toBe(false)
    expect(l.regions).toEqual([{ type: 'Feature', id: '320508018000', geometry: null, properties: { code: '320508018000', name: '平江街道' } }])
  })

  it('falls back to /api/v1/grids with their polygons', async () => {
    fetchMock.mockImplementation(async (url: string) =>
      url.startsWith('/ogc/')
        ? json(404, {})
        : json(200, { items: [{ code: '320508018003001', name: '平江路社区第1网格', boundary: poly }], total: 1, page: 1, pageSize: 200 }),
    )
    const l = await loadGrids('320508018003')
    expect(urls()).toEqual([
      '/ogc/collections/grids/items?community=320508018003&limit=1000',
      '/api/v1/grids?divisionCode=320508018003&boundary=true&pageSize=200',
    ])
    expect(l.shapes).toBe(true)
    expect(l.regions[0]!.geometry).toEqual(poly)
  })

  it('uses the feature id when properties lack a code, and sorts by code', () => {
    const r = toRegions([
      { type: 'Feature', id: '2', geometry: null, properties: { name: 'B' } },
      { type: 'Feature', id: '1', geometry: null, properties: { code: '1' } },
    ])
    expect(r.map((x) => x.properties)).toEqual([
      { code: '1', name: '1' },
      { code: '2', name: 'B' },
    ])
  })
})

describe('components, classes, geocode and search', () => {
  it('asks for components in a box of one class and keeps only points', async () => {
    fetchMock.mockResolvedValue(
      json(
        200,
        fc(
          [
            { type: 'Feature', geometry: { type: 'Point', coordinates: [120.6, 31.3] }, properties: { code: 'c1', major: '01', minor: '02' } },
            { type: 'Feature', geometry: null, properties: { code: 'c2', major: '01', minor: '02' } },
          ],
          { numberMatched: 2 },
        ),
      ),
    )
    const res = await loadComponents([120.5, 31.2, 120.7, 31.4], { major: '01', minor: '02' })
    expect(urls()[0]).toBe('/ogc/collections/components/items?bbox=120.5%2C31.2%2C120.7%2C31.4&major=01&minor=02&limit=5000')
    expect(res.points.map((p) => p.properties.code)).toEqual(['c1'])
    expect(res.available).toBe(true)
    expect(res.truncated).toBe(false)
  })

  it('reads a missing components collection as no components', async () => {
    fetchMock.mockResolvedValue(json(404, {}))
    expect(await loadComponents([0, 0, 1, 1], {})).toEqual({ points: [], truncated: false, available: false })
  })

  it('flags a truncated component list', async () => {
    fetchMock.mockResolvedValue(json(200, fc([{ type: 'Feature', geometry: { type: 'Point', coordinates: [1, 1] }, properties: { code: 'c', major: '01', minor: '01' } }], { numberMatched: 9000 })))
    expect((await loadComponents([0, 0, 2, 2], {})).truncated).toBe(true)
  })

  it('reads a 404 from the class list and the registry search as not there yet', async () => {
    fetchMock.mockResolvedValue(json(404, { title: 'Not Found' }, 'application/problem+json'))
    expect(await loadClasses()).toEqual([])
    expect(await searchRegistry('平江')).toBeNull()
  })

  it('reads the geocoder’s answer flat or nested', () => {
    const flat = {
      gridCode: '320508018020003',
      gridName: '钮家巷社区第3网格',
      communityCode: '320508018020',
      communityName: '钮家巷社区',
      streetCode: '320508018000',
      streetName: '平江街道',
      districtCode: '320508000000',
      districtName: '姑苏区',
    }
    expect(normalizeGeocode(flat)).toEqual(flat)
    const nested = {
      lon: 120.62,
      lat: 31.31,
      grid: { code: '320508018020003', name: '钮家巷社区第3网格' },
      community: { code: '320508018020', name: '钮家巷社区' },
      street: { code: '320508018000', name: '平江街道' },
      district: { code: '320508000000', name: '姑苏区' },
    }
    expect(normalizeGeocode(nested)).toEqual(flat)
    expect(normalizeGeocode({})).toEqual({})
  })

  it('geocodes a point; a 404 is a point in no grid; other errors throw', async () => {
    const hit = { gridCode: '320508018003001', gridName: '平江路社区第1网格', communityCode: '320508018003' }
    fetchMock.mockResolvedValueOnce(json(200, hit))
    expect(await geocode(120.62, 31.31)).toEqual(hit)
    expect(urls()[0]).toBe('/api/v1/geocode?lon=120.620000&lat=31.310000')
    fetchMock.mockResolvedValueOnce(json(404, { title: 'Not Found', detail: 'no grid here' }, 'application/problem+json'))
    expect(await geocode(0, 0)).toBeNull()
    fetchMock.mockResolvedValueOnce(json(404, { title: 'Not Found', detail: 'endpoint "GET /api/v1/geocode" not found' }, 'application/problem+json'))
    await expect(geocode(0, 0)).rejects.toBeInstanceOf(ApiError)
    fetchMock.mockResolvedValueOnce(json(404, { title: '未找到', detail: '未找到endpoint "GET /api/v1/geocode"' }, 'application/problem+json'))
    await expect(geocode(0, 0)).rejects.toBeInstanceOf(ApiError)
    fetchMock.mockResolvedValueOnce(json(403, { title: 'Forbidden', detail: 'outside your region' }, 'application/problem+json'))
    await expect(geocode(0, 0)).rejects.toBeInstanceOf(ApiError)
  })
})

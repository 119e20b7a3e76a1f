// Types of the map page's data: GeoJSON from the OGC API - Features under
// /ogc/ (WGS84 lon/lat) and the JSON API's geocode, classes and search.

export type Position = [number, number]

export type Geometry =
  | { type: 'Point'; coordinates: Position }
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] }

export interface Feature<P> {
  type: 'Feature'
  id?: string | number
  geometry: Geometry | null
  properties: P
}

export interface FeatureCollection<P> {
  type: 'FeatureCollection'
  features: Feature<P>[]
  numberMatched?: number
  numberReturned?: number
}

// [west, south, east, north]
export type BBox = [number, number, number, number]

// Division features: /ogc/collections/divisions/items.
export interface DivisionProps {
  code: string
  short?: string
  name: string
  level?: string
  parentCode?: string | null
}

// Unit grid features: /ogc/collections/grids/items.
export interface GridProps {
  code: string
  name: string
  communityCode?: string
  streetCode?: string
  districtCode?: string
}

export type ComponentState = 'normal' | 'damaged' | 'missing' | 'removed'

// Component (部件) points: /ogc/collections/components/items.
export interface ComponentProps {
  code: string
  major: string
  minor: string
  className?: string
  majorName?: string
  name?: string
  state?: ComponentState | string
  ownerName?: string
  gridCode?: string
}

// What the map draws for a division or a grid: a code, a name and a shape.
export interface RegionProps {
  code: string
  name: string
}
export type Region = Feature<RegionProps>

// GET /api/v1/geocode, flattened (see normalizeGeocode).
export interface GeocodeResult {
  gridCode?: string
  gridName?: string
  communityCode?: string
  communityName?: string
  streetCode?: string
  streetName?: string
  districtCode?: string
  districtName?: string
}

// GET /api/v1/component-classes
export interface ComponentClass {
  major: string
  minor: string
  nameZh: string
  nameEn?: string
  majorNameZh: string
  majorNameEn?: string
}

// GET /api/v1/registry/search
export type SearchKind = 'division' | 'grid' | 'building' | 'address' | 'component' | 'entity' | 'enterprise'

export interface SearchHit {
  kind: SearchKind
  code: string
  name: string
  lon?: number | null
  lat?: number | null
  gridCode?: string | null
}

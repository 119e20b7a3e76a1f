// Plain geometry on WGS84 lon/lat: bounding boxes, point-in-polygon and the
// feature under a point. Pure functions (unit-tested).
import type { BBox, Feature, Geometry, Position } from './types'

// The polygons (each a list of rings, exterior first) of a geometry.
export function polygonsOf(g: Geometry | null | undefined): Position[][][] {
  if (!g) return []
  if (g.type === 'Polygon') return [g.coordinates]
  if (g.type === 'MultiPolygon') return g.coordinates
  return []
}

function extend(b: BBox | null, p: Position): BBox {
  if (!b) return [p[0], p[1], p[0], p[1]]
  return [Math.min(b[0], p[0]), Math.min(b[1], p[1]), Math.max(b[2], p[0]), Math.max(b[3], p[1])]
}

export function geometryBBox(g: Geometry | null | undefined): BBox | null {
  if (!g) return null
  if (g.type === 'Point') return extend(null, g.coordinates)
  let b: BBox | null = null
  for (const poly of polygonsOf(g)) for (const p of poly[0] ?? []) b = extend(b, p)
  return b
}

// The box around all features with a geometry; null when none has one.
export function featuresBBox(features: readonly Feature<unknown>[]): BBox | null {
  let b: BBox | null = null
  for (const f of features) {
    const fb = geometryBBox(f.geometry)
    if (fb) b = b ? [Math.min(b[0], fb[0]), Math.min(b[1], fb[1]), Math.max(b[2], fb[2]), Math.max(b[3], fb[3])] : fb
  }
  return b
}

export function bboxCenter(b: BBox): Position {
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]
}

// Grows a box by a fraction of its size on each side (at least `min` degrees).
export function padBBox(b: BBox, fraction: number, min = 0): BBox {
  const dx = Math.max((b[2] - b[0]) * fraction, min)
  const dy = Math.max((b[3] - b[1]) * fraction, min)
  return [b[0] - dx, b[1] - dy, b[2] + dx, b[3] + dy]
}

// "w,s,e,n" for the OGC bbox parameter, rounded to about 1 m.
export function bboxParam(b: BBox): string {
  return b.map((v) => Number(v.toFixed(6))).join(',')
}

export function bboxContains(b: BBox, p: Position): boolean {
  return p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3]
}

// Ray casting; a point on an edge may fall either way.
export function pointInRing(p: Position, ring: readonly Position[]): boolean {
  let inside = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!
    const [xj, yj] = ring[j]!
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

export function pointInGeometry(p: Position, g: Geometry | null | undefined): boolean {
  return polygonsOf(g).some((poly) => {
    const [outer, ...holes] = poly
    return !!outer && pointInRing(p, outer) && !holes.some((h) => pointInRing(p, h))
  })
}

// The first feature whose polygon contains the point.
export function featureAt<P>(features: readonly Feature<P>[], p: Position): Feature<P> | undefined {
  return features.find((f) => pointInGeometry(p, f.geometry))
}

// Where to put a region's name: on the horizontal line through the middle of
// its largest polygon, at the middle of the widest stretch inside it (always
// inside, also for concave shapes).
export function labelPoint(g: Geometry | null | undefined): Position | null {
  if (!g) return null
  if (g.type === 'Point') return g.coordinates
  let best: { ring: Position[]; box: BBox } | null = null
  for (const poly of polygonsOf(g)) {
    const ring = poly[0]
    const box = ring && geometryBBox({ type: 'Polygon', coordinates: [ring] })
    if (ring && box && (!best || (box[2] - box[0]) * (box[3] - box[1]) > (best.box[2] - best.box[0]) * (best.box[3] - best.box[1]))) {
      best = { ring, box }
    }
  }
  if (!best) return null
  const y = (best.box[1] + best.box[3]) / 2
  const xs: number[] = []
  const r = best.ring
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
    const [xi, yi] = r[i]!
    const [xj, yj] = r[j]!
    if (yi > y !== yj > y) xs.push(xi + ((y - yi) * (xj - xi)) / (yj - yi))
  }
  xs.sort((a, b) => a - b)
  let at: Position = bboxCenter(best.box)
  let width = -1
  for (let k = 0; k + 1 < xs.length; k += 2) {
    const w = xs[k + 1]! - xs[k]!
    if (w > width) {
      width = w
      at = [(xs[k]! + xs[k + 1]!) / 2, y]
    }
  }
  return at
}

// The horizontal scale of a degree of longitude against one of latitude at
// the box's middle, for an undistorted plate carrée picture.
export function aspectScale(b: BBox | null): number {
  if (!b) return 0.85
  const lat = (b[1] + b[3]) / 2
  return Math.max(0.2, Math.cos((lat * Math.PI) / 180))
}

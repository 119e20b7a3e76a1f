import { describe, expect, it } from 'vitest'
import {
  containerOf,
  crumbsFor,
  drillInto,
  goUp,
  levelOf,
  pathCodes,
  selectedOf,
  shortLabel,
  type Crumb,
} from '@/map/drill'
import { aspectScale, bboxParam, featureAt, featuresBBox, labelPoint, padBBox, pointInGeometry } from '@/map/geo'
import { hitFromCode, mergeHits, searchLocal, targetOf, type Named } from '@/map/search'
import { classNames, classTree, countByMajor, majorColor, majorPalette } from '@/map/classes'
import { escapeHtml, tipHtml } from '@/map/tooltip'
import type { ComponentClass, Feature, Position, RegionProps } from '@/map/types'

const square = (code: string, x: number, y: number, size = 1): Feature<RegionProps> => ({
  type: 'Feature',
  id: code,
  properties: { code, name: code },
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [x, y],
        [x + size, y],
        [x + size, y + size],
        [x, y + size],
        [x, y],
      ],
    ],
  },
})

describe('drill-down levels and breadcrumb', () => {
  it.each([
    ['320508000000', 'district'],
    ['320508018000', 'street'],
    ['320508018003', 'community'],
    ['320508018003007', 'grid'],
    ['3205', null],
    ['32050801800x', null],
  ])('reads the level of %s as %s', (code, level) => {
    expect(levelOf(code)).toBe(level)
  })

  it('derives the path from the district down from a code alone', () => {
    expect(pathCodes('320508018003007')).toEqual(['320508000000', '320508018000', '320508018003', '320508018003007'])
    expect(pathCodes('320508018003')).toEqual(['320508000000', '320508018000', '320508018003'])
    expect(pathCodes('320508018000')).toEqual(['320508000000', '320508018000'])
    expect(pathCodes('320508000000')).toEqual(['320508000000'])
    expect(pathCodes('bad')).toEqual([])
  })

  it('names each crumb, leaving unknown names empty', () => {
    const names: Record<string, string> = { '320508000000': '姑苏区', '320508018000': '平江街道' }
    expect(crumbsFor('320508018003', (c) => names[c])).toEqual([
      { level: 'district', code: '320508000000', name: '姑苏区' },
      { level: 'street', code: '320508018000', name: '平江街道' },
      { level: 'community', code: '320508018003', name: '' },
    ])
  })

  const district: Crumb = { level: 'district', code: '320508000000', name: '姑苏区' }
  const street: Crumb = { level: 'street', code: '320508018000', name: '平江街道' }
  const community: Crumb = { level: 'community', code: '320508018003', name: '平江路社区' }
  const grid = (n: string): Crumb => ({ level: 'grid', code: `320508018003${n}`, name: `第${n}网格` })

  it('goes down, selects a grid in place of another, and back up', () => {
    let c = drillInto([district], street)
    c = drillInto(c, community)
    expect(containerOf(c)).toEqual(community)
    expect(selectedOf(c)).toBeUndefined()
    c = drillInto(c, grid('001'))
    expect(c.map((x) => x.level)).toEqual(['district', 'street', 'community', 'grid'])
    // the map still shows the community's grids, with one selected
    expect(containerOf(c)).toEqual(community)
    expect(selectedOf(c)?.code).toBe('320508018003001')
    c = drillInto(c, grid('002'))
    expect(c).toHaveLength(4)
    expect(selectedOf(c)?.code).toBe('320508018003002')
    expect(goUp(c, 1)).toEqual([district, street])
    expect(goUp(c, 0)).toEqual([district])
    expect(goUp(c, -5)).toEqual([district])
    expect(goUp(c, 10)).toEqual(c)
  })

  it('shortens grid labels that repeat the community name', () => {
    expect(shortLabel('平江路社区第3网格', '平江路社区')).toBe('第3网格')
    expect(shortLabel('第3网格', '平江路社区')).toBe('第3网格')
    expect(shortLabel('平江路社区', '平江路社区')).toBe('平江路社区')
    expect(shortLabel('路南社区', undefined)).toBe('路南社区')
  })
})

describe('geometry', () => {
  const a = square('a', 120.6, 31.3, 0.01)
  const b = square('b', 120.61, 31.3, 0.01)

  it('computes the box of features and skips those without a geometry', () => {
    const none: Feature<RegionProps> = { type: 'Feature', properties: { code: 'n', name: 'n' }, geometry: null }
    const box = featuresBBox([a, b, none])!
    expect(box.map((v) => Number(v.toFixed(9)))).toEqual([120.6, 31.3, 120.62, 31.31])
    expect(featuresBBox([none])).toBeNull()
    expect(featuresBBox([])).toBeNull()
  })

  it('pads a box and formats it for the OGC bbox parameter', () => {
    expect(padBBox([0, 0, 10, 20], 0.1)).toEqual([-1, -2, 11, 22])
    expect(padBBox([1, 1, 1, 1], 0.1, 0.5)).toEqual([0.5, 0.5, 1.5, 1.5])
    expect(bboxParam([120.5651234567, 31.27, 120.66, 31.35])).toBe('120.565123,31.27,120.66,31.35')
  })

  it('finds the feature under a point, honouring holes and multipolygons', () => {
    expect(featureAt([a, b], [120.605, 31.305])?.id).toBe('a')
    expect(featureAt([a, b], [120.615, 31.305])?.id).toBe('b')
    expect(featureAt([a, b], [120.7, 31.305])).toBeUndefined()
    const ring = (x: number, y: number, s: number): Position[] => [
      [x, y],
      [x + s, y],
      [x + s, y + s],
      [x, y + s],
      [x, y],
    ]
    const donut = { type: 'Polygon' as const, coordinates: [ring(0, 0, 10), ring(4, 4, 2)] }
    expect(pointInGeometry([1, 1], donut)).toBe(true)
    expect(pointInGeometry([5, 5], donut)).toBe(false)
    const multi = { type: 'MultiPolygon' as const, coordinates: [[ring(0, 0, 1)], [ring(5, 5, 1)]] }
    expect(pointInGeometry([5.5, 5.5], multi)).toBe(true)
    expect(pointInGeometry([3, 3], multi)).toBe(false)
    expect(pointInGeometry([0.5, 0.5], null)).toBe(false)
  })

  it('puts labels inside the shape, also for a concave one', () => {
    expect(labelPoint(square('s', 0, 0, 2).geometry)).toEqual([1, 1])
    // A U shape: the middle of its box is in the notch.
    const u: Position[] = [
      [0, 0],
      [3, 0],
      [3, 3],
      [2, 3],
      [2, 1],
      [1, 1],
      [1, 3],
      [0, 3],
      [0, 0],
    ]
    const p = labelPoint({ type: 'Polygon', coordinates: [u] })!
    expect(pointInGeometry(p, { type: 'Polygon', coordinates: [u] })).toBe(true)
    // the larger part of a multipolygon
    const m = labelPoint({ type: 'MultiPolygon', coordinates: [square('a', 0, 0, 1).geometry!.coordinates as Position[][], square('b', 5, 5, 3).geometry!.coordinates as Position[][]] })
    expect(m).toEqual([6.5, 6.5])
    expect(labelPoint(null)).toBeNull()
    expect(labelPoint({ type: 'Point', coordinates: [1, 2] })).toEqual([1, 2])
  })

  it('scales longitude by the cosine of the latitude', () => {
    expect(aspectScale([120, 31, 121, 32])).toBeCloseTo(Math.cos((31.5 * Math.PI) / 180), 6)
    expect(aspectScale(null)).toBe(0.85)
  })
})

describe('search fallback', () => {
  const items: Named[] = [
    { kind: 'division', code: '320508018000', name: '平江街道' },
    { kind: 'division', code: '320508018003', name: '平江路社区' },
    { kind: 'division', code: '320508017001', name: '路南社区' },
    { kind: 'grid', code: '320508017001003', name: '路南社区第3网格' },
    { kind: 'grid', code: '320508018003001', name: '平江路社区第1网格' },
  ]

  it('finds loaded divisions and grids by name, best matches and divisions first', () => {
    expect(searchLocal(items, '平江').map((h) => h.code)).toEqual(['320508018000', '320508018003', '320508018003001'])
    expect(searchLocal(items, '路南社区').map((h) => h.code)).toEqual(['320508017001', '320508017001003'])
    expect(searchLocal(items, '第3网格').map((h) => h.code)).toEqual(['320508017001003'])
  })

  it('finds by code prefix and ignores blanks', () => {
    expect(searchLocal(items, '320508017').map((h) => h.code)).toEqual(['320508017001', '320508017001003'])
    expect(searchLocal(items, '   ')).toEqual([])
    expect(searchLocal(items, '平江', 1)).toHaveLength(1)
  })

  it('treats a full code as a result by itself', () => {
    expect(hitFromCode(' 320508018003001 ')).toEqual({ kind: 'grid', code: '320508018003001', name: '' })
    expect(hitFromCode('320508018003')).toEqual({ kind: 'division', code: '320508018003', name: '' })
    expect(hitFromCode('3205080')).toBeNull()
  })

  it('merges result lists without repeats, filling in what is missing', () => {
    const merged = mergeHits([
      [{ kind: 'division', code: '320508018003', name: '' }],
      [
        { kind: 'division', code: '320508018003', name: '平江路社区' },
        { kind: 'address', code: 'A1', name: '平江路1号', lon: 120.63, lat: 31.32 },
      ],
    ])
    expect(merged).toEqual([
      { kind: 'division', code: '320508018003', name: '平江路社区' },
      { kind: 'address', code: 'A1', name: '平江路1号', lon: 120.63, lat: 31.32 },
    ])
  })

  it('leads divisions and grids into the map and other results to a point', () => {
    expect(targetOf({ kind: 'division', code: '320508018003', name: '' })).toEqual({ type: 'region', code: '320508018003' })
    expect(targetOf({ kind: 'grid', code: '320508018003001', name: '' })).toEqual({ type: 'region', code: '320508018003001' })
    expect(targetOf({ kind: 'address', code: 'A1', name: 'x', lon: 120.63, lat: 31.32, gridCode: '320508018003001' })).toEqual({
      type: 'point',
      lon: 120.63,
      lat: 31.32,
      gridCode: '320508018003001',
    })
    expect(targetOf({ kind: 'building', code: 'B1', name: 'x', gridCode: '320508018003001' })).toEqual({ type: 'region', code: '320508018003001' })
    expect(targetOf({ kind: 'enterprise', code: 'E1', name: 'x' })).toBeNull()
  })
})

describe('component classes', () => {
  const items: ComponentClass[] = [
    { major: '02', minor: '01', nameZh: '停车场', nameEn: 'Car park', majorNameZh: '道路交通', majorNameEn: 'Road traffic' },
    { major: '01', minor: '02', nameZh: '污水井盖', nameEn: 'Sewage manhole cover', majorNameZh: '公用设施', majorNameEn: 'Public facilities' },
    { major: '01', minor: '01', nameZh: '上水井盖', nameEn: 'Water manhole cover', majorNameZh: '公用设施', majorNameEn: 'Public facilities' },
  ]

  it('builds the major → minor tree in code order, in the UI language', () => {
    expect(classTree(items, 'zh-CN')).toEqual([
      {
        value: '01',
        label: '01 公用设施',
        children: [
          { value: '01', label: '01 上水井盖' },
          { value: '02', label: '02 污水井盖' },
        ],
      },
      { value: '02', label: '02 道路交通', children: [{ value: '01', label: '01 停车场' }] },
    ])
    expect(classTree(items, 'en-US')[0]!.label).toBe('01 Public facilities')
    expect(classTree([], 'zh-CN')).toEqual([])
  })

  it('names a class, falling back to the feature’s own names', () => {
    expect(classNames(items, '01', '02', 'en-US')).toEqual({ major: 'Public facilities', minor: 'Sewage manhole cover' })
    expect(classNames(items, '01', '09', 'zh-CN', { className: '其他井盖' })).toEqual({ major: '公用设施', minor: '其他井盖' })
    expect(classNames([], '05', '01', 'zh-CN', { majorName: '房屋土地', className: '公房' })).toEqual({ major: '房屋土地', minor: '公房' })
    expect(classNames([], '05', '01', 'zh-CN')).toEqual({ major: '05', minor: '0501' })
  })

  it('colours points by major class, the same colour for the same class', () => {
    expect(majorColor('01')).toBe(majorPalette[0])
    expect(majorColor('02')).toBe(majorPalette[1])
    expect(majorColor('09')).toBe(majorPalette[0])
    expect(new Set(['01', '02', '03', '04', '05', '06'].map(majorColor)).size).toBe(6)
    expect(majorPalette).toContain(majorColor('x'))
  })

  it('counts points by major class for the legend', () => {
    expect(
      countByMajor([
        { major: '02', majorName: '道路交通' },
        { major: '01', majorName: '公用设施' },
        { major: '01', majorName: '公用设施' },
      ]),
    ).toEqual([
      { major: '01', name: '公用设施', color: majorColor('01'), count: 2 },
      { major: '02', name: '道路交通', color: majorColor('02'), count: 1 },
    ])
  })
})

describe('tooltips', () => {
  it('escapes names and bolds the first line', () => {
    expect(escapeHtml(`<b>"x" & 'y'</b>`)).toBe('&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;')
    expect(tipHtml(['平江<街道>', '', '代码：320508018000'])).toBe('<strong>平江&lt;街道&gt;</strong><br/>代码：320508018000')
    expect(tipHtml([])).toBe('')
  })
})

// Drill-down on the map: 区 › 街道 › 社区 › 网格. Levels follow from the codes
// (12-digit statistical division codes, 15-digit unit grid codes), so the way
// down to any division or grid is known from its code alone. Pure functions.

export type Level = 'district' | 'street' | 'community' | 'grid'

export const levels: Level[] = ['district', 'street', 'community', 'grid']

// What the map shows inside a division of each level.
export const childLevel: Record<Level, Level | null> = {
  district: 'street',
  street: 'community',
  community: 'grid',
  grid: null,
}

export interface Crumb {
  level: Level
  code: string
  // '' while not yet known
  name: string
}

// The level of a code: 15 digits a grid; 12 digits a district (county, and
// above), a street (township) or a community by its zero tail.
export function levelOf(code: string): Level | null {
  if (/^\d{15}$/.test(code)) return 'grid'
  if (!/^\d{12}$/.test(code)) return null
  if (code.endsWith('000000')) return 'district'
  if (code.endsWith('000')) return 'street'
  return 'community'
}

export function districtOf(code: string): string {
  return code.slice(0, 6) + '000000'
}
export function streetOf(code: string): string {
  return code.slice(0, 9) + '000'
}
export function communityOf(code: string): string {
  return code.slice(0, 12)
}

// The codes from the district down to `code` itself; [] for a bad code.
export function pathCodes(code: string): string[] {
  const level = levelOf(code)
  if (!level) return []
  const all = [districtOf(code), streetOf(code), communityOf(code), code]
  return all.slice(0, levels.indexOf(level) + 1)
}

// The breadcrumb for `code`, naming each step with `nameOf` ('' when unknown).
export function crumbsFor(code: string, nameOf: (code: string) => string | undefined): Crumb[] {
  return pathCodes(code).map((c, i) => ({ level: levels[i]!, code: c, name: nameOf(c) ?? '' }))
}

// The division whose children the map shows for a breadcrumb: the last
// crumb, or for a selected grid its community.
export function containerOf(crumbs: readonly Crumb[]): Crumb | undefined {
  const last = crumbs[crumbs.length - 1]
  if (last?.level === 'grid') return crumbs[crumbs.length - 2]
  return last
}

// The crumb selected on the map (a grid), if any.
export function selectedOf(crumbs: readonly Crumb[]): Crumb | undefined {
  const last = crumbs[crumbs.length - 1]
  return last?.level === 'grid' ? last : undefined
}

// Going into a child region (or selecting a grid, which replaces a
// previously selected one).
export function drillInto(crumbs: readonly Crumb[], child: Crumb): Crumb[] {
  const base = selectedOf(crumbs) ? crumbs.slice(0, -1) : [...crumbs]
  return [...base, child]
}

// Back up to the crumb at `index` (0 = the district).
export function goUp(crumbs: readonly Crumb[], index: number): Crumb[] {
  return crumbs.slice(0, Math.max(1, Math.min(index + 1, crumbs.length)))
}

// Grid names repeat their community's ("路南社区第3网格"): on the map the
// label is shortened to the part after it.
export function shortLabel(name: string, parentName: string | undefined): string {
  if (parentName && name.startsWith(parentName) && name.length > parentName.length) return name.slice(parentName.length)
  return name
}

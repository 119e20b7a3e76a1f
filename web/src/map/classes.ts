// Component (部件) classes: the major → minor tree for the filter, names in
// the UI language, and one colour per major class. Pure functions.
import type { ComponentClass } from './types'

// Distinct, dark enough for white symbol borders and 3:1 against the map's
// light fill: 01 公用设施 blue, 02 道路交通 orange, 03 市容环境 purple,
// 04 园林绿化 green, 05 房屋土地 brown, 06 其他设施 teal, then two spares.
export const majorPalette = ['#1658c4', '#b85200', '#7b3fb0', '#2a7a25', '#8a5a2b', '#0f7272', '#b0306a', '#4b4e54']

export function majorColor(major: string): string {
  const n = /^\d+$/.test(major) ? Number(major) - 1 : [...major].reduce((a, c) => a + c.charCodeAt(0), 0)
  const i = ((n % majorPalette.length) + majorPalette.length) % majorPalette.length
  return majorPalette[i]!
}

export interface ClassOption {
  value: string
  label: string
  children?: ClassOption[]
}

const english = (locale: string) => locale.toLowerCase().startsWith('en')

// Major classes with their minor classes, both ordered by code.
export function classTree(items: readonly ComponentClass[], locale: string): ClassOption[] {
  const en = english(locale)
  const majors = new Map<string, ClassOption & { children: ClassOption[] }>()
  for (const c of [...items].sort((a, b) => a.major.localeCompare(b.major) || a.minor.localeCompare(b.minor))) {
    let m = majors.get(c.major)
    if (!m) {
      m = { value: c.major, label: `${c.major} ${(en && c.majorNameEn) || c.majorNameZh}`, children: [] }
      majors.set(c.major, m)
    }
    m.children.push({ value: c.minor, label: `${c.minor} ${(en && c.nameEn) || c.nameZh}` })
  }
  return [...majors.values()]
}

export interface ClassNames {
  major: string
  minor: string
}

// Names of a class in the UI language, falling back to what the feature says.
export function classNames(
  items: readonly ComponentClass[],
  major: string,
  minor: string,
  locale: string,
  fallback: { majorName?: string; className?: string } = {},
): ClassNames {
  const en = english(locale)
  const hit = items.find((c) => c.major === major && c.minor === minor)
  const majorHit = hit ?? items.find((c) => c.major === major)
  return {
    major: (majorHit && ((en && majorHit.majorNameEn) || majorHit.majorNameZh)) || fallback.majorName || major,
    minor: (hit && ((en && hit.nameEn) || hit.nameZh)) || fallback.className || `${major}${minor}`,
  }
}

export interface MajorCount {
  major: string
  name: string
  color: string
  count: number
}

// How many points of each major class, by code: the map's legend.
export function countByMajor(points: readonly { major: string; majorName: string }[]): MajorCount[] {
  const m = new Map<string, MajorCount>()
  for (const p of points) {
    const c = m.get(p.major) ?? { major: p.major, name: p.majorName, color: majorColor(p.major), count: 0 }
    c.count++
    m.set(p.major, c)
  }
  return [...m.values()].sort((a, b) => a.major.localeCompare(b.major))
}

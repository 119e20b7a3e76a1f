// Types of the base-data (基础数据) API under /api/v1: people, buildings,
// components, enterprises and organisations, routed changes, imports and
// grid-worker assignments (OpenAPI tag "Base data"). Times are Unix ms.

export type RecordKind = 'person' | 'building' | 'component' | 'entity'
export type ImportKind = 'people' | 'entities' | 'components' | 'buildings'

// Department that provided a value (deptType code: ga, mz, scjg, cg, zj, jt, yj, jd, sq).
export interface Source {
  dept: string
  at: number
}

export interface PersonTag {
  tag: string
  nameZh: string
  sourceDept: string
  since: number
}

export type PersonStatus = 'active' | 'moved-out' | 'deceased'

export interface Person {
  id: string
  idNumber: string
  name: string
  sex: 'M' | 'F'
  birthYear: number
  age: number
  hukouDivision: string
  registered: boolean
  resident: boolean
  householdId?: string
  householdNumber?: string
  relation?: string
  addressId?: string
  address: string
  phone: string
  status: PersonStatus
  gridCode: string
  tags: PersonTag[]
  sources: Record<string, Source>
  version: number
  updatedAt: number
  // Personal fields shown in clear for the stated purpose.
  clearFields: string[]
}

export interface Household {
  id: string
  number: string
  kind: string
  address: string
  gridCode: string
  members: Person[]
}

export type BuildingUse = 'residential' | 'commercial' | 'office' | 'mixed' | 'public' | 'industrial'

export interface Building {
  id: string
  code: string
  name: string
  road: string
  houseNo: string
  address: string
  useType: BuildingUse
  floors: number
  gridCode: string
  lon: number
  lat: number
  rooms: number
  sources: Record<string, Source>
  version: number
  updatedAt: number
}

export interface Room {
  id: string
  room: string
  address: string
  buildingCode: string
  gridCode: string
  people: number
}

export type ComponentState = 'normal' | 'damaged' | 'missing' | 'removed'

export interface ComponentClass {
  major: string
  minor: string
  nameZh: string
  nameEn: string
  majorNameZh: string
  majorNameEn: string
  ownerDept: string
}

export interface CityComponent {
  code: string
  major: string
  minor: string
  className: string
  majorName: string
  name: string
  state: ComponentState
  ownerDept: string
  ownerName: string
  address: string
  gridCode: string
  lon: number
  lat: number
  sources: Record<string, Source>
  version: number
  updatedAt: number
}

export type EntityKind = 'enterprise' | 'individual' | 'social' | 'institution' | 'other'
export type EntityStatus = 'active' | 'revoked' | 'cancelled' | 'moved-out'

export interface Entity {
  creditCode: string
  name: string
  kind: EntityKind
  typeName: string
  legalRep: string
  industry: string
  industryName: string
  address: string
  status: EntityStatus
  established: string
  gridCode: string
  lon: number
  lat: number
  sources: Record<string, Source>
  version: number
  updatedAt: number
  clearFields: string[]
}

export type Outcome = 'applied' | 'unchanged' | 'routed'

export interface FieldOutcome {
  field: string
  outcome: Outcome
  changeId?: string
  authorityDept?: string
}

export type ChangeStatus = 'open' | 'accepted' | 'rejected'
export type ChangeReason = 'conflict' | 'correction' | 'new'

export interface Change {
  id: string
  reason: ChangeReason
  kind: RecordKind
  recordId?: string
  field?: string
  current: string
  proposed: string
  note?: string
  proposerDept: string
  proposerName: string
  authorityDept: string
  status: ChangeStatus
  dueAt: number
  overdue: boolean
  decidedBy?: string
  decidedAt?: number
  decisionNote?: string
  gridCode: string
  createdAt: number
}

export interface ProposeBody {
  kind: RecordKind
  recordId?: string
  values?: Record<string, string>
  record?: Record<string, unknown>
  note?: string
}

export interface ProposeResult {
  outcomes: FieldOutcome[]
  change?: Change
}

export interface HistoryEntry {
  field: string
  old: string
  new: string
  sourceDept: string
  actorName: string
  changeId?: string
  at: number
}

export type ImportMode = 'dry-run' | 'all-or-nothing' | 'good-rows'
export type ImportStatus = 'checking' | 'writing' | 'done' | 'rejected' | 'failed' | 'cancelled' | 'interrupted'

export interface RowError {
  row: number
  field: string
  rule: string
  message: string
  messageZh: string
}

export interface ImportJob {
  id: string
  kind: ImportKind
  filename: string
  mode: ImportMode
  status: ImportStatus
  total: number
  checked: number
  good: number
  bad: number
  written: number
  errors: RowError[]
  message?: string
  fileHash: string
  actorName: string
  sourceDept: string
  createdAt: number
  finishedAt?: number
}

export interface Purpose {
  code: string
  nameZh: string
  nameEn: string
  basis: string
  fields: string[] | null
  roles: string[] | null
}

export interface TagInfo {
  tag: string
  nameZh: string
  sourceDept: string
}

export interface ImportColumn {
  key: string
  nameZh: string
  required: boolean
}

export interface Reference {
  tags: TagInfo[]
  industries: { code: string; nameZh: string }[]
  buildingUses: BuildingUse[]
  componentStates: ComponentState[]
  entityKinds: EntityKind[]
  importColumns: Partial<Record<ImportKind, ImportColumn[] | null>>
}

export interface Assignment {
  gridCode: string
  gridName: string
  userId: string
  username: string
  displayName: string
  assignedBy: string
  assignedAt: number
}

export interface GridSummary {
  code: string
  name: string
  communityCode: string
  lon: number
  lat: number
  people: number
  buildings: number
  components: number
  entities: number
  careTags: number
  openChanges: number
}

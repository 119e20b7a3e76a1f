// Types of the HTTP API under /api/v1 (docs/CONTRACTS-WIP.md).

export type RoleCode =
  | 'citizen'
  | 'enterprise'
  | 'grid_worker'
  | 'dept_staff'
  | 'dept_head'
  | 'supervisor'
  | 'leader'
  | 'auditor'
  | 'sys_admin'
  | 'sec_admin'

export interface Me {
  id: string
  username: string
  displayName: string
  roles: RoleCode[]
  orgId?: string | null
  orgName?: string | null
  divisionCode?: string | null
  divisionName?: string | null
  // The permissions the roles give (sent by the server; used to show actions).
  permissions?: string[]
}

export interface LoginReply {
  user: Me
  csrfToken: string
}

export interface Meta {
  version: string
  cryptoProfile: string
  demo: boolean
}

export interface Page<T> {
  items: T[]
  total: number
  page: number
  pageSize: number
}

export interface Role {
  code: RoleCode
  nameZh: string
  nameEn: string
  description: string
}

export type DivisionLevel = 'province' | 'city' | 'county' | 'township' | 'community'
export const divisionLevels: DivisionLevel[] = ['province', 'city', 'county', 'township', 'community']

export interface Division {
  code: string
  name: string
  level: DivisionLevel
  parentCode?: string | null
  hasChildren: boolean
}

export interface Org {
  id: string
  name: string
  code?: string | null
  kind: string
  deptType?: string | null
  parentId?: string | null
  divisionCode: string
  divisionName?: string | null
  level?: string | null
}

export type UserStatus = 'active' | 'disabled' | 'locked'

export interface User {
  id: string
  username: string
  displayName: string
  phoneMasked?: string | null
  orgId: string
  orgName?: string | null
  divisionCode?: string | null
  divisionName?: string | null
  roles: RoleCode[]
  status: UserStatus
  createdAt: string
}

export interface ApiToken {
  id: string
  name: string
  orgId: string
  orgName?: string | null
  scopes: string[]
  createdAt: string
  expiresAt?: string | null
  revokedAt?: string | null
  lastUsedAt?: string | null
  prefix: string
  // Sent by the backend; computed from the dates when absent.
  status?: 'active' | 'expired' | 'revoked'
}

export interface IssuedToken extends ApiToken {
  token: string
}

export interface AuditEntry {
  id: string
  at: string
  actorId?: string | null
  actorName?: string | null
  action: string
  subject?: string | null
  detail?: Record<string, unknown> | string | null
  ip?: string | null
  requestId?: string | null
}

// The tamper-evident ledger (可信存证), GET /api/v1/ledger and friends.
export type LedgerHasher = 'sha256' | 'sm3'

export interface LedgerCheckpoint {
  size: number
  root: string // base64
  createdAt: string
  cosignedBy: string[]
}

export interface LedgerWitness {
  name: string
  vkey: string
  addedAt: string
  lastSize: number
  lastAt?: string | null
}

export interface LedgerStatus {
  origin: string
  hasher: LedgerHasher | string
  size: number
  checkpoints: LedgerCheckpoint[]
  witnesses: LedgerWitness[]
}

export interface LedgerRecord {
  kind: 'record'
  actorKind: string
  actorId: string
  actorName: string
  orgId: string
  module: string
  action: string
  subject: string
  purpose?: string
  basis?: string
  time: number // Unix ms
  payloadHash?: string
  requestId?: string
  ref?: string
  v: number
}

export interface LedgerAttestation {
  kind: 'attestation'
  orgId: string
  first: number
  count: number
  alg: string
  key: string
  digest: string // hex
  sig: string // base64
  time: number // Unix ms
  v: number
}

export interface LedgerEntry {
  index: number
  leafHash: string // hex
  kind: 'record' | 'attestation' | string
  data: Record<string, unknown>
}

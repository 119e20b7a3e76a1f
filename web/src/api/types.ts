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

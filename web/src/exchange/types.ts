// Types of the 共享交换 (data exchange) API under /api/v1/exchange, mirroring
// the Go structs of internal/exchange (JSON names as sent; times are Unix ms).

export type SharingClass = 'unconditional' | 'conditional' | 'none'
export type ResourceClass = 'base' | 'subject' | 'department'
export type Grading = 'core' | 'important' | 'general'
export type ResourceStatus = 'draft' | 'published' | 'retired'
export type ResourceFormat = 'table' | 'file' | 'api'
export type Opening = 'open' | 'conditional' | 'closed'
export type UpdateCycle = 'realtime' | 'daily' | 'weekly' | 'monthly' | 'quarterly' | 'yearly' | 'irregular'
export type Backend = 'hosted' | 'http' | 'registry'
export type ItemType = 'string' | 'int' | 'number' | 'date' | 'datetime' | 'bool' | 'idnumber' | 'creditcode' | 'division' | 'phone' | 'email'
export type Personal = '' | 'personal' | 'sensitive'
export type Mask = '' | 'id' | 'name' | 'phone' | 'address' | 'partial' | 'hide'

export const sharingClasses: SharingClass[] = ['unconditional', 'conditional', 'none']
export const resourceClasses: ResourceClass[] = ['base', 'subject', 'department']
export const gradings: Grading[] = ['core', 'important', 'general']
export const resourceStatuses: ResourceStatus[] = ['draft', 'published', 'retired']
export const formats: ResourceFormat[] = ['table', 'file', 'api']
export const openings: Opening[] = ['open', 'conditional', 'closed']
export const updateCycles: UpdateCycle[] = ['realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'irregular']
export const backends: Backend[] = ['hosted', 'http', 'registry']
export const itemTypes: ItemType[] = ['string', 'int', 'number', 'date', 'datetime', 'bool', 'idnumber', 'creditcode', 'division', 'phone', 'email']
export const masks: Exclude<Mask, ''>[] = ['id', 'name', 'phone', 'address', 'partial', 'hide']
export const registryDatasets = ['people', 'entities', 'buildings', 'components'] as const

// One data item of a resource (数据项).
export interface Item {
  name: string
  nameZh: string
  type: ItemType | string
  required?: boolean
  key?: boolean
  personal?: Personal | string
  mask?: Mask | string
}

export interface QualityRule {
  id: string
  kind: string
  item?: string
  param?: string
  weight?: number
}

// One catalog entry (GB/T 21063 core fields).
export interface Resource {
  id: string
  code: string
  node: string
  name: string
  class: ResourceClass | string
  category: string
  providerOrg: string
  providerName: string
  providerCode: string
  providerDept: string
  summary: string
  format: ResourceFormat | string
  sharing: SharingClass | string
  conditions: string
  legalBasis: string
  method: string
  opening: Opening | string
  updateCycle: UpdateCycle | string
  releaseDate: string
  related: string[]
  grading: Grading | string
  backend: Backend | string
  backendRef?: string
  items: Item[]
  rules?: QualityRule[]
  status: ResourceStatus | string
  version: number
  quality: number // 0-100, -1 when never checked
  qualityAt: number
  lastLoad: number
  createdAt: number
  updatedAt: number
  personalItems: number
}

// Input to create or change a resource.
export interface NewResource {
  code: string
  name: string
  class: ResourceClass | string
  category?: string
  providerOrg?: string
  summary?: string
  format: ResourceFormat | string
  sharing: SharingClass | string
  conditions?: string
  legalBasis?: string
  method?: string
  opening?: Opening | string
  updateCycle: UpdateCycle | string
  releaseDate?: string
  related?: string[]
  grading: Grading | string
  backend: Backend | string
  backendRef?: string
  items: Item[]
  rules?: QualityRule[]
}

export interface LoadResult {
  resource: string
  inserted: number
  updated: number
  deleted: number
  quality: number
}

export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'refused'
export const requestStatuses: RequestStatus[] = ['pending', 'approved', 'rejected', 'refused']

export interface ShareRequest {
  id: string
  resourceId: string
  resourceCode: string
  resourceName: string
  providerName: string
  sharing: string
  consumerNode?: string
  consumerOrg: string
  consumerName: string
  requester: string
  fields: string[]
  clearFields: string[]
  purpose: string
  basis: string
  dailyQuota: number
  rateLimit: number
  expiresAt: number
  status: RequestStatus | string
  dueAt: number
  reminded: boolean
  escalated: boolean
  overdue: boolean
  decidedBy?: string
  decidedAt?: number
  reason?: string
  grantId?: string
  createdAt: number
}

export interface NewRequest {
  resource: string
  fields: string[]
  clearFields?: string[]
  purpose: string
  basis: string
  dailyQuota?: number
  rateLimit?: number
  expiresAt?: string // YYYY-MM-DD
}

export interface Decision {
  approve: boolean
  fields?: string[]
  clearFields?: string[]
  dailyQuota?: number
  expiresAt?: string
  reason?: string
}

export type GrantStatus = 'active' | 'expired' | 'revoked'
export const grantStatuses: GrantStatus[] = ['active', 'expired', 'revoked']

export interface Grant {
  id: string
  requestId: string
  resourceId: string
  resourceCode: string
  resourceName: string
  providerName: string
  consumerNode?: string
  consumerOrg: string
  consumerName: string
  fields: string[]
  clearFields: string[]
  purpose: string
  basis: string
  dailyQuota: number
  rateLimit: number
  expiresAt: number
  status: GrantStatus | string
  grantedBy: string
  grantedAt: number
  revokedBy?: string
  revokedAt?: number
  revokeReason?: string
  usedToday: number
}

// A query under a grant: by one key, many keys, or a filter.
export interface ExchangeQuery {
  grant: string
  resource?: string
  key?: string
  keys?: string[]
  filter?: Record<string, string>
  fields?: string[]
  limit?: number
  offset?: number
}

export interface Answer {
  accessId: string
  resource: string
  grant: string
  fields: string[]
  masked: string[]
  records: Record<string, string>[]
  missing: number
  node?: string
}

// One row of the access log.
export interface Access {
  id: string
  at: number
  consumer: string
  consumerNode?: string
  actor: string
  resource: string
  resourceName: string
  grant?: string
  fields: string[]
  purpose?: string
  outcome: 'ok' | 'refused' | string
  reason?: string
  records: number
  subjects: number
  batch: number
  onLedger: boolean
}

// The ledger's proof of one of its entries against a signed checkpoint.
export interface EntryProof {
  index: number
  size: number
  leafHash: string // hex
  entry: string // canonical JSON
  root: string // base64
  proof: string[] // base64, leaf to root
  checkpoint: string // signed note
}

// Proof of one access: record, audit path in its batch, the batch's ledger entry.
export interface AccessProof {
  accessId: string
  record: string
  leafHash: string // hex
  hasher: 'sha256' | 'sm3' | string
  batch: number
  leafIndex: number
  batchSize: number
  batchRoot: string // hex
  batchPath: string[] // base64
  onLedger: boolean
  ledger?: EntryProof | null
}

export interface Subscription {
  id: string
  grant: string
  resource: string
  resourceName: string
  kind: 'bus' | 'webhook' | string
  url?: string
  secret?: string
  status: 'active' | 'cancelled' | string
  createdAt: number
  pending: number
  failed: number
  delivered: number
}

export interface NewSubscription {
  grant: string
  kind: 'bus' | 'webhook'
  url?: string
}

// Quality (数据质量).
export interface RuleResult {
  rule: QualityRule
  checked: number
  passed: number
  score: number
}

export interface QualityFailure {
  key: string
  ruleId: string
  kind: string
  item?: string
  problem: string
  problemZh: string
}

export interface QualityResult {
  score: number
  records: number
  rules: RuleResult[] | null
  failures: QualityFailure[] | null
  failed: number
  failedRecords: number
}

export interface QualityRun {
  id: string
  resource: string
  score: number
  records: number
  failed: number
  trigger: 'publish' | 'load' | 'schedule' | 'manual' | string
  at: number
  result: QualityResult
}

export interface ResourceQuality {
  resource: string
  name: string
  providerName: string
  score: number
  records: number
  failed: number
  at: number
}

export interface ProviderQuality {
  providerOrg: string
  providerName: string
  resources: number
  score: number
  failed: number
}

export interface QualityBoard {
  resources: ResourceQuality[]
  providers: ProviderQuality[]
  average: number
}

// The data tracker (数据使用记录).
export interface Link {
  subject: string
  kind: 'person' | 'entity' | string
  label: string
  linkedAt: number
}

export interface LinkInput {
  idNumber?: string
  creditCode?: string
  name: string
}

export interface Use {
  accessId: string
  at: number
  subject: string
  consumer: string
  consumerNode?: string
  resource: string
  resourceName: string
  fields: string[]
  /** The fields' Chinese names, in the same order. */
  fieldsZh?: string[]
  clear: string[]
  purpose: string
  basis: string
  outcome: string
  proofUrl: string
  disputed: boolean
}

export type DisputeKind = 'objection' | 'correction'
export type DisputeStatus = 'open' | 'accepted' | 'rejected'
export const disputeStatuses: DisputeStatus[] = ['open', 'accepted', 'rejected']

export interface Dispute {
  id: string
  kind: DisputeKind | string
  subject: string
  accessId?: string
  resource: string
  resourceName: string
  providerName: string
  field?: string
  claimed?: string
  text: string
  status: DisputeStatus | string
  dueAt: number
  overdue: boolean
  answer?: string
  answeredBy?: string
  answeredAt?: number
  createdAt: number
}

export interface NewDispute {
  kind: DisputeKind
  accessId?: string
  resource?: string
  field?: string
  claimed?: string
  text: string
}

// Federation (共享节点).
export type NodeLevel = 'province' | 'city' | 'county' | 'township'
export const nodeLevels: NodeLevel[] = ['province', 'city', 'county', 'township']

export interface ExchangeNode {
  id: string
  name: string
  level: NodeLevel | string
  url: string
  publicKey: string
  relation: string
  via?: string
  status: string
  updatedAt: number
}

export interface NodeView {
  self: ExchangeNode
  parent?: ExchangeNode | null
  children: ExchangeNode[] | null
  known: ExchangeNode[] | null
}

export interface NodeInvite {
  id: string
  name: string
  level: NodeLevel | string
}

export interface Invitation {
  id: string
  token: string
}

export interface JoinInput {
  parentUrl: string
  token: string
}

export interface SyncResult {
  pushed: number
  pulled: number
}

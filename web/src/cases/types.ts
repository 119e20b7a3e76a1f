// Types of the cases API (一网统管, internal/cases): cases, their timeline,
// photos, categories, area rules and notices.

export type CaseState = 'reported' | 'filed' | 'dispatched' | 'handled' | 'closed' | 'rejected' | 'merged' | 'suspended'
export type Channel = 'grid' | 'portal' | 'open311' | 'hotline' | 'sensor' | 'video' | 'referral'
export type Rating = 'satisfied' | 'basically' | 'dissatisfied'

export type CaseAction =
  | 'file'
  | 'reject'
  | 'dispatch'
  | 'return'
  | 'handle'
  | 'verify-pass'
  | 'verify-fail'
  | 'postpone-request'
  | 'postpone-approve'
  | 'postpone-reject'
  | 'suspend'
  | 'resume'
  | 'merge'
  | 'escalate'
  | 'reopen'
  | 'rate'
  | 'comment'

export interface Case {
  id: string
  no: string
  channel: Channel
  state: CaseState
  category: string
  categoryName: string
  confidence: number
  classifiedBy: 'reporter' | 'model' | 'operator' | 'rule' | ''
  description: string
  address: string
  lon: number
  lat: number
  grid: string
  gridName?: string
  respGrid?: string
  community: string
  street: string
  district: string
  component?: string
  dept: string
  orgId: string
  orgName: string
  reporterKind: 'user' | 'public' | 'system'
  reporterId?: string
  reporter: string
  externalId?: string
  supervised: number
  warning: number
  reworks: number
  returns: number
  repeats: number
  duplicateOf?: string
  postponeRequested?: number
  filedAt?: number
  dispatchedAt?: number
  deadlineAt?: number
  suspendedAt?: number
  handledAt?: number
  closedAt?: number
  rating?: Rating | ''
  ratingComment?: string
  ratedAt?: number
  version: number
  createdAt: number
  updatedAt: number
}

export interface CaseEvent {
  id: string
  seq: number
  action: string
  from: CaseState | ''
  to: CaseState | ''
  actorKind: string
  actorId: string
  actorName: string
  orgId: string
  note?: string
  data?: Record<string, unknown>
  at: number
}

export interface PhotoMeta {
  id: string
  stage: 'report' | 'handle' | 'verify'
  mime: string
  size: number
  sha256: string
  createdAt: number
}

export interface CaseDetail extends Case {
  events: CaseEvent[]
  photos: PhotoMeta[]
  reporters: number
  reporterClear?: { name: string; phone: string }
}

export interface Photo {
  mime: string
  // base64
  data: string
}

export interface NewCase {
  channel: 'grid' | 'portal' | 'hotline' | 'referral'
  category?: string
  description: string
  address?: string
  lon?: number
  lat?: number
  component?: string
  reporterName?: string
  reporterPhone?: string
  externalId?: string
  photos?: Photo[]
}

export interface Candidate {
  code: string
  name: string
  confidence: number
}

export interface Suggestion {
  id: string
  no: string
  state: CaseState
  category: string
  description: string
  distanceM: number
  similarity: number
  reason: 'component' | 'text' | 'place'
}

export interface Intake {
  case: Case
  repeat: boolean
  suggestions: Suggestion[]
  candidates: Candidate[]
}

export interface ActionInput {
  note?: string
  category?: string
  dept?: string
  orgId?: string
  until?: number
  target?: string
  level?: number
  rating?: Rating
  photos?: Photo[]
}

export interface CaseCategory {
  code: string
  kind: 'component' | 'event'
  majorZh: string
  nameZh: string
  nameEn: string
  dept: string
  deadline: number
  unit: 'hours' | 'work_hours' | 'work_days'
  filing: string
  verifyRule: string
  active: boolean
  version: number
  updatedBy: string
  updatedAt: number
}

export type CategoryInput = Omit<CaseCategory, 'code' | 'kind' | 'version' | 'updatedBy' | 'updatedAt'>

export interface AreaRule {
  id: string
  category: string
  division: string
  dept: string
  note: string
  createdBy?: string
  createdAt?: number
}

export interface AlarmRule {
  id: string
  source: 'sensor' | 'video'
  alarm: string
  category: string
  minValue?: number
  minConfidence?: number
  note: string
}

export interface CaseNotice {
  id: string
  caseId: string
  kind: 'dispatch' | 'verify' | 'rework' | 'return' | 'postpone' | 'escalation' | 'warning' | 'overdue' | 'progress'
  message: string
  at: number
  read: boolean
}

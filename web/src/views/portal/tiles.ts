import type { Component } from 'vue'
import { Wallet, House, Postcard, FirstAidKit, OfficeBuilding, Present, ChatDotRound, Ticket, DataAnalysis } from '@element-plus/icons-vue'

export interface ServiceTile {
  key: string
  icon: Component
  enterprise?: boolean
  // A live service: where it opens and the i18n key of its name.
  to?: string
  label?: string
}

// Services of the portal: live ones link to their page, the rest are
// placeholders ("coming soon") until the services module exists.
export const tiles: ServiceTile[] = [
  { key: 'socialSecurity', icon: Wallet },
  { key: 'housingFund', icon: House },
  { key: 'household', icon: Postcard },
  { key: 'medical', icon: FirstAidKit },
  { key: 'business', icon: OfficeBuilding, enterprise: true },
  { key: 'policy', icon: Present, enterprise: true },
  { key: 'complaint', icon: ChatDotRound, to: '/portal/report', label: 'cases.portal.reportTitle' },
  // 数据使用记录: who used my (my enterprise's) data, verifiable on the ledger.
  { key: 'dataTracker', icon: DataAnalysis, to: '/portal/data', label: 'exchange.nav.tracker' },
  { key: 'passcode', icon: Ticket },
]

import type { Component } from 'vue'
import { Wallet, House, Postcard, FirstAidKit, OfficeBuilding, Present, ChatDotRound, Ticket } from '@element-plus/icons-vue'

export interface ServiceTile {
  key: string
  icon: Component
  enterprise?: boolean
}

// Placeholder services until the services module exists; all "coming soon".
export const tiles: ServiceTile[] = [
  { key: 'socialSecurity', icon: Wallet },
  { key: 'housingFund', icon: House },
  { key: 'household', icon: Postcard },
  { key: 'medical', icon: FirstAidKit },
  { key: 'business', icon: OfficeBuilding, enterprise: true },
  { key: 'policy', icon: Present, enterprise: true },
  { key: 'complaint', icon: ChatDotRound },
  { key: 'passcode', icon: Ticket },
]

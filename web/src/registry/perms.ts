// What the signed-in user may do with base data. /api/v1/auth/me lists the
// permissions of the user's roles; when an older server leaves them out, the
// role table below (the same as the server's) decides.
import type { Me } from '@/api/types'

export type RegistryPermission =
  | 'registry:read'
  | 'registry:write'
  | 'registry:propose'
  | 'registry:import'
  | 'grids:assign'

const byRole: Record<string, RegistryPermission[]> = {
  grid_worker: ['registry:read', 'registry:propose'],
  dept_staff: ['registry:read', 'registry:write', 'registry:propose', 'registry:import', 'grids:assign'],
  dept_head: ['registry:read', 'registry:write', 'registry:propose', 'registry:import', 'grids:assign'],
  supervisor: ['registry:read'],
  leader: ['registry:read'],
}

export interface RegistryAbilities {
  read: boolean
  write: boolean
  propose: boolean
  import: boolean
  assign: boolean
}

type MeLike = Pick<Me, 'roles'> & { permissions?: string[] | null }

export function registryPermissions(me: MeLike | null | undefined): Set<string> {
  if (!me) return new Set()
  if (Array.isArray(me.permissions)) return new Set(me.permissions)
  return new Set(me.roles.flatMap((r) => byRole[r] ?? []))
}

export function registryAbilities(me: MeLike | null | undefined): RegistryAbilities {
  const p = registryPermissions(me)
  return {
    read: p.has('registry:read'),
    write: p.has('registry:write'),
    propose: p.has('registry:propose'),
    import: p.has('registry:import'),
    assign: p.has('grids:assign'),
  }
}

import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { ensureSession, session } from '@/session/session'
import { areasOf, canOpen, homePath, type Area, type MenuKey } from '@/nav/roles'
import { i18n } from '@/i18n'

declare module 'vue-router' {
  interface RouteMeta {
    // Public pages need no session.
    public?: boolean
    area?: Area
    menu?: MenuKey
    // i18n key of the document title
    title?: string
  }
}

export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: () => (session.me ? homePath(session.me.roles) : '/login') },
  { path: '/login', component: () => import('@/views/LoginView.vue'), meta: { public: true, title: 'login.title' } },
  {
    path: '/console',
    component: () => import('@/views/console/ConsoleLayout.vue'),
    meta: { area: 'console' },
    children: [
      { path: '', component: () => import('@/views/console/ConsoleHome.vue'), meta: { menu: 'home', title: 'nav.home' } },
      { path: 'divisions', component: () => import('@/views/console/DivisionsView.vue'), meta: { menu: 'divisions', title: 'nav.divisions' } },
      { path: 'map', component: () => import('@/views/console/map/MapView.vue'), meta: { menu: 'map', title: 'map.title' } },
      // 一网统管 (cases)
      { path: 'cases', component: () => import('@/views/console/cases/CasesView.vue'), meta: { menu: 'cases', title: 'cases.title' } },
      { path: 'cases/hotline', component: () => import('@/views/console/cases/HotlineView.vue'), meta: { menu: 'hotline', title: 'cases.hotline.title' } },
      { path: 'cases/categories', component: () => import('@/views/console/cases/CategoriesView.vue'), meta: { menu: 'caseCategories', title: 'cases.categories.title' } },
      // 基础数据 (base data)
      { path: 'registry/people', component: () => import('@/views/console/registry/PeopleView.vue'), meta: { menu: 'people', title: 'registry.nav.people' } },
      { path: 'registry/entities', component: () => import('@/views/console/registry/EntitiesView.vue'), meta: { menu: 'entities', title: 'registry.nav.entities' } },
      { path: 'registry/buildings', component: () => import('@/views/console/registry/BuildingsView.vue'), meta: { menu: 'buildings', title: 'registry.nav.buildings' } },
      { path: 'registry/components', component: () => import('@/views/console/registry/ComponentsView.vue'), meta: { menu: 'components', title: 'registry.nav.components' } },
      { path: 'registry/changes', component: () => import('@/views/console/registry/ChangesView.vue'), meta: { menu: 'registryChanges', title: 'registry.nav.changes' } },
      { path: 'registry/imports', component: () => import('@/views/console/registry/ImportView.vue'), meta: { menu: 'registryImports', title: 'registry.nav.imports' } },
      { path: 'registry/grid-workers', component: () => import('@/views/console/registry/GridWorkersView.vue'), meta: { menu: 'gridWorkers', title: 'registry.nav.gridWorkers' } },
      // 共享交换 (data exchange)
      { path: 'exchange', redirect: '/console/exchange/catalog' },
      { path: 'exchange/catalog', component: () => import('@/views/console/exchange/CatalogView.vue'), meta: { menu: 'exCatalog', title: 'exchange.nav.catalog' } },
      { path: 'exchange/requests', component: () => import('@/views/console/exchange/RequestsView.vue'), meta: { menu: 'exRequests', title: 'exchange.nav.requests' } },
      { path: 'exchange/grants', component: () => import('@/views/console/exchange/GrantsView.vue'), meta: { menu: 'exGrants', title: 'exchange.nav.grants' } },
      { path: 'exchange/access', component: () => import('@/views/console/exchange/AccessView.vue'), meta: { menu: 'exAccess', title: 'exchange.nav.access' } },
      { path: 'exchange/quality', component: () => import('@/views/console/exchange/QualityView.vue'), meta: { menu: 'exQuality', title: 'exchange.nav.quality' } },
      { path: 'exchange/disputes', component: () => import('@/views/console/exchange/DisputesView.vue'), meta: { menu: 'exDisputes', title: 'exchange.nav.disputes' } },
      { path: 'exchange/nodes', component: () => import('@/views/console/exchange/NodesView.vue'), meta: { menu: 'exNodes', title: 'exchange.nav.nodes' } },
      { path: 'orgs', component: () => import('@/views/console/OrgsView.vue'), meta: { menu: 'orgs', title: 'nav.orgs' } },
      { path: 'users', component: () => import('@/views/console/UsersView.vue'), meta: { menu: 'users', title: 'nav.users' } },
      { path: 'roles', component: () => import('@/views/console/RolesView.vue'), meta: { menu: 'roles', title: 'nav.roles' } },
      { path: 'calendar', component: () => import('@/views/console/CalendarView.vue'), meta: { menu: 'calendar', title: 'calendar.title' } },
      { path: 'tokens', component: () => import('@/views/console/TokensView.vue'), meta: { menu: 'tokens', title: 'nav.tokens' } },
      { path: 'audit', component: () => import('@/views/console/AuditView.vue'), meta: { menu: 'audit', title: 'nav.audit' } },
      { path: 'ledger', component: () => import('@/views/console/LedgerView.vue'), meta: { menu: 'ledger', title: 'nav.ledger' } },
    ],
  },
  {
    path: '/portal',
    component: () => import('@/views/portal/PortalLayout.vue'),
    meta: { area: 'portal' },
    children: [
      { path: '', component: () => import('@/views/portal/PortalHome.vue'), meta: { title: 'portal.tabs.home' } },
      { path: 'services', component: () => import('@/views/portal/PortalServices.vue'), meta: { title: 'portal.tabs.services' } },
      { path: 'mine', component: () => import('@/views/portal/PortalMine.vue'), meta: { title: 'portal.tabs.mine' } },
      { path: 'report', component: () => import('@/views/portal/PortalReport.vue'), meta: { title: 'cases.portal.reportTitle' } },
      { path: 'cases', component: () => import('@/views/portal/PortalCases.vue'), meta: { title: 'cases.portal.mineTitle' } },
      { path: 'data', component: () => import('@/views/portal/PortalTracker.vue'), meta: { title: 'exchange.nav.tracker' } },
    ],
  },
  {
    path: '/grid',
    component: () => import('@/views/grid/GridLayout.vue'),
    meta: { area: 'grid' },
    children: [
      { path: '', component: () => import('@/views/grid/GridHome.vue'), meta: { title: 'home.title.grid_worker' } },
      { path: 'g/:code(\\d{15})', component: () => import('@/views/grid/GridRecords.vue'), meta: { title: 'gridWork.gridTitle' } },
      { path: 'mine', component: () => import('@/views/grid/GridMine.vue'), meta: { title: 'gridWork.mine' } },
      { path: 'report', component: () => import('@/views/grid/GridReport.vue'), meta: { title: 'cases.report.title' } },
      { path: 'cases', component: () => import('@/views/grid/GridCases.vue'), meta: { title: 'cases.grid.casesTitle' } },
    ],
  },
  { path: '/:rest(.*)*', component: () => import('@/views/NotFound.vue'), meta: { public: true, title: 'app.notFound' } },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach(async (to) => {
  if (to.meta.public && to.path !== '/login') return true
  const me = await ensureSession()
  if (to.path === '/login') return me ? homePath(me.roles) : true
  if (!me) return { path: '/login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  // A page outside the user's areas or menu leads back to their own home.
  if (to.meta.area && !areasOf(me.roles).includes(to.meta.area)) return homePath(me.roles)
  if (to.meta.menu && !canOpen(me.roles, to.meta.menu)) return homePath(me.roles)
  return true
})

router.afterEach((to) => {
  const t = i18n.global.t
  const brand = t('app.brand')
  document.title = to.meta.title ? `${t(to.meta.title)} - ${brand}` : brand
})

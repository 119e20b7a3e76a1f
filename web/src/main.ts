import { createApp } from 'vue'
import { ElMessage } from 'element-plus'
import 'element-plus/dist/index.css'
import './styles/theme.css'
import './styles/console-page.css'
import App from './App.vue'
import { i18n, htmlLang, type Locale } from './i18n'
import { router } from './router'
import { installElement } from './plugins/element'
import { watchDialogHeaders } from './plugins/dialogHeaders'
import { configureClient } from './api/client'
import { describeError } from './api/errors'
import { forget } from './session/session'
import { applyElderMode, elderMode } from './session/prefs'

document.documentElement.lang = htmlLang[i18n.global.locale.value as Locale]
applyElderMode(elderMode.value)
watchDialogHeaders()

configureClient({
  notify: (err) => {
    ElMessage({ type: 'error', message: describeError(err), showClose: true, duration: 6000 })
  },
  onUnauthorized: () => {
    forget()
    const here = router.currentRoute.value
    if (here.path !== '/login') void router.push({ path: '/login', query: { redirect: here.fullPath } })
  },
})

const app = createApp(App)
installElement(app)
app.use(i18n)
app.use(router)
app.mount('#app')

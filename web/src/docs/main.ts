// Offline, browsable API docs: swagger-ui from npm rendering the server's /openapi.json.
import SwaggerUIBundle from 'swagger-ui-dist/swagger-ui-es-bundle.js'
import 'swagger-ui-dist/swagger-ui.css'
import './docs.css'

SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  // The default validator badge calls an outside service: the docs stay offline.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  tryItOutEnabled: false,
  // Same-origin cookies carry the session; add the CSRF header for "Try it out".
  requestInterceptor: (req: { method?: string; headers: Record<string, string> }) => {
    const m = /(?:^|;\s*)shuzhi_csrf=([^;]+)/.exec(document.cookie)
    if (m && req.method && !['GET', 'HEAD', 'OPTIONS'].includes(req.method.toUpperCase())) {
      req.headers['X-CSRF-Token'] = decodeURIComponent(m[1]!)
    }
    return req
  },
})

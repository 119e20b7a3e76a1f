/// <reference types="vite/client" />

declare module 'swagger-ui-dist/swagger-ui-es-bundle.js' {
  const SwaggerUIBundle: ((options: Record<string, unknown>) => unknown) & {
    presets: { apis: unknown }
  }
  export default SwaggerUIBundle
}

import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// Where `npm run dev` forwards API calls: a locally running `shuzhi serve`.
const backend = process.env.SHUZHI_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    proxy: {
      '/api': backend,
      '/openapi.json': backend,
      '/readyz': backend,
      '/ledger': backend,
    },
  },
  build: {
    // Two entries: the SPA and the offline API docs served by the Go binary at /docs.
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        docs: fileURLToPath(new URL('./docs.html', import.meta.url)),
      },
    },
    chunkSizeWarningLimit: 1800,
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
  },
})

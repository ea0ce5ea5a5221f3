/**
 * The web console's build: `npm run ui:build` writes ui/dist, which `ingot serve` serves at `/`
 * (src/api/ui.ts); both scripts pass `ui` as Vite's root. `npm run ui:dev` serves it with hot reload and proxies the API to a region
 * on 127.0.0.1:8080.
 *
 * No @vitejs/plugin-react: it does not install next to Vite 7 with the npm here, and esbuild's
 * automatic JSX runtime is all the build needs (no Fast Refresh in dev; a reload does).
 */
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});

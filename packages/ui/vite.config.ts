// Builds the UI into the `updraft` package (packages/updraft/ui-dist), which ships it and whose
// API server serves it at `/` (src/api/ui-assets.ts): one process for users, no second server.
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  plugins: [react()],
  resolve: {
    // The typed REST client from source: the UI builds without `npm run build` of the server.
    alias: { "updraft/client": here("../updraft/src/client/index.ts") },
  },
  build: {
    outDir: here("../updraft/ui-dist"),
    emptyOutDir: true,
    // Everything as files under assets/ (hashed, cached for a year): nothing inline, so the
    // Content-Security-Policy allows no inline script, style or data: URL for scripts.
    assetsInlineLimit: 0,
    sourcemap: true,
    // The one chunk over Vite's 500 kB warning is ELK's layout engine (1.4 MB), loaded only by
    // the Graph tab; the main bundle is about 320 kB.
    chunkSizeWarningLimit: 1600,
  },
  server: {
    // `npm run dev -w @updraft/ui` against a standalone on :8080.
    proxy: { "/api": "http://127.0.0.1:8080" },
  },
});

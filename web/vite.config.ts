/// <reference types="vitest/config" />
// Vite build + dev server + Vitest. The dev proxy mirrors infra/web-gateway/nginx.conf so the app
// always calls one origin (/api/...) whether served by `npm run dev` or by the gateway.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const upstream = (port: number, rewrite?: (path: string) => string) => ({
  target: `http://127.0.0.1:${port}`,
  changeOrigin: true,
  rewrite: rewrite ?? ((path: string) => path.replace(/^\/api/, "")),
});

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      "/api/clientes": upstream(8001),
      "/api/cuentas": upstream(8002),
      "/api/tipos-cuenta": upstream(8002),
      "/api/transacciones": upstream(8004),
      "/api/perfil": upstream(6000, (p) => p.replace(/^\/api\/perfil/, "")),
      "/api/analytics": upstream(8000, (p) => p.replace(/^\/api\/analytics/, "")),
    },
  },
  build: {
    outDir: "dist",
    sourcemap: true,
  },
  test: {
    // Pure logic runs in node; component tests opt into jsdom with a `@vitest-environment jsdom` header.
    environment: "node",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    // The machine is shared (2 cores): two workers are plenty for these tests.
    maxWorkers: 2,
    // Component tests type into real inputs; on a busy shared machine 5 s per test is not enough.
    testTimeout: 30_000,
  },
});

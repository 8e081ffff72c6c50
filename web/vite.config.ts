/// <reference types="vitest/config" />
// Vite build + dev server + Vitest. The dev server sends /api and /oauth2 to the running gateway (:8080), which
// holds the login: log in once on http://127.0.0.1:8080 and the session cookie (host-wide, any port) serves
// http://127.0.0.1:5173 too. So the app always calls one origin, whether served by `npm run dev` or the gateway.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const GATEWAY = process.env.GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      "/api": { target: GATEWAY, changeOrigin: true },
      "/oauth2": { target: GATEWAY, changeOrigin: true },
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

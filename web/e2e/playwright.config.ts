// Playwright (test runner over playwright-core) driving Debian's /usr/bin/chromium headless against the gateway.
// No browser download: executablePath points at the system chromium. Artifacts go to <checkout>/test-artifacts/web.
import { defineConfig } from "@playwright/test";
import path from "node:path";

const ARTIFACTS = path.resolve(import.meta.dirname, "../../test-artifacts/web");

export default defineConfig({
  testDir: ".",
  testMatch: /.*\.spec\.ts/,
  testIgnore: "docs/**", // the services' /docs: their own config (docs.config.ts)
  outputDir: path.join(ARTIFACTS, "results"),
  // The journey through the five tabs and the role checks (each logs in through Keycloak); each test must stay
  // well under two minutes even with a slow lake, all of them under six.
  timeout: 120_000,
  globalTimeout: 360_000,
  expect: { timeout: 15_000 },
  workers: 1,
  retries: 0,
  reporter: [["list"], ["junit", { outputFile: path.join(ARTIFACTS, "junit.xml") }]],
  use: {
    baseURL: process.env.WEB_URL ?? "http://127.0.0.1:8080",
    locale: "es-PE",
    timezoneId: "America/Lima",
    viewport: { width: 1366, height: 900 },
    actionTimeout: 15_000,
    navigationTimeout: 15_000,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      // Playwright adds --headless and a fresh temporary --user-data-dir itself.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});

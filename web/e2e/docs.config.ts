// The services' own /docs and /redoc in Debian's headless chromium, with every request off loopback refused
// (tests/integration/web/test_docs_offline.py). Same browser setup as the console's; artifacts in test-artifacts/docs.
import { defineConfig } from "@playwright/test";
import path from "node:path";
import console from "./playwright.config";

const ARTIFACTS = path.resolve(import.meta.dirname, "../../test-artifacts/docs");

export default defineConfig({
  ...console,
  testDir: "./docs",
  testIgnore: [],
  outputDir: path.join(ARTIFACTS, "results"),
  // Swagger UI's bundle is 1.5 MB of script to parse per page, ten pages and a login: generous on a loaded machine.
  timeout: 180_000,
  globalTimeout: 900_000,
  expect: { timeout: 45_000 },
  reporter: [["list"], ["junit", { outputFile: path.join(ARTIFACTS, "junit.xml") }]],
  use: {
    ...console.use,
    baseURL: undefined,
    navigationTimeout: 60_000,
    actionTimeout: 30_000,
    launchOptions: {
      ...console.use?.launchOptions,
      // perfil keeps the original's port 6000, which browsers refuse unless told (ERR_UNSAFE_PORT).
      args: [...(console.use?.launchOptions?.args ?? []), "--explicitly-allowed-ports=6000"],
    },
  },
});

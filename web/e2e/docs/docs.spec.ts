// Every service's Swagger UI (/docs) and ReDoc (/redoc) render with the network cut to loopback: any request that
// leaves 127.0.0.1/localhost is refused and fails the test (a CDN script would leave the page blank). Swagger UI's
// Authorize logs in on Keycloak's real page (OAuth2 code + PKCE) and "Try it out" then calls the service with it.
import { expect, test, type BrowserContext, type Page } from "@playwright/test";
import path from "node:path";

const SHOTS = path.resolve(import.meta.dirname, "../../../test-artifacts/docs");
const HOST = process.env.DOCS_HOST ?? "127.0.0.1";
const SERVICES: Record<string, number> = {
  clientes: 8001,
  cuentas: 8002,
  transacciones: 8004,
  perfil: 6000,
  analytics: 8000,
};
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Refuses, and remembers, every request that would leave the machine. */
async function loopbackOnly(context: BrowserContext): Promise<string[]> {
  const refused: string[] = [];
  await context.route(
    (url) => !(url.protocol === "data:" || url.protocol === "blob:" || LOOPBACK.has(url.hostname)),
    async (route) => {
      refused.push(route.request().url());
      await route.abort("internetdisconnected");
    },
  );
  return refused;
}

async function swaggerRendered(page: Page): Promise<void> {
  // A blank page is exactly this: the bundle never loaded, so SwaggerUIBundle is undefined.
  expect(await page.evaluate(() => typeof (window as unknown as { SwaggerUIBundle?: unknown }).SwaggerUIBundle)).toBe(
    "function",
  );
  await expect(page.locator(".swagger-ui .information-container .title")).toBeVisible();
  await expect(page.locator(".swagger-ui .opblock").first()).toBeVisible();
}

for (const [service, port] of Object.entries(SERVICES)) {
  test(`${service}: /docs and /redoc render from the service alone`, async ({ page, context }) => {
    const refused = await loopbackOnly(context);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));

    await page.goto(`http://${HOST}:${port}/docs`);
    await swaggerRendered(page);
    expect(await page.locator(".swagger-ui .opblock").count()).toBeGreaterThan(1);
    await page.screenshot({ path: path.join(SHOTS, `${service}-docs.png`), fullPage: true });

    await page.goto(`http://${HOST}:${port}/redoc`);
    expect(await page.evaluate(() => typeof (window as unknown as { Redoc?: unknown }).Redoc)).toBe("object");
    await expect(page.locator(".api-content h1").first()).toBeVisible();
    await expect(page.locator("[data-section-id^='operation/']").first()).toBeAttached();
    await page.screenshot({ path: path.join(SHOTS, `${service}-redoc.png`) });

    expect(refused, "requests that left loopback").toEqual([]);
    expect(errors, "script errors on the pages").toEqual([]);
  });
}

test("clientes: Authorize through Keycloak (code + PKCE), then Try it out answers 200", async ({ page, context }) => {
  const refused = await loopbackOnly(context);
  await page.goto(`http://${HOST}:8001/docs`);
  await swaggerRendered(page);

  await page.locator(".swagger-ui .auth-wrapper .btn.authorize").click();
  const dialog = page.locator(".swagger-ui .dialog-ux .modal-ux");
  await expect(
    dialog.getByRole("heading", { name: /^keycloak \(OAuth2, authorizationCode with PKCE\)/ }),
  ).toBeVisible();
  await expect(dialog.getByRole("textbox", { name: "client_id:" })).toHaveValue("cloudbank-swagger");
  const [login] = await Promise.all([
    page.waitForEvent("popup"),
    dialog.getByRole("button", { name: "Apply given OAuth2 credentials" }).click(),
  ]);
  // Keycloak's own page, in the popup Swagger UI opened; it returns to /docs/oauth2-redirect, which hands the code back.
  await expect(login).toHaveURL(/\/realms\/cloudbank\/protocol\/openid-connect\/auth/);
  await login.locator("#username").fill("admin");
  await login.locator("#password").fill("admin-dev");
  await login.locator("#kc-login").click();
  await expect(dialog.getByRole("button", { name: "Remove authorization" })).toBeVisible();
  await dialog.locator(".close-modal").click();

  const operation = page.locator(".swagger-ui .opblock-get").filter({
    has: page.locator(".opblock-summary-path[data-path='/clientes']"),
  });
  await operation.locator(".opblock-summary").click();
  await operation.getByRole("button", { name: "Try it out" }).click();
  await operation.getByRole("button", { name: "Execute" }).click();
  const answer = operation.locator(".live-responses-table .response .response-col_status").first();
  await expect(answer).toHaveText("200");
  await expect(operation.locator(".live-responses-table")).toContainText(/x-total-count/i);
  await page.screenshot({ path: path.join(SHOTS, "clientes-docs-authorized.png"), fullPage: true });

  expect(refused, "requests that left loopback").toEqual([]);
});

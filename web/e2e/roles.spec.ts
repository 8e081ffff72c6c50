// Two roles through the real Keycloak login page: what each one is offered and what the services refuse it,
// the original SPA at /legacy/ riding on the same session, logout, and an expired session back to the login.
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loginAs } from "./auth";

const SHOTS = path.resolve(import.meta.dirname, "../../test-artifacts/web");
const LEGACY = path.resolve(import.meta.dirname, "../legacy");
const ANALYTICS = "/api/analytics/api/queries/list"; // analista, auditor, admin

const tabs = (page: Page) => page.getByRole("navigation", { name: "Secciones" }).getByRole("link");

test("cajero: teller work yes; transfers, account states, deleting clientes and analytics no", async ({ page }) => {
  await loginAs(page, "cajero", "/#/clientes");
  await expect(page.getByTestId("user-role")).toHaveText("Cajero");
  await expect(tabs(page)).toHaveText(["Clientes", "Cuentas", "Transacciones", "Perfil 360°"]);
  await expect(page.getByRole("button", { name: "+ Registrar cliente" })).toBeEnabled();

  // A URL to a tab the role may not use shows an allowed one, and the service refuses the call itself.
  await page.goto("/#/analytics");
  await expect(page.getByRole("heading", { name: "Clientes", level: 1 })).toBeVisible();
  expect((await page.request.get(ANALYTICS)).status()).toBe(403);
  expect((await page.request.get("/api/clientes?limit=1")).status()).toBe(200);

  await page.goto("/#/transacciones");
  await expect(page.getByRole("radio", { name: "Depósito" })).toBeEnabled();
  const transferencia = page.getByRole("radio", { name: "Transferencia" });
  await expect(transferencia).toBeDisabled();
  await expect(transferencia).toHaveAttribute("title", "Requiere el rol Operaciones o Administrador");
  await page.screenshot({ path: path.join(SHOTS, "roles-cajero.png"), fullPage: true });

  await page.getByRole("link", { name: "Cerrar sesión" }).click();
  await expect(page.getByRole("link", { name: "Iniciar sesión" })).toBeVisible();
  expect((await page.request.get("/api/clientes?limit=1")).status()).toBe(401);
});

test("analista: Analytics only; clientes refused; the original SPA at /legacy/ calls /api with the session", async ({
  page,
}) => {
  await loginAs(page, "analista");
  await expect(page.getByTestId("user-role")).toHaveText("Analista");
  await expect(tabs(page)).toHaveText(["Analytics"]);
  await expect(page.getByRole("heading", { name: "Analytics", level: 1 })).toBeVisible();
  await expect(page.getByTestId("panel-dashboard")).toHaveAttribute("data-loading", "false", { timeout: 45_000 });
  expect((await page.request.get("/api/clientes?limit=1")).status()).toBe(403);
  await page.screenshot({ path: path.join(SHOTS, "roles-analista.png"), fullPage: true });

  // A stand-in for the original SPA's build, dropped into the documented folder: its code calls /api/... on its
  // own origin with no token handling at all, and gets answers because the browser sends the session cookie.
  const name = `e2e-${Date.now().toString(36)}`;
  const folder = path.join(LEGACY, name);
  mkdirSync(folder, { recursive: true });
  try {
    writeFileSync(
      path.join(folder, "index.html"),
      '<!doctype html><meta charset="utf-8"><title>SPA original</title><p id="out">…</p><script src="app.js"></script>',
    );
    writeFileSync(
      path.join(folder, "app.js"),
      `fetch(${JSON.stringify(ANALYTICS)}).then(async (r) => {
         document.getElementById("out").textContent = r.status + " " + (await r.json()).queries.length;
       });`,
    );
    await page.goto(`/legacy/${name}/`);
    await expect(page).toHaveTitle("SPA original");
    await expect(page.locator("#out")).toHaveText(/^200 [1-9]\d*$/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test("an expired session returns to the login screen instead of a broken page", async ({ page, context }) => {
  await loginAs(page, "cajero", "/#/clientes");
  await expect(page.getByRole("heading", { name: "Clientes", level: 1 })).toBeVisible();
  // The session ends under the open page (the cookie expires, or a logout in another tab).
  await context.clearCookies();
  await page.getByLabel("Buscar").fill("nadie");
  await expect(page.getByRole("alert")).toContainText("Su sesión ha expirado");
  await expect(page.getByRole("link", { name: "Iniciar sesión" })).toBeVisible();
});

// The "Operaciones" tab through the real login: the operaciones role is offered it and sees the operator view
// (every process answering, lag, outbox, DLQ, sagas); a cajero is not offered it and analytics refuses them the view.
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { loginAs } from "./auth";

const SHOTS = path.resolve(import.meta.dirname, "../../test-artifacts/web");
const VIEW = "/api/analytics/api/operaciones";
const tabs = (page: Page) => page.getByRole("navigation", { name: "Secciones" }).getByRole("link");

test("operaciones: the operator view with its charts", async ({ page }) => {
  await loginAs(page, "operaciones", "/#/operaciones");
  await expect(tabs(page).filter({ hasText: "Operaciones" })).toHaveCount(1);
  await expect(page.getByTestId("ops-lag")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("ops-procesos")).not.toContainText("sin respuesta");
  await expect(page.getByTestId("ops-outbox")).toContainText("clientes");
  await expect(page.getByTestId("trend-lag").locator("svg")).toBeVisible();
  await page.screenshot({ path: path.join(SHOTS, "operaciones.png"), fullPage: true });
});

test("cajero: no Operaciones tab, and the view itself is refused", async ({ page }) => {
  await loginAs(page, "cajero", "/#/clientes");
  await expect(tabs(page).first()).toBeVisible();
  await expect(tabs(page).filter({ hasText: "Operaciones" })).toHaveCount(0);
  expect((await page.request.get(VIEW)).status()).toBe(403);
});

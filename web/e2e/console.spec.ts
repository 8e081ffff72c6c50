// End-to-end journey through the five tabs against the real stack behind the gateway:
// register a cliente → open two accounts → deposit → transfer (COMPLETADA, both balances change) →
// transfer beyond the balance (FALLIDA + motivo) → the perfil shows it all → the dashboard catches up.
// Eventually-consistent views are waited on with deadlines (expect.poll / toPass), never with sleeps.
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { loginAs } from "./auth";

const SHOTS = path.resolve(import.meta.dirname, "../../test-artifacts/web");
mkdirSync(SHOTS, { recursive: true });

const uid = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.toUpperCase();
const email = `e2e.${uid.toLowerCase()}@example.com`;
const apellido = `Prueba ${uid}`;

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

/** "S/ 1,234.50" as Chromium's es-PE formatter writes it (NBSP or space after the symbol). */
function soles(amount: string): RegExp {
  return new RegExp(`S/\\s?${amount.replace(/[.,]/g, (c) => `\\${c}`)}`);
}

/** Chooses an account in a CuentaPicker by its 13-digit number (exact lookup on cuentas). */
async function pickCuenta(page: Page, label: string, numero: string): Promise<void> {
  const field = page.locator(`[data-field]`).filter({ has: page.getByText(label, { exact: true }) });
  const change = field.getByRole("button", { name: "Cambiar" });
  if (await change.isVisible()) await change.click();
  await page.getByLabel(label, { exact: true }).fill(numero);
  await page.getByRole("option", { name: new RegExp(numero) }).click();
  await expect(field.getByText(numero)).toBeVisible();
}

/** "Total Transacciones" on the dashboard as analytics answers it now (0 when it cannot answer). */
async function totalTransacciones(request: APIRequestContext): Promise<number> {
  const res = await request.get("/api/analytics/api/dashboard");
  if (!res.ok()) return 0;
  const rows = (await res.json()).data as { metrica: string; valor: unknown }[];
  return Number(rows.find((r) => r.metrica === "Total Transacciones")?.valor ?? 0);
}

/** "1,094" (es-PE grouping) → 1094. */
function parseCount(text: string | null): number {
  return Number((text ?? "").replace(/[^\d]/g, ""));
}

test("staff journey: cliente → cuentas → transacciones → perfil → analytics", async ({ page }) => {
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  // admin may use all five tabs; page.request shares the browser's session cookie.
  await loginAs(page, "admin", "/#/clientes");
  const request = page.request;
  const transaccionesBefore = await totalTransacciones(request);

  let clienteId = "";
  let cuentaA = "";
  let cuentaB = "";
  const trx: string[] = [];

  await test.step("Clientes: the form refuses bad input next to the field, then registers", async () => {
    await page.goto("/#/clientes");
    // The list loaded: its table, or on an empty stack the "no clientes yet" note.
    await expect(page.getByRole("table", { name: "Clientes" }).or(page.getByText("Aún no hay clientes"))).toBeVisible();
    await page.getByRole("button", { name: "+ Registrar cliente" }).click();
    const dialog = page.getByRole("dialog", { name: "Registrar cliente" });
    await dialog.getByLabel("Nombre").fill("Eva");
    await dialog.getByLabel("Apellido").fill(apellido);
    await dialog.getByLabel("Email").fill(email);
    await dialog.getByLabel("Número de documento").fill("123");
    await dialog.getByRole("button", { name: "Registrar cliente" }).click();
    await expect(dialog.getByLabel("Número de documento")).toHaveAccessibleDescription("El DNI tiene 8 dígitos.");

    await dialog.getByLabel("Tipo de documento").selectOption("Pasaporte");
    await dialog.getByLabel("Número de documento").fill(`E2E${uid}`.slice(0, 20));
    await dialog.getByLabel("Fecha de emisión").fill("2021-03-01");
    await dialog.getByLabel("Fecha de vencimiento").fill("2031-03-01");
    await dialog.getByRole("button", { name: "Registrar cliente" }).click();
    const toast = page.getByRole("status").filter({ hasText: "registrado (#" });
    await expect(toast).toBeVisible();
    clienteId = /#(\d+)/.exec((await toast.textContent()) ?? "")![1]!;

    await page.getByLabel("Buscar", { exact: true }).fill(email);
    await expect(page.getByTestId(`cliente-${clienteId}`)).toContainText(email);
    await shot(page, "01-clientes");
  });

  await test.step("Cuentas: open two PEN accounts for the cliente", async () => {
    await page.goto(`/#/cuentas?cliente_id=${clienteId}`);
    const dialog = page.getByRole("dialog", { name: "Abrir cuenta" });
    const opened = page.getByRole("status").filter({ hasText: /Cuenta \d{13} abierta/ });
    for (const slot of ["A", "B"]) {
      // cuentas validates the cliente against its replica, fed by events: the first try may come too early
      // (the dialog then stays open with the reason, and the next try submits it again).
      await expect(async () => {
        if (!(await dialog.isVisible())) await page.getByRole("button", { name: "+ Abrir cuenta" }).click();
        await expect(dialog.getByTestId("cliente_id-selected")).toContainText(email);
        const tipo = dialog.getByLabel("Tipo de cuenta");
        await expect(tipo.locator("option", { hasText: "Sueldo" })).toHaveCount(1);
        const value = await tipo.locator("option", { hasText: "Sueldo" }).getAttribute("value");
        await tipo.selectOption(value!);
        await dialog.getByLabel("Moneda").selectOption("PEN");
        await dialog.getByRole("button", { name: "Abrir cuenta" }).click();
        await expect(dialog).toBeHidden({ timeout: 5_000 });
      }).toPass({ timeout: 30_000, intervals: [500, 1_000, 2_000] });
      // The newest toast is the one this account produced (toasts are appended).
      const text = await opened.last().textContent();
      const numero = /(\d{13})/.exec(text ?? "")![1]!;
      if (slot === "A") cuentaA = numero;
      else cuentaB = numero;
    }
    expect(cuentaA).not.toBe(cuentaB);
    await expect(page.getByTestId(`cuenta-${cuentaA}`)).toBeVisible();
    await expect(page.getByTestId(`cuenta-${cuentaB}`)).toBeVisible();
  });

  await test.step("Transacciones: deposit 1000, transfer 300 (COMPLETADA), transfer 5000 (FALLIDA + motivo)", async () => {
    await page.goto("/#/transacciones");
    const resultado = page.getByTestId("resultado");
    const antes = (numero: string) => page.getByTestId(`saldo-${numero}`).getByTestId("antes");
    const despues = (numero: string) => page.getByTestId(`saldo-${numero}`).getByTestId("despues");

    await page.getByRole("radio", { name: "Depósito" }).click();
    await pickCuenta(page, "Cuenta a acreditar", cuentaA);
    await page.getByLabel(/^Monto/).fill("1000");
    await page.getByRole("button", { name: "Registrar depósito" }).click();
    await expect(resultado).toContainText("Completada", { timeout: 60_000 });
    await expect(despues(cuentaA)).toContainText(soles("1,000.00"));
    trx.push((await page.getByTestId("resultado-id").textContent())!.trim());

    await page.getByRole("radio", { name: "Transferencia" }).click();
    await pickCuenta(page, "Cuenta de origen", cuentaA);
    await pickCuenta(page, "Cuenta de destino", cuentaB);
    await page.getByLabel(/^Monto/).fill("300");
    await page.getByRole("button", { name: "Registrar transferencia" }).click();
    await expect(resultado).toContainText("Completada", { timeout: 60_000 });
    // Both balances visibly change: before → after for each account.
    await expect(antes(cuentaA)).toContainText(soles("1,000.00"));
    await expect(despues(cuentaA)).toContainText(soles("700.00"));
    await expect(antes(cuentaB)).toContainText(soles("0.00"));
    await expect(despues(cuentaB)).toContainText(soles("300.00"));
    trx.push((await page.getByTestId("resultado-id").textContent())!.trim());

    await page.getByLabel(/^Monto/).fill("5000");
    await expect(page.getByText("Supera el saldo disponible")).toBeVisible();
    await page.getByRole("button", { name: "Registrar transferencia" }).click();
    await expect(resultado).toContainText("Fallida", { timeout: 60_000 });
    // The service answered 409 with the refused transaction: shown as a refusal, never as a success.
    await expect(page.getByTestId("resultado-rechazo")).toBeVisible();
    await expect(resultado).not.toContainText("Completada");
    const motivo = page.getByTestId("resultado-motivo");
    await expect(motivo).toBeVisible();
    await expect(motivo).toContainText(/saldo/i);
    // Nothing moved: the refused transfer leaves both balances as they were.
    await expect(despues(cuentaA)).toContainText(soles("700.00"));
    await expect(despues(cuentaB)).toContainText(soles("300.00"));
    trx.push((await page.getByTestId("resultado-id").textContent())!.trim());

    // The history (newest first) lists the refused transfer with its state.
    await expect(page.getByTestId(`trx-${trx[2]}`)).toContainText("Fallida");
    await shot(page, "03-transacciones");
  });

  await test.step("Cuentas: the list shows the new balances", async () => {
    await page.goto(`/#/cuentas?cliente_id=${clienteId}`);
    await expect(page.getByTestId(`cuenta-${cuentaA}`).getByTestId("saldo")).toContainText(soles("700.00"));
    await expect(page.getByTestId(`cuenta-${cuentaB}`).getByTestId("saldo")).toContainText(soles("300.00"));
    await page.getByTestId(`cuenta-${cuentaA}`).getByRole("button", { name: "Extracto" }).click();
    const movimientos = page.getByRole("table", { name: "Movimientos" });
    await expect(movimientos).toBeVisible();
    await expect(movimientos).toContainText(soles("700.00"));
    await shot(page, "02-cuentas-extracto", false);
    await page.keyboard.press("Escape");
    await shot(page, "02-cuentas");
  });

  await test.step("Perfil 360°: search by email, totals per currency, accounts and recent transactions", async () => {
    await page.goto(`/#/perfil?q=${encodeURIComponent(email)}`);
    await expect(page.getByLabel("Buscar cliente")).toHaveValue(email);
    // The view folds events and may trail the services by a moment: reload until it has caught up.
    const link = page.getByRole("list", { name: "Resultados" }).getByRole("link", { name: new RegExp(apellido) });
    await expect(async () => {
      if (!(await link.isVisible())) await page.reload();
      await link.click({ timeout: 3_000 });
    }).toPass({ timeout: 30_000, intervals: [500, 1_000, 2_000] });
    await expect(page).toHaveURL(new RegExp(`cliente_id=${clienteId}`));
    const perfil = page.getByTestId("perfil");
    await expect(async () => {
      await page.reload();
      await expect(perfil.getByTestId("patrimonio-total")).toContainText(soles("1,000.00"), { timeout: 5_000 });
      await expect(perfil.getByTestId("patrimonio-PEN")).toContainText(soles("1,000.00"), { timeout: 1_000 });
      await expect(perfil.getByTestId(`perfil-trx-${trx[1]}`)).toBeVisible({ timeout: 1_000 });
      await expect(perfil.getByTestId(`perfil-trx-${trx[2]}`)).toContainText("Fallida", { timeout: 1_000 });
    }).toPass({ timeout: 40_000, intervals: [1_000, 2_000] });
    await expect(perfil.getByTestId(`perfil-cuenta-${cuentaA}`)).toContainText(soles("700.00"));
    await expect(perfil.getByTestId(`perfil-cuenta-${cuentaB}`)).toContainText(soles("300.00"));
    await expect(perfil.getByTestId("frescura")).toBeVisible();
    await expect(perfil.getByTestId("ultima-actividad")).not.toContainText("Sin transacciones");
    await shot(page, "04-perfil");
  });

  await test.step("Analytics: the lake catches up and the dashboard shows the new totals", async () => {
    // The sink lands events in the lake with a delay: wait (with a deadline) until the lake has all three of
    // ours (the refused transfer is the newest: waiting for an earlier one left the count one short).
    await expect
      .poll(
        async () => {
          const res = await request.get("/api/analytics/api/transacciones/recientes?limit=200");
          const data = res.ok() ? JSON.stringify((await res.json()).data) : "";
          return trx.length === 3 && trx.every((id) => data.includes(id));
        },
        { timeout: 60_000, intervals: [2_000, 3_000, 5_000] },
      )
      .toBe(true);

    await page.goto("/#/analytics");
    const dashboard = page.getByTestId("panel-dashboard");
    await expect(dashboard).toHaveAttribute("data-loading", "false", { timeout: 45_000 });
    // Transactions are never deleted, so the count can only grow: ours (3) are in it.
    const total = dashboard.locator('[data-kpi="Total Transacciones"] .kpi-value');
    expect(parseCount(await total.textContent())).toBeGreaterThanOrEqual(transaccionesBefore + 3);
    await expect(dashboard.getByTestId("kpis-PEN")).toContainText("S/");
    for (const panel of ["panel-diaria", "panel-por-tipo", "panel-cuentas-tipo", "panel-top", "panel-por-estado"]) {
      await expect(page.getByTestId(panel)).toHaveAttribute("data-loading", "false", { timeout: 45_000 });
      await expect(page.getByTestId(panel).locator("figure")).toBeVisible();
    }
    await shot(page, "05-analytics");
  });

  await test.step("Phone width: the console stays usable", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/#/transacciones");
    await expect(page.getByRole("radio", { name: "Transferencia" })).toBeVisible();
    await shot(page, "06-transacciones-movil");
  });

  expect(pageErrors, "uncaught errors in the page").toEqual([]);
});

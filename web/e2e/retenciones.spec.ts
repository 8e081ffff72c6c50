// Holds and reversals in the console against the real stack: operaciones opens the Retenciones dialog of a fresh
// account, holds money (the available balance drops), captures part of it; then reverts a deposit in Transacciones
// after a confirmation and sees both links. Screenshots in test-artifacts/web/retenciones-*.png.
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { loginAs } from "./auth";

const SHOTS = path.resolve(import.meta.dirname, "../../test-artifacts/web");
mkdirSync(SHOTS, { recursive: true });
const uid = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.toUpperCase();

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `retenciones-${name}.png`), fullPage: true });
}

test("retener, capturar en parte y revertir un depósito desde la consola", async ({ page }) => {
  await loginAs(page, "operaciones");
  // Set-up through the same session (the gateway adds the user's token): a cliente and an account with 100.00.
  const cliente = await page.request.post("/api/clientes", {
    data: {
      nombre: "Retencion",
      apellido: `E2E ${uid}`,
      email: `ret.${uid.toLowerCase()}@example.com`,
      documento: { tipo_documento: "Pasaporte", numero_documento: `E${uid}`.slice(0, 20) },
    },
  });
  expect(cliente.status()).toBe(201);
  const clienteId = (await cliente.json()).cliente_id as number;
  let cuenta: { cuenta_id: number; numero_cuenta: string } | undefined;
  await expect(async () => {
    const r = await page.request.post("/api/cuentas", {
      data: { cliente_id: clienteId, tipo_cuenta_id: 1, saldo: "100.00", moneda: "PEN" },
    });
    expect(r.status()).toBe(201); // 404 until cuentas' replica knows the cliente
    cuenta = await r.json();
  }).toPass({ timeout: 30_000 });

  await page.goto(`/#/cuentas?cliente_id=${clienteId}`);
  const row = page.getByTestId(`cuenta-${cuenta!.numero_cuenta}`);
  await row.getByRole("button", { name: "Retenciones" }).click();
  const dialog = page.getByRole("dialog");
  const form = dialog.getByRole("form", { name: "Nueva retención" });
  await form.getByLabel("Monto").fill("30");
  await form.getByLabel("Referencia").fill(`POS-${uid}`);
  await form.getByRole("button", { name: "Retener" }).click();
  await expect(dialog.getByTestId("saldo-disponible")).toContainText("70.00");
  await expect(dialog.getByTestId("saldo-retenido")).toContainText("30.00");
  await expect(dialog.getByText(`POS-${uid}`)).toBeVisible();
  await shot(page, "1-activa");

  await dialog.getByRole("button", { name: "Capturar" }).click();
  const confirm = page.getByRole("dialog", { name: /Capturar la retención/ });
  await confirm.getByLabel("Monto a capturar (vacío: todo)").fill("12.50");
  await confirm.getByRole("button", { name: "Capturar" }).click();
  await expect(dialog.getByTestId("saldo-contable")).toContainText("87.50");
  await expect(dialog.getByTestId("saldo-disponible")).toContainText("87.50");
  await expect(dialog.getByText("Capturada")).toBeVisible();
  await shot(page, "2-capturada");
  await page.keyboard.press("Escape");

  // A deposit, then its reversal.
  const dep = await page.request.post("/api/transacciones", {
    data: { tipo: "DEPOSITO", monto: "5.00", moneda: "PEN", cuentaDestinoId: cuenta!.cuenta_id },
  });
  expect(dep.status()).toBe(201);
  const trx = (await dep.json()) as { transaccionId: string; id: string };
  await page.goto("/#/transacciones");
  const trxRow = page.getByTestId(`trx-${trx.transaccionId}`);
  await trxRow.getByRole("button", { name: "Revertir" }).click();
  const revert = page.getByRole("dialog", { name: /Revertir/ });
  await expect(revert).toContainText("transacción espejo");
  await shot(page, "3-confirmar-reversion");
  await revert.getByRole("button", { name: "Revertir" }).click();
  await expect(trxRow.getByTestId("revertida-por")).toBeVisible();
  await expect(trxRow.getByRole("button", { name: "Revertir" })).toHaveCount(0);
  await expect(page.getByTestId("reversion-de").filter({ hasText: trx.id })).toBeVisible();
  await shot(page, "4-revertida");
});

// @vitest-environment jsdom
import { render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Cuenta, Movimiento } from "../../api/types";
import { Extracto } from "./Extracto";

afterEach(() => vi.unstubAllGlobals());

const cuenta: Cuenta = {
  cuenta_id: 9,
  cliente_id: 1,
  tipo_cuenta_id: 1,
  numero_cuenta: "1000000000009",
  saldo: "95.00",
  moneda: "PEN",
  fecha_apertura: "2024-01-01T00:00:00Z",
  estado: "activa",
  tipo_cuenta_nombre: "Ahorros",
  tipo_cuenta_descripcion: null,
};

const movimientos: Movimiento[] = [
  {
    movimiento_id: 1,
    cuenta_id: 9,
    operacion: "CREDITO",
    causa: "APERTURA",
    monto: "100.00",
    saldo_resultante: "100.00",
    fecha: "2024-01-01T00:00:00Z",
    actor: { authtype: "user", authid: "cajero" },
  },
  {
    movimiento_id: 2,
    cuenta_id: 9,
    operacion: "DEBITO",
    causa: "SAGA",
    monto: "5.00",
    saldo_resultante: "95.00",
    fecha: "2024-01-02T00:00:00Z",
    transaccion_id: "TRX1",
    actor: { authtype: "service_account", authid: "service-account-cloudbank-cli" },
  },
  // A row from before the ledger kept its actor.
  { movimiento_id: 3, operacion: "CREDITO", monto: "0.00", saldo_resultante: "95.00", fecha: "2024-01-03T00:00:00Z" },
];

describe("statement rows", () => {
  it("say who made each movement", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        const json = (body: unknown, headers: Record<string, string> = {}) =>
          new Response(JSON.stringify(body), { status: 200, headers });
        if (url.startsWith("/api/cuentas/9/movimientos")) return json(movimientos, { "X-Total-Count": "3" });
        if (url === "/api/cuentas/9") return json(cuenta);
        return new Response("{}", { status: 404 });
      }),
    );
    render(<Extracto cuenta={cuenta} />);
    const table = await screen.findByRole("table", { name: "Movimientos" });
    expect(within(table).getByRole("columnheader", { name: "Realizado por" })).toBeTruthy();
    const actores = within(table)
      .getAllByTestId("movimiento-actor")
      .map((cell) => cell.textContent);
    expect(actores).toEqual(["cajero", "service-account-cloudbank-cli (servicio)", "—"]);
  });
});

import { describe, expect, it } from "vitest";
import { esCredito, operacionLabel, saldoTras } from "./Extracto";

const mov = {
  movimiento_id: 1,
  cuenta_id: 1,
  monto: "300.00",
  saldo_resultante: "700.00",
  fecha: "2024-01-01T00:00:00Z",
};

describe("statement lines", () => {
  it("reads direction and cause from the ledger row", () => {
    expect(esCredito({ ...mov, operacion: "CREDITO", causa: "DEPOSITO" })).toBe(true);
    expect(esCredito({ ...mov, operacion: "DEBITO", causa: "SAGA" })).toBe(false);
    expect(operacionLabel({ ...mov, operacion: "DEBITO", causa: "SAGA" })).toBe("Débito · Transacción");
    expect(operacionLabel({ ...mov, operacion: "CREDITO", causa: "REVERSION" })).toBe("Crédito · Reversión");
  });

  it("shows the running balance after each movement", () => {
    expect(saldoTras({ ...mov, operacion: "CREDITO" })).toBe("700.00");
  });
});

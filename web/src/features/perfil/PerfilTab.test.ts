import { describe, expect, it } from "vitest";
import type { ResumenFinanciero } from "../../api/types";
import { describeFreshness, patrimonio } from "./PerfilTab";

describe("describeFreshness", () => {
  it("says the view is current when perfil reports no lag", () => {
    expect(describeFreshness({ lag: "0.000" })).toEqual({ text: "Vista al día", stale: false });
  });

  it("tells staff how far behind the view is, and flags long lags", () => {
    expect(describeFreshness({ lag: "3.2" })).toEqual({ text: "Vista con 3 s de retraso", stale: false });
    expect(describeFreshness({ lag: "125" })).toEqual({ text: "Vista con 2 min de retraso", stale: true });
  });

  it("admits when it does not know", () => {
    expect(describeFreshness({ lag: null })).toEqual({ text: "Frescura de la vista desconocida", stale: true });
  });
});

describe("patrimonio", () => {
  const resumen = (over: Partial<ResumenFinanciero>): ResumenFinanciero => ({
    patrimonio_total: "0.00",
    patrimonio_por_moneda: {},
    total_cuentas: 0,
    cuentas_activas: 0,
    total_transacciones: 0,
    ultima_actividad: null,
    ...over,
  });

  it("shows the PEN total and every currency apart, PEN first", () => {
    const r = resumen({
      patrimonio_total: "1500.75",
      patrimonio_por_moneda: { USD: "99.99", EUR: "1.00", PEN: "1500.75" },
    });
    expect(patrimonio(r)).toEqual({
      total: "1500.75",
      porMoneda: [
        ["PEN", "1500.75"],
        ["EUR", "1.00"],
        ["USD", "99.99"],
      ],
    });
  });

  it("reads a perfil from before the split (patrimonio_total per currency) without NaN", () => {
    const old = resumen({ patrimonio_total: { PEN: "10.00", USD: "2.00" } as unknown as string });
    expect(patrimonio(old).total).toBe("10.00");
    expect(patrimonio(resumen({ patrimonio_total: {} as unknown as string })).total).toBe("0.00");
  });
});

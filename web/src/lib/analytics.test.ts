import { describe, expect, it } from "vitest";
import { dashboardKpis, humanize, isMoneyColumn, LABELS, seriesBy } from "./analytics";

describe("seriesBy", () => {
  it("sums counts over currencies and keeps money exact per currency", () => {
    const rows = [
      { tipo: "DEPOSITO", moneda: "PEN", cantidad: 3, monto_total: "0.10" },
      { tipo: "DEPOSITO", moneda: "PEN", cantidad: 1, monto_total: "0.20" },
      { tipo: "DEPOSITO", moneda: "USD", cantidad: 2, monto_total: "5.00" },
      { tipo: "RETIRO", moneda: "PEN", cantidad: 7, monto_total: "1.00" },
    ];
    expect(seriesBy(rows, LABELS.tipoTransaccion, LABELS.count, LABELS.monto, "value")).toEqual([
      { label: "RETIRO", value: 7, montos: { PEN: "1.00" } },
      { label: "DEPOSITO", value: 6, montos: { PEN: "0.30", USD: "5.00" } },
    ]);
  });

  it("groups timestamps by calendar day and sorts days", () => {
    const rows = [
      { fecha: "2024-05-02", total_transacciones: 4 },
      { fecha: "2024-05-01T00:00:00", total_transacciones: "2" },
    ];
    expect(seriesBy(rows, LABELS.fecha, LABELS.count, [], "label").map((s) => [s.label, s.value])).toEqual([
      ["2024-05-01", 2],
      ["2024-05-02", 4],
    ]);
  });
});

describe("dashboardKpis", () => {
  it("never mixes currencies: one group per moneda plus the general counts", () => {
    const groups = dashboardKpis([
      { total_clientes: 20000, clientes_activos: 19000 },
      { moneda: "PEN", total_cuentas: 100, saldo_total: "1500.00" },
      { moneda: "USD", total_cuentas: 5, saldo_total: "20.00" },
    ]);
    expect(groups.map((g) => g.title)).toEqual(["General", "PEN", "USD"]);
    expect(groups[1]!.kpis.find((k) => k.key === "saldo_total")).toMatchObject({
      money: true,
      value: "1500.00",
      moneda: "PEN",
    });
  });

  it("reads key/value rows as one KPI each", () => {
    const groups = dashboardKpis([{ metrica: "total_clientes", valor: 3 }]);
    expect(groups[0]!.kpis).toEqual([
      { key: "total_clientes", label: "Total clientes", value: 3, moneda: undefined, money: false },
    ]);
  });

  it("tells money columns from counts", () => {
    expect(isMoneyColumn("saldo_total", "10.00")).toBe(true);
    expect(isMoneyColumn("total_cuentas", 10)).toBe(false);
    expect(humanize("volumen_total")).toBe("Volumen total");
  });
});

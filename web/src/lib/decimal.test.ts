import { describe, expect, it } from "vitest";
import { addAmounts, compareAmounts, fromCents, parseAmount, toCents } from "./decimal";

describe("parseAmount", () => {
  it.each([
    ["1500", "1500.00"],
    ["1500.5", "1500.50"],
    [" 0.01 ", "0.01"],
    ["1,500.75", "1500.75"],
    ["12,345,678.9", "12345678.90"],
    ["S/ 250", "250.00"],
    ["9999999999999.99", "9999999999999.99"],
  ])("accepts %j as %j", (input, expected) => {
    expect(parseAmount(input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ["", "Ingrese un monto."],
    ["-500", "El monto no puede ser negativo."],
    ["0", "El monto debe ser mayor que cero."],
    ["0.00", "El monto debe ser mayor que cero."],
    ["10.555", "Máximo 2 decimales."],
    ["1,5", "Use punto para los decimales (ej. 1500.50)."],
    ["12345678901234", "Máximo 13 dígitos enteros."],
    ["abc", "Monto inválido."],
    ["1e5", "Monto inválido."],
    ["NaN", "Monto inválido."],
  ])("refuses %j with %j", (input, error) => {
    expect(parseAmount(input)).toEqual({ ok: false, error });
  });

  it("allows zero where an opening balance may be zero", () => {
    expect(parseAmount("0", { allowZero: true })).toEqual({ ok: true, value: "0.00" });
  });
});

describe("cents arithmetic", () => {
  it("round-trips without floating point error", () => {
    expect(fromCents(toCents("0.10") + toCents("0.20"))).toBe("0.30");
    expect(addAmounts("9999999999999.99", "0.01")).toBe("10000000000000.00");
    expect(fromCents(-5n)).toBe("-0.05");
  });

  it("compares decimal strings exactly", () => {
    expect(compareAmounts("100.01", "100.1")).toBe(-1);
    expect(compareAmounts("100.10", "100.1")).toBe(0);
    expect(compareAmounts("2", "1.99")).toBe(1);
  });
});

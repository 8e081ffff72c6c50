import { describe, expect, it } from "vitest";
import {
  actorLabel,
  estadoLabel,
  formatDate,
  formatDateTime,
  formatLagSeconds,
  formatMoney,
  parseTimestamp,
  splitMotivo,
  tipoLabel,
} from "./format";

const norm = (s: string) => s.replace(/\s/g, " ");

describe("formatMoney", () => {
  it("formats soles the Peruvian way", () => {
    expect(norm(formatMoney("1500.00", "PEN"))).toBe("S/ 1,500.00");
  });

  it("keeps every cent of a 13-digit balance (no float rounding)", () => {
    expect(norm(formatMoney("9999999999999.99", "PEN"))).toBe("S/ 9,999,999,999,999.99");
    expect(norm(formatMoney("1234567890123.45", "USD"))).toMatch(/1,234,567,890,123\.45/);
  });

  it("names the currency for dollars and euros", () => {
    expect(norm(formatMoney("20.5", "USD"))).toMatch(/(US\$|USD|\$)\s?20\.50/);
    expect(norm(formatMoney("20.5", "EUR"))).toMatch(/(€|EUR)\s?20\.50/);
  });

  it("shows a dash for missing or malformed amounts", () => {
    expect(formatMoney(undefined, "PEN")).toBe("—");
    expect(formatMoney("", "PEN")).toBe("—");
    expect(formatMoney("12abc", "PEN")).toBe("—");
  });

  it("does not crash on an unknown currency code", () => {
    expect(norm(formatMoney("1.5", "XX1"))).toContain("1.50");
  });
});

describe("dates", () => {
  it("shows a calendar date as written, whatever the browser's time zone", () => {
    expect(formatDate("2030-01-15")).toBe("15/01/2030");
  });

  it("reads a timestamp without offset as UTC", () => {
    expect(parseTimestamp("2024-03-01T10:00:00").toISOString()).toBe("2024-03-01T10:00:00.000Z");
    expect(parseTimestamp("2024-03-01T10:00:00+00:00").toISOString()).toBe("2024-03-01T10:00:00.000Z");
  });

  it("formats timestamps in local time and tolerates garbage", () => {
    expect(formatDateTime("2024-03-01T10:00:00Z")).toMatch(/01\/03\/2024/);
    expect(formatDateTime(null)).toBe("—");
    expect(formatDate("no es fecha")).toBe("no es fecha");
  });
});

describe("labels", () => {
  it("translates states and types for staff", () => {
    expect(estadoLabel("bloqueada")).toBe("Bloqueada");
    expect(estadoLabel("FALLIDA")).toBe("Fallida");
    expect(tipoLabel("PAGO_SERVICIO")).toBe("Pago de servicio");
    expect(tipoLabel("deposito")).toBe("Depósito");
  });

  it("describes view lags in human units", () => {
    expect(formatLagSeconds(0.2)).toBe("menos de 1 s");
    expect(formatLagSeconds(42)).toBe("42 s");
    expect(formatLagSeconds(600)).toBe("10 min");
  });
});

describe("splitMotivo", () => {
  it("separates the saga's reason code from the sentence staff read", () => {
    expect(splitMotivo("SALDO_INSUFICIENTE: Saldo insuficiente: disponible 700.00, requerido 5000.00")).toEqual({
      code: "SALDO_INSUFICIENTE",
      text: "Saldo insuficiente: disponible 700.00, requerido 5000.00",
    });
    expect(splitMotivo("Cancelada por el operador")).toEqual({ text: "Cancelada por el operador" });
    expect(splitMotivo(null)).toEqual({ text: "no informado" });
  });
});

describe("actorLabel", () => {
  it("names who made a change, whatever kind of principal", () => {
    expect(actorLabel({ authtype: "user", authid: "cajero" })).toBe("cajero");
    expect(actorLabel({ authtype: "service_account", authid: "service-account-cloudbank-cli" })).toBe(
      "service-account-cloudbank-cli (servicio)",
    );
    expect(actorLabel({ authtype: "unauthenticated", authid: null })).toBe("anónimo");
  });

  it("shows a dash for records older than the field", () => {
    expect(actorLabel(undefined)).toBe("—");
    expect(actorLabel(null)).toBe("—");
  });
});

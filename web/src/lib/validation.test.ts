import { describe, expect, it } from "vitest";
import type { Cuenta } from "../api/types";
import {
  cuentasRequeridas,
  emptyClienteForm,
  monedaDe,
  validateAbrirCuenta,
  validateClienteCreate,
  validateTransaccion,
} from "./validation";

const valid = {
  ...emptyClienteForm,
  nombre: "Ana",
  apellido: "Pérez",
  email: "ana@example.com",
  numero_documento: "45678912",
};

describe("validateClienteCreate", () => {
  it("accepts a complete registration", () => {
    expect(validateClienteCreate(valid)).toEqual({});
  });

  it("names every missing required field", () => {
    const errors = validateClienteCreate(emptyClienteForm);
    expect(Object.keys(errors).sort()).toEqual(["apellido", "documento.numero_documento", "email", "nombre"]);
  });

  it("requires 8 digits for a DNI and 11 for a RUC", () => {
    expect(validateClienteCreate({ ...valid, numero_documento: "1234567" })["documento.numero_documento"]).toBe(
      "El DNI tiene 8 dígitos.",
    );
    expect(
      validateClienteCreate({ ...valid, tipo_documento: "RUC", numero_documento: "12345678" })[
        "documento.numero_documento"
      ],
    ).toBe("El RUC tiene 11 dígitos.");
    expect(validateClienteCreate({ ...valid, tipo_documento: "RUC", numero_documento: "20123456789" })).toEqual({});
    expect(validateClienteCreate({ ...valid, tipo_documento: "Pasaporte", numero_documento: "AB12345" })).toEqual({});
  });

  it("refuses an expiry that is not after the issue date", () => {
    const errors = validateClienteCreate({ ...valid, fecha_emision: "2024-05-01", fecha_vencimiento: "2024-05-01" });
    expect(errors["documento.fecha_vencimiento"]).toBe("El vencimiento debe ser posterior a la emisión.");
    expect(validateClienteCreate({ ...valid, fecha_emision: "2024-05-01", fecha_vencimiento: "2034-05-01" })).toEqual(
      {},
    );
  });

  it("checks email shape and the API's lengths", () => {
    expect(validateClienteCreate({ ...valid, email: "ana@" }).email).toBe("Email inválido.");
    expect(validateClienteCreate({ ...valid, nombre: "x".repeat(101) }).nombre).toBe("Nombre: máximo 100 caracteres.");
    expect(validateClienteCreate({ ...valid, telefono: "abc" }).telefono).toMatch(/Teléfono inválido/);
  });
});

describe("validateAbrirCuenta", () => {
  it("needs a cliente and a type; the opening balance is optional and may be zero", () => {
    expect(validateAbrirCuenta({ cliente_id: null, tipo_cuenta_id: "", moneda: "PEN", saldo: "" }).errors).toEqual({
      cliente_id: "Elija el cliente.",
      tipo_cuenta_id: "Elija el tipo de cuenta.",
    });
    expect(validateAbrirCuenta({ cliente_id: 1, tipo_cuenta_id: "2", moneda: "USD", saldo: "0" })).toEqual({
      errors: {},
      saldo: "0.00",
    });
    expect(validateAbrirCuenta({ cliente_id: 1, tipo_cuenta_id: "2", moneda: "USD", saldo: "-1" }).errors.saldo).toBe(
      "El monto no puede ser negativo.",
    );
  });
});

function cuenta(id: number, moneda: Cuenta["moneda"] = "PEN", estado: Cuenta["estado"] = "activa"): Cuenta {
  return {
    cuenta_id: id,
    cliente_id: 1,
    tipo_cuenta_id: 1,
    numero_cuenta: String(1000000000000 + id),
    saldo: "100.00",
    moneda,
    fecha_apertura: "2024-01-01T00:00:00Z",
    estado,
    tipo_cuenta_nombre: "Cuenta Sueldo",
    tipo_cuenta_descripcion: null,
  };
}

describe("validateTransaccion", () => {
  it("asks only for the accounts each type moves money between", () => {
    expect(cuentasRequeridas("DEPOSITO")).toEqual({ origen: false, destino: true });
    expect(cuentasRequeridas("RETIRO")).toEqual({ origen: true, destino: false });
    expect(cuentasRequeridas("PAGO_SERVICIO")).toEqual({ origen: true, destino: false });
    expect(cuentasRequeridas("TRANSFERENCIA")).toEqual({ origen: true, destino: true });
  });

  it("takes the currency from the accounts", () => {
    expect(monedaDe({ tipo: "DEPOSITO", origen: null, destino: cuenta(1, "USD") })).toBe("USD");
    expect(monedaDe({ tipo: "RETIRO", origen: cuenta(1, "EUR"), destino: cuenta(2, "USD") })).toBe("EUR");
  });

  it("refuses a transfer to the same account or across currencies", () => {
    const base = { tipo: "TRANSFERENCIA" as const, monto: "10", descripcion: "" };
    expect(validateTransaccion({ ...base, origen: cuenta(1), destino: cuenta(1) }).errors.cuentaDestinoId).toBe(
      "Origen y destino deben ser distintas.",
    );
    expect(
      validateTransaccion({ ...base, origen: cuenta(1), destino: cuenta(2, "USD") }).errors.cuentaDestinoId,
    ).toMatch(/Monedas distintas/);
    expect(validateTransaccion({ ...base, origen: cuenta(1), destino: cuenta(2) })).toEqual({
      errors: {},
      monto: "10.00",
    });
  });

  it("does not block an amount above the balance (the saga refuses it and records why)", () => {
    expect(
      validateTransaccion({ tipo: "RETIRO", monto: "1000000", origen: cuenta(1), destino: null, descripcion: "" })
        .errors,
    ).toEqual({});
  });

  it("reports missing accounts, inactive accounts and bad amounts by field", () => {
    const r = validateTransaccion({
      tipo: "TRANSFERENCIA",
      monto: "-5",
      origen: cuenta(1, "PEN", "bloqueada"),
      destino: null,
      descripcion: "",
    });
    expect(r.errors).toEqual({
      cuentaOrigenId: "La cuenta de origen está bloqueada.",
      cuentaDestinoId: "Elija la cuenta de destino.",
      monto: "El monto no puede ser negativo.",
    });
  });
});

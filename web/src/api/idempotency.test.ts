import { afterEach, describe, expect, it, vi } from "vitest";
import type { Cliente } from "./types";
import { createCliente, setEstadoCliente, updateCliente } from "./clientes";
import { openCuenta, setEstadoCuenta } from "./cuentas";

afterEach(() => vi.unstubAllGlobals());

const cliente: Cliente = {
  cliente_id: 3,
  nombre: "Luis",
  apellido: "Soto",
  email: "luis@example.com",
  telefono: null,
  estado: "activo",
  fecha_registro: "2024-01-01T00:00:00Z",
  documentos: [],
};

describe("every cuenta and cliente write sends its Idempotency-Key", () => {
  it.each([
    [
      "POST /cuentas",
      "POST",
      "/api/cuentas",
      () => openCuenta({ cliente_id: 1, tipo_cuenta_id: 2, moneda: "PEN", saldo: "0.00" }, "k-1"),
    ],
    ["PATCH /cuentas/{id}/estado", "PATCH", "/api/cuentas/9/estado", () => setEstadoCuenta(9, "bloqueada", "k-1")],
    [
      "POST /clientes",
      "POST",
      "/api/clientes",
      () =>
        createCliente(
          {
            nombre: "Ana",
            apellido: "P",
            email: "a@x.pe",
            estado: "activo",
            documento: { tipo_documento: "DNI", numero_documento: "45678912" },
          },
          "k-1",
        ),
    ],
    [
      "PUT /clientes/{id}",
      "PUT",
      "/api/clientes/3",
      () => updateCliente(3, { nombre: "Luis", apellido: "Soto", email: "luis@example.com" }, "k-1"),
    ],
    ["block (PUT /clientes/{id})", "PUT", "/api/clientes/3", () => setEstadoCliente(cliente, "bloqueado", "k-1")],
  ])("%s", async (_name, method, url, call) => {
    const fetch = vi.fn(async (_url: string, _init?: RequestInit) => new Response("{}", { status: 200 }));
    vi.stubGlobal("fetch", fetch);
    await call();
    const [sentUrl, init] = fetch.mock.calls[0]!;
    expect([sentUrl, init?.method]).toEqual([url, method]);
    expect(new Headers(init?.headers).get("Idempotency-Key")).toBe("k-1");
  });
});

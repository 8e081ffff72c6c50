import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ApiError,
  errorMessage,
  fieldErrorsFrom,
  formErrorsFrom,
  locToField,
  problemFieldErrors,
  request,
  totalCount,
  withQuery,
} from "./http";

function mockFetch(status: number, body: unknown, headers: Record<string, string> = {}) {
  const fn = vi.fn(
    async (_url: string, _init?: RequestInit) =>
      new Response(body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body), {
        status,
        headers,
      }),
  );
  vi.stubGlobal("fetch", fn);
  return fn;
}

afterEach(() => vi.unstubAllGlobals());

describe("422 detail → fields", () => {
  it("drops the source part of loc and joins nested fields", () => {
    expect(locToField(["body", "documento", "numero_documento"])).toBe("documento.numero_documento");
    expect(locToField(["query", "limit"])).toBe("limit");
    expect(locToField(["body", "items", 0, "monto"])).toBe("items.monto");
    expect(locToField(undefined)).toBe("");
  });

  it("keeps the first message per field and strips pydantic's prefix", () => {
    expect(
      fieldErrorsFrom([
        { loc: ["body", "email"], msg: "Value error, value is not a valid email address" },
        { loc: ["body", "email"], msg: "second" },
        { loc: ["body"], msg: "whole body" },
      ]),
    ).toEqual({ email: "value is not a valid email address", _: "whole body" });
  });
});

describe("request", () => {
  it("calls the gateway path with the query and reads X-Total-Count", async () => {
    const f = mockFetch(200, [{ cliente_id: 1 }], { "X-Total-Count": "20000" });
    const res = await request<unknown[]>("clientes", "/clientes", { query: { q: "ana", skip: 0, estado: "" } });
    expect(f.mock.calls[0]![0]).toBe("/api/clientes?q=ana&skip=0");
    expect(totalCount(res.headers)).toBe(20000);
  });

  it("turns a 422 into an ApiError with field messages", async () => {
    mockFetch(422, {
      detail: [
        { loc: ["body", "documento", "numero_documento"], msg: "DNI must be exactly 8 digits", type: "value_error" },
      ],
    });
    const err = await request("clientes", "/clientes", { method: "POST", body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).fieldErrors).toEqual({ "documento.numero_documento": "DNI must be exactly 8 digits" });
  });

  it("shows a problem's message, with its errors[] next to the fields", async () => {
    mockFetch(
      422,
      {
        type: "urn:cloudbank:problema:validacion",
        title: "Datos inválidos",
        status: 422,
        detail: [{ loc: ["body", "documento", "numero_documento"], msg: "Value error, DNI must be exactly 8 digits" }],
        error: "Datos inválidos",
        message: "El campo «documento.numero_documento» debe tener exactamente 8 dígitos (DNI).",
        errors: [
          {
            field: "documento.numero_documento",
            message: "El campo «documento.numero_documento» debe tener exactamente 8 dígitos (DNI).",
          },
        ],
      },
      { "Content-Type": "application/problem+json" },
    );
    const err = (await request("clientes", "/clientes", { method: "POST", body: {} }).catch(
      (e: unknown) => e,
    )) as ApiError;
    expect(err.message).toBe("El campo «documento.numero_documento» debe tener exactamente 8 dígitos (DNI).");
    expect(err.fieldErrors).toEqual({ "documento.numero_documento": err.message });
  });

  it("says which service is down when the gateway answers 502", async () => {
    mockFetch(502, "<html>bad gateway</html>");
    const err = (await request("perfil", "/perfil/x").catch((e: unknown) => e)) as ApiError;
    expect(err.message).toBe("El servicio perfil no está disponible en este momento (HTTP 502).");
  });

  it("uses analytics' error text on a failed query", async () => {
    mockFetch(503, { success: false, data: [], error: "lake not reachable" });
    const err = (await request("analytics", "/analytics/api/dashboard").catch((e: unknown) => e)) as ApiError;
    expect(err.message).toBe("lake not reachable");
  });

  it("reports a network failure without a status", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))),
    );
    const err = (await request("cuentas", "/cuentas").catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/No se pudo conectar con el servicio cuentas/);
  });
});

describe("errorMessage", () => {
  it("prefers message, then error, then detail, then the status", () => {
    const full = { message: "Saldo insuficiente.", error: "Saldo insuficiente", detail: "Saldo insuficiente" };
    expect(errorMessage(full, 409, "cuentas")).toBe("Saldo insuficiente.");
    expect(errorMessage({ error: "Cliente no encontrado" }, 404, "cuentas")).toBe("Cliente no encontrado");
    expect(errorMessage({ detail: [{ loc: ["body", "monto"], msg: "bad" }] }, 422, "x")).toBe("monto: bad");
    expect(errorMessage({ message: "", error: undefined }, 503, "cuentas")).toBe(
      "El servicio cuentas no está disponible en este momento (HTTP 503).",
    );
    expect(errorMessage("Internal Server Error", 500, "clientes")).toBe(
      "Error interno del servicio clientes (HTTP 500).",
    );
  });

  it("never shows undefined for an Express-style {error} body", () => {
    expect(errorMessage({ error: "El cliente 5 no está activo" }, 409, "cuentas")).toBe("El cliente 5 no está activo");
    expect(errorMessage({}, 400, "cuentas")).not.toMatch(/undefined/);
  });

  it("reads errors[] without list indices and ignores entries without a message", () => {
    expect(
      problemFieldErrors([{ field: "clientes[1].email", message: "m" }, { field: "x" }, { message: "todo" }]),
    ).toEqual({ "clientes.email": "m", _: "todo" });
    expect(problemFieldErrors([])).toBeUndefined();
  });
});

describe("formErrorsFrom", () => {
  it("puts a 409 next to the field it names", () => {
    const err = new ApiError("El email ya está registrado", 409, "clientes");
    expect(formErrorsFrom(err, { email: ["email"] })).toEqual({ fields: { email: "El email ya está registrado" } });
  });

  it("falls back to a banner for conflicts it cannot place", () => {
    const err = new ApiError("Saldo insuficiente", 409, "cuentas");
    expect(formErrorsFrom(err, { email: ["email"] })).toEqual({ fields: {}, banner: "Saldo insuficiente" });
  });

  it("withQuery leaves out empty values", () => {
    expect(withQuery("/x", { a: undefined, b: null, c: "", d: 0 })).toBe("/x?d=0");
  });
});

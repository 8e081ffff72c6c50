// @vitest-environment jsdom
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Cuenta, Transaccion } from "../../api/types";
import { buildBody, TransaccionForm, type Resultado } from "./TransaccionForm";

afterEach(() => vi.unstubAllGlobals());

const cuenta = (id: number, saldo: string): Cuenta => ({
  cuenta_id: id,
  cliente_id: 1,
  tipo_cuenta_id: 1,
  numero_cuenta: `100000000000${id}`,
  saldo,
  moneda: "PEN",
  fecha_apertura: "2024-01-01T00:00:00Z",
  estado: "activa",
  tipo_cuenta_nombre: "Cuenta Sueldo",
  tipo_cuenta_descripcion: null,
});

describe("TransaccionForm fields per type", () => {
  it.each([
    ["Depósito", ["Cuenta a acreditar"], ["Cuenta a debitar", "Servicio"]],
    ["Retiro", ["Cuenta a debitar"], ["Cuenta a acreditar", "Servicio"]],
    ["Pago de servicio", ["Cuenta a debitar", "Servicio"], ["Cuenta a acreditar"]],
    ["Transferencia", ["Cuenta de origen", "Cuenta de destino"], ["Servicio"]],
  ])("%s shows only the fields it needs", async (tipo, shown, hidden) => {
    render(<TransaccionForm onFase={() => undefined} onResultado={() => undefined} />);
    await userEvent.setup({ delay: null }).click(screen.getByRole("radio", { name: tipo }));
    for (const label of shown) expect(screen.getByLabelText(label)).toBeInTheDocument();
    for (const label of hidden) expect(screen.queryByLabelText(label)).toBeNull();
  });
});

describe("buildBody", () => {
  it("sends only the accounts of the type, the accounts' currency and a canonical amount", () => {
    expect(buildBody("DEPOSITO", "10.00", cuenta(1, "0"), cuenta(2, "0"), "", "")).toEqual({
      tipo: "DEPOSITO",
      monto: "10.00",
      moneda: "PEN",
      cuentaDestinoId: 2,
    });
    expect(buildBody("PAGO_SERVICIO", "5.00", cuenta(1, "9"), null, "", "Luz del Sur 123")).toEqual({
      tipo: "PAGO_SERVICIO",
      monto: "5.00",
      moneda: "PEN",
      cuentaOrigenId: 1,
      descripcion: "Pago de servicio: Luz del Sur 123",
      metadata: { servicio: "Luz del Sur 123" },
    });
  });
});

describe("TransaccionForm submit", () => {
  it("polls a 202 until the saga is final and reports both balances", async () => {
    const origen = cuenta(1, "100.00");
    const destino = cuenta(2, "0.00");
    let saldos = { 1: "100.00", 2: "0.00" } as Record<number, string>;
    const pendiente: Transaccion = {
      id: "abc",
      transaccionId: "TRX1",
      tipo: "TRANSFERENCIA",
      cuentaOrigenId: 1,
      cuentaDestinoId: 2,
      monto: "40.00",
      moneda: "PEN",
      descripcion: null,
      fecha: "2024-01-01T00:00:00Z",
      estado: "PENDIENTE",
    };
    let polls = 0;
    const calls: { url: string; init?: RequestInit }[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        calls.push({ url, init });
        const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
          new Response(JSON.stringify(body), { status, headers });
        if (url.startsWith("/api/clientes?"))
          return json(200, [
            { cliente_id: 1, nombre: "Ana", apellido: "P", email: "a@x.pe", estado: "activo", documentos: [] },
          ]);
        if (url === "/api/cuentas/cliente/1") return json(200, [origen, destino]);
        const m = /^\/api\/cuentas\/(\d+)$/.exec(url);
        if (m) return json(200, { ...cuenta(Number(m[1]), saldos[Number(m[1])]!) });
        if (url === "/api/transacciones" && init?.method === "POST")
          return json(202, pendiente, { Location: "/transacciones/abc" });
        if (url === "/api/transacciones/abc") {
          polls += 1;
          if (polls < 2) return json(200, pendiente);
          saldos = { 1: "60.00", 2: "40.00" };
          return json(200, { ...pendiente, estado: "COMPLETADA" });
        }
        return json(404, { detail: `unexpected ${url}` });
      }),
    );
    const onResultado = vi.fn<(r: Resultado) => void>();
    render(<TransaccionForm onFase={() => undefined} onResultado={onResultado} />);
    const user = userEvent.setup({ delay: null });
    await user.click(screen.getByRole("radio", { name: "Transferencia" }));

    await user.type(screen.getByLabelText("Cuenta de origen"), "ana");
    await user.click(await screen.findByRole("option", { name: /1000000000001/ }, { timeout: 10_000 }));
    await user.type(screen.getByLabelText("Cuenta de destino"), "ana");
    await user.click(await screen.findByRole("option", { name: /1000000000002/ }, { timeout: 10_000 }));
    await user.type(screen.getByLabelText("Monto (PEN)"), "40");
    await user.click(screen.getByRole("button", { name: "Registrar transferencia" }));

    await waitFor(() => expect(onResultado).toHaveBeenCalled(), { timeout: 15_000 });
    const r = onResultado.mock.calls[0]![0];
    expect(r.transaccion.estado).toBe("COMPLETADA");
    expect(r.saldos.map((s) => [s.rol, s.antes, s.despues])).toEqual([
      ["Origen", "100.00", "60.00"],
      ["Destino", "0.00", "40.00"],
    ]);
    const post = calls.find((c) => c.init?.method === "POST")!;
    expect(JSON.parse(String(post.init!.body))).toEqual({
      tipo: "TRANSFERENCIA",
      monto: "40.00",
      moneda: "PEN",
      cuentaOrigenId: 1,
      cuentaDestinoId: 2,
    });
    expect(new Headers(post.init!.headers).get("Idempotency-Key")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("shows a 409 FALLIDA as the saga's refusal with its motivo, not as an error or a success", async () => {
    const origen = cuenta(1, "10.00");
    const motivo = "SALDO_INSUFICIENTE: saldo 10.00, se pidió 50.00";
    const fallida = {
      id: "f00",
      transaccionId: "TRXf00",
      tipo: "RETIRO",
      cuentaOrigenId: 1,
      cuentaDestinoId: null,
      monto: "50.00",
      moneda: "PEN",
      descripcion: null,
      fecha: "2024-01-01T00:00:00Z",
      estado: "FALLIDA",
      motivo,
      metadata: {},
      type: "urn:cloudbank:problema:transaccion-fallida",
      title: "Transacción rechazada",
      status: 409,
      detail: motivo,
      instance: "/transacciones/f00",
      error: motivo,
      message: motivo,
    };
    const urls: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        urls.push(url);
        const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
        if (url.startsWith("/api/clientes?"))
          return json(200, [
            { cliente_id: 1, nombre: "Ana", apellido: "P", email: "a@x.pe", estado: "activo", documentos: [] },
          ]);
        if (url === "/api/cuentas/cliente/1") return json(200, [origen]);
        if (url === "/api/cuentas/1") return json(200, origen);
        if (url === "/api/transacciones" && init?.method === "POST") return json(409, fallida);
        return json(404, { detail: `unexpected ${url}` });
      }),
    );
    const onResultado = vi.fn<(r: Resultado) => void>();
    render(<TransaccionForm onFase={() => undefined} onResultado={onResultado} />);
    const user = userEvent.setup({ delay: null });
    await user.click(screen.getByRole("radio", { name: "Retiro" }));
    await user.type(screen.getByLabelText("Cuenta a debitar"), "ana");
    await user.click(await screen.findByRole("option", { name: /1000000000001/ }, { timeout: 10_000 }));
    await user.type(screen.getByLabelText("Monto (PEN)"), "50");
    await user.click(screen.getByRole("button", { name: "Registrar retiro" }));

    await waitFor(() => expect(onResultado).toHaveBeenCalled(), { timeout: 15_000 });
    const r = onResultado.mock.calls[0]![0];
    expect([r.transaccion.estado, r.transaccion.motivo, r.pendiente]).toEqual(["FALLIDA", motivo, false]);
    expect(r.saldos.map((s) => [s.rol, s.antes, s.despues])).toEqual([["Origen", "10.00", "10.00"]]);
    expect(urls.filter((u) => u.startsWith("/api/transacciones/"))).toEqual([]); // final: nothing to poll
    expect(screen.queryByRole("alert")).toBeNull(); // a refusal is the result, not a form error
  });
});

describe("TransaccionForm Idempotency-Key", () => {
  it.each([
    ["Depósito", "Cuenta a acreditar", "Registrar depósito"],
    ["Retiro", "Cuenta a debitar", "Registrar retiro"],
  ])("%s: a retry of the same body reuses the key, a changed body gets a new one", async (tipo, picker, submit) => {
    const c = cuenta(1, "500.00");
    const posts: { body: unknown; key: string | null }[] = [];
    let answers = [503, 201, 503];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
        if (url.startsWith("/api/clientes?"))
          return json(200, [
            { cliente_id: 1, nombre: "Ana", apellido: "P", email: "a@x.pe", estado: "activo", documentos: [] },
          ]);
        if (url === "/api/cuentas/cliente/1") return json(200, [c]);
        if (url === "/api/cuentas/1") return json(200, c);
        if (url === "/api/transacciones" && init?.method === "POST") {
          const body = JSON.parse(String(init.body)) as Record<string, unknown>;
          posts.push({ body, key: new Headers(init.headers).get("Idempotency-Key") });
          const [status = 500, ...rest] = answers;
          answers = rest;
          if (status !== 201) return json(status, { detail: "Servicio no disponible" });
          return json(201, {
            id: `t${posts.length}`,
            transaccionId: `TRX${posts.length}`,
            ...body,
            fecha: "2024-01-01T00:00:00Z",
            estado: "COMPLETADA",
          });
        }
        return json(404, { detail: `unexpected ${url}` });
      }),
    );
    render(<TransaccionForm onFase={() => undefined} onResultado={() => undefined} />);
    const user = userEvent.setup({ delay: null });
    await user.click(screen.getByRole("radio", { name: tipo }));
    await user.type(screen.getByLabelText(picker), "ana");
    await user.click(await screen.findByRole("option", { name: /1000000000001/ }, { timeout: 10_000 }));
    const button = () => screen.getByRole("button", { name: submit });

    await user.type(screen.getByLabelText("Monto (PEN)"), "25");
    await user.click(button());
    await screen.findByText("Servicio no disponible", undefined, { timeout: 10_000 });
    await user.click(button()); // the same body again: the service must see the same key
    await waitFor(() => expect(posts).toHaveLength(2), { timeout: 10_000 });
    await waitFor(() => expect(screen.getByLabelText("Monto (PEN)")).toHaveValue(""), { timeout: 10_000 });

    await user.type(screen.getByLabelText("Monto (PEN)"), "30");
    await user.click(button());
    await waitFor(() => expect(posts).toHaveLength(3), { timeout: 10_000 });

    const [first, retry, changed] = posts;
    expect(first!.key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first!.body).toMatchObject({ tipo: tipo === "Depósito" ? "DEPOSITO" : "RETIRO", monto: "25.00" });
    expect(retry).toEqual(first);
    expect(changed!.body).toMatchObject({ monto: "30.00" });
    expect(changed!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(changed!.key).not.toBe(first!.key);
  });
});

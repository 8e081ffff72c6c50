// @vitest-environment jsdom
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { segundosRestantes } from "../../api/cambio";
import type { Cotizacion, Cuenta, Transaccion } from "../../api/types";
import { TransaccionForm, type Resultado } from "./TransaccionForm";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

const cuenta = (id: number, moneda: Cuenta["moneda"]): Cuenta => ({
  cuenta_id: id,
  cliente_id: 1,
  tipo_cuenta_id: 1,
  numero_cuenta: `100000000000${id}`,
  saldo: "500.00",
  moneda,
  fecha_apertura: "2024-01-01T00:00:00Z",
  estado: "activa",
  tipo_cuenta_nombre: "Cuenta Sueldo",
  tipo_cuenta_descripcion: null,
});
const usd = cuenta(1, "USD");
const pen = cuenta(2, "PEN");

function quote(venceEnMs: number, n = 1): Cotizacion {
  return {
    cotizacionId: `cot-${n}`,
    cuentaOrigenId: 1,
    cuentaDestinoId: 2,
    monedaOrigen: "USD",
    montoOrigen: "100.00",
    monedaDestino: "PEN",
    montoDestino: "372.50",
    tasa: "3.7250",
    ingreso: "0.40",
    vence: new Date(Date.now() + venceEnMs).toISOString(),
    creada: new Date().toISOString(),
  };
}

function stubFetch({ fx, venceEnMs }: { fx: boolean; venceEnMs: number }) {
  const posts: { url: string; body: Record<string, unknown> }[] = [];
  let n = 0;
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
      if (init?.method === "POST") posts.push({ url, body: JSON.parse(String(init.body)) });
      if (url === "/api/tipos-cambio")
        return fx
          ? json(200, [{ par: "USD/PEN", compra: "3.70", venta: "3.75", actualizado: "2026-12-05T00:00:00Z" }])
          : json(404, { detail: "Ruta no encontrada en el gateway" });
      if (url.startsWith("/api/clientes?"))
        return json(200, [
          { cliente_id: 1, nombre: "Ana", apellido: "P", email: "a@x.pe", estado: "activo", documentos: [] },
        ]);
      if (url === "/api/cuentas/cliente/1") return json(200, [usd, pen]);
      const m = /^\/api\/cuentas\/(\d+)$/.exec(url);
      if (m) return json(200, Number(m[1]) === 1 ? usd : pen);
      if (url === "/api/cotizaciones") return json(201, quote(venceEnMs, ++n));
      if (url === "/api/transacciones" && init?.method === "POST") {
        const done: Transaccion = {
          id: "t1",
          transaccionId: "TRX1",
          tipo: "TRANSFERENCIA",
          cuentaOrigenId: 1,
          cuentaDestinoId: 2,
          monto: "100.00",
          moneda: "USD",
          descripcion: null,
          fecha: "2026-12-05T00:00:00Z",
          estado: "COMPLETADA",
          montoDestino: "372.50",
          monedaDestino: "PEN",
        };
        return json(201, done);
      }
      return json(404, { detail: `unexpected ${url}` });
    }),
  );
  return posts;
}

async function fillTransfer() {
  const user = userEvent.setup({ delay: null });
  await user.click(screen.getByRole("radio", { name: "Transferencia" }));
  await user.type(screen.getByLabelText("Cuenta de origen"), "ana");
  await user.click(await screen.findByRole("option", { name: /1000000000001/ }, { timeout: 10_000 }));
  await user.type(screen.getByLabelText("Cuenta de destino"), "ana");
  await user.click(await screen.findByRole("option", { name: /1000000000002/ }, { timeout: 10_000 }));
  await user.type(screen.getByLabelText("Monto (USD)"), "100");
  return user;
}

describe("FX transfer", () => {
  it("asks for a quote, shows rate, both amounts, spread and countdown, then confirms with its cotizacionId", async () => {
    const posts = stubFetch({ fx: true, venceEnMs: 60_000 });
    const onResultado = vi.fn<(r: Resultado) => void>();
    render(<TransaccionForm onFase={() => undefined} onResultado={onResultado} />);
    const user = await fillTransfer();
    await user.click(await screen.findByRole("button", { name: "Cotizar cambio" }));

    expect(await screen.findByTestId("cotizacion")).toBeInTheDocument();
    expect(screen.getByTestId("cotizacion-tasa")).toHaveTextContent("1 USD = 3.7250 PEN");
    expect(screen.getByTestId("cotizacion-origen")).toHaveTextContent("100.00");
    expect(screen.getByTestId("cotizacion-destino")).toHaveTextContent("372.50");
    expect(screen.getByTestId("cotizacion-margen")).toHaveTextContent("0.40");
    expect(screen.getByTestId("cotizacion-vence")).toHaveTextContent(/Válida por [01]:\d\d/);
    expect(posts.map((p) => p.url)).toEqual(["/api/cotizaciones"]); // no transfer before the confirmation
    expect(posts[0]!.body).toEqual({ cuentaOrigenId: 1, cuentaDestinoId: 2, monto: "100.00" });

    await user.click(screen.getByRole("button", { name: "Confirmar transferencia" }));
    await waitFor(() => expect(onResultado).toHaveBeenCalled(), { timeout: 10_000 });
    const transfer = posts.find((p) => p.url === "/api/transacciones")!;
    expect(transfer.body).toEqual({
      tipo: "TRANSFERENCIA",
      monto: "100.00",
      moneda: "USD",
      cuentaOrigenId: 1,
      cuentaDestinoId: 2,
      cotizacionId: "cot-1",
    });
  });

  it("an expired quote cannot be confirmed: the button asks for a new one", async () => {
    const posts = stubFetch({ fx: true, venceEnMs: 0 });
    render(<TransaccionForm onFase={() => undefined} onResultado={() => undefined} />);
    const user = await fillTransfer();
    await user.click(await screen.findByRole("button", { name: "Cotizar cambio" }));
    expect(await screen.findByText("La cotización venció; pida una nueva antes de confirmar.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Nueva cotización" }));
    await waitFor(() => expect(posts.filter((p) => p.url === "/api/cotizaciones")).toHaveLength(2));
    expect(posts.some((p) => p.url === "/api/transacciones")).toBe(false);
  });

  it("without FX (GET /tipos-cambio 404) a transfer between currencies is refused as before, no quote", async () => {
    const posts = stubFetch({ fx: false, venceEnMs: 60_000 });
    render(<TransaccionForm onFase={() => undefined} onResultado={() => undefined} />);
    const user = await fillTransfer();
    await user.click(screen.getByRole("button", { name: "Registrar transferencia" }));
    expect(await screen.findByText("Monedas distintas (USD → PEN).")).toBeInTheDocument();
    expect(posts).toEqual([]);
    expect(screen.queryByTestId("cotizacion")).toBeNull();
  });
});

describe("segundosRestantes", () => {
  it("counts whole seconds down to zero and never below", () => {
    const now = Date.parse("2026-12-05T10:00:00Z");
    expect(segundosRestantes("2026-12-05T10:00:30Z", now)).toBe(30);
    expect(segundosRestantes("2026-12-05T10:00:00.500Z", now)).toBe(1);
    expect(segundosRestantes("2026-12-05T09:59:00Z", now)).toBe(0);
    expect(segundosRestantes("no es fecha", now)).toBe(0);
  });
});

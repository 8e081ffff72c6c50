// @vitest-environment jsdom
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Cuenta, Retencion } from "../../api/types";
import { SessionContext } from "../../auth/SessionContext";
import { can } from "../../auth/roles";
import { Retenciones, retenidoDe } from "./Retenciones";

afterEach(() => vi.unstubAllGlobals());

const cuenta: Cuenta = {
  cuenta_id: 9,
  cliente_id: 1,
  tipo_cuenta_id: 1,
  numero_cuenta: "1000000000009",
  saldo: "100.00",
  saldo_disponible: "70.00",
  retenido: "30.00",
  moneda: "PEN",
  fecha_apertura: "2024-01-01T00:00:00Z",
  estado: "activa",
  tipo_cuenta_nombre: "Ahorros",
  tipo_cuenta_descripcion: null,
};
const hold = (id: number, estado: Retencion["estado"], extra: Partial<Retencion> = {}): Retencion => ({
  retencion_id: id,
  cuenta_id: 9,
  monto: "30.00",
  moneda: "PEN",
  vence: "2030-01-01T00:00:00Z",
  referencia: `POS-${id}`,
  estado,
  ...extra,
});

function stubFetch() {
  const calls: { url: string; method: string; body: unknown; key: string | null }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      calls.push({
        url,
        method,
        body: init?.body ? JSON.parse(String(init.body)) : undefined,
        key: new Headers(init?.headers).get("Idempotency-Key"),
      });
      const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
      if (url === "/api/cuentas/9") return json(200, cuenta);
      if (url.startsWith("/api/cuentas/9/retenciones?"))
        return json(200, [hold(1, "ACTIVA"), hold(2, "CAPTURADA", { monto_capturado: "12.50" })]);
      if (url === "/api/cuentas/9/retenciones/1/captura") return json(200, hold(1, "CAPTURADA"));
      if (url === "/api/cuentas/9/retenciones/1/liberacion") return json(200, hold(1, "LIBERADA"));
      if (url === "/api/cuentas/9/retenciones" && method === "POST") return json(201, hold(3, "ACTIVA"));
      return json(404, { detail: `unexpected ${url}` });
    }),
  );
  return calls;
}

describe("retenidoDe", () => {
  it("is retenido when given, else saldo minus saldo_disponible, else zero", () => {
    expect(retenidoDe({ saldo: "100.00", saldo_disponible: "70.00", retenido: "30.00" })).toBe("30.00");
    expect(retenidoDe({ saldo: "100.00", saldo_disponible: "62.50" })).toBe("37.50");
    expect(retenidoDe({ saldo: "100.00" })).toBe("0.00");
  });
});

describe("Retenciones", () => {
  it("shows booked, held and available balance and every hold with its estado and vence", async () => {
    stubFetch();
    render(<Retenciones cuenta={cuenta} />);
    expect(within(screen.getByTestId("saldo-contable")).getByText(/100\.00/)).toBeInTheDocument();
    expect(within(screen.getByTestId("saldo-retenido")).getByText(/30\.00/)).toBeInTheDocument();
    expect(within(screen.getByTestId("saldo-disponible")).getByText(/70\.00/)).toBeInTheDocument();
    const activa = await screen.findByTestId("retencion-1");
    expect(within(activa).getByText("Activa")).toBeInTheDocument();
    expect(within(activa).getByText("POS-1")).toBeInTheDocument();
    const capturada = screen.getByTestId("retencion-2");
    expect(within(capturada).getByText("Capturada")).toBeInTheDocument();
    expect(within(capturada).getByText(/12\.50/)).toBeInTheDocument();
    expect(within(capturada).queryByRole("button", { name: "Capturar" })).toBeNull(); // ended: no actions
  });

  it("captures part of a hold with an Idempotency-Key, and voids one", async () => {
    const calls = stubFetch();
    render(<Retenciones cuenta={cuenta} />);
    const user = userEvent.setup({ delay: null });
    const row = await screen.findByTestId("retencion-1");
    await user.click(within(row).getByRole("button", { name: "Capturar" }));
    let dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText("Monto a capturar (vacío: todo)"), "12.5");
    await user.click(within(dialog).getByRole("button", { name: "Capturar" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const captura = calls.find((c) => c.url.endsWith("/captura"))!;
    expect(captura.method).toBe("POST");
    expect(captura.body).toEqual({ monto: "12.50" });
    expect(captura.key).toMatch(/^[0-9a-f-]{36}$/);

    await user.click(within(await screen.findByTestId("retencion-1")).getByRole("button", { name: "Liberar" }));
    dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Liberar" }));
    await waitFor(() => expect(calls.some((c) => c.url.endsWith("/liberacion") && c.method === "POST")).toBe(true));
  });

  it("a capture above the hold is refused before it is sent", async () => {
    const calls = stubFetch();
    render(<Retenciones cuenta={cuenta} />);
    const user = userEvent.setup({ delay: null });
    await user.click(within(await screen.findByTestId("retencion-1")).getByRole("button", { name: "Capturar" }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText("Monto a capturar (vacío: todo)"), "30.01");
    await user.click(within(dialog).getByRole("button", { name: "Capturar" }));
    expect(await within(dialog).findByText("El monto supera la retención.")).toBeInTheDocument();
    expect(calls.some((c) => c.url.endsWith("/captura"))).toBe(false);
  });

  it("creates a hold with monto, vence in UTC and referencia", async () => {
    const calls = stubFetch();
    render(<Retenciones cuenta={cuenta} />);
    const user = userEvent.setup({ delay: null });
    const form = screen.getByRole("form", { name: "Nueva retención" });
    await user.type(within(form).getByLabelText("Monto"), "80");
    await user.click(within(form).getByRole("button", { name: "Retener" }));
    expect(await within(form).findByText("El monto supera el saldo disponible.")).toBeInTheDocument();
    await user.clear(within(form).getByLabelText("Monto"));
    await user.type(within(form).getByLabelText("Monto"), "20");
    await user.type(within(form).getByLabelText("Referencia"), "POS-9");
    await user.click(within(form).getByRole("button", { name: "Retener" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.url).toBe("/api/cuentas/9/retenciones");
    const body = post.body as { monto: string; vence: string; referencia: string };
    expect(body.monto).toBe("20.00");
    expect(body.referencia).toBe("POS-9");
    expect(body.vence).toMatch(/Z$/);
  });

  it("a role that may only read sees the holds with the actions disabled and no create form", async () => {
    stubFetch();
    render(
      <SessionContext.Provider value={{ session: null, can: (a) => can(["auditor"], a) }}>
        <Retenciones cuenta={cuenta} />
      </SessionContext.Provider>,
    );
    const row = await screen.findByTestId("retencion-1");
    expect(within(row).getByRole("button", { name: "Capturar" })).toBeDisabled();
    expect(within(row).getByRole("button", { name: "Liberar" })).toBeDisabled();
    expect(screen.queryByRole("form", { name: "Nueva retención" })).toBeNull();
  });
});

// @vitest-environment jsdom
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Transaccion } from "../../api/types";
import { SessionContext } from "../../auth/SessionContext";
import { can, type Role } from "../../auth/roles";
import { TransaccionesTab } from "./TransaccionesTab";

afterEach(() => vi.unstubAllGlobals());

const trx = (n: number, extra: Partial<Transaccion> = {}): Transaccion => ({
  id: `id-${n}`,
  transaccionId: `TRX${n}`,
  tipo: "DEPOSITO",
  cuentaOrigenId: null,
  cuentaDestinoId: 5,
  monto: "40.00",
  moneda: "PEN",
  descripcion: null,
  fecha: "2026-12-05T10:00:00Z",
  estado: "COMPLETADA",
  ...extra,
});

function stubFetch(reversal: { status: number; body: Transaccion }) {
  const posts: { url: string; key: string | null }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
      if (url.startsWith("/api/transacciones?"))
        return json(200, [
          trx(1),
          trx(2, { revertidaPor: "id-3" }),
          trx(3, { tipo: "RETIRO", cuentaOrigenId: 5, cuentaDestinoId: null, reversionDe: "id-2" }),
          trx(4, { estado: "FALLIDA", motivo: "SALDO_INSUFICIENTE" }),
        ]);
      if (url === "/api/transacciones/id-1/reversion" && init?.method === "POST") {
        posts.push({ url, key: new Headers(init.headers).get("Idempotency-Key") });
        return json(reversal.status, reversal.body);
      }
      return json(404, { detail: `unexpected ${url}` });
    }),
  );
  return posts;
}

const asRole = (role: Role) => (node: React.ReactNode) => (
  <SessionContext.Provider value={{ session: null, can: (a) => can([role], a) }}>{node}</SessionContext.Provider>
);

describe("Revertir", () => {
  it("is offered only on a COMPLETADA transaction not reverted and not itself a reversal; links show", async () => {
    stubFetch({ status: 201, body: trx(9) });
    render(asRole("operaciones")(<TransaccionesTab />));
    const row = (n: number) => screen.findByTestId(`trx-TRX${n}`);
    expect(within(await row(1)).getByRole("button", { name: "Revertir" })).toBeInTheDocument();
    expect(within(await row(2)).queryByRole("button", { name: "Revertir" })).toBeNull();
    expect(within(await row(2)).getByTestId("revertida-por")).toHaveTextContent("revertida por id-3");
    expect(within(await row(3)).queryByRole("button", { name: "Revertir" })).toBeNull();
    expect(within(await row(3)).getByTestId("reversion-de")).toHaveTextContent("reversión de id-2");
    expect(within(await row(4)).queryByRole("button", { name: "Revertir" })).toBeNull();
  });

  it("asks for confirmation, then posts the reversal with an Idempotency-Key", async () => {
    const posts = stubFetch({
      status: 201,
      body: trx(9, { tipo: "RETIRO", reversionDe: "id-1", cuentaOrigenId: 5, cuentaDestinoId: null }),
    });
    render(asRole("admin")(<TransaccionesTab />));
    const user = userEvent.setup({ delay: null });
    await user.click(within(await screen.findByTestId("trx-TRX1")).getByRole("button", { name: "Revertir" }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("transacción espejo");
    expect(posts).toHaveLength(0); // nothing before the confirmation
    await user.click(within(dialog).getByRole("button", { name: "Revertir" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(posts).toHaveLength(1);
    expect(posts[0]!.key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("a refused reversal (409 FALLIDA) closes the dialog without error: it is a final answer", async () => {
    const posts = stubFetch({
      status: 409,
      body: trx(9, { estado: "FALLIDA", motivo: "SALDO_INSUFICIENTE", reversionDe: "id-1" }),
    });
    render(asRole("operaciones")(<TransaccionesTab />));
    const user = userEvent.setup({ delay: null });
    await user.click(within(await screen.findByTestId("trx-TRX1")).getByRole("button", { name: "Revertir" }));
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Revertir" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(posts).toHaveLength(1);
  });

  it.each(["cajero", "auditor"] as Role[])("%s sees no Revertir button", async (role) => {
    stubFetch({ status: 201, body: trx(9) });
    render(asRole(role)(<TransaccionesTab />));
    expect(within(await screen.findByTestId("trx-TRX1")).queryByRole("button", { name: "Revertir" })).toBeNull();
  });
});

// @vitest-environment jsdom
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Cuenta, EstadoCuenta } from "../../api/types";
import { CuentasTab } from "./CuentasTab";

afterEach(() => vi.unstubAllGlobals());

describe("CuentasTab estado changes", () => {
  it("a retried confirm reuses its Idempotency-Key; the next change gets a new one", async () => {
    let estado: EstadoCuenta = "activa";
    const cuenta = (): Cuenta => ({
      cuenta_id: 9,
      cliente_id: 1,
      tipo_cuenta_id: 1,
      numero_cuenta: "1000000000009",
      saldo: "10.00",
      moneda: "PEN",
      fecha_apertura: "2024-01-01T00:00:00Z",
      estado,
      tipo_cuenta_nombre: "Ahorros",
      tipo_cuenta_descripcion: null,
    });
    const patches: { body: unknown; key: string | null }[] = [];
    const statuses = [503, 200, 200];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
        if (url.startsWith("/api/cuentas?")) return json(200, [cuenta()]);
        if (url === "/api/cuentas/9/estado" && init?.method === "PATCH") {
          const body = JSON.parse(String(init.body)) as { estado: EstadoCuenta };
          patches.push({ body, key: new Headers(init.headers).get("Idempotency-Key") });
          const status = statuses.shift() ?? 500;
          if (status !== 200) return json(status, { detail: "Servicio no disponible" });
          estado = body.estado;
          return json(200, cuenta());
        }
        return json(404, { detail: `unexpected ${url}` });
      }),
    );
    render(<CuentasTab />);
    const user = userEvent.setup({ delay: null });
    const confirm = async (label: string) => {
      const dialog = await screen.findByRole("dialog");
      await user.click(within(dialog).getByRole("button", { name: label }));
      return dialog;
    };

    await user.click(await screen.findByRole("button", { name: "Bloquear" }));
    const dialog = await confirm("Bloquear");
    await within(dialog).findByText("Servicio no disponible");
    await user.click(within(dialog).getByRole("button", { name: "Bloquear" })); // the same change again
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    await user.click(await screen.findByRole("button", { name: "Desbloquear" }));
    await confirm("Desbloquear");
    await waitFor(() => expect(patches).toHaveLength(3));

    const [first, retry, next] = patches;
    expect(first!.body).toEqual({ estado: "bloqueada" });
    expect(first!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(retry).toEqual(first);
    expect(next!.body).toEqual({ estado: "activa" });
    expect(next!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(next!.key).not.toBe(first!.key);
  });
});

// @vitest-environment jsdom
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Cliente } from "../../api/types";
import { AbrirCuentaForm } from "./AbrirCuentaForm";

afterEach(() => vi.unstubAllGlobals());

const cliente: Cliente = {
  cliente_id: 1,
  nombre: "Ana",
  apellido: "Pérez",
  email: "ana@example.com",
  telefono: null,
  estado: "activo",
  fecha_registro: "2024-01-01T00:00:00Z",
  documentos: [],
};

describe("AbrirCuentaForm Idempotency-Key", () => {
  it("a retry of the same account reuses the key, another opening balance gets a new key", async () => {
    const posts: { body: unknown; key: string | null }[] = [];
    const statuses = [503, 503, 201];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
        if (url === "/api/tipos-cuenta")
          return json(200, [
            { tipo_cuenta_id: 2, nombre: "Ahorros", costo_mantenimiento: "0.00", tasa_interes: "1.50" },
          ]);
        if (url === "/api/cuentas" && init?.method === "POST") {
          posts.push({ body: JSON.parse(String(init.body)), key: new Headers(init.headers).get("Idempotency-Key") });
          const status = statuses.shift() ?? 500;
          return status === 201
            ? json(201, { cuenta_id: 9, numero_cuenta: "1000000000009", saldo: "50.00", moneda: "PEN" })
            : json(status, { detail: "Servicio no disponible" });
        }
        return json(404, { detail: `unexpected ${url}` });
      }),
    );
    const onSaved = vi.fn();
    render(<AbrirCuentaForm cliente={cliente} onSaved={onSaved} onCancel={() => undefined} />);
    const user = userEvent.setup({ delay: null });
    await user.selectOptions(
      await screen.findByLabelText("Tipo de cuenta"),
      await screen.findByRole("option", { name: /Ahorros/ }),
    );
    await user.type(screen.getByLabelText("Saldo inicial"), "40");
    const submit = screen.getByRole("button", { name: "Abrir cuenta" });

    await user.click(submit);
    await screen.findByText("Servicio no disponible");
    await waitFor(() => expect(submit).toBeEnabled());
    await user.click(submit);
    await waitFor(() => expect(posts).toHaveLength(2));
    await waitFor(() => expect(submit).toBeEnabled());
    await user.clear(screen.getByLabelText("Saldo inicial"));
    await user.type(screen.getByLabelText("Saldo inicial"), "50");
    await user.click(submit);
    await waitFor(() => expect(onSaved).toHaveBeenCalled());

    const [first, retry, changed] = posts;
    expect(first!.body).toEqual({ cliente_id: 1, tipo_cuenta_id: 2, moneda: "PEN", saldo: "40.00" });
    expect(first!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(retry).toEqual(first);
    expect(changed!.body).toMatchObject({ saldo: "50.00" });
    expect(changed!.key).not.toBe(first!.key);
  });
});

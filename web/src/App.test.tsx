// @vitest-environment jsdom
// The shell with a session from the gateway: login screen, user and role, tabs per role, and expiry.
import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "./App";
import type { Cliente } from "./api/types";

const cliente: Cliente = {
  cliente_id: 7,
  nombre: "Ana",
  apellido: "Pérez",
  email: "ana@example.com",
  telefono: null,
  estado: "activo",
  fecha_registro: "2024-01-01T00:00:00Z",
  documentos: [],
};

type Userinfo = { status: number; body?: unknown };

/** The gateway as the browser sees it: /oauth2/userinfo answers `who()`, /api answers `api(url)`. */
function stubGateway(who: () => Userinfo, api: (url: string) => Response = () => Response.json([])) {
  const fn = vi.fn(async (url: string) => {
    if (url === "/oauth2/userinfo") {
      const { status, body } = who();
      return body === undefined ? new Response("Unauthorized", { status }) : Response.json(body, { status });
    }
    if (url.startsWith("/api/health/")) return Response.json({ status: "healthy" });
    if (url.startsWith("/api/")) return api(url);
    return new Response("not found", { status: 404 });
  });
  vi.stubGlobal("fetch", fn);
  return fn;
}

const staff =
  (username: string, ...roles: string[]) =>
  () => ({
    status: 200,
    body: {
      user: `id-${username}`,
      email: username,
      preferredUsername: username,
      groups: roles.map((r) => `role:${r}`),
    },
  });

const tabNames = () =>
  within(screen.getByRole("navigation", { name: "Secciones" }))
    .queryAllByRole("link")
    .map((a) => a.textContent);

beforeEach(() => {
  window.location.hash = "";
});
afterEach(() => vi.unstubAllGlobals());

describe("App session", () => {
  it("without a session: only the login button, to the gateway's login and back here", async () => {
    window.location.hash = "#/cuentas";
    stubGateway(() => ({ status: 401 }));
    render(<App />);
    const login = await screen.findByRole("link", { name: "Iniciar sesión" });
    expect(login).toHaveAttribute("href", "/oauth2/start?rd=%2F%23%2Fcuentas");
    expect(screen.queryByRole("navigation", { name: "Secciones" })).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull(); // a first visit is not an expiry
  });

  it("a cajero sees their name and role, the teller's tabs, no Analytics, and a logout link", async () => {
    stubGateway(staff("cajero", "cajero", "offline_access"));
    render(<App />);
    expect(await screen.findByTestId("user-name")).toHaveTextContent("cajero");
    expect(screen.getByTestId("user-role")).toHaveTextContent("Cajero");
    expect(tabNames()).toEqual(["Clientes", "Cuentas", "Transacciones", "Perfil 360°"]);
    expect(screen.getByRole("link", { name: "Cerrar sesión" })).toHaveAttribute("href", "/oauth2/sign_out?rd=%2F");
  });

  it("an analista sees only Analytics, even when the URL asks for another tab", async () => {
    window.location.hash = "#/clientes";
    stubGateway(staff("analista", "analista"));
    render(<App />);
    expect(await screen.findByTestId("user-role")).toHaveTextContent("Analista");
    expect(tabNames()).toEqual(["Analytics"]);
    expect(screen.queryByRole("heading", { name: "Clientes" })).toBeNull();
  });

  it("a customer's login gets no staff section", async () => {
    stubGateway(staff("cliente1", "cliente"));
    render(<App />);
    expect(await screen.findByText(/no tiene un rol de personal/)).toHaveAttribute("role", "status");
    expect(tabNames()).toEqual([]);
  });

  it("an API call answering 401 (the session expired) goes back to the login, saying why", async () => {
    let expired = false;
    stubGateway(staff("cajero", "cajero"), (url) =>
      expired && url.startsWith("/api/clientes")
        ? Response.json({ message: "Su sesión no es válida o ha expirado" }, { status: 401 })
        : Response.json([cliente], { headers: { "X-Total-Count": "1" } }),
    );
    render(<App />);
    expect(await screen.findByText("ana@example.com")).toBeInTheDocument();
    expired = true;
    const user = userEvent.setup({ delay: null });
    await user.type(screen.getByLabelText("Buscar"), "x"); // the next list call meets the expired session
    expect(await screen.findByRole("alert")).toHaveTextContent("Su sesión ha expirado");
    expect(screen.getByRole("link", { name: "Iniciar sesión" })).toBeInTheDocument();
    expect(screen.queryByText("ana@example.com")).toBeNull();
  });

  it("the periodic check notices a session ended elsewhere (logout in another tab)", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      let who: () => Userinfo = staff("auditor", "auditor");
      stubGateway(() => who());
      render(<App />);
      expect(await screen.findByTestId("user-role")).toHaveTextContent("Auditor");
      who = () => ({ status: 401 });
      await act(async () => {
        await vi.advanceTimersByTimeAsync(61_000);
      });
      await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent("Su sesión ha expirado"));
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("App role-dependent actions", () => {
  const listed = (url: string) =>
    url.startsWith("/api/clientes")
      ? Response.json([cliente], { headers: { "X-Total-Count": "1" } })
      : Response.json([], { headers: { "X-Total-Count": "0" } });

  it("cajero: registers and edits clientes, but deleting one is disabled with the role it needs", async () => {
    stubGateway(staff("cajero", "cajero"), listed);
    render(<App />);
    await screen.findByText("ana@example.com");
    expect(screen.getByRole("button", { name: "+ Registrar cliente" })).toBeEnabled();
    expect(screen.getByRole("button", { name: "Editar" })).toBeEnabled();
    const eliminar = screen.getByRole("button", { name: "Eliminar" });
    expect(eliminar).toBeDisabled();
    expect(eliminar).toHaveAttribute("title", "Requiere el rol Operaciones o Administrador");
  });

  it("operaciones: may delete a cliente", async () => {
    stubGateway(staff("operaciones", "operaciones"), listed);
    render(<App />);
    await screen.findByText("ana@example.com");
    expect(screen.getByRole("button", { name: "Eliminar" })).toBeEnabled();
  });

  it("auditor: reads clientes but cannot register, edit or block them", async () => {
    stubGateway(staff("auditor", "auditor"), listed);
    render(<App />);
    await screen.findByText("ana@example.com");
    expect(screen.queryByRole("button", { name: "+ Registrar cliente" })).toBeNull();
    for (const name of ["Editar", "Bloquear", "Eliminar"]) expect(screen.getByRole("button", { name })).toBeDisabled();
  });

  it("cajero in Transacciones: deposits, withdrawals and payments, but a transfer is disabled", async () => {
    window.location.hash = "#/transacciones";
    stubGateway(staff("cajero", "cajero"), listed);
    render(<App />);
    const tipos = await screen.findByRole("radiogroup", { name: "Tipo de operación" });
    const radios = within(tipos).getAllByRole("radio");
    const transferencia = radios.find((r) => /transferencia/i.test(r.textContent ?? ""));
    expect(transferencia).toBeDisabled();
    expect(transferencia).toHaveAttribute("title", "Requiere el rol Operaciones o Administrador");
    expect(radios.filter((r) => !(r as HTMLButtonElement).disabled)).toHaveLength(3);
  });

  it("auditor in Transacciones: the history only, no form to move money", async () => {
    window.location.hash = "#/transacciones";
    stubGateway(staff("auditor", "auditor"), listed);
    render(<App />);
    expect(await screen.findByText("Solo consulta")).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Nueva operación" })).toBeNull();
  });

  it("cajero in Cuentas: opens accounts, but blocking one is disabled", async () => {
    window.location.hash = "#/cuentas";
    const cuenta = {
      cuenta_id: 9,
      cliente_id: 7,
      tipo_cuenta_id: 1,
      numero_cuenta: "1000000000009",
      saldo: "0.00",
      moneda: "PEN",
      fecha_apertura: "2024-01-01T00:00:00Z",
      estado: "activa",
      tipo_cuenta_nombre: "Ahorros",
      tipo_cuenta_descripcion: null,
    };
    stubGateway(staff("cajero", "cajero"), (url) =>
      url.startsWith("/api/cuentas") ? Response.json([cuenta], { headers: { "X-Total-Count": "1" } }) : listed(url),
    );
    render(<App />);
    await screen.findByText("1000000000009");
    expect(screen.getByRole("button", { name: "+ Abrir cuenta" })).toBeEnabled();
    expect(screen.getByRole("button", { name: "Bloquear" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Cerrar" })).toBeDisabled();
    expect(screen.getByRole("link", { name: "Operar" })).toBeInTheDocument();
  });
});

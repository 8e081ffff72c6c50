// @vitest-environment jsdom
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ClienteForm } from "./ClienteForm";

afterEach(() => vi.unstubAllGlobals());

function stubFetch(status: number, body: unknown) {
  const fn = vi.fn(async (_url: string, _init?: RequestInit) => new Response(JSON.stringify(body), { status }));
  vi.stubGlobal("fetch", fn);
  return fn;
}

async function fillValid() {
  const user = userEvent.setup({ delay: null });
  await user.type(screen.getByLabelText("Nombre"), "Ana");
  await user.type(screen.getByLabelText("Apellido"), "Pérez");
  await user.type(screen.getByLabelText("Email"), "ana@example.com");
  await user.type(screen.getByLabelText("Número de documento"), "45678912");
  return user;
}

describe("ClienteForm", () => {
  it("shows each problem next to its field and sends nothing", async () => {
    const fetch = stubFetch(201, {});
    render(<ClienteForm onSaved={() => undefined} onCancel={() => undefined} />);
    const user = userEvent.setup({ delay: null });
    await user.selectOptions(screen.getByLabelText("Tipo de documento"), "RUC");
    await user.type(screen.getByLabelText("Número de documento"), "123");
    await user.type(screen.getByLabelText("Fecha de emisión"), "2024-05-01");
    await user.type(screen.getByLabelText("Fecha de vencimiento"), "2020-01-01");
    await user.click(screen.getByRole("button", { name: "Registrar cliente" }));

    expect(screen.getByLabelText("Nombre")).toHaveAccessibleDescription("Nombre es obligatorio.");
    expect(screen.getByLabelText("Email")).toHaveAccessibleDescription("Email es obligatorio.");
    expect(screen.getByLabelText("Número de documento")).toHaveAccessibleDescription("El RUC tiene 11 dígitos.");
    expect(screen.getByLabelText("Fecha de vencimiento")).toHaveAccessibleDescription(
      "El vencimiento debe ser posterior a la emisión.",
    );
    expect(fetch).not.toHaveBeenCalled();
  });

  it("posts the cliente with its document and hands back the created one", async () => {
    const created = {
      cliente_id: 7,
      nombre: "Ana",
      apellido: "Pérez",
      email: "ana@example.com",
      estado: "activo",
      documentos: [],
    };
    const fetch = stubFetch(201, created);
    const onSaved = vi.fn();
    render(<ClienteForm onSaved={onSaved} onCancel={() => undefined} />);
    const user = await fillValid();
    await user.type(screen.getByLabelText("Fecha de emisión"), "2020-01-15");
    await user.click(screen.getByRole("button", { name: "Registrar cliente" }));

    await waitFor(() => expect(onSaved).toHaveBeenCalledWith(created));
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe("/api/clientes");
    expect(init?.method).toBe("POST");
    expect(JSON.parse(String(init?.body))).toEqual({
      nombre: "Ana",
      apellido: "Pérez",
      email: "ana@example.com",
      estado: "activo",
      documento: { tipo_documento: "DNI", numero_documento: "45678912", fecha_emision: "2020-01-15" },
    });
  });

  it("puts the API's 422 message under the field its loc names", async () => {
    stubFetch(422, {
      detail: [{ loc: ["body", "documento", "numero_documento"], msg: "Value error, DNI must be exactly 8 digits" }],
    });
    render(<ClienteForm onSaved={() => undefined} onCancel={() => undefined} />);
    const user = await fillValid();
    await user.click(screen.getByRole("button", { name: "Registrar cliente" }));

    await waitFor(() =>
      expect(screen.getByLabelText("Número de documento")).toHaveAccessibleDescription("DNI must be exactly 8 digits"),
    );
    expect(screen.getByLabelText("Número de documento")).toHaveAttribute("aria-invalid", "true");
  });

  it("shows a duplicate email (409) under Email", async () => {
    stubFetch(409, { detail: "Ya existe un cliente con el email ana@example.com" });
    render(<ClienteForm onSaved={() => undefined} onCancel={() => undefined} />);
    const user = await fillValid();
    await user.click(screen.getByRole("button", { name: "Registrar cliente" }));

    await waitFor(() =>
      expect(screen.getByLabelText("Email")).toHaveAccessibleDescription(
        "Ya existe un cliente con el email ana@example.com",
      ),
    );
  });

  it("edits without the document section and never resets the state by omission", async () => {
    const cliente = {
      cliente_id: 3,
      nombre: "Luis",
      apellido: "Soto",
      email: "luis@example.com",
      telefono: "999888777",
      estado: "bloqueado" as const,
      fecha_registro: "2024-01-01T00:00:00Z",
      documentos: [],
    };
    const fetch = stubFetch(200, cliente);
    render(<ClienteForm cliente={cliente} onSaved={() => undefined} onCancel={() => undefined} />);
    expect(screen.queryByLabelText("Número de documento")).toBeNull();
    const user = userEvent.setup({ delay: null });
    await user.clear(screen.getByLabelText("Teléfono"));
    await user.click(screen.getByRole("button", { name: "Guardar cambios" }));

    await waitFor(() => expect(fetch).toHaveBeenCalled());
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe("/api/clientes/3");
    expect(init?.method).toBe("PUT");
    expect(JSON.parse(String(init?.body))).toEqual({
      nombre: "Luis",
      apellido: "Soto",
      email: "luis@example.com",
      telefono: null,
      estado: "bloqueado",
    });
  });
});

describe("ClienteForm Idempotency-Key", () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  /** Answers the given statuses in turn and records each write's body and key. */
  function stubWrites(statuses: number[], answer: unknown) {
    const writes: { url: string; method?: string; body: unknown; key: string | null }[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        writes.push({
          url,
          method: init?.method,
          body: JSON.parse(String(init?.body)),
          key: new Headers(init?.headers).get("Idempotency-Key"),
        });
        const status = statuses.shift() ?? 500;
        return new Response(JSON.stringify(status < 300 ? answer : { detail: "Servicio no disponible" }), { status });
      }),
    );
    return writes;
  }

  it("create: a retry of the same cliente reuses the key, a corrected one gets a new key", async () => {
    const created = { cliente_id: 7, nombre: "Ana", apellido: "Pérez", email: "ana2@example.com", estado: "activo" };
    const writes = stubWrites([503, 503, 201], created);
    const onSaved = vi.fn();
    render(<ClienteForm onSaved={onSaved} onCancel={() => undefined} />);
    const user = await fillValid();
    const submit = screen.getByRole("button", { name: "Registrar cliente" });

    await user.click(submit);
    await screen.findByText("Servicio no disponible");
    await waitFor(() => expect(submit).toBeEnabled());
    await user.click(submit); // the same cliente again (the first answer may have been lost)
    await waitFor(() => expect(writes).toHaveLength(2));
    await waitFor(() => expect(submit).toBeEnabled());
    await user.clear(screen.getByLabelText("Email"));
    await user.type(screen.getByLabelText("Email"), "ana2@example.com");
    await user.click(submit);
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith(created));

    const [first, retry, changed] = writes;
    expect([first!.url, first!.method]).toEqual(["/api/clientes", "POST"]);
    expect(first!.key).toMatch(UUID);
    expect(retry).toEqual(first);
    expect(changed!.body).toMatchObject({ email: "ana2@example.com" });
    expect(changed!.key).toMatch(UUID);
    expect(changed!.key).not.toBe(first!.key);
  });

  it("edit: the PUT carries a key, kept on a retry and renewed when the data change", async () => {
    const cliente = {
      cliente_id: 3,
      nombre: "Luis",
      apellido: "Soto",
      email: "luis@example.com",
      telefono: "999888777",
      estado: "activo" as const,
      fecha_registro: "2024-01-01T00:00:00Z",
      documentos: [],
    };
    const writes = stubWrites([503, 503, 200], cliente);
    render(<ClienteForm cliente={cliente} onSaved={() => undefined} onCancel={() => undefined} />);
    const user = userEvent.setup({ delay: null });
    const submit = screen.getByRole("button", { name: "Guardar cambios" });

    await user.click(submit);
    await screen.findByText("Servicio no disponible");
    await waitFor(() => expect(submit).toBeEnabled());
    await user.click(submit);
    await waitFor(() => expect(writes).toHaveLength(2));
    await waitFor(() => expect(submit).toBeEnabled());
    await user.type(screen.getByLabelText("Apellido"), " Ruiz");
    await user.click(submit);
    await waitFor(() => expect(writes).toHaveLength(3));

    const [first, retry, changed] = writes;
    expect([first!.url, first!.method]).toEqual(["/api/clientes/3", "PUT"]);
    expect(first!.key).toMatch(UUID);
    expect(retry!.key).toBe(first!.key);
    expect(changed!.body).toMatchObject({ apellido: "Soto Ruiz" });
    expect(changed!.key).not.toBe(first!.key);
  });
});

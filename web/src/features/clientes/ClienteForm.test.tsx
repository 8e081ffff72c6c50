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

// clientes (MS1) through the gateway: /api/clientes → :8001/clientes.
import { request, totalCount, type Query } from "./http";
import type { Cliente, ClienteCreate, ClienteUpdate, EstadoCliente, Page } from "./types";

const S = "clientes";

export interface ClientesQuery extends Query {
  skip?: number;
  limit?: number;
  q?: string;
  estado?: EstadoCliente | "";
}

export async function listClientes(query: ClientesQuery, signal?: AbortSignal): Promise<Page<Cliente>> {
  const res = await request<Cliente[]>(S, "/clientes", { query, signal });
  return { items: res.data, total: totalCount(res.headers) };
}

export async function getCliente(id: number, signal?: AbortSignal): Promise<Cliente> {
  return (await request<Cliente>(S, `/clientes/${id}`, { signal })).data;
}

// POST and PUT carry an Idempotency-Key: the same key and body answer the original result (a retry after a
// lost answer registers no second cliente), the key with another body is a 409.

export async function createCliente(body: ClienteCreate, idempotencyKey: string): Promise<Cliente> {
  return (
    await request<Cliente>(S, "/clientes", { method: "POST", body, headers: { "Idempotency-Key": idempotencyKey } })
  ).data;
}

export async function updateCliente(id: number, body: ClienteUpdate, idempotencyKey: string): Promise<Cliente> {
  return (
    await request<Cliente>(S, `/clientes/${id}`, {
      method: "PUT",
      body,
      headers: { "Idempotency-Key": idempotencyKey },
    })
  ).data;
}

/** The PUT body that blocks/unblocks: the current data, so nothing else changes. */
export function estadoClienteBody(cliente: Cliente, estado: EstadoCliente): ClienteUpdate {
  const { nombre, apellido, email, telefono } = cliente;
  return { nombre, apellido, email, telefono, estado };
}

/** Block/unblock: a PUT that carries the current data so nothing else changes. */
export async function setEstadoCliente(
  cliente: Cliente,
  estado: EstadoCliente,
  idempotencyKey: string,
): Promise<Cliente> {
  return updateCliente(cliente.cliente_id, estadoClienteBody(cliente, estado), idempotencyKey);
}

export async function deleteCliente(id: number): Promise<string> {
  const res = await request<{ mensaje?: string }>(S, `/clientes/${id}`, { method: "DELETE" });
  return res.data?.mensaje ?? "Cliente eliminado.";
}

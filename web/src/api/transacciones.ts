// transacciones (MS4) through the gateway: /api/transacciones → :8004/transacciones.
import { request, totalCount, type Query } from "./http";
import type { EstadoTransaccion, Page, TipoTransaccion, Transaccion, TransaccionCreate } from "./types";

const S = "transacciones";

export interface TransaccionesQuery extends Query {
  skip?: number;
  limit?: number;
  tipo?: TipoTransaccion | "";
  estado?: EstadoTransaccion | "";
  cuenta_id?: number;
  desde?: string;
  hasta?: string;
}

export async function listTransacciones(query: TransaccionesQuery, signal?: AbortSignal): Promise<Page<Transaccion>> {
  const res = await request<Transaccion[]>(S, "/transacciones", { query, signal });
  return { items: res.data, total: totalCount(res.headers) };
}

export async function getTransaccion(id: string, signal?: AbortSignal): Promise<Transaccion> {
  return (await request<Transaccion>(S, `/transacciones/${encodeURIComponent(id)}`, { signal })).data;
}

export interface Submitted {
  transaccion: Transaccion;
  /** true when the saga had already finished (201); false for 202 + Location. */
  final: boolean;
  /** The id to poll: from the body, else the last segment of Location. */
  pollId: string;
}

export async function createTransaccion(body: TransaccionCreate, idempotencyKey: string): Promise<Submitted> {
  const res = await request<Transaccion>(S, "/transacciones", {
    method: "POST",
    body,
    headers: { "Idempotency-Key": idempotencyKey },
  });
  const location = res.headers.get("Location") ?? "";
  const pollId = res.data?.id ?? location.split("/").filter(Boolean).pop() ?? "";
  const final = res.status === 201 && isFinal(res.data?.estado);
  return { transaccion: res.data, final, pollId };
}

export function isFinal(estado: EstadoTransaccion | undefined): boolean {
  return estado === "COMPLETADA" || estado === "FALLIDA" || estado === "CANCELADA";
}

/**
 * Poll until the saga reaches a final state or `deadlineMs` passes; returns the last state seen.
 * Backs off from 250 ms to 2 s so a slow saga does not hammer the service.
 */
export async function waitForFinal(
  id: string,
  { deadlineMs = 30_000, signal }: { deadlineMs?: number; signal?: AbortSignal } = {},
): Promise<Transaccion> {
  const end = Date.now() + deadlineMs;
  let delay = 250;
  let last = await getTransaccion(id, signal);
  while (!isFinal(last.estado) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 2000);
    last = await getTransaccion(id, signal);
  }
  return last;
}

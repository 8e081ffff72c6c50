// transacciones (MS4) through the gateway: /api/transacciones → :8004/transacciones.
import { ApiError, request, totalCount, type Query } from "./http";
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
  /** true when the saga had already finished (201, or 409 when it refused); false for 202 + Location. */
  final: boolean;
  /** The id to poll: from the body, else the last segment of Location. */
  pollId: string;
}

/** A 409 whose body is the transaction the saga refused (FALLIDA with its motivo), not another conflict. */
export function refusedTransaccion(err: unknown): Transaccion | undefined {
  if (!(err instanceof ApiError) || err.status !== 409) return undefined;
  const t = err.payload as Partial<Transaccion> | undefined;
  return t && typeof t === "object" && t.estado === "FALLIDA" && typeof t.id === "string"
    ? (t as Transaccion)
    : undefined;
}

/**
 * POST the operation. A refusal (409 + the FALLIDA transaction) is a final answer, returned like a 201 for
 * the caller to show as refused; any other error (422, an Idempotency-Key conflict, …) is thrown.
 */
export async function createTransaccion(body: TransaccionCreate, idempotencyKey: string): Promise<Submitted> {
  let res;
  try {
    res = await request<Transaccion>(S, "/transacciones", {
      method: "POST",
      body,
      headers: { "Idempotency-Key": idempotencyKey },
    });
  } catch (err) {
    const refused = refusedTransaccion(err);
    if (refused) return { transaccion: refused, final: true, pollId: refused.id };
    throw err;
  }
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

/**
 * Give a COMPLETADA transaction's money back (operaciones, admin): the mirror transaction through the saga.
 * A refusal (409 + the FALLIDA reversal) is a final answer like createTransaccion's; other errors are thrown.
 */
export async function revertirTransaccion(id: string, idempotencyKey: string): Promise<Submitted> {
  let res;
  try {
    res = await request<Transaccion>(S, `/transacciones/${encodeURIComponent(id)}/reversion`, {
      method: "POST",
      headers: { "Idempotency-Key": idempotencyKey },
    });
  } catch (err) {
    const refused = refusedTransaccion(err);
    if (refused) return { transaccion: refused, final: true, pollId: refused.id };
    throw err;
  }
  const location = res.headers.get("Location") ?? "";
  const pollId = res.data?.id ?? location.split("/").filter(Boolean).pop() ?? "";
  return { transaccion: res.data, final: res.status === 201 && isFinal(res.data?.estado), pollId };
}

/** May this transaction be reverted? COMPLETADA, not itself a reversal, not reverted yet. */
export function esReversible(t: Transaccion): boolean {
  return t.estado === "COMPLETADA" && !t.reversionDe && !t.revertidaPor;
}

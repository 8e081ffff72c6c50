// cuentas (MS2) through the gateway: /api/cuentas and /api/tipos-cuenta → the balancer on :8002.
import { request, totalCount, type Query } from "./http";
import type {
  Cuenta,
  CuentaCreate,
  EstadoCuenta,
  Moneda,
  Movimiento,
  Page,
  Retencion,
  RetencionCreate,
  TipoCuenta,
} from "./types";

const S = "cuentas";

export interface CuentasQuery extends Query {
  skip?: number;
  limit?: number;
  cliente_id?: number;
  estado?: EstadoCuenta | "";
  moneda?: Moneda | "";
}

export async function listCuentas(query: CuentasQuery, signal?: AbortSignal): Promise<Page<Cuenta>> {
  const res = await request<Cuenta[]>(S, "/cuentas", { query, signal });
  return { items: res.data, total: totalCount(res.headers) };
}

export async function getCuenta(id: number, signal?: AbortSignal): Promise<Cuenta> {
  return (await request<Cuenta>(S, `/cuentas/${id}`, { signal })).data;
}

export async function getCuentaPorNumero(numero: string, signal?: AbortSignal): Promise<Cuenta> {
  return (await request<Cuenta>(S, `/cuentas/numero/${encodeURIComponent(numero)}`, { signal })).data;
}

export async function cuentasDeCliente(clienteId: number, signal?: AbortSignal): Promise<Cuenta[]> {
  return (await request<Cuenta[]>(S, `/cuentas/cliente/${clienteId}`, { signal })).data;
}

export async function listTiposCuenta(signal?: AbortSignal): Promise<TipoCuenta[]> {
  return (await request<TipoCuenta[]>(S, "/tipos-cuenta", { signal })).data;
}

// Every write carries an Idempotency-Key: the same key and body answer the original result (a retry after a
// lost answer opens no second account), the key with another body is a 409.

export async function openCuenta(body: CuentaCreate, idempotencyKey: string): Promise<Cuenta> {
  return (
    await request<Cuenta>(S, "/cuentas", { method: "POST", body, headers: { "Idempotency-Key": idempotencyKey } })
  ).data;
}

export async function setEstadoCuenta(id: number, estado: EstadoCuenta, idempotencyKey: string): Promise<Cuenta> {
  return (
    await request<Cuenta>(S, `/cuentas/${id}/estado`, {
      method: "PATCH",
      body: { estado },
      headers: { "Idempotency-Key": idempotencyKey },
    })
  ).data;
}

export interface MovimientosQuery extends Query {
  skip?: number;
  limit?: number;
  desde?: string;
  hasta?: string;
}

export async function listMovimientos(
  id: number,
  query: MovimientosQuery,
  signal?: AbortSignal,
): Promise<Page<Movimiento>> {
  const res = await request<Movimiento[] | { movimientos: Movimiento[] }>(S, `/cuentas/${id}/movimientos`, {
    query,
    signal,
  });
  // Accept a bare list (the contract's list style) or an envelope with the rows in `movimientos`.
  const items = Array.isArray(res.data) ? res.data : (res.data?.movimientos ?? []);
  return { items, total: totalCount(res.headers) };
}

// Holds (retenciones): listed per account; create, capture (all or part) and void carry an Idempotency-Key.

export async function listRetenciones(id: number, signal?: AbortSignal): Promise<Retencion[]> {
  const res = await request<Retencion[] | { retenciones: Retencion[] }>(S, `/cuentas/${id}/retenciones`, {
    query: { limit: 500 },
    signal,
  });
  return Array.isArray(res.data) ? res.data : (res.data?.retenciones ?? []);
}

export async function createRetencion(id: number, body: RetencionCreate, idempotencyKey: string): Promise<Retencion> {
  return (
    await request<Retencion>(S, `/cuentas/${id}/retenciones`, {
      method: "POST",
      body,
      headers: { "Idempotency-Key": idempotencyKey },
    })
  ).data;
}

/** Capture a hold: `monto` omitted takes all of it; a smaller one takes that and releases the rest. */
export async function capturarRetencion(
  id: number,
  retencionId: number,
  monto: string | undefined,
  idempotencyKey: string,
): Promise<Retencion> {
  return (
    await request<Retencion>(S, `/cuentas/${id}/retenciones/${retencionId}/captura`, {
      method: "POST",
      body: monto ? { monto } : {},
      headers: { "Idempotency-Key": idempotencyKey },
    })
  ).data;
}

export async function liberarRetencion(id: number, retencionId: number, idempotencyKey: string): Promise<Retencion> {
  return (
    await request<Retencion>(S, `/cuentas/${id}/retenciones/${retencionId}/liberacion`, {
      method: "POST",
      headers: { "Idempotency-Key": idempotencyKey },
    })
  ).data;
}

// FX (served by transacciones through the gateway): the rate table and quotes for transfers between currencies.
import { ApiError, request } from "./http";
import type { Cotizacion, TipoCambio } from "./types";

const S = "transacciones";

/**
 * The rate table, or null when this deployment has no FX (the route answers 404): the console then hides every
 * FX control instead of failing.
 */
export async function getTiposCambio(signal?: AbortSignal): Promise<TipoCambio[] | null> {
  try {
    return (await request<TipoCambio[]>(S, "/tipos-cambio", { signal })).data;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
    throw err;
  }
}

export async function createCotizacion(
  body: { cuentaOrigenId: number; cuentaDestinoId: number; monto: string },
  signal?: AbortSignal,
): Promise<Cotizacion> {
  return (await request<Cotizacion>(S, "/cotizaciones", { method: "POST", body, signal })).data;
}

/** Whole seconds left until `vence` (0 once it has passed). */
export function segundosRestantes(vence: string, now: number = Date.now()): number {
  const left = Math.ceil((new Date(vence).getTime() - now) / 1000);
  return Number.isFinite(left) && left > 0 ? left : 0;
}

// perfil (MS3) through the gateway: /api/perfil/* → :6000/* (prefix stripped).
import { request } from "./http";
import type { BusquedaClientes, PerfilCompleto } from "./types";

const S = "perfil";

export async function buscarClientes(
  q: string,
  { skip = 0, limit = 20 }: { skip?: number; limit?: number } = {},
  signal?: AbortSignal,
): Promise<BusquedaClientes> {
  return (await request<BusquedaClientes>(S, "/perfil/api/clientes/buscar", { query: { q, skip, limit }, signal }))
    .data;
}

/** How fresh the view is, as perfil reports it (X-View-Lag header), for display. */
export interface Freshness {
  lag: string | null;
}

export async function perfilCompleto(
  clienteId: number,
  signal?: AbortSignal,
): Promise<{ perfil: PerfilCompleto; freshness: Freshness }> {
  const res = await request<PerfilCompleto>(S, `/perfil/api/clientes/${clienteId}/perfil-completo`, { signal });
  return { perfil: res.data, freshness: { lag: res.headers.get("X-View-Lag") } };
}

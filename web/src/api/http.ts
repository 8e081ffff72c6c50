// One fetch wrapper for every service behind the gateway: JSON in/out, X-Total-Count, and errors
// turned into an ApiError that knows which form field each 422 entry concerns. A 401 (the gateway found no valid
// session) also tells the app shell, which shows the login instead of a broken screen.
import { notifyUnauthorized } from "../auth/session";

/** Where the gateway (or the Vite dev proxy) exposes the services; one origin, so no CORS. */
export const API_BASE: string = (import.meta.env.VITE_API_BASE as string | undefined) ?? "/api";

export interface ValidationItem {
  loc?: (string | number)[];
  msg?: string;
  type?: string;
}

/** An answer the UI can show: `message` for a banner, `fieldErrors` next to inputs. */
export class ApiError extends Error {
  readonly status: number;
  readonly fieldErrors: Record<string, string>;
  readonly service: string;
  /** The parsed error body, for answers that carry a resource (a refused transaction's 409). */
  readonly payload: unknown;

  constructor(
    message: string,
    status: number,
    service: string,
    fieldErrors: Record<string, string> = {},
    payload?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.service = service;
    this.fieldErrors = fieldErrors;
    this.payload = payload;
  }
}

/**
 * `["body", "documento", "numero_documento"]` → `"documento.numero_documento"`.
 * The first element says where the value came from (body/query/path), not which field it is.
 */
export function locToField(loc: readonly (string | number)[] | undefined): string {
  if (!loc || loc.length === 0) return "";
  const parts = [...loc];
  if (typeof parts[0] === "string" && ["body", "query", "path", "header"].includes(parts[0])) parts.shift();
  return parts.filter((p) => typeof p === "string").join(".");
}

/** FastAPI's 422 `detail[]` → `{field: message}` (first message per field wins). */
export function fieldErrorsFrom(detail: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(detail)) return out;
  for (const item of detail as ValidationItem[]) {
    const field = locToField(item?.loc) || "_";
    if (!(field in out)) out[field] = cleanMessage(item?.msg ?? "Valor inválido");
  }
  return out;
}

/** problem+json `errors[]` (`{field, message}`, Spanish) → `{field: message}`; undefined when there are none. */
export function problemFieldErrors(errors: unknown): Record<string, string> | undefined {
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const item of errors as { field?: unknown; message?: unknown }[]) {
    if (typeof item?.message !== "string") continue;
    // `clientes[1].email` → `clientes.email`, as locToField names a field.
    const field = typeof item.field === "string" && item.field ? item.field.replace(/\[\d+\]/g, "") : "_";
    if (!(field in out)) out[field] = item.message;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Pydantic prefixes custom errors with "Value error, "; staff need only the reason. */
function cleanMessage(msg: string): string {
  return msg.replace(/^Value error,\s*/i, "");
}

function detailMessage(detail: unknown): string | undefined {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    const parts = (detail as ValidationItem[]).map((d) => {
      const f = locToField(d?.loc);
      return f ? `${f}: ${cleanMessage(d?.msg ?? "")}` : cleanMessage(d?.msg ?? "");
    });
    return parts.join("; ");
  }
  return undefined;
}

/**
 * The one place an error answer becomes text: every service answers problem+json with `message` (one Spanish
 * sentence naming the field), `error` (a short phrase) and `detail` (a string, or FastAPI's list for a 422).
 * Older or foreign answers (a proxy's HTML page) fall back to a sentence about the status.
 */
export function errorMessage(payload: unknown, status: number, service: string): string {
  const body = payload && typeof payload === "object" ? (payload as Record<string, unknown>) : {};
  const text = (v: unknown) => (typeof v === "string" && v.trim() ? v : undefined);
  return text(body.message) ?? text(body.error) ?? text(detailMessage(body.detail)) ?? statusMessage(status, service);
}

function statusMessage(status: number, service: string): string {
  if (status === 401) return "Su sesión ha expirado; inicie sesión de nuevo.";
  if (status === 403) return "Su rol no permite esta operación.";
  if (status === 502 || status === 503 || status === 504)
    return `El servicio ${service} no está disponible en este momento (HTTP ${status}).`;
  if (status === 404) return "No encontrado.";
  if (status === 409) return "La operación entra en conflicto con el estado actual.";
  if (status >= 500) return `Error interno del servicio ${service} (HTTP ${status}).`;
  return `Solicitud rechazada (HTTP ${status}).`;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

/** Calls `${API_BASE}${path}`; `service` names the backend in error messages. */
export async function request<T>(service: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(withQuery(`${API_BASE}${path}`, opts.query), {
      method: opts.method ?? "GET",
      headers,
      body,
      signal: opts.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(`No se pudo conectar con el servicio ${service}. Revise su conexión.`, 0, service);
  }
  const text = await res.text();
  let payload: unknown = undefined;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = text;
    }
  }
  if (res.status === 401) notifyUnauthorized();
  if (!res.ok) {
    const body = payload && typeof payload === "object" ? (payload as { detail?: unknown; errors?: unknown }) : {};
    const fields = res.status === 422 ? (problemFieldErrors(body.errors) ?? fieldErrorsFrom(body.detail)) : {};
    throw new ApiError(errorMessage(payload, res.status, service), res.status, service, fields, payload);
  }
  return { data: payload as T, status: res.status, headers: res.headers };
}

/** X-Total-Count as a number, or undefined when the service did not send it. */
export function totalCount(headers: Headers): number | undefined {
  const raw = headers.get("X-Total-Count");
  if (raw === null) return undefined;
  const n = Number.parseInt(raw, 10);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * A 409 says "email ya registrado" as a plain string; put it next to the field it names so staff
 * see it where they will correct it. `fields` maps a field key to words that identify it.
 */
export function conflictField(message: string, fields: Record<string, string[]>): string | undefined {
  const lower = message.toLowerCase();
  for (const [field, words] of Object.entries(fields)) {
    if (words.some((w) => lower.includes(w))) return field;
  }
  return undefined;
}

/** Errors of one form: field messages from a 422 (or a recognised 409) plus a banner for the rest. */
export function formErrorsFrom(
  err: unknown,
  conflictWords: Record<string, string[]> = {},
): { fields: Record<string, string>; banner?: string } {
  if (!(err instanceof ApiError)) return { fields: {}, banner: err instanceof Error ? err.message : String(err) };
  if (err.status === 422 && Object.keys(err.fieldErrors).length > 0) {
    const { _: general, ...fields } = err.fieldErrors;
    return { fields, banner: general ?? "Revise los campos marcados." };
  }
  // A conflict or a missing referenced record ("Cliente 5 no encontrado") belongs to the field that named it.
  if (err.status === 409 || err.status === 404) {
    const field = conflictField(err.message, conflictWords);
    if (field) return { fields: { [field]: err.message } };
  }
  return { fields: {}, banner: err.message };
}

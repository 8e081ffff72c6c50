// The staff session lives in the gateway (oauth2-proxy's HttpOnly cookie): this module only asks who is logged in
// (/oauth2/userinfo), builds the login/logout links, and tells the app when an API call answered 401.
import { type Role, rolesFromGroups } from "./roles";

export interface Session {
  username: string;
  email?: string;
  roles: Role[];
}

export const USERINFO_URL = "/oauth2/userinfo";
/** Signs out of the gateway (and, server-side, of Keycloak), then back to the console's login screen. */
export const LOGOUT_URL = "/oauth2/sign_out?rd=%2F";

/** The gateway's login: Keycloak's page, then back to `returnTo` (a path on this origin). */
export function loginUrl(returnTo: string = currentPath()): string {
  // A path on this origin only: not "//host" nor "/\\host", which browsers read as another site.
  const local = /^\/(?![/\\])/.test(returnTo) ? returnTo : "/";
  return `/oauth2/start?rd=${encodeURIComponent(local)}`;
}

function currentPath(): string {
  if (typeof window === "undefined") return "/";
  const { pathname, search, hash } = window.location;
  return `${pathname}${search}${hash}`;
}

/** oauth2-proxy's userinfo body → Session (`preferredUsername` when the realm sends it, else `user`). */
export function sessionFrom(body: unknown): Session {
  const b = body && typeof body === "object" ? (body as Record<string, unknown>) : {};
  const text = (v: unknown) => (typeof v === "string" && v.trim() ? v : undefined);
  return {
    username: text(b.preferredUsername) ?? text(b.user) ?? text(b.email) ?? "usuario",
    email: text(b.email),
    roles: rolesFromGroups(b.groups),
  };
}

export class SessionCheckError extends Error {}

/** The logged-in user, or null without a (valid) session. Also refreshes the session cookie when it is due. */
export async function fetchSession(signal?: AbortSignal): Promise<Session | null> {
  let res: Response;
  try {
    res = await fetch(USERINFO_URL, { headers: { Accept: "application/json" }, credentials: "same-origin", signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new SessionCheckError("No se pudo contactar con el gateway para comprobar la sesión.");
  }
  if (res.status === 401 || res.status === 403) return null;
  if (!res.ok) throw new SessionCheckError(`El gateway no pudo comprobar la sesión (HTTP ${res.status}).`);
  return sessionFrom(await res.json());
}

const unauthorizedListeners = new Set<() => void>();

/** Subscribes to "an API call answered 401" (an expired or revoked session); returns the unsubscribe. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function notifyUnauthorized(): void {
  unauthorizedListeners.forEach((l) => l());
}

// What each Keycloak realm role may do in the console: the role table of the API (README "Roles"), so the UI
// hides or disables what the services would refuse anyway. The services stay the authority (403 if they differ).

export const ROLES = ["cajero", "operaciones", "analista", "auditor", "admin", "cliente"] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABEL: Record<Role, string> = {
  cajero: "Cajero",
  operaciones: "Operaciones",
  analista: "Analista",
  auditor: "Auditor",
  admin: "Administrador",
  cliente: "Cliente",
};

const READERS: readonly Role[] = ["cajero", "operaciones", "auditor", "admin"];
const TELLERS: readonly Role[] = ["cajero", "operaciones", "admin"];
const OPERATIONS: readonly Role[] = ["operaciones", "admin"];

/** Every operation the console offers, with the staff roles allowed to do it. */
export const PERMISSIONS = {
  "clientes.leer": READERS,
  "clientes.escribir": TELLERS, // register, edit, block/unblock (PUT)
  "clientes.eliminar": OPERATIONS,
  "cuentas.leer": READERS,
  "cuentas.abrir": TELLERS,
  "cuentas.estado": OPERATIONS, // block, unblock, close
  "cuentas.retener": TELLERS, // holds: create, capture, void
  "transacciones.leer": READERS,
  "transacciones.operar": TELLERS, // DEPOSITO, RETIRO, PAGO_SERVICIO
  "transacciones.transferir": OPERATIONS,
  "transacciones.revertir": OPERATIONS, // POST /transacciones/{id}/reversion
  "perfil.leer": READERS,
  analytics: ["analista", "auditor", "admin"],
  operaciones: OPERATIONS, // the operator view: lag, backlog, DLQ, sagas (GET /api/operaciones of analytics)
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof PERMISSIONS;

export function can(roles: readonly Role[], action: Action): boolean {
  const allowed: readonly Role[] = PERMISSIONS[action];
  return roles.some((r) => allowed.includes(r));
}

/** "Requiere el rol Operaciones o Administrador": the reason shown on a disabled control. */
export function requiredRoles(action: Action): string {
  const names = PERMISSIONS[action].map((r) => ROLE_LABEL[r]);
  const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} o ${names[names.length - 1]}` : names[0];
  return `Requiere el rol ${list}`;
}

/**
 * oauth2-proxy's keycloak-oidc provider reads the access token's `realm_access.roles` and reports each as a
 * group `role:<name>` (client roles as `role:<client>:<name>`); only our realm roles count here.
 */
export function rolesFromGroups(groups: unknown): Role[] {
  if (!Array.isArray(groups)) return [];
  const found = new Set<Role>();
  for (const g of groups) {
    if (typeof g !== "string" || !g.startsWith("role:")) continue;
    const name = g.slice("role:".length);
    if ((ROLES as readonly string[]).includes(name)) found.add(name as Role);
  }
  return ROLES.filter((r) => found.has(r));
}

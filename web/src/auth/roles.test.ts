import { describe, expect, it } from "vitest";
import { type Action, PERMISSIONS, type Role, can, requiredRoles, rolesFromGroups } from "./roles";

// The API's role table, written out once more by hand: a change to PERMISSIONS must be deliberate.
const TABLE: Record<Role, Action[]> = {
  cajero: [
    "clientes.leer",
    "clientes.escribir",
    "cuentas.leer",
    "cuentas.abrir",
    "cuentas.retener",
    "transacciones.leer",
    "transacciones.operar",
    "perfil.leer",
  ],
  operaciones: [
    "clientes.leer",
    "clientes.escribir",
    "clientes.eliminar",
    "cuentas.leer",
    "cuentas.abrir",
    "cuentas.estado",
    "cuentas.retener",
    "transacciones.leer",
    "transacciones.operar",
    "transacciones.transferir",
    "transacciones.revertir",
    "perfil.leer",
    "operaciones",
  ],
  analista: ["analytics"],
  auditor: ["clientes.leer", "cuentas.leer", "transacciones.leer", "perfil.leer", "analytics"],
  admin: Object.keys(PERMISSIONS) as Action[],
  cliente: [],
};

describe("can", () => {
  for (const [role, allowed] of Object.entries(TABLE) as [Role, Action[]][]) {
    it(`${role}: exactly the operations of the role table`, () => {
      const granted = (Object.keys(PERMISSIONS) as Action[]).filter((a) => can([role], a));
      expect(granted.sort()).toEqual([...allowed].sort());
    });
  }

  it("several roles add up; no role allows nothing", () => {
    expect(can(["cajero", "analista"], "analytics")).toBe(true);
    expect(can(["cajero", "analista"], "transacciones.operar")).toBe(true);
    expect(can([], "clientes.leer")).toBe(false);
  });
});

describe("rolesFromGroups", () => {
  it("keeps the realm roles oauth2-proxy reports as role:<name>, in a fixed order", () => {
    const groups = ["role:offline_access", "role:auditor", "role:default-roles-cloudbank", "role:cajero", "/staff"];
    expect(rolesFromGroups(groups)).toEqual(["cajero", "auditor"]);
  });

  it("ignores client roles, look-alikes and anything that is not a list of strings", () => {
    expect(rolesFromGroups(["role:account:admin", "admin", "role:Admin", 7])).toEqual([]);
    expect(rolesFromGroups(undefined)).toEqual([]);
    expect(rolesFromGroups("role:admin")).toEqual([]);
  });
});

describe("requiredRoles", () => {
  it("names the roles in Spanish, as the reason of a disabled control", () => {
    expect(requiredRoles("transacciones.transferir")).toBe("Requiere el rol Operaciones o Administrador");
    expect(requiredRoles("analytics")).toBe("Requiere el rol Analista, Auditor o Administrador");
  });
});

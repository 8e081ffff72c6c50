// Form rules checked in the browser before a request: the same limits the services enforce
// (shared/API.md), so staff see the problem next to the field at once. The services stay the authority.
import { parseAmount } from "./decimal";
import type { Cuenta, Moneda, TipoDocumento, TipoTransaccion } from "../api/types";
import { ESTADOS_CLIENTE, MONEDAS, TIPOS_DOCUMENTO } from "../api/types";

export type Errors = Record<string, string>;

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE_RE = /^\+?[\d\s()-]{6,20}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export interface ClienteFormValues {
  nombre: string;
  apellido: string;
  email: string;
  telefono: string;
  estado: string;
  tipo_documento: string;
  numero_documento: string;
  fecha_emision: string;
  fecha_vencimiento: string;
}

export const emptyClienteForm: ClienteFormValues = {
  nombre: "",
  apellido: "",
  email: "",
  telefono: "",
  estado: "activo",
  tipo_documento: "DNI",
  numero_documento: "",
  fecha_emision: "",
  fecha_vencimiento: "",
};

function requiredText(errors: Errors, field: string, value: string, label: string, max: number): void {
  const v = value.trim();
  if (!v) errors[field] = `${label} es obligatorio.`;
  else if (v.length > max) errors[field] = `${label}: máximo ${max} caracteres.`;
}

/** Rules of the personal data shared by "registrar" and "editar". */
export function validateDatosCliente(
  v: Pick<ClienteFormValues, "nombre" | "apellido" | "email" | "telefono" | "estado">,
): Errors {
  const errors: Errors = {};
  requiredText(errors, "nombre", v.nombre, "Nombre", 100);
  requiredText(errors, "apellido", v.apellido, "Apellido", 100);
  const email = v.email.trim();
  if (!email) errors.email = "Email es obligatorio.";
  else if (email.length > 150) errors.email = "Email: máximo 150 caracteres.";
  else if (!EMAIL_RE.test(email)) errors.email = "Email inválido.";
  const tel = v.telefono.trim();
  if (tel && (tel.length > 20 || !PHONE_RE.test(tel)))
    errors.telefono = "Teléfono inválido (hasta 20 dígitos, + ( ) -).";
  if (v.estado && !(ESTADOS_CLIENTE as readonly string[]).includes(v.estado)) errors.estado = "Estado inválido.";
  return errors;
}

/** The identity document: DNI = 8 digits, RUC = 11, others up to 20; expiry after issue. */
export function validateDocumento(
  v: Pick<ClienteFormValues, "tipo_documento" | "numero_documento" | "fecha_emision" | "fecha_vencimiento">,
): Errors {
  const errors: Errors = {};
  const tipo = v.tipo_documento as TipoDocumento;
  const numero = v.numero_documento.trim();
  if (!(TIPOS_DOCUMENTO as readonly string[]).includes(tipo))
    errors["documento.tipo_documento"] = "Tipo de documento inválido.";
  if (!numero) errors["documento.numero_documento"] = "Número de documento es obligatorio.";
  else if (tipo === "DNI" && !/^\d{8}$/.test(numero)) errors["documento.numero_documento"] = "El DNI tiene 8 dígitos.";
  else if (tipo === "RUC" && !/^\d{11}$/.test(numero))
    errors["documento.numero_documento"] = "El RUC tiene 11 dígitos.";
  else if (numero.length > 20) errors["documento.numero_documento"] = "Máximo 20 caracteres.";
  else if (!/^[A-Za-z0-9]+$/.test(numero)) errors["documento.numero_documento"] = "Solo letras y dígitos.";
  if (v.fecha_emision && !DATE_RE.test(v.fecha_emision)) errors["documento.fecha_emision"] = "Fecha inválida.";
  if (v.fecha_vencimiento && !DATE_RE.test(v.fecha_vencimiento))
    errors["documento.fecha_vencimiento"] = "Fecha inválida.";
  // ISO dates compare correctly as strings.
  if (
    v.fecha_emision &&
    v.fecha_vencimiento &&
    DATE_RE.test(v.fecha_emision) &&
    DATE_RE.test(v.fecha_vencimiento) &&
    v.fecha_vencimiento <= v.fecha_emision
  )
    errors["documento.fecha_vencimiento"] = "El vencimiento debe ser posterior a la emisión.";
  return errors;
}

export function validateClienteCreate(v: ClienteFormValues): Errors {
  return { ...validateDatosCliente(v), ...validateDocumento(v) };
}

export interface AbrirCuentaValues {
  cliente_id: number | null;
  tipo_cuenta_id: string;
  moneda: string;
  saldo: string;
}

export function validateAbrirCuenta(v: AbrirCuentaValues): { errors: Errors; saldo?: string } {
  const errors: Errors = {};
  if (!v.cliente_id) errors.cliente_id = "Elija el cliente.";
  if (!v.tipo_cuenta_id) errors.tipo_cuenta_id = "Elija el tipo de cuenta.";
  if (!(MONEDAS as readonly string[]).includes(v.moneda)) errors.moneda = "Moneda inválida.";
  let saldo: string | undefined;
  if (v.saldo.trim()) {
    const p = parseAmount(v.saldo, { allowZero: true });
    if (p.ok) saldo = p.value;
    else errors.saldo = p.error;
  }
  return { errors, saldo };
}

export interface TransaccionValues {
  tipo: TipoTransaccion;
  monto: string;
  origen: Cuenta | null;
  destino: Cuenta | null;
  descripcion: string;
  /** FX is available: a transfer between currencies is allowed (at a quote). */
  fx?: boolean;
}

/** Which accounts a type moves money between (the saga's rules in DESIGN.md §5). */
export function cuentasRequeridas(tipo: TipoTransaccion): { origen: boolean; destino: boolean } {
  switch (tipo) {
    case "DEPOSITO":
      return { origen: false, destino: true };
    case "RETIRO":
    case "PAGO_SERVICIO":
      return { origen: true, destino: false };
    case "TRANSFERENCIA":
      return { origen: true, destino: true };
  }
}

/** The currency of the operation is the accounts' currency; a transfer needs both to agree. */
export function monedaDe(v: Pick<TransaccionValues, "tipo" | "origen" | "destino">): Moneda | undefined {
  const need = cuentasRequeridas(v.tipo);
  return (need.origen ? v.origen?.moneda : undefined) ?? (need.destino ? v.destino?.moneda : undefined);
}

export function validateTransaccion(v: TransaccionValues): { errors: Errors; monto?: string } {
  const errors: Errors = {};
  const need = cuentasRequeridas(v.tipo);
  if (need.origen) {
    if (!v.origen) errors.cuentaOrigenId = "Elija la cuenta de origen.";
    else if (v.origen.estado !== "activa") errors.cuentaOrigenId = `La cuenta de origen está ${v.origen.estado}.`;
  }
  if (need.destino) {
    if (!v.destino) errors.cuentaDestinoId = "Elija la cuenta de destino.";
    else if (v.destino.estado !== "activa") errors.cuentaDestinoId = `La cuenta de destino está ${v.destino.estado}.`;
  }
  if (need.origen && need.destino && v.origen && v.destino) {
    if (v.origen.cuenta_id === v.destino.cuenta_id) errors.cuentaDestinoId = "Origen y destino deben ser distintas.";
    else if (v.origen.moneda !== v.destino.moneda && !v.fx)
      errors.cuentaDestinoId = `Monedas distintas (${v.origen.moneda} → ${v.destino.moneda}).`;
  }
  if (v.descripcion.length > 500) errors.descripcion = "Máximo 500 caracteres.";
  const p = parseAmount(v.monto);
  if (!p.ok) {
    errors.monto = p.error;
    return { errors };
  }
  return { errors, monto: p.value };
}

// The REST contract (shared/API.md) as TypeScript: field names exactly as the services speak them.
// Money is always a decimal string ("1500.00"); never parse it into a float.

export const MONEDAS = ["PEN", "USD", "EUR"] as const;
export type Moneda = (typeof MONEDAS)[number];

export const TIPOS_DOCUMENTO = ["DNI", "Pasaporte", "RUC", "Carnet Extranjeria"] as const;
export type TipoDocumento = (typeof TIPOS_DOCUMENTO)[number];

export const ESTADOS_CLIENTE = ["activo", "inactivo", "bloqueado"] as const;
export type EstadoCliente = (typeof ESTADOS_CLIENTE)[number];

export const ESTADOS_CUENTA = ["activa", "bloqueada", "cerrada"] as const;
export type EstadoCuenta = (typeof ESTADOS_CUENTA)[number];

export const TIPOS_TRANSACCION = ["DEPOSITO", "RETIRO", "TRANSFERENCIA", "PAGO_SERVICIO"] as const;
export type TipoTransaccion = (typeof TIPOS_TRANSACCION)[number];

export const ESTADOS_TRANSACCION = ["PENDIENTE", "COMPLETADA", "FALLIDA", "CANCELADA"] as const;
export type EstadoTransaccion = (typeof ESTADOS_TRANSACCION)[number];

/** Who made a change (the CloudEvents authcontext the services record); null on records older than it. */
export interface Actor {
  /** "user", "service_account" or "unauthenticated". */
  authtype: string;
  /** The principal's username; null when unauthenticated. */
  authid: string | null;
}

export interface Documento {
  documento_id: number;
  cliente_id: number;
  tipo_documento: TipoDocumento;
  numero_documento: string;
  fecha_emision: string | null;
  fecha_vencimiento: string | null;
}

export interface Cliente {
  cliente_id: number;
  nombre: string;
  apellido: string;
  email: string;
  telefono: string | null;
  estado: EstadoCliente;
  fecha_registro: string;
  documentos: Documento[];
  creado_por?: Actor | null;
  actualizado_por?: Actor | null;
}

export interface DocumentoCreate {
  tipo_documento: TipoDocumento;
  numero_documento: string;
  fecha_emision?: string;
  fecha_vencimiento?: string;
}

export interface ClienteCreate {
  nombre: string;
  apellido: string;
  email: string;
  telefono?: string;
  estado?: EstadoCliente;
  documento: DocumentoCreate;
}

export interface ClienteUpdate {
  nombre: string;
  apellido: string;
  email: string;
  telefono?: string | null;
  estado?: EstadoCliente;
}

export interface TipoCuenta {
  tipo_cuenta_id: number;
  nombre: string;
  descripcion: string | null;
  costo_mantenimiento: string;
  tasa_interes: string;
  estado: string;
}

export interface Cuenta {
  cuenta_id: number;
  cliente_id: number;
  tipo_cuenta_id: number;
  numero_cuenta: string;
  saldo: string;
  moneda: Moneda;
  fecha_apertura: string;
  estado: EstadoCuenta;
  tipo_cuenta_nombre: string | null;
  tipo_cuenta_descripcion: string | null;
  costo_mantenimiento?: string;
  tasa_interes?: string;
  /** Booked balance minus active holds (absent from answers older than holds). */
  saldo_disponible?: string;
  /** The sum of the account's active holds. */
  retenido?: string;
}

export const ESTADOS_RETENCION = ["ACTIVA", "CAPTURADA", "LIBERADA", "EXPIRADA"] as const;
export type EstadoRetencion = (typeof ESTADOS_RETENCION)[number];

/** A hold (retención): an amount reserved on an account until `vence`, then captured, voided or expired. */
export interface Retencion {
  retencion_id: number;
  cuenta_id: number;
  monto: string;
  moneda: Moneda;
  vence: string;
  referencia?: string | null;
  estado: EstadoRetencion;
  /** What a capture took (may be less than monto: the rest was released). */
  monto_capturado?: string | null;
  creada_en?: string;
  resuelta_en?: string | null;
  monto_liberado?: string | null;
  [extra: string]: unknown;
}

export interface RetencionCreate {
  monto: string;
  vence: string;
  referencia?: string;
}

export interface CuentaCreate {
  cliente_id: number;
  tipo_cuenta_id: number;
  saldo?: string;
  moneda?: Moneda;
}

/**
 * A ledger row of the statement. The contract fixes only "with running balance"; the names below
 * are the ones cuentas uses, with the alternatives the UI also accepts.
 */
export interface Movimiento {
  movimiento_id?: number;
  id?: number;
  cuenta_id?: number;
  operacion?: string;
  /** APERTURA, DEPOSITO, RETIRO, SAGA (a transaction's step) or REVERSION. */
  causa?: string;
  tipo?: string;
  monto: string;
  saldo?: string;
  saldo_resultante?: string;
  saldo_despues?: string;
  moneda?: Moneda;
  fecha?: string;
  fecha_movimiento?: string;
  descripcion?: string | null;
  transaccion_id?: string | null;
  /** Who made the movement (a saga step: who asked for the transaction). */
  actor?: Actor | null;
  [extra: string]: unknown;
}

export interface Transaccion {
  id: string;
  transaccionId: string;
  tipo: TipoTransaccion;
  cuentaOrigenId: number | null;
  cuentaDestinoId: number | null;
  monto: string;
  moneda: Moneda;
  descripcion: string | null;
  fecha: string;
  estado: EstadoTransaccion;
  motivo?: string | null;
  metadata?: Record<string, unknown> | null;
  /** Who asked for it. */
  actor?: Actor | null;
  /** Who cancelled it, when it was cancelled. */
  canceladaPor?: Actor | null;
  /** A reversal: the id of the transaction it gives back. */
  reversionDe?: string | null;
  /** The id of the COMPLETADA reversal that gave this one back. */
  revertidaPor?: string | null;
  /** FX transfer: what the destination received, in its currency, and the quote used. */
  montoDestino?: string | null;
  monedaDestino?: Moneda | null;
  cotizacionId?: string | null;
}

/** One currency pair of the bank's rate table (GET /tipos-cambio). */
export interface TipoCambio {
  par: string;
  compra: string;
  venta: string;
  actualizado: string;
}

/** A quote for an FX transfer (POST /cotizaciones): valid until `vence`. */
export interface Cotizacion {
  cotizacionId: string;
  cuentaOrigenId: number;
  cuentaDestinoId: number;
  monedaOrigen: Moneda;
  montoOrigen: string;
  monedaDestino: Moneda;
  montoDestino: string;
  tasa: string;
  /** The bank's spread on this quote (in the origin currency). */
  ingreso: string;
  vence: string;
  creada: string;
}

export interface TransaccionCreate {
  tipo: TipoTransaccion;
  monto: string;
  moneda: Moneda;
  cuentaOrigenId?: number;
  cuentaDestinoId?: number;
  descripcion?: string;
  metadata?: Record<string, unknown>;
  /** FX transfer (origin and destination currencies differ): the quote it is made at. */
  cotizacionId?: string;
}

export interface PerfilTransaccion extends Partial<Transaccion> {
  /** The cliente's account in this transaction; for transfers both ends are given too. */
  numero_cuenta?: string | null;
  numero_cuenta_origen?: string | null;
  numero_cuenta_destino?: string | null;
  [extra: string]: unknown;
}

export interface ResumenFinanciero {
  /** The PEN total, one decimal string (what the original SPA shows as "S/ …"). */
  patrimonio_total: string;
  /** Per currency, never summed across monedas: {"PEN": "…", "USD": "…"}. */
  patrimonio_por_moneda: Record<string, string>;
  total_cuentas: number;
  cuentas_activas: number;
  total_transacciones: number;
  /** The newest transaction's fecha; null while the cliente has none. */
  ultima_actividad: string | null;
}

export interface PerfilCompleto {
  cliente: Cliente;
  cuentas: Cuenta[];
  transacciones_recientes: PerfilTransaccion[];
  resumen_financiero: ResumenFinanciero;
  [extra: string]: unknown;
}

export interface BusquedaClientes {
  query: string;
  total_resultados: number;
  resultados: Cliente[];
}

/** Every analytics answer: rows plus timing; failures come with a real HTTP status. */
export interface AnalyticsResult<Row = Record<string, unknown>> {
  success: boolean;
  data: Row[];
  rows_count: number;
  execution_time_ms: number;
  error: string | null;
}

export interface Page<T> {
  items: T[];
  total: number | undefined;
}

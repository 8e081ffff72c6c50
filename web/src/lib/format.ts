// Display formats for a Peruvian bank's staff: es-PE numbers and currencies, dates in local time.

const LOCALE = "es-PE";
const moneyFormatters = new Map<string, Intl.NumberFormat>();

function moneyFormatter(moneda: string): Intl.NumberFormat {
  let f = moneyFormatters.get(moneda);
  if (!f) {
    try {
      f = new Intl.NumberFormat(LOCALE, {
        style: "currency",
        currency: moneda,
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      });
    } catch {
      // An unknown currency code must not blank the page: show the number with the code.
      f = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    moneyFormatters.set(moneda, f);
  }
  return f;
}

const DECIMAL_RE = /^-?\d+(\.\d+)?$/;

/**
 * "1500.00" + "PEN" → "S/ 1,500.00". The decimal string goes to Intl as a string (exact decimal
 * formatting, ES2023), so a 13-digit balance is never rounded through a float.
 */
export function formatMoney(amount: string | number | null | undefined, moneda: string | null | undefined): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const value = typeof amount === "number" ? String(amount) : amount.trim();
  if (!DECIMAL_RE.test(value)) return "—";
  const cur = (moneda ?? "PEN").toUpperCase();
  const f = moneyFormatter(cur);
  const text = f.format(value as Intl.StringNumericLiteral);
  return f.resolvedOptions().style === "currency" ? text : `${text} ${cur}`;
}

const integerFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });

export function formatInteger(n: number | string | null | undefined): string {
  if (n === null || n === undefined || n === "") return "—";
  const v = typeof n === "string" ? Number(n) : n;
  return Number.isFinite(v) ? integerFormat.format(v) : "—";
}

export function formatNumber(n: number | string | null | undefined): string {
  if (n === null || n === undefined || n === "") return "—";
  const v = typeof n === "string" ? Number(n) : n;
  return Number.isFinite(v) ? decimalFormat.format(v) : "—";
}

const DATE_ONLY_RE = /^\d{4}-\d{2}-\d{2}$/;
const NAIVE_DATETIME_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Timestamps without an offset are UTC by contract; say so before the browser assumes local. */
export function parseTimestamp(iso: string): Date {
  const s = NAIVE_DATETIME_RE.test(iso) ? `${iso.replace(" ", "T")}Z` : iso;
  return new Date(s);
}

const dateFormat = new Intl.DateTimeFormat(LOCALE, { day: "2-digit", month: "2-digit", year: "numeric" });
const dateUtcFormat = new Intl.DateTimeFormat(LOCALE, {
  day: "2-digit",
  month: "2-digit",
  year: "numeric",
  timeZone: "UTC",
});
const dateTimeFormat = new Intl.DateTimeFormat(LOCALE, {
  day: "2-digit",
  month: "2-digit",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

/**
 * A calendar date ("2030-05-01", e.g. a document's expiry) is not an instant: format it as written
 * (in UTC) so Lima's UTC-5 does not show the day before. Timestamps show the local date.
 */
export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  if (DATE_ONLY_RE.test(value)) {
    const d = new Date(`${value}T00:00:00Z`);
    return Number.isNaN(d.getTime()) ? value : dateUtcFormat.format(d);
  }
  const d = parseTimestamp(value);
  return Number.isNaN(d.getTime()) ? value : dateFormat.format(d);
}

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  if (DATE_ONLY_RE.test(value)) return formatDate(value);
  const d = parseTimestamp(value);
  return Number.isNaN(d.getTime()) ? value : dateTimeFormat.format(d);
}

/** 0.4 → "0,4 s"-style short durations for lags: "justo ahora", "12 s", "3 min", "2 h". */
export function formatLagSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  if (seconds < 1) return "menos de 1 s";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

const ESTADO_LABELS: Record<string, string> = {
  activo: "Activo",
  inactivo: "Inactivo",
  bloqueado: "Bloqueado",
  activa: "Activa",
  bloqueada: "Bloqueada",
  cerrada: "Cerrada",
  PENDIENTE: "Pendiente",
  COMPLETADA: "Completada",
  FALLIDA: "Fallida",
  CANCELADA: "Cancelada",
  ACTIVA: "Activa",
  CAPTURADA: "Capturada",
  LIBERADA: "Liberada",
  EXPIRADA: "Expirada",
};

export function estadoLabel(estado: string | null | undefined): string {
  if (!estado) return "—";
  return ESTADO_LABELS[estado] ?? estado;
}

const TIPO_LABELS: Record<string, string> = {
  DEPOSITO: "Depósito",
  RETIRO: "Retiro",
  TRANSFERENCIA: "Transferencia",
  PAGO_SERVICIO: "Pago de servicio",
};

export function tipoLabel(tipo: string | null | undefined): string {
  if (!tipo) return "—";
  return TIPO_LABELS[tipo.toUpperCase()] ?? tipo;
}

/** Who made a change, for a cell: the username, "(servicio)" for a service account, "anónimo" without a login. */
export function actorLabel(actor: { authtype: string; authid: string | null } | null | undefined): string {
  if (!actor) return "—";
  if (actor.authtype === "unauthenticated") return "anónimo";
  const name = actor.authid ?? "—";
  return actor.authtype === "service_account" ? `${name} (servicio)` : name;
}

/** "SALDO_INSUFICIENTE: Saldo insuficiente: disponible 700.00…" → the sentence, with the code beside it. */
export function splitMotivo(motivo: string | null | undefined): { code?: string; text: string } {
  if (!motivo) return { text: "no informado" };
  const m = /^([A-Z][A-Z_]+):\s*(.+)$/s.exec(motivo);
  return m ? { code: m[1], text: m[2]! } : { text: motivo };
}

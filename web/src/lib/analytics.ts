// Turning analytics rows ({success, data:[...]}) into KPIs and chart series. Pure functions, unit-tested.
// The analytics queries name their columns; these helpers find them by the names the service uses
// (first match wins) so a renamed column degrades to "—" instead of breaking the dashboard.
import { addAmounts } from "./decimal";

export type Row = Record<string, unknown>;

export function pick(row: Row, candidates: readonly string[]): unknown {
  for (const k of candidates) if (row[k] !== undefined && row[k] !== null) return row[k];
  return undefined;
}

export function pickKey(row: Row | undefined, candidates: readonly string[]): string | undefined {
  if (!row) return undefined;
  return candidates.find((k) => row[k] !== undefined);
}

export function asNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return 0;
}

const DECIMAL_RE = /^-?\d+(\.\d{1,2})?$/;

export function isDecimalString(v: unknown): v is string {
  return typeof v === "string" && DECIMAL_RE.test(v.trim());
}

/** "total_transacciones" → "Total transacciones". */
export function humanize(key: string): string {
  const s = key.replace(/_/g, " ").replace(/\s+/g, " ").trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const MONEY_WORDS = /saldo|monto|volumen|importe|patrimonio|total_money|suma|promedio|depositos_total|retiros_total/i;

/** What analytics' `moneda` parameter takes: one currency (the original's shapes) or `todas` (the split). */
export const MONEDAS_CONSULTA = ["PEN", "USD", "EUR", "todas"] as const;
export type MonedaConsulta = (typeof MONEDAS_CONSULTA)[number];

/** A column holds money when its name says so and its value is a decimal string (money is never a JSON number). */
export function isMoneyColumn(key: string, value: unknown): boolean {
  return MONEY_WORDS.test(key) && (isDecimalString(value) || typeof value === "number");
}

export interface Kpi {
  key: string;
  label: string;
  value: unknown;
  moneda?: string;
  money: boolean;
}

/**
 * Dashboard rows → KPI groups. Rows with a `moneda` column are one group per currency (totals are
 * never summed across currencies); other rows are one general group.
 */
export function dashboardKpis(rows: Row[]): { title: string; moneda?: string; kpis: Kpi[] }[] {
  const groups: { title: string; moneda?: string; kpis: Kpi[] }[] = [];
  const general: Kpi[] = [];
  for (const row of rows) {
    const moneda = typeof row.moneda === "string" ? row.moneda : undefined;
    // A key/value shaped row ({metrica, valor}) becomes one KPI.
    const metricKey = pickKey(row, ["metrica", "metric", "indicador", "kpi", "nombre"]);
    const valueKey = pickKey(row, ["valor", "value", "total", "cantidad"]);
    if (metricKey && valueKey && Object.keys(row).filter((k) => k !== "moneda").length <= 3) {
      const label = String(row[metricKey]);
      const kpi: Kpi = {
        key: label,
        label: humanize(label),
        value: row[valueKey],
        moneda,
        money: Boolean(moneda) && isMoneyColumn(label, row[valueKey]),
      };
      if (moneda) groupFor(groups, moneda).kpis.push(kpi);
      else general.push(kpi);
      continue;
    }
    const kpis: Kpi[] = Object.entries(row)
      .filter(([k, v]) => k !== "moneda" && (typeof v === "number" || typeof v === "string"))
      .map(([k, v]) => ({ key: k, label: humanize(k), value: v, moneda, money: isMoneyColumn(k, v) }));
    if (moneda) groupFor(groups, moneda).kpis.push(...kpis);
    else general.push(...kpis);
  }
  return general.length > 0 ? [{ title: "General", kpis: general }, ...groups] : groups;
}

function groupFor(groups: { title: string; moneda?: string; kpis: Kpi[] }[], moneda: string) {
  let g = groups.find((x) => x.moneda === moneda);
  if (!g) {
    g = { title: moneda, moneda, kpis: [] };
    groups.push(g);
  }
  return g;
}

export interface Series {
  label: string;
  value: number;
  /** Exact money per currency behind the bar, when the rows carry it. */
  montos: Record<string, string>;
}

/**
 * Rows → one entry per label, counts summed over currencies (a count is currency-free) and money kept
 * per currency (exact, decimal strings). Order: as the rows come unless `sortBy` says otherwise.
 */
export function seriesBy(
  rows: Row[],
  labelKeys: readonly string[],
  countKeys: readonly string[],
  moneyKeys: readonly string[] = [],
  sortBy: "none" | "label" | "value" = "none",
): Series[] {
  const map = new Map<string, Series>();
  for (const row of rows) {
    const rawLabel = pick(row, labelKeys);
    if (rawLabel === undefined) continue;
    const label = String(rawLabel)
      .slice(0, 10)
      .match(/^\d{4}-\d{2}-\d{2}$/)
      ? String(rawLabel).slice(0, 10)
      : String(rawLabel);
    let s = map.get(label);
    if (!s) {
      s = { label, value: 0, montos: {} };
      map.set(label, s);
    }
    s.value += asNumber(pick(row, countKeys));
    const monto = pick(row, moneyKeys);
    const moneda = typeof row.moneda === "string" ? row.moneda : undefined;
    if (moneda && isDecimalString(monto)) s.montos[moneda] = addAmounts(s.montos[moneda] ?? "0", monto.trim());
  }
  const out = [...map.values()];
  if (sortBy === "label") out.sort((a, b) => a.label.localeCompare(b.label));
  if (sortBy === "value") out.sort((a, b) => b.value - a.value);
  return out;
}

export const LABELS = {
  fecha: ["fecha", "dia", "day", "dt", "date", "fecha_dia"],
  tipoTransaccion: ["tipo", "tipo_transaccion"],
  tipoCuenta: ["tipo_cuenta", "tipo_cuenta_nombre", "nombre_tipo", "tipo", "nombre"],
  count: [
    "total_transacciones",
    "cantidad_transacciones",
    "num_transacciones",
    "transacciones",
    "cantidad",
    "total",
    "count",
    "n",
    "total_cuentas",
    "num_cuentas",
    "cuentas",
  ],
  countCuentas: ["total_cuentas", "cantidad_cuentas", "num_cuentas", "cuentas", "cantidad", "total", "count", "n"],
  monto: ["monto_total", "volumen", "volumen_total", "total_monto", "suma_monto", "monto"],
  saldo: ["saldo_total", "total_saldo", "suma_saldo", "saldo"],
} as const;

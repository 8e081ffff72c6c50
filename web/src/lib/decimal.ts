// Exact money arithmetic on decimal strings via integer cents (BigInt): amounts never become floats.

const AMOUNT_RE = /^\d{1,13}(\.\d{1,2})?$/;
const GROUPED_RE = /^\d{1,3}(,\d{3})+(\.\d{1,2})?$/;

export type ParsedAmount = { ok: true; value: string } | { ok: false; error: string };

/**
 * What staff type into an amount box → the canonical "1500.00" the API accepts.
 * es-PE writes "1,500.50": commas are accepted only as thousands groups, never as decimals,
 * so "1,5" is refused instead of silently becoming 15.
 */
export function parseAmount(input: string, { allowZero = false }: { allowZero?: boolean } = {}): ParsedAmount {
  const raw = input
    .trim()
    .replace(/\s+/g, "")
    .replace(/^S\/\.?|^US\$|^\$|^€/i, "");
  if (raw === "") return { ok: false, error: "Ingrese un monto." };
  if (raw.startsWith("-")) return { ok: false, error: "El monto no puede ser negativo." };
  let plain = raw;
  if (GROUPED_RE.test(raw)) plain = raw.replace(/,/g, "");
  else if (raw.includes(",")) return { ok: false, error: "Use punto para los decimales (ej. 1500.50)." };
  if (/^\d+\.\d{3,}$/.test(plain)) return { ok: false, error: "Máximo 2 decimales." };
  if (!AMOUNT_RE.test(plain)) {
    if (/^\d{14,}(\.\d*)?$/.test(plain)) return { ok: false, error: "Máximo 13 dígitos enteros." };
    return { ok: false, error: "Monto inválido." };
  }
  const cents = toCents(plain);
  if (cents === 0n && !allowZero) return { ok: false, error: "El monto debe ser mayor que cero." };
  return { ok: true, value: fromCents(cents) };
}

/** "1500.5" → 150050n. Throws on anything that is not a plain decimal. */
export function toCents(value: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(value.trim());
  if (!m) throw new Error(`not a decimal amount: ${value}`);
  const [, sign, int, frac = ""] = m;
  const cents = BigInt(int!) * 100n + BigInt((frac + "00").slice(0, 2));
  return sign === "-" ? -cents : cents;
}

/** 150050n → "1500.50". */
export function fromCents(cents: bigint): string {
  const neg = cents < 0n;
  const abs = neg ? -cents : cents;
  const int = abs / 100n;
  const frac = (abs % 100n).toString().padStart(2, "0");
  return `${neg ? "-" : ""}${int}.${frac}`;
}

export function compareAmounts(a: string, b: string): number {
  const d = toCents(a) - toCents(b);
  return d === 0n ? 0 : d > 0n ? 1 : -1;
}

export function addAmounts(...values: string[]): string {
  return fromCents(values.reduce((acc, v) => acc + toCents(v), 0n));
}

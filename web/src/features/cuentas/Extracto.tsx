// The statement of one account: ledger movements with the running balance, filterable by date.
import { useState } from "react";
import { getCuenta, listMovimientos } from "../../api/cuentas";
import type { Cuenta, Movimiento } from "../../api/types";
import { Badge, Empty, ErrorState, Loading, Money, Pagination } from "../../components/ui";
import { actorLabel, formatDateTime } from "../../lib/format";
import { useAsync } from "../../lib/hooks";

const PAGE = 25;

/** Credit or debit, whichever words the ledger uses (CREDITO/DEBITO, deposito/retiro, APERTURA…). */
export function esCredito(m: Movimiento): boolean {
  const op = String(m.operacion ?? m.tipo ?? "").toUpperCase();
  if (/DEBITO|RETIRO|CARGO|PAGO|REVERSION_CREDITO/.test(op)) return false;
  if (typeof m.monto === "string" && m.monto.trim().startsWith("-")) return false;
  return true;
}

export function movimientoFecha(m: Movimiento): string | undefined {
  return (m.fecha ?? m.fecha_movimiento ?? (m.created_at as string | undefined)) || undefined;
}

export function saldoTras(m: Movimiento): string | undefined {
  return m.saldo_resultante ?? m.saldo_despues ?? (m.saldo_posterior as string | undefined) ?? m.saldo;
}

const CAUSAS: Record<string, string> = {
  APERTURA: "Apertura",
  DEPOSITO: "Depósito",
  RETIRO: "Retiro",
  SAGA: "Transacción",
  REVERSION: "Reversión",
};

/** "Crédito · Depósito": the direction (operacion) and why it happened (causa). */
export function operacionLabel(m: Movimiento): string {
  const op = String(m.operacion ?? m.tipo ?? "").toUpperCase();
  const dir =
    op === "CREDITO" ? "Crédito" : op === "DEBITO" ? "Débito" : op ? op.charAt(0) + op.slice(1).toLowerCase() : "—";
  const causa = m.causa ? (CAUSAS[String(m.causa).toUpperCase()] ?? String(m.causa)) : undefined;
  return causa ? `${dir} · ${causa}` : dir;
}

export function Extracto({ cuenta: initial }: { cuenta: Cuenta }) {
  const [desde, setDesde] = useState("");
  const [hasta, setHasta] = useState("");
  // null = "the latest page": a statement is chronological, but staff open it for the recent movements.
  const [skip, setSkip] = useState<number | null>(null);
  // Fresh balance: the list row may be older than the statement.
  const cuenta = useAsync((signal) => getCuenta(initial.cuenta_id, signal), [initial.cuenta_id]);
  const c = cuenta.data ?? initial;
  const movs = useAsync(
    async (signal) => {
      const query = {
        limit: PAGE,
        // Whole days in local time, sent as instants with offset (the API speaks UTC).
        desde: desde ? new Date(`${desde}T00:00:00`).toISOString() : undefined,
        hasta: hasta ? new Date(`${hasta}T23:59:59.999`).toISOString() : undefined,
      };
      const first = await listMovimientos(initial.cuenta_id, { ...query, skip: skip ?? 0 }, signal);
      if (skip !== null || first.total === undefined || first.total <= PAGE) return { ...first, skip: skip ?? 0 };
      const last = Math.floor((first.total - 1) / PAGE) * PAGE;
      return { ...(await listMovimientos(initial.cuenta_id, { ...query, skip: last }, signal)), skip: last };
    },
    [initial.cuenta_id, skip, desde, hasta],
  );

  return (
    <div className="extracto">
      <dl className="summary-grid">
        <div>
          <dt>Cuenta</dt>
          <dd className="mono">{c.numero_cuenta}</dd>
        </div>
        <div>
          <dt>Tipo</dt>
          <dd>{c.tipo_cuenta_nombre ?? `#${c.tipo_cuenta_id}`}</dd>
        </div>
        <div>
          <dt>Estado</dt>
          <dd>
            <Badge estado={c.estado} />
          </dd>
        </div>
        <div>
          <dt>Saldo actual</dt>
          <dd className="big">
            <Money amount={c.saldo} moneda={c.moneda} />
          </dd>
        </div>
      </dl>
      <div className="toolbar">
        <div className="field">
          <label htmlFor="extracto-desde">Desde</label>
          <input
            id="extracto-desde"
            type="date"
            value={desde}
            onChange={(e) => (setDesde(e.target.value), setSkip(null))}
          />
        </div>
        <div className="field">
          <label htmlFor="extracto-hasta">Hasta</label>
          <input
            id="extracto-hasta"
            type="date"
            value={hasta}
            onChange={(e) => (setHasta(e.target.value), setSkip(null))}
          />
        </div>
      </div>
      {movs.error ? <ErrorState error={movs.error} onRetry={movs.reload} what="los movimientos" /> : null}
      {movs.loading && !movs.data ? <Loading what="movimientos" /> : null}
      {movs.data ? (
        movs.data.items.length === 0 ? (
          <Empty>Sin movimientos en el periodo.</Empty>
        ) : (
          <>
            <div className="table-wrap">
              <table className="table" aria-label="Movimientos">
                <thead>
                  <tr>
                    <th>Fecha</th>
                    <th>Operación</th>
                    <th className="hide-sm">Detalle</th>
                    <th className="num">Monto</th>
                    <th className="num">Saldo</th>
                    <th className="hide-sm">Realizado por</th>
                  </tr>
                </thead>
                <tbody>
                  {movs.data.items.map((m, i) => {
                    const credito = esCredito(m);
                    const monto = m.monto.replace(/^-/, "");
                    return (
                      <tr key={String(m.movimiento_id ?? m.id ?? i)}>
                        <td>{formatDateTime(movimientoFecha(m))}</td>
                        <td>{operacionLabel(m)}</td>
                        <td className="hide-sm cell-sub">
                          {m.descripcion ?? (m.transaccion_id ? `Transacción ${m.transaccion_id}` : "—")}
                        </td>
                        <td className={`num ${credito ? "credit" : "debit"}`}>
                          {credito ? "+" : "−"}
                          <Money amount={monto} moneda={m.moneda ?? c.moneda} />
                        </td>
                        <td className="num">
                          <Money amount={saldoTras(m)} moneda={m.moneda ?? c.moneda} />
                        </td>
                        <td className="hide-sm cell-sub" data-testid="movimiento-actor">
                          {actorLabel(m.actor)}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <Pagination
              skip={movs.data.skip}
              limit={PAGE}
              total={movs.data.total}
              count={movs.data.items.length}
              onChange={setSkip}
            />
          </>
        )
      ) : null}
    </div>
  );
}

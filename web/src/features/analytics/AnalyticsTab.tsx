// Analytics: dashboard KPIs per currency and charts over the lake; each panel loads and fails on its own.
import { useState, type ReactNode } from "react";
import { analytics } from "../../api/analytics";
import type { AnalyticsResult } from "../../api/types";
import { ColumnChart, HBarChart } from "../../components/charts";
import { Badge, Empty, ErrorState, Loading, Money, PageHeader } from "../../components/ui";
import {
  asNumber,
  dashboardKpis,
  isDecimalString,
  LABELS,
  MONEDAS_CONSULTA,
  pick,
  seriesBy,
  type Kpi,
  type MonedaConsulta,
  type Row,
} from "../../lib/analytics";
import { estadoLabel, formatDateTime, formatInteger, formatMoney, formatNumber, tipoLabel } from "../../lib/format";
import { useAsync, type Async } from "../../lib/hooks";

function Panel({
  title,
  state,
  children,
  className,
  testId,
}: {
  title: string;
  state: Async<AnalyticsResult>;
  children: (rows: Row[]) => ReactNode;
  className?: string;
  testId?: string;
}) {
  return (
    <section
      className={`card panel ${className ?? ""}`}
      aria-label={title}
      aria-busy={state.loading}
      data-testid={testId}
      data-loading={state.loading}
    >
      <header className="panel-head">
        <h2 className="card-title">{title}</h2>
        {state.data ? (
          <span className="panel-meta">
            {state.loading ? <span className="spinner small" aria-hidden="true" /> : null}
            {formatInteger(state.data.rows_count)} filas · {formatNumber(state.data.execution_time_ms)} ms
          </span>
        ) : null}
      </header>
      {state.error ? <ErrorState error={state.error} onRetry={state.reload} what={title.toLowerCase()} /> : null}
      {state.loading && !state.data ? <Loading what={title.toLowerCase()} /> : null}
      {state.data ? (
        state.data.data.length === 0 ? (
          <Empty>Sin datos todavía: el lago se llena con unos segundos de retraso.</Empty>
        ) : (
          children(state.data.data)
        )
      ) : null}
    </section>
  );
}

function KpiValue({ value, money, moneda }: { value: unknown; money: boolean; moneda?: string }) {
  if (money && moneda && (isDecimalString(value) || typeof value === "number"))
    return <Money amount={String(value)} moneda={moneda} />;
  if (typeof value === "number") return <>{Number.isInteger(value) ? formatInteger(value) : formatNumber(value)}</>;
  if (isDecimalString(value)) return <>{formatNumber(value)}</>;
  return <>{String(value ?? "—")}</>;
}

function KpiCards({ kpis, moneda, testId }: { kpis: Kpi[]; moneda?: string; testId: string }) {
  return (
    <div className="kpis" data-testid={testId}>
      {kpis.map((k) => (
        <div className="kpi" key={k.key} data-kpi={k.key}>
          <span className="kpi-label">{k.label}</span>
          <span className="kpi-value">
            <KpiValue value={k.value} money={k.money} moneda={moneda} />
          </span>
        </div>
      ))}
    </div>
  );
}

export function Dashboard({ rows }: { rows: Row[] }) {
  const groups = dashboardKpis(rows);
  const general = groups.filter((g) => !g.moneda);
  const perMoneda = groups.filter((g) => g.moneda);
  // Money metrics side by side per currency (one row each): never one total across currencies.
  const metricas = [...new Set(perMoneda.flatMap((g) => g.kpis.map((k) => k.key)))];
  const [only] = perMoneda.length === 1 ? perMoneda : [];
  return (
    <div className="kpi-groups">
      {general.map((g) => (
        <KpiCards key={g.title} kpis={g.kpis} testId="kpis-general" />
      ))}
      {only ? (
        // One currency (the original's dashboard): one card per metric, in that currency.
        <KpiCards kpis={only.kpis} moneda={only.moneda} testId={`kpis-${only.moneda}`} />
      ) : null}
      {perMoneda.length > 1 ? (
        <div className="table-wrap">
          <table className="table" aria-label="Indicadores por moneda" data-testid="kpis-moneda">
            <thead>
              <tr>
                <th>Moneda</th>
                {metricas.map((m) => (
                  <th key={m} className="num">
                    {perMoneda.flatMap((g) => g.kpis).find((k) => k.key === m)?.label ?? m}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {perMoneda.map((g) => (
                <tr key={g.moneda} data-testid={`kpis-${g.moneda}`}>
                  <td className="strong">{g.moneda}</td>
                  {metricas.map((m) => {
                    const k = g.kpis.find((x) => x.key === m);
                    return (
                      <td key={m} className="num kpi-cell">
                        {k ? <KpiValue value={k.value} money={k.money} moneda={g.moneda} /> : "—"}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

/** PEN first (the bank's currency), then the others as they come. */
export function monedasOrdenadas(rows: Row[]): string[] {
  const found = [...new Set(rows.map((r) => String(r.moneda ?? "PEN")))];
  const order = ["PEN", "USD", "EUR"];
  return found.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
}

function TopSaldos({ rows }: { rows: Row[] }) {
  const monedas = monedasOrdenadas(rows);
  const [moneda, setMoneda] = useState<string>();
  const current = moneda && monedas.includes(moneda) ? moneda : monedas[0];
  // Balances in different currencies are not comparable on one axis: one currency at a time.
  const data = rows
    .filter((r) => String(r.moneda ?? "PEN") === current)
    .map((r) => {
      const saldo = String(pick(r, LABELS.saldo) ?? "0");
      const titular =
        [r.nombre, r.apellido].filter(Boolean).join(" ") ||
        (r.cliente as string | undefined) ||
        (r.cliente_id ? `Cliente #${String(r.cliente_id)}` : undefined);
      return {
        label: String(pick(r, ["numero_cuenta", "cuenta", "cuenta_id"]) ?? "—"),
        sub: titular,
        value: asNumber(saldo),
        display: formatMoney(saldo, current),
      };
    });
  return (
    <>
      {monedas.length > 1 ? (
        <div className="segmented small" role="radiogroup" aria-label="Moneda">
          {monedas.map((m) => (
            <button
              key={m}
              type="button"
              role="radio"
              aria-checked={m === current}
              className={m === current ? "active" : ""}
              onClick={() => setMoneda(m)}
            >
              {m}
            </button>
          ))}
        </div>
      ) : null}
      <HBarChart title="Top saldos" data={data} />
    </>
  );
}

function montosText(montos: Record<string, string>): string | undefined {
  const parts = monedasOrdenadas(Object.keys(montos).map((moneda) => ({ moneda }))).map((m) =>
    formatMoney(montos[m], m),
  );
  return parts.length ? parts.join(" · ") : undefined;
}

const MONEDA_LABEL: Record<MonedaConsulta, string> = { PEN: "PEN", USD: "USD", EUR: "EUR", todas: "Todas" };

/** Which currency every panel answers in: one (as the original console), or all of them side by side. */
export function MonedaSelector({ value, onChange }: { value: MonedaConsulta; onChange: (m: MonedaConsulta) => void }) {
  return (
    <div className="segmented" role="radiogroup" aria-label="Moneda de los indicadores">
      {MONEDAS_CONSULTA.map((m) => (
        <button
          key={m}
          type="button"
          role="radio"
          aria-checked={m === value}
          className={m === value ? "active" : ""}
          onClick={() => onChange(m)}
        >
          {MONEDA_LABEL[m]}
        </button>
      ))}
    </div>
  );
}

export function AnalyticsTab() {
  const [tick, setTick] = useState(0);
  // Every money query answers in one currency (PEN by default); `todas` gives one answer per currency.
  const [moneda, setMoneda] = useState<MonedaConsulta>("PEN");
  const deps = [tick, moneda];
  const dashboard = useAsync((s) => analytics("/api/dashboard", { moneda }, s), deps);
  const diaria = useAsync((s) => analytics("/api/analisis/actividad-diaria", { moneda }, s), deps);
  const porTipo = useAsync((s) => analytics("/api/transacciones/por-tipo", { moneda }, s), deps);
  const cuentasTipo = useAsync((s) => analytics("/api/cuentas/por-tipo", { moneda }, s), deps);
  const porEstado = useAsync((s) => analytics("/api/transacciones/por-estado", { moneda }, s), deps);
  const top = useAsync((s) => analytics("/api/cuentas/top-saldos", { moneda, limit: 10 }, s), deps);
  const recientes = useAsync((s) => analytics("/api/transacciones/recientes", { moneda, limit: 10 }, s), deps);

  return (
    <section>
      <PageHeader
        title="Analytics"
        subtitle="Indicadores sobre el lago de datos (eventos en Parquet), en una moneda a la vez o todas lado a lado: nunca una suma entre monedas. Las operaciones nuevas aparecen con unos segundos de retraso."
        actions={
          <>
            <MonedaSelector value={moneda} onChange={setMoneda} />
            <button type="button" className="btn btn-ghost" onClick={() => setTick((t) => t + 1)}>
              Actualizar
            </button>
          </>
        }
      />
      <Panel title="Indicadores" state={dashboard} testId="panel-dashboard">
        {(rows) => <Dashboard rows={rows} />}
      </Panel>
      <div className="panels">
        <Panel title="Transacciones por día" state={diaria} className="span-2" testId="panel-diaria">
          {(rows) => {
            const s = seriesBy(rows, LABELS.fecha, LABELS.count, LABELS.monto, "label").slice(-30);
            return (
              <ColumnChart
                title="Transacciones por día"
                data={s.map((d) => ({
                  label: d.label.slice(5),
                  value: d.value,
                  display: `${formatInteger(d.value)} transacciones`,
                }))}
              />
            );
          }}
        </Panel>
        <Panel title="Transacciones por tipo" state={porTipo} testId="panel-por-tipo">
          {(rows) => (
            <HBarChart
              title="Transacciones por tipo"
              data={seriesBy(rows, LABELS.tipoTransaccion, LABELS.count, LABELS.monto, "value").map((d) => ({
                label: tipoLabel(d.label),
                value: d.value,
                display: formatInteger(d.value),
                sub: montosText(d.montos),
              }))}
            />
          )}
        </Panel>
        <Panel title="Cuentas por tipo" state={cuentasTipo} testId="panel-cuentas-tipo">
          {(rows) => (
            <HBarChart
              title="Cuentas por tipo"
              data={seriesBy(rows, LABELS.tipoCuenta, LABELS.countCuentas, LABELS.saldo, "value").map((d) => ({
                label: d.label,
                value: d.value,
                display: formatInteger(d.value),
                sub: montosText(d.montos),
              }))}
            />
          )}
        </Panel>
        <Panel title="Top saldos" state={top} testId="panel-top">
          {(rows) => <TopSaldos rows={rows} />}
        </Panel>
        <Panel title="Transacciones por estado" state={porEstado} testId="panel-por-estado">
          {(rows) => (
            <HBarChart
              title="Transacciones por estado"
              data={seriesBy(rows, ["estado"], LABELS.count, LABELS.monto, "value").map((d) => ({
                label: estadoLabel(d.label),
                value: d.value,
                display: formatInteger(d.value),
                sub: montosText(d.montos),
              }))}
            />
          )}
        </Panel>
        <Panel title="Transacciones recientes" state={recientes} className="span-2" testId="panel-recientes">
          {(rows) => (
            <div className="table-wrap">
              <table className="table compact" aria-label="Transacciones recientes (lago)">
                <thead>
                  <tr>
                    <th>Fecha</th>
                    <th>Transacción</th>
                    <th>Tipo</th>
                    <th className="num">Monto</th>
                    <th>Estado</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r, i) => (
                    <tr key={String(pick(r, ["transaccion_id", "transaccionId", "id"]) ?? i)}>
                      <td>{formatDateTime(pick(r, ["fecha", "time", "ce_time"]) as string | undefined)}</td>
                      <td className="mono">{String(pick(r, ["transaccion_id", "transaccionId", "id"]) ?? "—")}</td>
                      <td>{tipoLabel(pick(r, ["tipo"]) as string | undefined)}</td>
                      <td className="num">
                        <Money
                          amount={String(pick(r, ["monto"]) ?? "")}
                          moneda={(r.moneda as string | undefined) ?? "PEN"}
                        />
                      </td>
                      <td>{pick(r, ["estado"]) ? <Badge estado={String(pick(r, ["estado"]))} /> : "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Panel>
      </div>
    </section>
  );
}

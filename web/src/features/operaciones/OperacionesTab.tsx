// The "Operaciones" tab: the operator's view of the running system (consumer lag, outbox backlog, dead letters,
// saga p50/p99, failures), refreshed every few seconds, with the last minutes of lag and backlog drawn as lines.
import { useEffect, useState } from "react";
import { type OpsView, opsView } from "../../api/operaciones";
import { HBarChart } from "../../components/charts";

/** How often the tab asks for a fresh view, and how many views its trend lines keep (10 min at 10 s). */
export const REFRESH_MS = 10_000;
export const HISTORY = 60;

export interface Point {
  at: number;
  lag: number;
  backlog: number;
  dlq: number;
}

/** One point of the trend lines: the totals of a view. */
export function pointOf(view: OpsView): Point {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    at: Date.parse(view.scraped_at),
    lag: sum(Object.values(view.lag_by_group)),
    backlog: sum(view.outboxes.map((o) => o.backlog)),
    dlq: sum(Object.values(view.dlq_depth ?? {})),
  };
}

function seconds(value: number | null): string {
  return value === null ? "—" : `${value.toLocaleString("es-PE", { maximumFractionDigits: 3 })} s`;
}

/** A hand-drawn SVG line over the kept points (no chart library: the console has none). */
export function TrendLine({
  points,
  field,
  title,
}: {
  points: Point[];
  field: keyof Omit<Point, "at">;
  title: string;
}) {
  const w = 300;
  const h = 60;
  const values = points.map((p) => p[field]);
  const max = Math.max(1, ...values);
  const step = points.length > 1 ? w / (points.length - 1) : 0;
  const path = values.map((v, i) => `${i === 0 ? "M" : "L"}${(i * step).toFixed(1)},${(h - (v / max) * h).toFixed(1)}`);
  const last = values[values.length - 1] ?? 0;
  return (
    <figure className="chart trend" aria-label={title} data-testid={`trend-${field}`}>
      <figcaption>
        {title}: <strong>{last.toLocaleString("es-PE")}</strong> <small>(máx. {Math.max(0, ...values)})</small>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} width="100%" height={h} role="img" aria-label={`${title}, tendencia`}>
        <path d={path.join(" ")} fill="none" stroke="currentColor" strokeWidth="2" />
      </svg>
    </figure>
  );
}

export function OpsPanels({ view, history }: { view: OpsView; history: Point[] }) {
  const down = view.targets.filter((t) => !t.up);
  const lag = Object.entries(view.lag_by_group).map(([group, value]) => ({ label: group, value }));
  const backlog = view.outboxes.map((o) => ({
    label: o.outbox,
    value: o.backlog,
    sub: o.backlog ? `más antiguo ${seconds(o.oldest_age_seconds)}` : undefined,
  }));
  const dlq = Object.entries(view.dlq_depth ?? {}).map(([topic, value]) => ({ label: topic, value }));
  const outcomes = Object.entries(view.sagas.by_outcome);
  return (
    <>
      <section className="card" data-testid="ops-procesos">
        <h2 className="card-title">Procesos</h2>
        <p>
          {view.targets.length - down.length} de {view.targets.length} procesos publican métricas
          {down.length ? (
            <span role="alert">
              {" "}
              · sin respuesta: <strong>{down.map((t) => t.name).join(", ")}</strong>
            </span>
          ) : null}
          . Peticiones HTTP: {view.http_requests.toLocaleString("es-PE")}, con error 5xx:{" "}
          {view.http_errors.toLocaleString("es-PE")}.
        </p>
      </section>
      <section className="card" data-testid="ops-tendencias">
        <h2 className="card-title">Tendencia</h2>
        <TrendLine points={history} field="lag" title="Retraso de los consumidores" />
        <TrendLine points={history} field="backlog" title="Eventos sin publicar" />
        <TrendLine points={history} field="dlq" title="Mensajes en DLQ" />
      </section>
      <section className="card" data-testid="ops-lag">
        <h2 className="card-title">Retraso por grupo de consumidores (mensajes)</h2>
        <HBarChart data={lag} title="Retraso por grupo" emptyText="Ningún consumidor informa." />
      </section>
      <section className="card" data-testid="ops-outbox">
        <h2 className="card-title">Outbox: eventos pendientes de publicar</h2>
        <HBarChart data={backlog} title="Eventos pendientes por outbox" emptyText="Ningún outbox informa." />
      </section>
      <section className="card" data-testid="ops-dlq">
        <h2 className="card-title">Colas de mensajes muertos (DLQ)</h2>
        {view.dlq_depth === null ? (
          <p role="status">Kafka no responde: profundidad desconocida.</p>
        ) : (
          <HBarChart data={dlq} title="Mensajes por DLQ" />
        )}
      </section>
      <section className="card" data-testid="ops-sagas">
        <h2 className="card-title">Sagas</h2>
        <p>
          p50 <strong data-testid="saga-p50">{seconds(view.sagas.p50_seconds)}</strong> · p99{" "}
          <strong data-testid="saga-p99">{seconds(view.sagas.p99_seconds)}</strong>
        </p>
        <HBarChart
          data={outcomes.map(([label, value]) => ({ label, value }))}
          title="Sagas por resultado"
          emptyText="Ninguna saga terminada."
        />
      </section>
      <section className="card" data-testid="ops-fallos">
        <h2 className="card-title">Fallos (desde el arranque de cada proceso)</h2>
        {view.failures.length === 0 ? (
          <p className="empty">Sin fallos.</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th>Tipo</th>
                <th>Dónde</th>
                <th>Veces</th>
              </tr>
            </thead>
            <tbody>
              {view.failures.slice(0, 20).map((f) => (
                <tr key={f.kind + f.where}>
                  <td>{f.kind}</td>
                  <td>{f.where}</td>
                  <td>{f.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

export function OperacionesTab() {
  const [view, setView] = useState<OpsView | null>(null);
  const [history, setHistory] = useState<Point[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    const load = () =>
      opsView(ctrl.signal).then(
        (v) => {
          setView(v);
          setError(null);
          setHistory((h) => [...h, pointOf(v)].slice(-HISTORY));
        },
        (err: unknown) => {
          if (err instanceof DOMException && err.name === "AbortError") return;
          setError(err instanceof Error ? err.message : String(err));
        },
      );
    load();
    const t = setInterval(load, REFRESH_MS);
    return () => {
      ctrl.abort();
      clearInterval(t);
    };
  }, []);
  return (
    <div className="ops" data-testid="operaciones">
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {view ? (
        <>
          <p className="muted">Actualizado {new Date(view.scraped_at).toLocaleTimeString("es-PE")}</p>
          <OpsPanels view={view} history={history} />
        </>
      ) : error ? null : (
        <p className="loading">Cargando métricas…</p>
      )}
    </div>
  );
}

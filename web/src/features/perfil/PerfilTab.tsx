// Perfil 360°: find a cliente by name, email, document or account number; the folded profile and how fresh it is.
import { useEffect, useState } from "react";
import { buscarClientes, perfilCompleto, type Freshness } from "../../api/perfil";
import { ApiError } from "../../api/http";
import type { PerfilCompleto, ResumenFinanciero } from "../../api/types";
import { clienteNombre } from "../../components/pickers";
import { Badge, Empty, ErrorState, EstadoConMotivo, Loading, Money, PageHeader, Pagination } from "../../components/ui";
import { actorLabel, formatDate, formatDateTime, formatInteger, formatLagSeconds, tipoLabel } from "../../lib/format";
import { routeHref, useAsync, useDebounced, useRoute } from "../../lib/hooks";
import { EnlacesReversion } from "../transacciones/TransaccionesTab";

const PAGE = 10;

/**
 * The PEN total and the per-currency split, in display order (PEN first). A perfil from before the split
 * (patrimonio_total as the per-currency object) still reads right.
 */
export function patrimonio(r: ResumenFinanciero): { total: string; porMoneda: [string, string][] } {
  const legacy = typeof r.patrimonio_total === "object" && r.patrimonio_total !== null;
  const split: Record<string, string> = legacy
    ? (r.patrimonio_total as unknown as Record<string, string>)
    : (r.patrimonio_por_moneda ?? {});
  const total = legacy ? (split.PEN ?? "0.00") : r.patrimonio_total;
  const porMoneda = Object.entries(split).sort(([a], [b]) => (a === "PEN" ? -1 : b === "PEN" ? 1 : a.localeCompare(b)));
  return { total, porMoneda };
}

/** X-View-Lag (seconds) → a sentence; the view is eventually consistent and staff should know by how much. */
export function describeFreshness(f: Freshness): { text: string; stale: boolean } {
  if (f.lag === null || f.lag === "") return { text: "Frescura de la vista desconocida", stale: true };
  const s = Number(f.lag);
  if (!Number.isFinite(s)) return { text: `Retraso de la vista: ${f.lag}`, stale: true };
  if (s < 1) return { text: "Vista al día", stale: false };
  return { text: `Vista con ${formatLagSeconds(s)} de retraso`, stale: s >= 10 };
}

function Perfil({
  perfil,
  freshness,
  onReload,
}: {
  perfil: PerfilCompleto;
  freshness: Freshness;
  onReload: () => void;
}) {
  const c = perfil.cliente;
  const r = perfil.resumen_financiero;
  const fresh = describeFreshness(freshness);
  const p = patrimonio(r);
  return (
    <div className="perfil" data-testid="perfil">
      <div className="card perfil-head">
        <div>
          <h2 className="perfil-name">
            {clienteNombre(c)} <Badge estado={c.estado} />
          </h2>
          <p className="cell-sub">
            Cliente #{c.cliente_id} · {c.email}
            {c.telefono ? ` · ${c.telefono}` : ""} · registrado {formatDate(c.fecha_registro)}
            {c.creado_por ? ` por ${actorLabel(c.creado_por)}` : ""}
            {c.actualizado_por && actorLabel(c.actualizado_por) !== actorLabel(c.creado_por)
              ? ` · último cambio por ${actorLabel(c.actualizado_por)}`
              : ""}
          </p>
          <p className="cell-sub">
            {(c.documentos ?? []).map((d) => (
              <span key={d.documento_id} className="doc-chip">
                {d.tipo_documento} <span className="mono">{d.numero_documento}</span>
                {d.fecha_vencimiento ? ` · vence ${formatDate(d.fecha_vencimiento)}` : ""}
              </span>
            ))}
          </p>
        </div>
        <div className="perfil-fresh">
          <span className={`fresh-chip ${fresh.stale ? "stale" : ""}`} data-testid="frescura">
            {fresh.text}
          </span>
          <button type="button" className="btn btn-small btn-ghost" onClick={onReload}>
            Actualizar
          </button>
        </div>
      </div>

      <div className="kpis">
        <div className="kpi">
          <span className="kpi-label">Patrimonio total (PEN)</span>
          <span className="kpi-value" data-testid="patrimonio-total">
            <Money amount={p.total} moneda="PEN" />
          </span>
          {p.porMoneda.length > 1 || (p.porMoneda.length === 1 && p.porMoneda[0]![0] !== "PEN") ? (
            <span className="cell-sub">Otras monedas aparte: no se convierten ni se suman.</span>
          ) : null}
        </div>
        {p.porMoneda.map(([moneda, total]) => (
          <div className="kpi" key={moneda} data-testid={`patrimonio-${moneda}`}>
            <span className="kpi-label">Patrimonio {moneda}</span>
            <span className="kpi-value">
              <Money amount={total} moneda={moneda} />
            </span>
          </div>
        ))}
        <div className="kpi">
          <span className="kpi-label">Cuentas (activas)</span>
          <span className="kpi-value">
            {formatInteger(r.total_cuentas)} ({formatInteger(r.cuentas_activas)})
          </span>
        </div>
        <div className="kpi">
          <span className="kpi-label">Transacciones</span>
          <span className="kpi-value">{formatInteger(r.total_transacciones)}</span>
        </div>
        <div className="kpi">
          <span className="kpi-label">Última actividad</span>
          <span className="kpi-value small" data-testid="ultima-actividad">
            {r.ultima_actividad ? formatDateTime(r.ultima_actividad) : "Sin transacciones"}
          </span>
        </div>
      </div>

      <h3 className="section-title">Cuentas</h3>
      {perfil.cuentas.length === 0 ? (
        <Empty>Sin cuentas.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Cuentas del cliente">
            <thead>
              <tr>
                <th>Número</th>
                <th className="hide-sm">Tipo</th>
                <th className="num">Saldo</th>
                <th className="num">Disponible</th>
                <th>Estado</th>
                <th className="hide-sm">Apertura</th>
              </tr>
            </thead>
            <tbody>
              {perfil.cuentas.map((cu) => (
                <tr key={cu.cuenta_id} data-testid={`perfil-cuenta-${cu.numero_cuenta}`}>
                  <td className="mono">{cu.numero_cuenta}</td>
                  <td className="hide-sm">{cu.tipo_cuenta_nombre ?? "—"}</td>
                  <td className="num">
                    <Money amount={cu.saldo} moneda={cu.moneda} />
                  </td>
                  <td className="num" data-testid="perfil-disponible">
                    <Money amount={cu.saldo_disponible ?? cu.saldo} moneda={cu.moneda} />
                    {cu.retenido && cu.retenido !== "0.00" ? (
                      <div className="cell-sub">
                        retenido <Money amount={cu.retenido} moneda={cu.moneda} />
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <Badge estado={cu.estado} />
                  </td>
                  <td className="hide-sm">{formatDate(cu.fecha_apertura)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h3 className="section-title">Transacciones recientes</h3>
      {perfil.transacciones_recientes.length === 0 ? (
        <Empty>Sin transacciones.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Transacciones recientes">
            <thead>
              <tr>
                <th>Fecha</th>
                <th>Transacción</th>
                <th>Tipo</th>
                <th className="hide-sm">Cuenta</th>
                <th className="num">Monto</th>
                <th>Estado</th>
                <th className="hide-sm" title="quien la pidió (o la canceló)">
                  Actor
                </th>
              </tr>
            </thead>
            <tbody>
              {perfil.transacciones_recientes.map((t, i) => (
                <tr key={t.id ?? i} data-testid={`perfil-trx-${t.transaccionId}`}>
                  <td>{formatDateTime(t.fecha)}</td>
                  <td className="mono">{t.transaccionId}</td>
                  <td>{tipoLabel(t.tipo)}</td>
                  <td className="hide-sm mono">
                    {t.numero_cuenta_origen && t.numero_cuenta_destino
                      ? `${t.numero_cuenta_origen} → ${t.numero_cuenta_destino}`
                      : (t.numero_cuenta ?? "—")}
                  </td>
                  <td className="num">
                    <Money amount={t.monto} moneda={t.moneda} />
                    {t.montoDestino && t.monedaDestino && t.monedaDestino !== t.moneda ? (
                      <div className="cell-sub">
                        → <Money amount={t.montoDestino} moneda={t.monedaDestino} />
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <EstadoConMotivo estado={t.estado} motivo={t.motivo} />
                    <EnlacesReversion t={t} />
                  </td>
                  <td className="hide-sm cell-sub">{actorLabel(t.actor)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function PerfilTab() {
  const route = useRoute();
  const clienteId = Number(route.params.get("cliente_id")) || undefined;
  const [q, setQ] = useState(route.params.get("q") ?? "");
  const [skip, setSkip] = useState(0);
  const query = useDebounced(q.trim(), 300);
  useEffect(() => setSkip(0), [query]);

  const resultados = useAsync(
    (signal) => (query ? buscarClientes(query, { skip, limit: PAGE }, signal) : Promise.resolve(undefined)),
    [query, skip],
  );
  const perfil = useAsync(
    (signal) => (clienteId ? perfilCompleto(clienteId, signal) : Promise.resolve(undefined)),
    [clienteId],
  );

  return (
    <section>
      <PageHeader
        title="Perfil 360°"
        subtitle="Vista consolidada del cliente: cuentas, saldos por moneda y actividad."
      />
      <div className="toolbar" role="search">
        <div className="field grow">
          <label htmlFor="perfil-q">Buscar cliente</label>
          <input
            id="perfil-q"
            type="search"
            placeholder="Nombre, email, documento o número de cuenta…"
            value={q}
            onChange={(e) => setQ(e.target.value)}
          />
        </div>
      </div>
      {resultados.error ? <ErrorState error={resultados.error} onRetry={resultados.reload} what="la búsqueda" /> : null}
      {query && resultados.loading && !resultados.data ? <Loading what="resultados" /> : null}
      {query && resultados.data ? (
        resultados.data.resultados.length === 0 ? (
          <Empty>Ningún cliente coincide con «{query}».</Empty>
        ) : (
          <div className="results">
            <ul className="result-list" aria-label="Resultados">
              {resultados.data.resultados.map((c) => (
                <li key={c.cliente_id} className={c.cliente_id === clienteId ? "active" : ""}>
                  <a href={routeHref("perfil", { q: query, cliente_id: c.cliente_id })}>
                    <span className="option-title">{clienteNombre(c)}</span>
                    <span className="option-sub">
                      #{c.cliente_id} · {c.email}
                      {c.documentos?.[0]
                        ? ` · ${c.documentos[0].tipo_documento} ${c.documentos[0].numero_documento}`
                        : ""}
                    </span>
                  </a>
                </li>
              ))}
            </ul>
            <Pagination
              skip={skip}
              limit={PAGE}
              total={resultados.data.total_resultados}
              count={resultados.data.resultados.length}
              onChange={setSkip}
            />
          </div>
        )
      ) : null}

      {clienteId ? (
        perfil.error ? (
          perfil.error instanceof ApiError && perfil.error.status === 404 ? (
            <Empty>
              El perfil del cliente #{clienteId} aún no está en la vista (o el cliente no existe). Si acaba de
              registrarse, espere unos segundos y{" "}
              <button type="button" className="btn btn-small btn-ghost" onClick={perfil.reload}>
                vuelva a intentar
              </button>
              .
            </Empty>
          ) : (
            <ErrorState error={perfil.error} onRetry={perfil.reload} what="el perfil" />
          )
        ) : perfil.data && perfil.data.perfil.cliente.cliente_id === clienteId ? (
          <Perfil perfil={perfil.data.perfil} freshness={perfil.data.freshness} onReload={perfil.reload} />
        ) : (
          <Loading what="el perfil" />
        )
      ) : !query ? (
        <Empty>Busque un cliente para ver su perfil.</Empty>
      ) : null}
    </section>
  );
}

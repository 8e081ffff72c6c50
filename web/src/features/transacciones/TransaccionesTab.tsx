// Transacciones tab: a new operation with its saga result, and the newest transactions first, filterable.
import { useState } from "react";
import { getCuenta } from "../../api/cuentas";
import { listTransacciones } from "../../api/transacciones";
import {
  ESTADOS_TRANSACCION,
  TIPOS_TRANSACCION,
  type Cuenta,
  type EstadoTransaccion,
  type TipoTransaccion,
  type Transaccion,
} from "../../api/types";
import { useSession } from "../../auth/SessionContext";
import { CuentaPicker, type CuentaOption } from "../../components/pickers";
import { PagedTable } from "../../components/PagedTable";
import { Alert, Badge, Empty, EstadoConMotivo, Loading, Money, PageHeader } from "../../components/ui";
import { actorLabel, estadoLabel, formatDateTime, splitMotivo, tipoLabel } from "../../lib/format";
import { useAsync, useRoute } from "../../lib/hooks";
import { TransaccionForm, type Fase, type Resultado } from "./TransaccionForm";

const PAGE = 20;

function Motivo({ motivo }: { motivo: string | null | undefined }) {
  const { code, text } = splitMotivo(motivo);
  return (
    <p className="result-motivo" data-testid="resultado-motivo">
      Motivo: {text} {code ? <span className="code-chip">{code}</span> : null}
    </p>
  );
}

function ResultadoCard({ r }: { r: Resultado }) {
  const t = r.transaccion;
  const kind = t.estado === "COMPLETADA" ? "success" : t.estado === "FALLIDA" ? "error" : "warning";
  return (
    <div className={`result result-${kind}`} data-testid="resultado" aria-live="polite">
      <div className="result-head">
        <Badge estado={t.estado} />
        <span className="result-title">
          {tipoLabel(t.tipo)} de <Money amount={t.monto} moneda={t.moneda} />
        </span>
      </div>
      <div className="result-id mono" data-testid="resultado-id">
        {t.transaccionId}
      </div>
      {t.actor ? (
        <p className="cell-sub" data-testid="resultado-actor">
          Solicitada por {actorLabel(t.actor)}
        </p>
      ) : null}
      {t.estado === "FALLIDA" ? (
        <>
          <p className="result-refused" data-testid="resultado-rechazo">
            Operación rechazada: los saldos quedan como estaban.
          </p>
          <Motivo motivo={t.motivo} />
        </>
      ) : null}
      {r.pendiente ? <p>La operación sigue en proceso; su estado final aparecerá en la lista.</p> : null}
      {r.saldos.length > 0 ? (
        <table className="table compact" aria-label="Saldos">
          <thead>
            <tr>
              <th>Cuenta</th>
              <th className="num">Antes</th>
              <th className="num">Después</th>
            </tr>
          </thead>
          <tbody>
            {r.saldos.map((s) => (
              <tr key={s.rol} data-testid={`saldo-${s.cuenta.numero_cuenta}`}>
                <td>
                  <div className="cell-sub">{s.rol}</div>
                  <span className="mono">{s.cuenta.numero_cuenta}</span>
                </td>
                <td className="num" data-testid="antes">
                  <Money amount={s.antes} moneda={s.cuenta.moneda} />
                </td>
                <td className="num strong" data-testid="despues" title={s.despues ? undefined : "cuentas no respondió"}>
                  <Money amount={s.despues} moneda={s.cuenta.moneda} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function Cuentas({ t }: { t: Transaccion }) {
  if (t.cuentaOrigenId && t.cuentaDestinoId)
    return (
      <>
        #{t.cuentaOrigenId} → #{t.cuentaDestinoId}
      </>
    );
  if (t.cuentaOrigenId) return <>desde #{t.cuentaOrigenId}</>;
  if (t.cuentaDestinoId) return <>a #{t.cuentaDestinoId}</>;
  return <>—</>;
}

export function TransaccionesTab() {
  const route = useRoute();
  const presetId = Number(route.params.get("cuenta")) || undefined;
  const preset = useAsync<Cuenta | null>(
    (signal) => (presetId ? getCuenta(presetId, signal) : Promise.resolve(null)),
    [presetId],
  );
  const [fase, setFase] = useState<Fase>({ kind: "idle" });
  const [resultado, setResultado] = useState<Resultado | null>(null);

  const { can } = useSession();
  const puedeOperar = can("transacciones.operar") || can("transacciones.transferir");
  const [tipo, setTipo] = useState<TipoTransaccion | "">("");
  const [estado, setEstado] = useState<EstadoTransaccion | "">("");
  const [cuenta, setCuenta] = useState<CuentaOption | null>(null);
  const [desde, setDesde] = useState("");
  const [hasta, setHasta] = useState("");
  const [skip, setSkip] = useState(0);
  const page = useAsync(
    (signal) =>
      listTransacciones(
        {
          skip,
          limit: PAGE,
          tipo,
          estado,
          cuenta_id: cuenta?.cuenta_id,
          desde: desde ? new Date(`${desde}T00:00:00`).toISOString() : undefined,
          hasta: hasta ? new Date(`${hasta}T23:59:59.999`).toISOString() : undefined,
        },
        signal,
      ),
    [skip, tipo, estado, cuenta?.cuenta_id, desde, hasta],
  );

  const resetPage = () => setSkip(0);

  return (
    <section>
      <PageHeader
        title="Transacciones"
        subtitle="Depósitos, retiros, pagos de servicio y transferencias entre cuentas."
      />
      {puedeOperar ? (
        <div className="split">
          <div className="card">
            <h2 className="card-title">Nueva operación</h2>
            <TransaccionForm
              preset={preset.data}
              onFase={(f) => {
                setFase(f);
                if (f.kind !== "idle") setResultado(null);
              }}
              onResultado={(r) => {
                setResultado(r);
                setFase({ kind: "idle" });
                page.reload();
              }}
            />
          </div>
          <div className="card">
            <h2 className="card-title">Resultado</h2>
            {fase.kind === "enviando" ? <Loading what="la operación" /> : null}
            {fase.kind === "procesando" ? (
              <Alert kind="info" title="Procesando">
                <span className="spinner" aria-hidden="true" /> {fase.transaccion.transaccionId}: esperando a que las
                cuentas confirmen el movimiento…
              </Alert>
            ) : null}
            {resultado ? <ResultadoCard r={resultado} /> : null}
            {fase.kind === "idle" && !resultado ? <Empty>El resultado de la operación aparecerá aquí.</Empty> : null}
          </div>
        </div>
      ) : (
        <Alert kind="info" title="Solo consulta">
          Su rol puede consultar el historial, pero no registrar operaciones.
        </Alert>
      )}

      <h2 className="section-title">Historial</h2>
      <div className="toolbar" role="search">
        <div className="field">
          <label htmlFor="trx-tipo">Tipo</label>
          <select
            id="trx-tipo"
            value={tipo}
            onChange={(e) => (setTipo(e.target.value as TipoTransaccion | ""), resetPage())}
          >
            <option value="">Todos</option>
            {TIPOS_TRANSACCION.map((t) => (
              <option key={t} value={t}>
                {tipoLabel(t)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="trx-estado">Estado</label>
          <select
            id="trx-estado"
            value={estado}
            onChange={(e) => (setEstado(e.target.value as EstadoTransaccion | ""), resetPage())}
          >
            <option value="">Todos</option>
            {ESTADOS_TRANSACCION.map((t) => (
              <option key={t} value={t}>
                {estadoLabel(t)}
              </option>
            ))}
          </select>
        </div>
        <div className="grow">
          <CuentaPicker
            label="Cuenta"
            name="filtro_cuenta"
            value={cuenta}
            onChange={(c) => (setCuenta(c), resetPage())}
          />
        </div>
        <div className="field">
          <label htmlFor="trx-desde">Desde</label>
          <input id="trx-desde" type="date" value={desde} onChange={(e) => (setDesde(e.target.value), resetPage())} />
        </div>
        <div className="field">
          <label htmlFor="trx-hasta">Hasta</label>
          <input id="trx-hasta" type="date" value={hasta} onChange={(e) => (setHasta(e.target.value), resetPage())} />
        </div>
        <div className="field field-button">
          <button type="button" className="btn btn-ghost" onClick={page.reload}>
            Actualizar
          </button>
        </div>
      </div>
      <PagedTable
        page={page}
        what="las transacciones"
        whatLoading="transacciones"
        empty={"No hay transacciones con estos filtros."}
        label="Transacciones"
        head={
          <>
            <th>Fecha</th>
            <th>Transacción</th>
            <th>Tipo</th>
            <th className="hide-sm">Cuentas</th>
            <th className="num">Monto</th>
            <th>Estado</th>
            <th className="hide-sm">Solicitada por</th>
          </>
        }
        row={(t) => (
          <tr key={t.id} data-testid={`trx-${t.transaccionId}`}>
            <td>{formatDateTime(t.fecha)}</td>
            <td>
              <div className="mono cell-title">{t.transaccionId}</div>
              {t.descripcion ? <div className="cell-sub">{t.descripcion}</div> : null}
            </td>
            <td>{tipoLabel(t.tipo)}</td>
            <td className="hide-sm">
              <Cuentas t={t} />
            </td>
            <td className="num">
              <Money amount={t.monto} moneda={t.moneda} />
            </td>
            <td>
              <EstadoConMotivo estado={t.estado} motivo={t.motivo} />
              {t.canceladaPor ? <div className="cell-sub">por {actorLabel(t.canceladaPor)}</div> : null}
            </td>
            <td className="hide-sm cell-sub" data-testid="trx-actor">
              {actorLabel(t.actor)}
            </td>
          </tr>
        )}
        skip={skip}
        limit={PAGE}
        onSkip={setSkip}
      />
    </section>
  );
}

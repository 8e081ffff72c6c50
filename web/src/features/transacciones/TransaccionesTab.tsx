// Transacciones tab: a new operation with its saga result, and the newest transactions first, filterable.
import { useState } from "react";
import { getCuenta } from "../../api/cuentas";
import { esReversible, listTransacciones, revertirTransaccion, waitForFinal } from "../../api/transacciones";
import {
  ESTADOS_TRANSACCION,
  TIPOS_TRANSACCION,
  type Cuenta,
  type EstadoTransaccion,
  type TipoTransaccion,
  type Transaccion,
} from "../../api/types";
import { useSession } from "../../auth/SessionContext";
import { Confirm } from "../../components/Confirm";
import { useToast } from "../../components/toast";
import { useIdempotencyKey } from "../../lib/useIdempotencyKey";
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

/** "reversión de …" / "revertida por …": the links between a transaction and its reversal. */
export function EnlacesReversion({ t }: { t: Pick<Transaccion, "reversionDe" | "revertidaPor"> }) {
  return (
    <>
      {t.reversionDe ? (
        <div className="cell-sub" data-testid="reversion-de">
          reversión de <span className="mono">{t.reversionDe}</span>
        </div>
      ) : null}
      {t.revertidaPor ? (
        <div className="cell-sub" data-testid="revertida-por">
          revertida por <span className="mono">{t.revertidaPor}</span>
        </div>
      ) : null}
    </>
  );
}

/** Origin and destination amounts of an FX transfer ("100.00 USD → 372.50 PEN"). */
function MontoDestino({ t }: { t: Transaccion }) {
  if (!t.montoDestino || !t.monedaDestino || t.monedaDestino === t.moneda) return null;
  return (
    <div className="cell-sub" data-testid="monto-destino">
      → <Money amount={t.montoDestino} moneda={t.monedaDestino} />
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
  const toast = useToast();
  const puedeOperar = can("transacciones.operar") || can("transacciones.transferir");
  const puedeRevertir = can("transacciones.revertir");
  const [revertir, setRevertir] = useState<Transaccion | null>(null);
  const reversionKeys = useIdempotencyKey();
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
            {puedeRevertir ? <th className="actions-col">Acciones</th> : null}
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
              <MontoDestino t={t} />
            </td>
            <td>
              <EstadoConMotivo estado={t.estado} motivo={t.motivo} />
              {t.canceladaPor ? <div className="cell-sub">por {actorLabel(t.canceladaPor)}</div> : null}
              <EnlacesReversion t={t} />
            </td>
            <td className="hide-sm cell-sub" data-testid="trx-actor">
              {actorLabel(t.actor)}
            </td>
            {puedeRevertir ? (
              <td className="actions">
                {esReversible(t) ? (
                  <button type="button" className="btn btn-small btn-warn" onClick={() => setRevertir(t)}>
                    Revertir
                  </button>
                ) : null}
              </td>
            ) : null}
          </tr>
        )}
        skip={skip}
        limit={PAGE}
        onSkip={setSkip}
      />
      {revertir ? (
        <Confirm
          title={`Revertir ${revertir.transaccionId}`}
          confirmLabel="Revertir"
          danger
          onClose={() => setRevertir(null)}
          onConfirm={async () => {
            const key = reversionKeys.keyFor({ reversion: revertir.id });
            const sent = await revertirTransaccion(revertir.id, key);
            reversionKeys.settle(key);
            const final = sent.final ? sent.transaccion : await waitForFinal(sent.pollId);
            if (final.estado === "COMPLETADA")
              toast("success", `${revertir.transaccionId} revertida por ${final.transaccionId}.`);
            else if (final.estado === "FALLIDA")
              toast(
                "error",
                `La reversión de ${revertir.transaccionId} fue rechazada: ${final.motivo ?? "sin motivo"}.`,
              );
            else toast("info", `La reversión ${final.transaccionId} sigue en proceso.`);
            page.reload();
          }}
        >
          <p>
            Se creará una transacción espejo que devuelve <Money amount={revertir.monto} moneda={revertir.moneda} /> (
            {tipoLabel(revertir.tipo)} {revertir.transaccionId}). La original queda registrada y enlazada; una
            transacción solo se revierte una vez.
          </p>
        </Confirm>
      ) : null}
    </section>
  );
}

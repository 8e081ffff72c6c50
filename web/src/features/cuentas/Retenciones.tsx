// An account's holds (retenciones): booked vs available balance, the holds with estado and vence, and for tellers
// the actions: create a hold, capture it (all or part; the rest is released) and void it.
import { useState, type FormEvent } from "react";
import { capturarRetencion, createRetencion, getCuenta, liberarRetencion, listRetenciones } from "../../api/cuentas";
import { formErrorsFrom } from "../../api/http";
import type { Cuenta, Retencion } from "../../api/types";
import { useSession } from "../../auth/SessionContext";
import { requiredRoles } from "../../auth/roles";
import { Confirm } from "../../components/Confirm";
import { useToast } from "../../components/toast";
import { Alert, Badge, Empty, ErrorState, Loading, Money, TextField } from "../../components/ui";
import { compareAmounts, fromCents, parseAmount, toCents } from "../../lib/decimal";
import { formatDateTime } from "../../lib/format";
import { useAsync } from "../../lib/hooks";
import { useIdempotencyKey } from "../../lib/useIdempotencyKey";

type Accion = { kind: "capturar"; r: Retencion } | { kind: "liberar"; r: Retencion };

/** What is held: `retenido` when the answer has it, else saldo − saldo_disponible (cuentas sends only the latter). */
export function retenidoDe(cuenta: Pick<Cuenta, "saldo" | "saldo_disponible" | "retenido">): string {
  if (cuenta.retenido) return cuenta.retenido;
  if (!cuenta.saldo_disponible) return "0.00";
  try {
    return fromCents(toCents(cuenta.saldo) - toCents(cuenta.saldo_disponible));
  } catch {
    return "0.00";
  }
}

/** Booked balance, held amount and available balance, side by side. */
export function SaldosCuenta({ cuenta }: { cuenta: Cuenta }) {
  return (
    <dl className="kpis" data-testid="saldos-cuenta">
      <div>
        <dt>Saldo contable</dt>
        <dd data-testid="saldo-contable">
          <Money amount={cuenta.saldo} moneda={cuenta.moneda} />
        </dd>
      </div>
      <div>
        <dt>Retenido</dt>
        <dd data-testid="saldo-retenido">
          <Money amount={retenidoDe(cuenta)} moneda={cuenta.moneda} />
        </dd>
      </div>
      <div>
        <dt>Disponible</dt>
        <dd data-testid="saldo-disponible">
          <Money amount={cuenta.saldo_disponible ?? cuenta.saldo} moneda={cuenta.moneda} />
        </dd>
      </div>
    </dl>
  );
}

/** The default expiry offered for a new hold: seven days from now, as a datetime-local value. */
function enSieteDias(): string {
  const d = new Date(Date.now() + 7 * 24 * 3600 * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function NuevaRetencion({ cuenta, onSaved }: { cuenta: Cuenta; onSaved: (r: Retencion) => void }) {
  const [monto, setMonto] = useState("");
  const [vence, setVence] = useState(enSieteDias);
  const [referencia, setReferencia] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const keys = useIdempotencyKey();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseAmount(monto);
    const found: Record<string, string> = {};
    if (!parsed.ok) found.monto = parsed.error;
    else if (cuenta.saldo_disponible && compareAmounts(parsed.value, cuenta.saldo_disponible) > 0)
      found.monto = "El monto supera el saldo disponible.";
    const when = new Date(vence);
    if (!vence || Number.isNaN(when.getTime())) found.vence = "Ingrese la fecha de vencimiento.";
    else if (when.getTime() <= Date.now()) found.vence = "El vencimiento debe ser futuro.";
    setErrors(found);
    if (Object.keys(found).length > 0 || !parsed.ok) return;
    const body = {
      monto: parsed.value,
      vence: when.toISOString(),
      ...(referencia.trim() ? { referencia: referencia.trim() } : {}),
    };
    const key = keys.keyFor({ cuenta_id: cuenta.cuenta_id, ...body });
    setBusy(true);
    try {
      const r = await createRetencion(cuenta.cuenta_id, body, key);
      keys.settle(key);
      setMonto("");
      setReferencia("");
      onSaved(r);
    } catch (err) {
      const { fields, banner } = formErrorsFrom(err);
      setErrors(banner ? { ...fields, _: banner } : fields);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form-inline" onSubmit={submit} aria-label="Nueva retención" noValidate>
      <TextField
        label="Monto"
        name="monto"
        value={monto}
        onChange={(e) => setMonto(e.target.value)}
        error={errors.monto}
        inputMode="decimal"
      />
      <TextField
        label="Vence"
        name="vence"
        type="datetime-local"
        value={vence}
        onChange={(e) => setVence(e.target.value)}
        error={errors.vence}
      />
      <TextField
        label="Referencia"
        name="referencia"
        value={referencia}
        maxLength={100}
        onChange={(e) => setReferencia(e.target.value)}
        error={errors.referencia}
      />
      {errors._ ? <Alert kind="error">{errors._}</Alert> : null}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Reteniendo…" : "Retener"}
        </button>
      </div>
    </form>
  );
}

export function Retenciones({ cuenta: inicial, onChanged }: { cuenta: Cuenta; onChanged?: () => void }) {
  const toast = useToast();
  const { can } = useSession();
  const operar = can("cuentas.retener");
  const title = operar ? undefined : requiredRoles("cuentas.retener");
  const id = inicial.cuenta_id;
  const cuenta = useAsync((signal) => getCuenta(id, signal), [id]);
  const holds = useAsync((signal) => listRetenciones(id, signal), [id]);
  const [accion, setAccion] = useState<Accion | null>(null);
  const [montoCaptura, setMontoCaptura] = useState("");
  const keys = useIdempotencyKey();
  const actual = cuenta.data ?? inicial;

  const refresh = () => {
    cuenta.reload();
    holds.reload();
    onChanged?.();
  };

  return (
    <div data-testid="retenciones">
      <SaldosCuenta cuenta={actual} />
      {operar ? (
        <NuevaRetencion
          cuenta={actual}
          onSaved={(r) => {
            toast("success", `Retención #${r.retencion_id} creada.`);
            refresh();
          }}
        />
      ) : null}
      {holds.error ? <ErrorState error={holds.error} what="las retenciones" onRetry={holds.reload} /> : null}
      {holds.loading && !holds.data ? <Loading what="retenciones" /> : null}
      {holds.data && holds.data.length === 0 ? <Empty>Esta cuenta no tiene retenciones.</Empty> : null}
      {holds.data && holds.data.length > 0 ? (
        <table className="table compact" aria-label="Retenciones">
          <thead>
            <tr>
              <th>Retención</th>
              <th className="num">Monto</th>
              <th>Estado</th>
              <th>Vence</th>
              <th className="num">Capturado</th>
              <th className="actions-col">Acciones</th>
            </tr>
          </thead>
          <tbody>
            {holds.data.map((r) => (
              <tr key={r.retencion_id} data-testid={`retencion-${r.retencion_id}`}>
                <td>
                  <div className="mono">#{r.retencion_id}</div>
                  {r.referencia ? <div className="cell-sub">{r.referencia}</div> : null}
                </td>
                <td className="num">
                  <Money amount={r.monto} moneda={r.moneda} />
                </td>
                <td>
                  <Badge estado={r.estado} />
                </td>
                <td>{formatDateTime(r.vence)}</td>
                <td className="num">
                  {r.monto_capturado ? <Money amount={r.monto_capturado} moneda={r.moneda} /> : "—"}
                </td>
                <td className="actions">
                  {r.estado === "ACTIVA" ? (
                    <>
                      <button
                        type="button"
                        className="btn btn-small btn-ghost"
                        disabled={!operar}
                        title={title}
                        onClick={() => (setMontoCaptura(""), setAccion({ kind: "capturar", r }))}
                      >
                        Capturar
                      </button>
                      <button
                        type="button"
                        className="btn btn-small btn-danger-ghost"
                        disabled={!operar}
                        title={title}
                        onClick={() => setAccion({ kind: "liberar", r })}
                      >
                        Liberar
                      </button>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      {accion?.kind === "capturar" ? (
        <Confirm
          title={`Capturar la retención #${accion.r.retencion_id}`}
          confirmLabel="Capturar"
          onClose={() => setAccion(null)}
          onConfirm={async () => {
            let monto: string | undefined;
            if (montoCaptura.trim()) {
              const parsed = parseAmount(montoCaptura);
              if (!parsed.ok) throw new Error(parsed.error);
              if (compareAmounts(parsed.value, accion.r.monto) > 0) throw new Error("El monto supera la retención.");
              monto = parsed.value;
            }
            const key = keys.keyFor({ retencion_id: accion.r.retencion_id, accion: "captura", monto });
            await capturarRetencion(id, accion.r.retencion_id, monto, key);
            keys.settle(key);
            toast("success", `Retención #${accion.r.retencion_id} capturada.`);
            refresh();
          }}
        >
          <p>
            Se debitará de la cuenta hasta <Money amount={accion.r.monto} moneda={accion.r.moneda} />; lo que no se
            capture vuelve a estar disponible.
          </p>
          <TextField
            label="Monto a capturar (vacío: todo)"
            name="monto_captura"
            value={montoCaptura}
            inputMode="decimal"
            onChange={(e) => setMontoCaptura(e.target.value)}
          />
        </Confirm>
      ) : null}
      {accion?.kind === "liberar" ? (
        <Confirm
          title={`Liberar la retención #${accion.r.retencion_id}`}
          confirmLabel="Liberar"
          danger
          onClose={() => setAccion(null)}
          onConfirm={async () => {
            const key = keys.keyFor({ retencion_id: accion.r.retencion_id, accion: "liberacion" });
            await liberarRetencion(id, accion.r.retencion_id, key);
            keys.settle(key);
            toast("success", `Retención #${accion.r.retencion_id} liberada.`);
            refresh();
          }}
        >
          <p>
            <Money amount={accion.r.monto} moneda={accion.r.moneda} /> volverán a estar disponibles sin mover dinero.
          </p>
        </Confirm>
      ) : null}
    </div>
  );
}

// Deposit, withdrawal, service payment or transfer: only the fields each type needs, then the saga's result.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { createCotizacion, getTiposCambio, segundosRestantes } from "../../api/cambio";
import { getCuenta } from "../../api/cuentas";
import { formErrorsFrom } from "../../api/http";
import { createTransaccion, isFinal, waitForFinal } from "../../api/transacciones";
import {
  TIPOS_TRANSACCION,
  type Cotizacion,
  type Cuenta,
  type TipoTransaccion,
  type Transaccion,
  type TransaccionCreate,
} from "../../api/types";
import { useSession } from "../../auth/SessionContext";
import { type Action, requiredRoles } from "../../auth/roles";
import { CuentaPicker, type CuentaOption } from "../../components/pickers";
import { Alert, TextField } from "../../components/ui";
import { compareAmounts } from "../../lib/decimal";
import { formatMoney, tipoLabel } from "../../lib/format";
import { useAsync } from "../../lib/hooks";
import { useIdempotencyKey } from "../../lib/useIdempotencyKey";
import { cuentasRequeridas, monedaDe, validateTransaccion, type Errors } from "../../lib/validation";
import { CotizacionPanel, useSegundosRestantes } from "./Cotizacion";

/** One account's balance around the operation, so staff see the money move. */
export interface SaldoCambio {
  cuenta: Cuenta;
  rol: "Origen" | "Destino";
  antes: string;
  despues?: string;
}

export interface Resultado {
  transaccion: Transaccion;
  saldos: SaldoCambio[];
  /** The saga did not finish within the wait: the state shown is PENDIENTE. */
  pendiente: boolean;
}

export type Fase = { kind: "idle" } | { kind: "enviando" } | { kind: "procesando"; transaccion: Transaccion };

/**
 * The account as cuentas sees it now, or undefined if it cannot say: a balance shown next to a money
 * movement must come from the source of truth, so a brief hiccup (a restarting instance) is retried.
 */
async function readCuenta(id: number): Promise<Cuenta | undefined> {
  // 0.3 + 0.6 + 1.2 + 2.4 s: rides over an instance leaving the balancer, gives up before staff wonder.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await getCuenta(id);
    } catch {
      if (attempt < 4) await new Promise((r) => setTimeout(r, 300 * 2 ** attempt));
    }
  }
  return undefined;
}

/** How long the form waits for the saga before showing PENDIENTE, and how long it keeps watching after. */
const FIRST_WAIT_MS = 30_000;
const LONG_WAIT_MS = 120_000;

export function buildBody(
  tipo: TipoTransaccion,
  monto: string,
  origen: Cuenta | null,
  destino: Cuenta | null,
  descripcion: string,
  servicio: string,
): TransaccionCreate | undefined {
  const need = cuentasRequeridas(tipo);
  const moneda = monedaDe({ tipo, origen, destino });
  if (!moneda) return undefined;
  const body: TransaccionCreate = { tipo, monto, moneda };
  if (need.origen && origen) body.cuentaOrigenId = origen.cuenta_id;
  if (need.destino && destino) body.cuentaDestinoId = destino.cuenta_id;
  const desc =
    descripcion.trim() || (tipo === "PAGO_SERVICIO" && servicio.trim() ? `Pago de servicio: ${servicio.trim()}` : "");
  if (desc) body.descripcion = desc;
  if (tipo === "PAGO_SERVICIO" && servicio.trim()) body.metadata = { servicio: servicio.trim() };
  return body;
}

/** The role-table entry a type falls under: transfers are operaciones' business, the rest the tellers'. */
export function accionDe(tipo: TipoTransaccion): Action {
  return tipo === "TRANSFERENCIA" ? "transacciones.transferir" : "transacciones.operar";
}

export function TransaccionForm({
  preset,
  onFase,
  onResultado,
}: {
  preset?: Cuenta | null;
  onFase: (f: Fase) => void;
  onResultado: (r: Resultado) => void;
}) {
  const { can } = useSession();
  const permitido = (t: TipoTransaccion) => can(accionDe(t));
  const [tipo, setTipo] = useState<TipoTransaccion>(() => TIPOS_TRANSACCION.find(permitido) ?? "DEPOSITO");
  const [origen, setOrigen] = useState<CuentaOption | null>(null);
  const [destino, setDestino] = useState<CuentaOption | null>(null);
  const [monto, setMonto] = useState("");
  const [descripcion, setDescripcion] = useState("");
  const [servicio, setServicio] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [banner, setBanner] = useState<string>();
  const [busy, setBusy] = useState(false);
  // FX: offered only where the rate table answers (null: this deployment has no FX; an error: treat it the same).
  const tiposCambio = useAsync((signal) => getTiposCambio(signal).catch(() => null), []);
  const fx = Array.isArray(tiposCambio.data);
  const [cotizacion, setCotizacion] = useState<Cotizacion | null>(null);
  const restantes = useSegundosRestantes(cotizacion?.vence);
  // Same body retried (e.g. after a network error) → same key → the service answers the original result.
  const idem = useIdempotencyKey();
  const runs = useRef(0);
  // Aborted when the form goes away, so no poll outlives the tab.
  const polling = useRef<AbortController | null>(null);
  useEffect(() => {
    polling.current = new AbortController();
    return () => polling.current?.abort();
  }, []);

  useEffect(() => {
    if (preset) {
      setOrigen(preset);
      setDestino(preset);
    }
  }, [preset]);

  const need = cuentasRequeridas(tipo);
  const moneda = monedaDe({ tipo, origen, destino });
  const cambio = fx && tipo === "TRANSFERENCIA" && !!origen && !!destino && origen.moneda !== destino.moneda;
  // A quote is for one origin, destination and amount: any change drops it.
  useEffect(() => setCotizacion(null), [tipo, origen?.cuenta_id, destino?.cuenta_id, monto]);

  const changeTipo = (t: TipoTransaccion) => {
    setTipo(t);
    setErrors({});
    setBanner(undefined);
    if (t === "TRANSFERENCIA" && origen && destino && origen.cuenta_id === destino.cuenta_id) setDestino(null);
  };

  // A transfer beyond the balance is the saga's to refuse (it answers FALLIDA with its motivo);
  // the form only warns, so staff can still see the refusal recorded.
  const excede =
    need.origen && origen && /^\d+(\.\d{1,2})?$/.test(monto.trim()) && compareAmounts(monto.trim(), origen.saldo) > 0
      ? `Supera el saldo disponible (${formatMoney(origen.saldo, origen.moneda)}).`
      : undefined;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBanner(undefined);
    const { errors: found, monto: canonical } = validateTransaccion({ tipo, monto, origen, destino, descripcion, fx });
    if (tipo === "PAGO_SERVICIO" && !servicio.trim() && !descripcion.trim())
      found.servicio = "Indique el servicio que se paga.";
    setErrors(found);
    if (Object.keys(found).length > 0 || !canonical) return;
    const body = buildBody(tipo, canonical, origen, destino, descripcion, servicio);
    if (!body) return;
    if (cambio && origen && destino) {
      // Between currencies: first a quote for staff to see; the transfer is sent only at a live quote.
      if (!cotizacion || segundosRestantes(cotizacion.vence) === 0) {
        setBusy(true);
        try {
          setCotizacion(
            await createCotizacion({
              cuentaOrigenId: origen.cuenta_id,
              cuentaDestinoId: destino.cuenta_id,
              monto: canonical,
            }),
          );
        } catch (err) {
          const { fields, banner: b } = formErrorsFrom(err, { monto: ["monto"] });
          setErrors(fields);
          setBanner(b);
        } finally {
          setBusy(false);
        }
        return;
      }
      body.cotizacionId = cotizacion.cotizacionId;
    }
    const key = idem.keyFor(body);

    setBusy(true);
    runs.current += 1; // a background wait for an earlier operation must not overwrite this one's result
    onFase({ kind: "enviando" });
    try {
      const involved: { cuenta: Cuenta; rol: SaldoCambio["rol"] }[] = [];
      if (need.origen && origen) involved.push({ cuenta: origen, rol: "Origen" });
      if (need.destino && destino) involved.push({ cuenta: destino, rol: "Destino" });
      // Balances just before, read fresh (the picker's copy may be minutes old).
      const antes = await Promise.all(
        involved.map(async (i) => ({ ...i, cuenta: (await readCuenta(i.cuenta.cuenta_id)) ?? i.cuenta })),
      );

      const sent = await createTransaccion(body, key);
      let trx = sent.transaccion;
      if (!sent.final) {
        onFase({ kind: "procesando", transaccion: trx });
        trx = await waitForFinal(sent.pollId, { deadlineMs: FIRST_WAIT_MS, signal: polling.current?.signal });
      }
      const report = async (t: Transaccion) => {
        const saldos: SaldoCambio[] = await Promise.all(
          antes.map(async (i) => {
            const after = await readCuenta(i.cuenta.cuenta_id);
            return { cuenta: after ?? i.cuenta, rol: i.rol, antes: i.cuenta.saldo, despues: after?.saldo };
          }),
        );
        const pendiente = t.estado === "PENDIENTE";
        onResultado({ transaccion: t, saldos, pendiente });
        if (pendiente) return;
        idem.settle(key);
        // Keep the pickers' balances current for the next operation.
        for (const s of saldos) {
          setOrigen((o) => (o && o.cuenta_id === s.cuenta.cuenta_id ? { ...o, ...s.cuenta } : o));
          setDestino((d) => (d && d.cuenta_id === s.cuenta.cuenta_id ? { ...d, ...s.cuenta } : d));
        }
      };
      await report(trx);
      if (trx.estado === "PENDIENTE") {
        // A slow saga (a busy cuentas) is not an error: free the form, keep watching, and show the final
        // state when it comes, unless staff have started another operation meanwhile.
        const run = ++runs.current;
        void waitForFinal(sent.pollId, { deadlineMs: LONG_WAIT_MS, signal: polling.current?.signal })
          .then(async (t) => {
            if (runs.current === run && isFinal(t.estado)) await report(t);
          })
          .catch(() => undefined);
      } else {
        setMonto("");
      }
    } catch (err) {
      const { fields, banner: b } = formErrorsFrom(err, {
        cuentaOrigenId: ["origen"],
        cuentaDestinoId: ["destino"],
        monto: ["monto"],
      });
      setErrors(fields);
      setBanner(b);
      onFase({ kind: "idle" });
      setCotizacion(null); // refused at this quote (e.g. it expired on the way): the next click asks for a new one
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Nueva operación">
      <div className="segmented" role="radiogroup" aria-label="Tipo de operación">
        {TIPOS_TRANSACCION.map((t) => (
          <button
            key={t}
            type="button"
            role="radio"
            aria-checked={tipo === t}
            className={tipo === t ? "active" : ""}
            disabled={!permitido(t)}
            title={permitido(t) ? undefined : requiredRoles(accionDe(t))}
            onClick={() => changeTipo(t)}
          >
            {tipoLabel(t)}
          </button>
        ))}
      </div>
      {banner ? <Alert kind="error">{banner}</Alert> : null}
      {need.origen ? (
        <CuentaPicker
          label={tipo === "TRANSFERENCIA" ? "Cuenta de origen" : "Cuenta a debitar"}
          name="cuentaOrigenId"
          value={origen}
          onChange={setOrigen}
          error={errors.cuentaOrigenId}
        />
      ) : null}
      {need.destino ? (
        <CuentaPicker
          label={tipo === "TRANSFERENCIA" ? "Cuenta de destino" : "Cuenta a acreditar"}
          name="cuentaDestinoId"
          value={destino}
          onChange={setDestino}
          error={errors.cuentaDestinoId}
        />
      ) : null}
      {tipo === "PAGO_SERVICIO" ? (
        <TextField
          label="Servicio"
          name="servicio"
          placeholder="Empresa y código de suministro"
          value={servicio}
          onChange={(e) => setServicio(e.target.value)}
          error={errors.servicio}
          maxLength={100}
        />
      ) : null}
      <div className="grid-2">
        <TextField
          label={`Monto${moneda ? ` (${moneda})` : ""}`}
          name="monto"
          inputMode="decimal"
          placeholder="0.00"
          value={monto}
          onChange={(e) => setMonto(e.target.value)}
          error={errors.monto}
          hint={excede ?? "Hasta 2 decimales, con punto."}
          autoComplete="off"
        />
        <TextField
          label="Descripción"
          name="descripcion"
          value={descripcion}
          onChange={(e) => setDescripcion(e.target.value)}
          error={errors.descripcion}
          maxLength={500}
          hint="Opcional"
        />
      </div>
      {cambio && cotizacion ? <CotizacionPanel cotizacion={cotizacion} restantes={restantes} /> : null}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy
            ? "Procesando…"
            : cambio
              ? !cotizacion
                ? "Cotizar cambio"
                : restantes > 0
                  ? "Confirmar transferencia"
                  : "Nueva cotización"
              : `Registrar ${tipoLabel(tipo).toLowerCase()}`}
        </button>
      </div>
    </form>
  );
}

// Cuentas tab: accounts filtered by cliente/estado/moneda; open, block/unblock, close; the statement.
import { useState } from "react";
import { getCliente } from "../../api/clientes";
import { listCuentas, setEstadoCuenta } from "../../api/cuentas";
import { ESTADOS_CUENTA, MONEDAS, type Cliente, type Cuenta, type EstadoCuenta, type Moneda } from "../../api/types";
import { useSession } from "../../auth/SessionContext";
import { requiredRoles } from "../../auth/roles";
import { Confirm } from "../../components/Confirm";
import { ClientePicker } from "../../components/pickers";
import { useToast } from "../../components/toast";
import { PagedTable } from "../../components/PagedTable";
import { Badge, ErrorState, Modal, Money, PageHeader } from "../../components/ui";
import { toCents } from "../../lib/decimal";
import { estadoLabel, formatDate } from "../../lib/format";
import { routeHref, useAsync, useRoute } from "../../lib/hooks";
import { useIdempotencyKey } from "../../lib/useIdempotencyKey";
import { AbrirCuentaForm } from "./AbrirCuentaForm";
import { Extracto } from "./Extracto";
import { Retenciones, retenidoDe } from "./Retenciones";

const PAGE = 20;

type Dialog =
  | { kind: "abrir" }
  | { kind: "extracto"; cuenta: Cuenta }
  | { kind: "retenciones"; cuenta: Cuenta }
  | { kind: "estado"; cuenta: Cuenta; estado: EstadoCuenta };

function saldoCero(c: Cuenta): boolean {
  try {
    return toCents(c.saldo) === 0n;
  } catch {
    return false;
  }
}

function toCentsOr0(value: string): bigint {
  try {
    return toCents(value);
  } catch {
    return 0n;
  }
}

export function CuentasTab() {
  const toast = useToast();
  const { can } = useSession();
  const abrir = can("cuentas.abrir");
  const cambiarEstado = can("cuentas.estado");
  const estadoTitle = cambiarEstado ? undefined : requiredRoles("cuentas.estado");
  const operar = can("transacciones.operar") || can("transacciones.transferir");
  const route = useRoute();
  const clienteId = Number(route.params.get("cliente_id")) || undefined;
  const [estado, setEstado] = useState<EstadoCuenta | "">("");
  const [moneda, setMoneda] = useState<Moneda | "">("");
  const [skip, setSkip] = useState(0);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  // A retried confirm (after a lost answer) of the same change reuses its key; another change gets a new one.
  const estadoKeys = useIdempotencyKey();

  // The cliente filter lives in the URL (#/cuentas?cliente_id=7) so the Clientes tab can link here.
  const cliente = useAsync<Cliente | null>(
    (signal) => (clienteId ? getCliente(clienteId, signal) : Promise.resolve(null)),
    [clienteId],
  );
  const page = useAsync(
    (signal) => listCuentas({ skip, limit: PAGE, cliente_id: clienteId, estado, moneda }, signal),
    [skip, clienteId, estado, moneda],
  );

  const setCliente = (c: Cliente | null) => {
    setSkip(0);
    route.navigate("cuentas", { cliente_id: c?.cliente_id });
  };
  const close = () => setDialog(null);

  return (
    <section>
      <PageHeader
        title="Cuentas"
        subtitle="Cuentas de los clientes, sus saldos y extractos."
        actions={
          abrir ? (
            <button type="button" className="btn btn-primary" onClick={() => setDialog({ kind: "abrir" })}>
              + Abrir cuenta
            </button>
          ) : null
        }
      />
      <div className="toolbar" role="search">
        <div className="grow">
          <ClientePicker
            label="Cliente"
            name="filtro_cliente"
            value={clienteId ? (cliente.data ?? null) : null}
            onChange={setCliente}
          />
        </div>
        <div className="field">
          <label htmlFor="cuentas-estado">Estado</label>
          <select
            id="cuentas-estado"
            value={estado}
            onChange={(e) => (setEstado(e.target.value as EstadoCuenta | ""), setSkip(0))}
          >
            <option value="">Todos</option>
            {ESTADOS_CUENTA.map((e) => (
              <option key={e} value={e}>
                {estadoLabel(e)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="cuentas-moneda">Moneda</label>
          <select
            id="cuentas-moneda"
            value={moneda}
            onChange={(e) => (setMoneda(e.target.value as Moneda | ""), setSkip(0))}
          >
            <option value="">Todas</option>
            {MONEDAS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </div>
      </div>
      {cliente.error ? <ErrorState error={cliente.error} what={`el cliente #${clienteId}`} /> : null}
      <PagedTable
        page={page}
        what="las cuentas"
        whatLoading="cuentas"
        empty={clienteId ? "Este cliente no tiene cuentas con estos filtros." : "No hay cuentas con estos filtros."}
        label="Cuentas"
        head={
          <>
            <th>Número</th>
            <th className="num">Cliente</th>
            <th className="hide-sm">Tipo</th>
            <th className="num">Saldo</th>
            <th>Estado</th>
            <th className="hide-sm">Apertura</th>
            <th className="actions-col">Acciones</th>
          </>
        }
        row={(c) => (
          <tr key={c.cuenta_id} data-testid={`cuenta-${c.numero_cuenta}`}>
            <td>
              <div className="mono cell-title">{c.numero_cuenta}</div>
              <div className="cell-sub">
                #{c.cuenta_id} · {c.moneda}
              </div>
            </td>
            <td className="num">
              <a href={routeHref("perfil", { cliente_id: c.cliente_id })}>#{c.cliente_id}</a>
            </td>
            <td className="hide-sm">{c.tipo_cuenta_nombre ?? `#${c.tipo_cuenta_id}`}</td>
            <td className="num saldo" data-testid="saldo">
              <Money amount={c.saldo} moneda={c.moneda} />
              {toCentsOr0(retenidoDe(c)) > 0n ? (
                <div className="cell-sub" data-testid="disponible">
                  Disponible <Money amount={c.saldo_disponible} moneda={c.moneda} />
                </div>
              ) : null}
            </td>
            <td>
              <Badge estado={c.estado} />
            </td>
            <td className="hide-sm">{formatDate(c.fecha_apertura)}</td>
            <td className="actions">
              <button
                type="button"
                className="btn btn-small btn-ghost"
                onClick={() => setDialog({ kind: "extracto", cuenta: c })}
              >
                Extracto
              </button>
              <button
                type="button"
                className="btn btn-small btn-ghost"
                onClick={() => setDialog({ kind: "retenciones", cuenta: c })}
              >
                Retenciones
              </button>
              {c.estado === "activa" && operar ? (
                <a className="btn btn-small btn-ghost" href={routeHref("transacciones", { cuenta: c.cuenta_id })}>
                  Operar
                </a>
              ) : null}
              {c.estado === "activa" ? (
                <button
                  type="button"
                  className="btn btn-small btn-warn"
                  disabled={!cambiarEstado}
                  title={estadoTitle}
                  onClick={() => setDialog({ kind: "estado", cuenta: c, estado: "bloqueada" })}
                >
                  Bloquear
                </button>
              ) : null}
              {c.estado === "bloqueada" ? (
                <button
                  type="button"
                  className="btn btn-small btn-ghost"
                  disabled={!cambiarEstado}
                  title={estadoTitle}
                  onClick={() => setDialog({ kind: "estado", cuenta: c, estado: "activa" })}
                >
                  Desbloquear
                </button>
              ) : null}
              {c.estado !== "cerrada" ? (
                <button
                  type="button"
                  className="btn btn-small btn-danger-ghost"
                  disabled={!cambiarEstado || !saldoCero(c)}
                  title={estadoTitle ?? (saldoCero(c) ? "Cerrar la cuenta" : "Solo se cierra con saldo 0")}
                  onClick={() => setDialog({ kind: "estado", cuenta: c, estado: "cerrada" })}
                >
                  Cerrar
                </button>
              ) : null}
            </td>
          </tr>
        )}
        skip={skip}
        limit={PAGE}
        onSkip={setSkip}
      />

      {dialog?.kind === "abrir" ? (
        <Modal title="Abrir cuenta" onClose={close} wide>
          <AbrirCuentaForm
            cliente={clienteId ? cliente.data : null}
            onCancel={close}
            onSaved={(c) => {
              toast("success", `Cuenta ${c.numero_cuenta} abierta.`);
              close();
              page.reload();
            }}
          />
        </Modal>
      ) : null}
      {dialog?.kind === "extracto" ? (
        <Modal title={`Extracto de la cuenta ${dialog.cuenta.numero_cuenta}`} onClose={close} wide>
          <Extracto cuenta={dialog.cuenta} />
        </Modal>
      ) : null}
      {dialog?.kind === "retenciones" ? (
        <Modal title={`Retenciones de la cuenta ${dialog.cuenta.numero_cuenta}`} onClose={close} wide>
          <Retenciones cuenta={dialog.cuenta} onChanged={page.reload} />
        </Modal>
      ) : null}
      {dialog?.kind === "estado" ? (
        <Confirm
          title={
            { activa: "Desbloquear cuenta", bloqueada: "Bloquear cuenta", cerrada: "Cerrar cuenta" }[dialog.estado]
          }
          confirmLabel={
            { activa: "Desbloquear", bloqueada: "Bloquear", cerrada: "Cerrar definitivamente" }[dialog.estado]
          }
          danger={dialog.estado !== "activa"}
          onClose={close}
          onConfirm={async () => {
            const key = estadoKeys.keyFor({ cuenta_id: dialog.cuenta.cuenta_id, estado: dialog.estado });
            await setEstadoCuenta(dialog.cuenta.cuenta_id, dialog.estado, key);
            estadoKeys.settle(key);
            toast("success", `Cuenta ${dialog.cuenta.numero_cuenta}: ${estadoLabel(dialog.estado).toLowerCase()}.`);
            page.reload();
          }}
        >
          {dialog.estado === "cerrada"
            ? `La cuenta ${dialog.cuenta.numero_cuenta} quedará cerrada para siempre.`
            : dialog.estado === "bloqueada"
              ? `La cuenta ${dialog.cuenta.numero_cuenta} no podrá recibir ni enviar dinero mientras esté bloqueada.`
              : `La cuenta ${dialog.cuenta.numero_cuenta} volverá a operar.`}
        </Confirm>
      ) : null}
    </section>
  );
}

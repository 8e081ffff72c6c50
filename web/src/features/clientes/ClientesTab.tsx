// Clientes tab: paginated, searchable list; register, edit, block/unblock and delete.
import { useState } from "react";
import { deleteCliente, estadoClienteBody, listClientes, setEstadoCliente } from "../../api/clientes";
import { ESTADOS_CLIENTE, type Cliente, type EstadoCliente } from "../../api/types";
import { useSession } from "../../auth/SessionContext";
import { requiredRoles } from "../../auth/roles";
import { Confirm } from "../../components/Confirm";
import { clienteNombre } from "../../components/pickers";
import { useToast } from "../../components/toast";
import { PagedTable } from "../../components/PagedTable";
import { Badge, Modal, PageHeader } from "../../components/ui";
import { estadoLabel, formatDate } from "../../lib/format";
import { routeHref, useAsync, useDebounced } from "../../lib/hooks";
import { useIdempotencyKey } from "../../lib/useIdempotencyKey";
import { ClienteForm } from "./ClienteForm";

const PAGE = 20;

type Dialog =
  | { kind: "crear" }
  | { kind: "editar"; cliente: Cliente }
  | { kind: "estado"; cliente: Cliente; estado: EstadoCliente }
  | { kind: "eliminar"; cliente: Cliente };

export function ClientesTab() {
  const toast = useToast();
  const { can } = useSession();
  // What the role may not do stays visible but disabled, with the role it needs as the reason.
  const escribir = can("clientes.escribir");
  const eliminar = can("clientes.eliminar");
  const [q, setQ] = useState("");
  const [estado, setEstado] = useState<EstadoCliente | "">("");
  const [skip, setSkip] = useState(0);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  // A retried confirm (after a lost answer) of the same change reuses its key; another change gets a new one.
  const estadoKeys = useIdempotencyKey();
  const query = useDebounced(q.trim(), 300);

  const page = useAsync(
    (signal) => listClientes({ skip, limit: PAGE, q: query, estado }, signal),
    [skip, query, estado],
  );

  const close = () => setDialog(null);
  const saved = (text: string) => {
    toast("success", text);
    close();
    page.reload();
  };

  return (
    <section aria-labelledby="tab-clientes-title">
      <PageHeader
        title="Clientes"
        subtitle="Registro y mantenimiento de clientes y sus documentos de identidad."
        actions={
          escribir ? (
            <button type="button" className="btn btn-primary" onClick={() => setDialog({ kind: "crear" })}>
              + Registrar cliente
            </button>
          ) : null
        }
      />
      <div className="toolbar" role="search">
        <div className="field grow">
          <label htmlFor="clientes-q">Buscar</label>
          <input
            id="clientes-q"
            type="search"
            placeholder="Nombre, apellido, email o documento…"
            value={q}
            onChange={(e) => {
              setQ(e.target.value);
              setSkip(0);
            }}
          />
        </div>
        <div className="field">
          <label htmlFor="clientes-estado">Estado</label>
          <select
            id="clientes-estado"
            value={estado}
            onChange={(e) => {
              setEstado(e.target.value as EstadoCliente | "");
              setSkip(0);
            }}
          >
            <option value="">Todos</option>
            {ESTADOS_CLIENTE.map((e) => (
              <option key={e} value={e}>
                {estadoLabel(e)}
              </option>
            ))}
          </select>
        </div>
      </div>

      <PagedTable
        page={page}
        what="los clientes"
        whatLoading="clientes"
        empty={query ? `Ningún cliente coincide con «${query}».` : "Aún no hay clientes registrados."}
        label="Clientes"
        head={
          <>
            <th className="num">ID</th>
            <th>Cliente</th>
            <th>Documento</th>
            <th className="hide-sm">Teléfono</th>
            <th>Estado</th>
            <th className="hide-sm">Registro</th>
            <th className="actions-col">Acciones</th>
          </>
        }
        row={(c) => {
          const doc = c.documentos?.[0];
          return (
            <tr key={c.cliente_id} data-testid={`cliente-${c.cliente_id}`}>
              <td className="num">{c.cliente_id}</td>
              <td>
                <div className="cell-title">{clienteNombre(c)}</div>
                <div className="cell-sub">{c.email}</div>
              </td>
              <td>
                {doc ? (
                  <>
                    <div>
                      {doc.tipo_documento} <span className="mono">{doc.numero_documento}</span>
                    </div>
                    {doc.fecha_vencimiento ? (
                      <div className="cell-sub">vence {formatDate(doc.fecha_vencimiento)}</div>
                    ) : null}
                  </>
                ) : (
                  "—"
                )}
              </td>
              <td className="hide-sm">{c.telefono ?? "—"}</td>
              <td>
                <Badge estado={c.estado} />
              </td>
              <td className="hide-sm">{formatDate(c.fecha_registro)}</td>
              <td className="actions">
                <a className="btn btn-small btn-ghost" href={routeHref("perfil", { cliente_id: c.cliente_id })}>
                  Perfil
                </a>
                <a className="btn btn-small btn-ghost" href={routeHref("cuentas", { cliente_id: c.cliente_id })}>
                  Cuentas
                </a>
                <button
                  type="button"
                  className="btn btn-small btn-ghost"
                  disabled={!escribir}
                  title={escribir ? undefined : requiredRoles("clientes.escribir")}
                  onClick={() => setDialog({ kind: "editar", cliente: c })}
                >
                  Editar
                </button>
                {c.estado === "bloqueado" ? (
                  <button
                    type="button"
                    className="btn btn-small btn-ghost"
                    disabled={!escribir}
                    title={escribir ? undefined : requiredRoles("clientes.escribir")}
                    onClick={() => setDialog({ kind: "estado", cliente: c, estado: "activo" })}
                  >
                    Desbloquear
                  </button>
                ) : (
                  <button
                    type="button"
                    className="btn btn-small btn-warn"
                    disabled={!escribir}
                    title={escribir ? undefined : requiredRoles("clientes.escribir")}
                    onClick={() => setDialog({ kind: "estado", cliente: c, estado: "bloqueado" })}
                  >
                    Bloquear
                  </button>
                )}
                <button
                  type="button"
                  className="btn btn-small btn-danger-ghost"
                  disabled={!eliminar}
                  title={eliminar ? undefined : requiredRoles("clientes.eliminar")}
                  onClick={() => setDialog({ kind: "eliminar", cliente: c })}
                >
                  Eliminar
                </button>
              </td>
            </tr>
          );
        }}
        skip={skip}
        limit={PAGE}
        onSkip={setSkip}
      />

      {dialog?.kind === "crear" ? (
        <Modal title="Registrar cliente" onClose={close} wide>
          <ClienteForm
            onCancel={close}
            onSaved={(c) => saved(`Cliente ${clienteNombre(c)} registrado (#${c.cliente_id}).`)}
          />
        </Modal>
      ) : null}
      {dialog?.kind === "editar" ? (
        <Modal title={`Editar cliente #${dialog.cliente.cliente_id}`} onClose={close} wide>
          <ClienteForm
            cliente={dialog.cliente}
            onCancel={close}
            onSaved={(c) => saved(`Cliente ${clienteNombre(c)} actualizado.`)}
          />
        </Modal>
      ) : null}
      {dialog?.kind === "estado" ? (
        <Confirm
          title={dialog.estado === "bloqueado" ? "Bloquear cliente" : "Desbloquear cliente"}
          confirmLabel={dialog.estado === "bloqueado" ? "Bloquear" : "Desbloquear"}
          danger={dialog.estado === "bloqueado"}
          onClose={close}
          onConfirm={async () => {
            const key = estadoKeys.keyFor({
              cliente_id: dialog.cliente.cliente_id,
              body: estadoClienteBody(dialog.cliente, dialog.estado),
            });
            await setEstadoCliente(dialog.cliente, dialog.estado, key);
            estadoKeys.settle(key);
            toast(
              "success",
              `Cliente ${clienteNombre(dialog.cliente)} ${dialog.estado === "bloqueado" ? "bloqueado" : "desbloqueado"}.`,
            );
            page.reload();
          }}
        >
          {dialog.estado === "bloqueado"
            ? `${clienteNombre(dialog.cliente)} no podrá abrir cuentas nuevas mientras esté bloqueado.`
            : `${clienteNombre(dialog.cliente)} volverá a estar activo.`}
        </Confirm>
      ) : null}
      {dialog?.kind === "eliminar" ? (
        <Confirm
          title="Eliminar cliente"
          confirmLabel="Eliminar"
          danger
          onClose={close}
          onConfirm={async () => {
            const msg = await deleteCliente(dialog.cliente.cliente_id);
            toast("success", msg);
            page.reload();
          }}
        >
          ¿Eliminar a {clienteNombre(dialog.cliente)} (#{dialog.cliente.cliente_id})? No es posible mientras tenga
          cuentas abiertas con saldo.
        </Confirm>
      ) : null}
    </section>
  );
}

// Pickers for a cliente (GET /clientes?q=) and for a cuenta (by number, or by its owner's name/email/document).
import { listClientes } from "../api/clientes";
import { cuentasDeCliente, getCuentaPorNumero } from "../api/cuentas";
import { ApiError } from "../api/http";
import type { Cliente, Cuenta } from "../api/types";
import { estadoLabel } from "../lib/format";
import { Combobox } from "./Combobox";
import { Money } from "./ui";

export function clienteNombre(c: Pick<Cliente, "nombre" | "apellido">): string {
  return `${c.nombre} ${c.apellido}`.trim();
}

function ClienteOption({ c }: { c: Cliente }) {
  const doc = c.documentos?.[0];
  return (
    <div className="option-main">
      <span className="option-title">{clienteNombre(c)}</span>
      <span className="option-sub">
        #{c.cliente_id} · {c.email}
        {doc ? ` · ${doc.tipo_documento} ${doc.numero_documento}` : ""}
        {c.estado !== "activo" ? ` · ${estadoLabel(c.estado)}` : ""}
      </span>
    </div>
  );
}

export function ClientePicker({
  label = "Cliente",
  name = "cliente_id",
  value,
  onChange,
  error,
  onlyActivos,
}: {
  label?: string;
  name?: string;
  value: Cliente | null;
  onChange: (c: Cliente | null) => void;
  error?: string;
  onlyActivos?: boolean;
}) {
  return (
    <Combobox<Cliente>
      label={label}
      name={name}
      selected={value}
      onSelect={onChange}
      error={error}
      placeholder="Nombre, email o documento…"
      hint="Escriba al menos 2 caracteres."
      search={async (q, signal) => (await listClientes({ q, limit: 8 }, signal)).items}
      optionKey={(c) => String(c.cliente_id)}
      renderOption={(c) => <ClienteOption c={c} />}
      renderSelected={(c) => <ClienteOption c={c} />}
      isDisabled={
        onlyActivos
          ? (c) => (c.estado !== "activo" ? `Cliente ${estadoLabel(c.estado).toLowerCase()}` : undefined)
          : undefined
      }
    />
  );
}

export interface CuentaOption extends Cuenta {
  titular?: string;
}

function CuentaOptionView({ c }: { c: CuentaOption }) {
  return (
    <div className="option-main">
      <span className="option-title">
        <span className="mono">{c.numero_cuenta}</span> · {c.tipo_cuenta_nombre ?? "Cuenta"} · {c.moneda}
      </span>
      <span className="option-sub">
        {c.titular ? `${c.titular} · ` : ""}Saldo <Money amount={c.saldo} moneda={c.moneda} />
        {c.estado !== "activa" ? ` · ${estadoLabel(c.estado)}` : ""}
      </span>
    </div>
  );
}

/**
 * Finds accounts by what staff know: the 13-digit number, or the owner's name, email or document
 * (the first clientes matching, with all their accounts).
 */
export async function searchCuentas(q: string, signal: AbortSignal): Promise<CuentaOption[]> {
  const digits = q.replace(/[\s-]/g, "");
  if (/^\d{13}$/.test(digits)) {
    try {
      return [await getCuentaPorNumero(digits, signal)];
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return [];
      throw err;
    }
  }
  const clientes = (await listClientes({ q, limit: 5 }, signal)).items;
  const perCliente = await Promise.all(
    clientes.map(async (c) =>
      (await cuentasDeCliente(c.cliente_id, signal)).map((cu) => ({ ...cu, titular: clienteNombre(c) })),
    ),
  );
  return perCliente.flat();
}

export function CuentaPicker({
  label,
  name,
  value,
  onChange,
  error,
}: {
  label: string;
  name: string;
  value: CuentaOption | null;
  onChange: (c: CuentaOption | null) => void;
  error?: string;
}) {
  return (
    <Combobox<CuentaOption>
      label={label}
      name={name}
      selected={value}
      onSelect={onChange}
      error={error}
      placeholder="N.º de cuenta, o nombre/email/documento del titular…"
      search={searchCuentas}
      optionKey={(c) => String(c.cuenta_id)}
      renderOption={(c) => <CuentaOptionView c={c} />}
      renderSelected={(c) => <CuentaOptionView c={c} />}
      isDisabled={(c) => (c.estado !== "activa" ? `Cuenta ${estadoLabel(c.estado).toLowerCase()}` : undefined)}
    />
  );
}

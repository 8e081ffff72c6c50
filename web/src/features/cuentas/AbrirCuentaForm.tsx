// Open an account for a cliente: searchable cliente picker, account type, currency, opening balance.
import { useState, type FormEvent } from "react";
import { listTiposCuenta, openCuenta } from "../../api/cuentas";
import { formErrorsFrom } from "../../api/http";
import { MONEDAS, type Cliente, type Cuenta, type Moneda } from "../../api/types";
import { ClientePicker } from "../../components/pickers";
import { Alert, SelectField, TextField } from "../../components/ui";
import { formatMoney } from "../../lib/format";
import { useAsync } from "../../lib/hooks";
import { useIdempotencyKey } from "../../lib/useIdempotencyKey";
import { validateAbrirCuenta, type Errors } from "../../lib/validation";

const CONFLICT_WORDS = { cliente_id: ["cliente"], tipo_cuenta_id: ["tipo"] };

export function AbrirCuentaForm({
  cliente: initial,
  onSaved,
  onCancel,
}: {
  cliente?: Cliente | null;
  onSaved: (c: Cuenta) => void;
  onCancel: () => void;
}) {
  const tipos = useAsync((signal) => listTiposCuenta(signal), []);
  const [cliente, setCliente] = useState<Cliente | null>(initial ?? null);
  const [tipo, setTipo] = useState("");
  const [moneda, setMoneda] = useState<Moneda>("PEN");
  const [saldo, setSaldo] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [banner, setBanner] = useState<string>();
  const [saving, setSaving] = useState(false);
  // Same body retried (a lost answer, a 503) → same key → the service answers the original, opens no second account.
  const idem = useIdempotencyKey();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBanner(undefined);
    const { errors: found, saldo: monto } = validateAbrirCuenta({
      cliente_id: cliente?.cliente_id ?? null,
      tipo_cuenta_id: tipo,
      moneda,
      saldo,
    });
    if (cliente && cliente.estado !== "activo")
      found.cliente_id = `El cliente está ${cliente.estado}: no puede abrir cuentas.`;
    setErrors(found);
    if (Object.keys(found).length > 0 || !cliente) return;
    const body = { cliente_id: cliente.cliente_id, tipo_cuenta_id: Number(tipo), moneda, saldo: monto ?? "0.00" };
    const key = idem.keyFor(body);
    setSaving(true);
    try {
      const cuenta = await openCuenta(body, key);
      idem.settle(key);
      onSaved(cuenta);
    } catch (err) {
      const { fields, banner: b } = formErrorsFrom(err, CONFLICT_WORDS);
      setErrors(fields);
      setBanner(b);
    } finally {
      setSaving(false);
    }
  };

  const tipoOptions = [
    { value: "", label: tipos.loading ? "Cargando…" : "Elija un tipo" },
    ...(tipos.data ?? []).map((t) => ({
      value: String(t.tipo_cuenta_id),
      label: `${t.nombre} · mant. ${formatMoney(t.costo_mantenimiento, "PEN")} · ${t.tasa_interes}%`,
    })),
  ];

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Abrir cuenta">
      {banner ? <Alert kind="error">{banner}</Alert> : null}
      {tipos.error ? (
        <Alert kind="error">No se pudieron cargar los tipos de cuenta: {(tipos.error as Error).message}</Alert>
      ) : null}
      <ClientePicker value={cliente} onChange={setCliente} error={errors.cliente_id} onlyActivos />
      <div className="grid-3">
        <SelectField
          label="Tipo de cuenta"
          name="tipo_cuenta_id"
          value={tipo}
          onChange={(e) => setTipo(e.target.value)}
          error={errors.tipo_cuenta_id}
          options={tipoOptions}
        />
        <SelectField
          label="Moneda"
          name="moneda"
          value={moneda}
          onChange={(e) => setMoneda(e.target.value as Moneda)}
          error={errors.moneda}
          options={MONEDAS.map((m) => ({ value: m, label: m }))}
        />
        <TextField
          label="Saldo inicial"
          name="saldo"
          inputMode="decimal"
          placeholder="0.00"
          value={saldo}
          onChange={(e) => setSaldo(e.target.value)}
          error={errors.saldo}
          hint="Opcional; queda como movimiento de apertura."
        />
      </div>
      <div className="form-actions">
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          Cancelar
        </button>
        <button type="submit" className="btn btn-primary" disabled={saving}>
          {saving ? "Abriendo…" : "Abrir cuenta"}
        </button>
      </div>
    </form>
  );
}

// Register a cliente with its identity document, or edit the personal data of one.
import { useState, type FormEvent } from "react";
import { createCliente, updateCliente } from "../../api/clientes";
import { formErrorsFrom } from "../../api/http";
import {
  ESTADOS_CLIENTE,
  TIPOS_DOCUMENTO,
  type Cliente,
  type ClienteCreate,
  type ClienteUpdate,
  type TipoDocumento,
} from "../../api/types";
import { Alert, SelectField, TextField } from "../../components/ui";
import { estadoLabel } from "../../lib/format";
import { useIdempotencyKey } from "../../lib/useIdempotencyKey";
import {
  emptyClienteForm,
  validateClienteCreate,
  validateDatosCliente,
  type ClienteFormValues,
  type Errors,
} from "../../lib/validation";

/** Which words in a 409 point at which field ("email ya registrado" → email). */
export const CONFLICT_WORDS: Record<string, string[]> = {
  email: ["email", "correo"],
  "documento.numero_documento": ["documento", "dni", "ruc", "pasaporte", "carnet"],
};

export function toCreateBody(v: ClienteFormValues): ClienteCreate {
  return {
    nombre: v.nombre.trim(),
    apellido: v.apellido.trim(),
    email: v.email.trim(),
    telefono: v.telefono.trim() || undefined,
    estado: v.estado as ClienteCreate["estado"],
    documento: {
      tipo_documento: v.tipo_documento as TipoDocumento,
      numero_documento: v.numero_documento.trim().toUpperCase(),
      fecha_emision: v.fecha_emision || undefined,
      fecha_vencimiento: v.fecha_vencimiento || undefined,
    },
  };
}

function fromCliente(c: Cliente): ClienteFormValues {
  return {
    ...emptyClienteForm,
    nombre: c.nombre,
    apellido: c.apellido,
    email: c.email,
    telefono: c.telefono ?? "",
    estado: c.estado,
  };
}

const estadoOptions = ESTADOS_CLIENTE.map((e) => ({ value: e, label: estadoLabel(e) }));
const tipoOptions = TIPOS_DOCUMENTO.map((t) => ({
  value: t,
  label: t === "Carnet Extranjeria" ? "Carnet de extranjería" : t,
}));

export function ClienteForm({
  cliente,
  onSaved,
  onCancel,
}: {
  cliente?: Cliente;
  onSaved: (c: Cliente) => void;
  onCancel: () => void;
}) {
  const editing = cliente !== undefined;
  const [values, setValues] = useState<ClienteFormValues>(() => (cliente ? fromCliente(cliente) : emptyClienteForm));
  const [errors, setErrors] = useState<Errors>({});
  const [banner, setBanner] = useState<string>();
  const [saving, setSaving] = useState(false);
  // Same body retried (a lost answer, a 503) → same key → the service answers the original, registers nothing twice.
  const idem = useIdempotencyKey();

  const set = (field: keyof ClienteFormValues) => (e: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [field]: e.target.value }));
    // The error of a field goes away as soon as staff touch it; the next submit re-checks.
    const key = ["tipo_documento", "numero_documento", "fecha_emision", "fecha_vencimiento"].includes(field)
      ? `documento.${field}`
      : field;
    setErrors((er) => {
      if (!(key in er)) return er;
      const { [key]: _gone, ...rest } = er;
      return rest;
    });
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBanner(undefined);
    const found = editing ? validateDatosCliente(values) : validateClienteCreate(values);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    const write: { cliente_id: number; update: ClienteUpdate } | { create: ClienteCreate } = editing
      ? {
          cliente_id: cliente.cliente_id,
          update: {
            nombre: values.nombre.trim(),
            apellido: values.apellido.trim(),
            email: values.email.trim(),
            // An emptied phone is cleared explicitly (null), not silently kept.
            telefono: values.telefono.trim() || null,
            estado: values.estado as Cliente["estado"],
          },
        }
      : { create: toCreateBody(values) };
    const key = idem.keyFor(write);
    setSaving(true);
    try {
      const saved =
        "update" in write
          ? await updateCliente(write.cliente_id, write.update, key)
          : await createCliente(write.create, key);
      idem.settle(key);
      onSaved(saved);
    } catch (err) {
      const { fields, banner: b } = formErrorsFrom(err, CONFLICT_WORDS);
      setErrors(fields);
      setBanner(b);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-label={editing ? "Editar cliente" : "Registrar cliente"}>
      {banner ? <Alert kind="error">{banner}</Alert> : null}
      <fieldset>
        <legend>Datos personales</legend>
        <div className="grid-2">
          <TextField
            label="Nombre"
            name="nombre"
            value={values.nombre}
            onChange={set("nombre")}
            error={errors.nombre}
            maxLength={100}
            required
            autoComplete="off"
          />
          <TextField
            label="Apellido"
            name="apellido"
            value={values.apellido}
            onChange={set("apellido")}
            error={errors.apellido}
            maxLength={100}
            required
            autoComplete="off"
          />
          <TextField
            label="Email"
            name="email"
            type="email"
            value={values.email}
            onChange={set("email")}
            error={errors.email}
            maxLength={150}
            required
            autoComplete="off"
          />
          <TextField
            label="Teléfono"
            name="telefono"
            type="tel"
            value={values.telefono}
            onChange={set("telefono")}
            error={errors.telefono}
            maxLength={20}
            hint="Opcional"
            autoComplete="off"
          />
          <SelectField
            label="Estado"
            name="estado"
            value={values.estado}
            onChange={set("estado")}
            error={errors.estado}
            options={estadoOptions}
          />
        </div>
      </fieldset>
      {editing ? null : (
        <fieldset>
          <legend>Documento de identidad</legend>
          <div className="grid-2">
            <SelectField
              label="Tipo de documento"
              name="tipo_documento"
              value={values.tipo_documento}
              onChange={set("tipo_documento")}
              error={errors["documento.tipo_documento"]}
              options={tipoOptions}
            />
            <TextField
              label="Número de documento"
              name="numero_documento"
              value={values.numero_documento}
              onChange={set("numero_documento")}
              error={errors["documento.numero_documento"]}
              maxLength={20}
              inputMode={values.tipo_documento === "DNI" || values.tipo_documento === "RUC" ? "numeric" : "text"}
              hint={
                values.tipo_documento === "DNI"
                  ? "8 dígitos"
                  : values.tipo_documento === "RUC"
                    ? "11 dígitos"
                    : "Letras y dígitos"
              }
              autoComplete="off"
            />
            <TextField
              label="Fecha de emisión"
              name="fecha_emision"
              type="date"
              value={values.fecha_emision}
              onChange={set("fecha_emision")}
              error={errors["documento.fecha_emision"]}
            />
            <TextField
              label="Fecha de vencimiento"
              name="fecha_vencimiento"
              type="date"
              value={values.fecha_vencimiento}
              onChange={set("fecha_vencimiento")}
              error={errors["documento.fecha_vencimiento"]}
            />
          </div>
        </fieldset>
      )}
      <div className="form-actions">
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          Cancelar
        </button>
        <button type="submit" className="btn btn-primary" disabled={saving}>
          {saving ? "Guardando…" : editing ? "Guardar cambios" : "Registrar cliente"}
        </button>
      </div>
    </form>
  );
}

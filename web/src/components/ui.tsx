// Small presentational building blocks shared by every tab: fields, alerts, badges, pagination.
import { useEffect, useId, useRef, type ReactNode, type InputHTMLAttributes, type SelectHTMLAttributes } from "react";
import { ApiError } from "../api/http";
import { estadoLabel, formatInteger, formatMoney, splitMotivo } from "../lib/format";

interface FieldShell {
  label: string;
  error?: string;
  hint?: string;
}

type InputProps = FieldShell & Omit<InputHTMLAttributes<HTMLInputElement>, "id"> & { name: string };

/** A labelled input whose error sits right under it and is announced to screen readers. */
export function TextField({ label, error, hint, name, className, ...rest }: InputProps) {
  const id = useId();
  const described = error ? `${id}-err` : hint ? `${id}-hint` : undefined;
  return (
    <div className={`field ${error ? "has-error" : ""} ${className ?? ""}`} data-field={name}>
      <label htmlFor={id}>{label}</label>
      <input id={id} name={name} aria-invalid={error ? true : undefined} aria-describedby={described} {...rest} />
      {error ? (
        <p className="field-error" id={`${id}-err`} role="alert">
          {error}
        </p>
      ) : hint ? (
        <p className="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

type SelectProps = FieldShell &
  Omit<SelectHTMLAttributes<HTMLSelectElement>, "id"> & {
    name: string;
    options: readonly { value: string; label: string }[];
  };

export function SelectField({ label, error, hint, name, options, className, ...rest }: SelectProps) {
  const id = useId();
  const described = error ? `${id}-err` : hint ? `${id}-hint` : undefined;
  return (
    <div className={`field ${error ? "has-error" : ""} ${className ?? ""}`} data-field={name}>
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} aria-invalid={error ? true : undefined} aria-describedby={described} {...rest}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error ? (
        <p className="field-error" id={`${id}-err`} role="alert">
          {error}
        </p>
      ) : hint ? (
        <p className="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

export function Alert({
  kind,
  children,
  title,
}: {
  kind: "error" | "info" | "success" | "warning";
  children: ReactNode;
  title?: string;
}) {
  return (
    <div className={`alert alert-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {title ? <strong className="alert-title">{title}</strong> : null}
      <div>{children}</div>
    </div>
  );
}

/** What went wrong, in words staff can act on, plus a retry when it makes sense. */
export function ErrorState({ error, onRetry, what }: { error: unknown; onRetry?: () => void; what: string }) {
  const message = error instanceof Error ? error.message : String(error);
  const status =
    error instanceof ApiError && error.status && !message.includes("HTTP") ? ` (HTTP ${error.status})` : "";
  return (
    <Alert kind="error" title={`Error al cargar ${what}${status}`}>
      <span>{message}</span>
      {onRetry ? (
        <button type="button" className="btn btn-small btn-ghost" onClick={onRetry}>
          Reintentar
        </button>
      ) : null}
    </Alert>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Cargando {what}…
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Badge({ estado }: { estado: string | null | undefined }) {
  const key = (estado ?? "").toLowerCase();
  return <span className={`badge badge-${key}`}>{estadoLabel(estado)}</span>;
}

/** A transaction's state, with the reason it failed (its text; the code is in the tooltip) under it. */
export function EstadoConMotivo({
  estado,
  motivo,
}: {
  estado: string | null | undefined;
  motivo: string | null | undefined;
}) {
  return (
    <>
      <Badge estado={estado} />
      {motivo ? (
        <div className="cell-sub motivo" title={motivo}>
          {splitMotivo(motivo).text}
        </div>
      ) : null}
    </>
  );
}

export function Money({
  amount,
  moneda,
  className,
}: {
  amount: string | null | undefined;
  moneda: string | null | undefined;
  className?: string;
}) {
  const negative = typeof amount === "string" && amount.trim().startsWith("-");
  return (
    <span className={`money ${negative ? "negative" : ""} ${className ?? ""}`}>{formatMoney(amount, moneda)}</span>
  );
}

export function Pagination({
  skip,
  limit,
  total,
  count,
  onChange,
}: {
  skip: number;
  limit: number;
  total: number | undefined;
  count: number;
  onChange: (skip: number) => void;
}) {
  const from = count === 0 ? 0 : skip + 1;
  const to = skip + count;
  const hasNext = total !== undefined ? to < total : count === limit;
  return (
    <nav className="pagination" aria-label="Paginación">
      <span className="pagination-info">
        {from}–{to}
        {total !== undefined ? ` de ${formatInteger(total)}` : ""}
      </span>
      <button
        type="button"
        className="btn btn-small btn-ghost"
        disabled={skip === 0}
        onClick={() => onChange(Math.max(0, skip - limit))}
      >
        ‹ Anterior
      </button>
      <button
        type="button"
        className="btn btn-small btn-ghost"
        disabled={!hasNext}
        onClick={() => onChange(skip + limit)}
      >
        Siguiente ›
      </button>
    </nav>
  );
}

/** A dialog over the page (full screen on phones); Escape and the backdrop close it. */
export function Modal({
  title,
  onClose,
  children,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  // Parents pass a new onClose each render; read it through a ref so the effect below runs once
  // (re-running it would steal focus back to the first field while staff type).
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") closeRef.current();
    };
    document.addEventListener("keydown", onKey);
    // The page behind must not scroll under the dialog (phones especially).
    const overflow = document.body.style.overflow;
    document.body.style.overflow = "hidden";
    // Focus the first field so staff can type right away.
    const first = ref.current?.querySelector<HTMLElement>(
      "input:not([type=hidden]), select, textarea, button:not(.modal-close)",
    );
    first?.focus();
    return () => {
      document.removeEventListener("keydown", onKey);
      document.body.style.overflow = overflow;
    };
  }, []);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className={`modal ${wide ? "modal-wide" : ""}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        ref={ref}
      >
        <header className="modal-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="modal-close" aria-label="Cerrar" onClick={onClose}>
            ×
          </button>
        </header>
        <div className="modal-body">{children}</div>
      </div>
    </div>
  );
}

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: string; actions?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p className="subtitle">{subtitle}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </div>
  );
}

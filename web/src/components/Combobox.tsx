// An accessible search-as-you-type picker: options come from the server, never a giant dropdown.
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { useDebounced } from "../lib/hooks";

export interface ComboboxProps<T> {
  label: string;
  name: string;
  selected: T | null;
  onSelect: (value: T | null) => void;
  search: (q: string, signal: AbortSignal) => Promise<T[]>;
  optionKey: (value: T) => string;
  renderOption: (value: T) => ReactNode;
  renderSelected: (value: T) => ReactNode;
  isDisabled?: (value: T) => string | undefined;
  placeholder?: string;
  error?: string;
  hint?: string;
  minChars?: number;
}

export function Combobox<T>(props: ComboboxProps<T>) {
  const { label, name, selected, onSelect, search, optionKey, renderOption, renderSelected, isDisabled } = props;
  const minChars = props.minChars ?? 2;
  const id = useId();
  const [text, setText] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [state, setState] = useState<{ items: T[]; loading: boolean; error?: string }>({ items: [], loading: false });
  const q = useDebounced(text.trim(), 250);
  const searchRef = useRef(search);
  searchRef.current = search;
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (q.length < minChars) {
      setState({ items: [], loading: false });
      return;
    }
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    searchRef.current(q, ctrl.signal).then(
      (items) => {
        if (!ctrl.signal.aborted) {
          setState({ items, loading: false });
          setActive(0);
        }
      },
      (err: unknown) => {
        if (!ctrl.signal.aborted)
          setState({ items: [], loading: false, error: err instanceof Error ? err.message : String(err) });
      },
    );
    return () => ctrl.abort();
  }, [q, minChars]);

  const choose = (item: T) => {
    if (isDisabled?.(item)) return;
    onSelect(item);
    setOpen(false);
    setText("");
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setOpen(true);
      setActive((a) => Math.min(a + 1, state.items.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (e.key === "Enter") {
      const item = state.items[active];
      if (open && item) {
        e.preventDefault();
        choose(item);
      }
    } else if (e.key === "Escape" && open) {
      // Close the list only, not the dialog the picker sits in.
      e.stopPropagation();
      setOpen(false);
    }
  };

  const errorId = `${id}-err`;
  const listId = `${id}-list`;
  const describedBy = props.error ? errorId : props.hint ? `${id}-hint` : undefined;

  return (
    <div className={`field combobox ${props.error ? "has-error" : ""}`} data-field={name}>
      <label htmlFor={id}>{label}</label>
      {selected ? (
        <div className="combobox-selected" data-testid={`${name}-selected`}>
          <div className="combobox-selected-body">{renderSelected(selected)}</div>
          <button
            type="button"
            className="btn btn-small btn-ghost"
            onClick={() => {
              onSelect(null);
              setTimeout(() => inputRef.current?.focus(), 0);
            }}
          >
            Cambiar
          </button>
          {/* Keeps the label pointing at a focusable element while a value is chosen. */}
          <input id={id} type="hidden" name={name} value={optionKey(selected)} />
        </div>
      ) : (
        <div className="combobox-wrap">
          <input
            id={id}
            ref={inputRef}
            name={name}
            type="search"
            role="combobox"
            autoComplete="off"
            aria-autocomplete="list"
            aria-expanded={open && q.length >= minChars}
            aria-controls={listId}
            aria-invalid={props.error ? true : undefined}
            aria-describedby={describedBy}
            placeholder={props.placeholder}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setOpen(true);
            }}
            onFocus={() => setOpen(true)}
            onBlur={() => setTimeout(() => setOpen(false), 150)}
            onKeyDown={onKeyDown}
          />
          {open && q.length >= minChars ? (
            <ul className="combobox-list" id={listId} role="listbox" aria-label={label}>
              {state.loading ? <li className="combobox-status">Buscando…</li> : null}
              {state.error ? <li className="combobox-status error">{state.error}</li> : null}
              {!state.loading && !state.error && state.items.length === 0 ? (
                <li className="combobox-status">Sin resultados para «{q}».</li>
              ) : null}
              {state.items.map((item, i) => {
                const disabled = isDisabled?.(item);
                return (
                  <li
                    key={optionKey(item)}
                    role="option"
                    aria-selected={i === active}
                    aria-disabled={disabled ? true : undefined}
                    className={`combobox-option ${i === active ? "active" : ""} ${disabled ? "disabled" : ""}`}
                    title={disabled}
                    onMouseDown={(e) => {
                      e.preventDefault();
                      choose(item);
                    }}
                    onMouseEnter={() => setActive(i)}
                  >
                    {renderOption(item)}
                    {disabled ? <span className="combobox-disabled-reason">{disabled}</span> : null}
                  </li>
                );
              })}
            </ul>
          ) : null}
        </div>
      )}
      {props.error ? (
        <p className="field-error" id={errorId} role="alert">
          {props.error}
        </p>
      ) : props.hint && !selected ? (
        <p className="field-hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
    </div>
  );
}

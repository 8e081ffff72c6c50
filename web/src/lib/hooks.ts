// Small React hooks: load data with cancellation, debounce typing, and the tab route in the URL hash.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` whenever `deps` change (aborting the previous call) or `reload()` is called.
 * Keeps the previous data while reloading so tables don't flash empty between pages.
 */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    loadRef.current(ctrl.signal).then(
      (data) => {
        if (!ctrl.signal.aborted) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!ctrl.signal.aborted) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function useDebounced<T>(value: T, ms = 300): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export interface Route {
  tab: string;
  params: URLSearchParams;
}

function readHash(): string {
  return window.location.hash.replace(/^#\/?/, "");
}

function subscribe(cb: () => void): () => void {
  window.addEventListener("hashchange", cb);
  return () => window.removeEventListener("hashchange", cb);
}

export function parseRoute(hash: string): Route {
  const [path = "", qs = ""] = hash.split("?");
  return { tab: path.split("/")[0] ?? "", params: new URLSearchParams(qs) };
}

export function routeHref(tab: string, params?: Record<string, string | number | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== "") qs.set(k, String(v));
  const s = qs.toString();
  return `#/${tab}${s ? `?${s}` : ""}`;
}

/** The tab and its parameters live in the hash, so links can be shared and Back works. */
export function useRoute(): Route & {
  navigate: (tab: string, params?: Record<string, string | number | undefined>) => void;
} {
  const hash = useSyncExternalStore(subscribe, readHash, () => "");
  const navigate = useCallback((tab: string, params?: Record<string, string | number | undefined>) => {
    window.location.hash = routeHref(tab, params).slice(1);
  }, []);
  return { ...parseRoute(hash), navigate };
}

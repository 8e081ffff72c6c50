// The console shell: the login gate, then the header (services' health, the user and role, logout), the tabs
// the role may use, and the active tab below.
import { useCallback, useEffect, useState } from "react";
import { serviceHealthy } from "./api/health";
import { SessionContext, sessionValue } from "./auth/SessionContext";
import { type Action, ROLE_LABEL } from "./auth/roles";
import { LOGOUT_URL, type Session, fetchSession, loginUrl, onUnauthorized } from "./auth/session";
import { ToastProvider } from "./components/toast";
import { AnalyticsTab } from "./features/analytics/AnalyticsTab";
import { ClientesTab } from "./features/clientes/ClientesTab";
import { CuentasTab } from "./features/cuentas/CuentasTab";
import { OperacionesTab } from "./features/operaciones/OperacionesTab";
import { PerfilTab } from "./features/perfil/PerfilTab";
import { TransaccionesTab } from "./features/transacciones/TransaccionesTab";
import { routeHref, useRoute } from "./lib/hooks";

export const TABS = [
  { id: "clientes", label: "Clientes", view: ClientesTab, needs: "clientes.leer" },
  { id: "cuentas", label: "Cuentas", view: CuentasTab, needs: "cuentas.leer" },
  { id: "transacciones", label: "Transacciones", view: TransaccionesTab, needs: "transacciones.leer" },
  { id: "perfil", label: "Perfil 360°", view: PerfilTab, needs: "perfil.leer" },
  { id: "analytics", label: "Analytics", view: AnalyticsTab, needs: "analytics" },
  { id: "operaciones", label: "Operaciones", view: OperacionesTab, needs: "operaciones" },
] as const satisfies readonly { id: string; label: string; view: () => unknown; needs: Action }[];

/** How often the shell asks the gateway who is logged in: notices an ended session, and keeps it refreshed. */
export const SESSION_CHECK_MS = 60_000;

const SERVICES = ["clientes", "cuentas", "transacciones", "perfil", "analytics"] as const;

/** One dot per service, from its /health through the gateway; refreshed every 30 s. */
function ServiceStatus() {
  const [health, setHealth] = useState<Record<string, boolean | undefined>>({});
  useEffect(() => {
    const ctrl = new AbortController();
    const check = () =>
      SERVICES.forEach((s) =>
        serviceHealthy(s, ctrl.signal).then(
          (ok) => setHealth((h) => ({ ...h, [s]: ok })),
          () => undefined,
        ),
      );
    check();
    const t = setInterval(check, 30_000);
    return () => {
      ctrl.abort();
      clearInterval(t);
    };
  }, []);
  return (
    <ul className="service-status" aria-label="Estado de los servicios">
      {SERVICES.map((s) => {
        const ok = health[s];
        const label = ok === undefined ? "comprobando" : ok ? "operativo" : "sin respuesta";
        return (
          <li key={s} title={`${s}: ${label}`} className={ok === undefined ? "unknown" : ok ? "up" : "down"}>
            <span className="dot" aria-hidden="true" />
            <span className="svc-name">{s}</span>
            <span className="sr-only">: {label}</span>
          </li>
        );
      })}
    </ul>
  );
}

function Brand() {
  return (
    <div className="brand">
      <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
        <rect width="32" height="32" rx="7" fill="#ffffff22" />
        <path d="M7 13 16 7l9 6v2H7zM9 17h3v7H9zm5.5 0h3v7h-3zM20 17h3v7h-3zM7 25h18v2H7z" fill="#fff" />
      </svg>
      <span>
        Cloud Bank <small>Consola interna</small>
      </span>
    </div>
  );
}

type Auth =
  | { state: "checking" }
  | { state: "anonymous"; expired: boolean }
  | { state: "error"; message: string }
  | { state: "ready"; session: Session };

/** No session (first visit, logout, or expiry): one button to the gateway's login, back to the same place. */
export function LoginScreen({ expired, error, onRetry }: { expired?: boolean; error?: string; onRetry?: () => void }) {
  useEffect(() => {
    document.title = "Iniciar sesión · Cloud Bank";
  }, []);
  return (
    <>
      <header className="app-header">
        <Brand />
      </header>
      <main className="content login-screen">
        <section className="card login-card" aria-labelledby="login-title">
          <h1 id="login-title">Consola interna</h1>
          {expired ? (
            <p role="alert" className="login-note">
              Su sesión ha expirado. Inicie sesión de nuevo para continuar; los datos no guardados se perdieron.
            </p>
          ) : null}
          {error ? (
            <p role="alert" className="login-note">
              {error}
            </p>
          ) : (
            <p>Acceda con su usuario del banco.</p>
          )}
          {error && onRetry ? (
            <button type="button" className="btn btn-ghost" onClick={onRetry}>
              Reintentar
            </button>
          ) : (
            <a className="btn btn-primary" href={loginUrl()}>
              Iniciar sesión
            </a>
          )}
        </section>
      </main>
    </>
  );
}

function UserMenu({ session }: { session: Session }) {
  const roles = session.roles.map((r) => ROLE_LABEL[r]).join(", ") || "sin rol";
  return (
    <div className="user-menu" aria-label="Sesión">
      <span className="user-name" data-testid="user-name">
        {session.username}
      </span>
      <span className="user-role" data-testid="user-role">
        {roles}
      </span>
      <a className="btn btn-small btn-ghost btn-on-dark" href={LOGOUT_URL}>
        Cerrar sesión
      </a>
    </div>
  );
}

/** The console for a logged-in user: the tabs their role may use. */
export function Console({ session }: { session: Session }) {
  const value = sessionValue(session);
  const tabs = TABS.filter((t) => value.can(t.needs));
  const { tab } = useRoute();
  const active = tabs.find((t) => t.id === tab) ?? tabs[0];
  useEffect(() => {
    document.title = `${active?.label ?? "Sin acceso"} · Cloud Bank`;
  }, [active?.label]);
  const View = active?.view;
  return (
    <SessionContext.Provider value={value}>
      <ToastProvider>
        <header className="app-header">
          <Brand />
          <ServiceStatus />
          <UserMenu session={session} />
        </header>
        <nav className="tabs" aria-label="Secciones">
          {tabs.map((t) => (
            <a
              key={t.id}
              href={routeHref(t.id)}
              className={t.id === active?.id ? "active" : ""}
              aria-current={t.id === active?.id ? "page" : undefined}
            >
              {t.label}
            </a>
          ))}
        </nav>
        <main className="content">
          {View ? (
            <View key={active.id} />
          ) : (
            <p className="empty" role="status">
              Su usuario no tiene un rol de personal del banco: esta consola no le ofrece ninguna sección.
            </p>
          )}
        </main>
      </ToastProvider>
    </SessionContext.Provider>
  );
}

export function App() {
  const [auth, setAuth] = useState<Auth>({ state: "checking" });
  const check = useCallback((signal?: AbortSignal) => {
    fetchSession(signal).then(
      (session) =>
        setAuth((prev) =>
          session
            ? prev.state === "ready" && sameSession(prev.session, session)
              ? prev
              : { state: "ready", session }
            : { state: "anonymous", expired: prev.state === "ready" || (prev.state === "anonymous" && prev.expired) },
        ),
      (err: unknown) => {
        if (err instanceof DOMException && err.name === "AbortError") return;
        // A gateway hiccup during a session must not throw staff out: only the first check shows it.
        setAuth((prev) =>
          prev.state === "ready" ? prev : { state: "error", message: String((err as Error).message) },
        );
      },
    );
  }, []);

  useEffect(() => {
    const ctrl = new AbortController();
    check(ctrl.signal);
    const t = setInterval(() => check(ctrl.signal), SESSION_CHECK_MS);
    return () => {
      ctrl.abort();
      clearInterval(t);
    };
  }, [check]);

  // Any API call answering 401: the session ended (expired, revoked, logged out elsewhere) → the login screen.
  useEffect(
    () =>
      onUnauthorized(() => setAuth((prev) => (prev.state === "ready" ? { state: "anonymous", expired: true } : prev))),
    [],
  );

  switch (auth.state) {
    case "checking":
      return (
        <p className="loading" role="status">
          Comprobando la sesión…
        </p>
      );
    case "error":
      return <LoginScreen error={auth.message} onRetry={() => (setAuth({ state: "checking" }), check())} />;
    case "anonymous":
      return <LoginScreen expired={auth.expired} />;
    case "ready":
      return <Console session={auth.session} />;
  }
}

function sameSession(a: Session, b: Session): boolean {
  return a.username === b.username && a.roles.join() === b.roles.join();
}

// The console shell: header with the five tabs and the services' health, the active tab below.
import { useEffect, useState } from "react";
import { serviceHealthy } from "./api/health";
import { ToastProvider } from "./components/toast";
import { AnalyticsTab } from "./features/analytics/AnalyticsTab";
import { ClientesTab } from "./features/clientes/ClientesTab";
import { CuentasTab } from "./features/cuentas/CuentasTab";
import { PerfilTab } from "./features/perfil/PerfilTab";
import { TransaccionesTab } from "./features/transacciones/TransaccionesTab";
import { routeHref, useRoute } from "./lib/hooks";

export const TABS = [
  { id: "clientes", label: "Clientes", view: ClientesTab },
  { id: "cuentas", label: "Cuentas", view: CuentasTab },
  { id: "transacciones", label: "Transacciones", view: TransaccionesTab },
  { id: "perfil", label: "Perfil 360°", view: PerfilTab },
  { id: "analytics", label: "Analytics", view: AnalyticsTab },
] as const;

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

export function App() {
  const { tab } = useRoute();
  const active = TABS.find((t) => t.id === tab) ?? TABS[0];
  const View = active.view;
  useEffect(() => {
    document.title = `${active.label} · Cloud Bank`;
  }, [active.label]);
  return (
    <ToastProvider>
      <header className="app-header">
        <div className="brand">
          <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="#ffffff22" />
            <path d="M7 13 16 7l9 6v2H7zM9 17h3v7H9zm5.5 0h3v7h-3zM20 17h3v7h-3zM7 25h18v2H7z" fill="#fff" />
          </svg>
          <span>
            Cloud Bank <small>Consola interna</small>
          </span>
        </div>
        <ServiceStatus />
      </header>
      <nav className="tabs" aria-label="Secciones">
        {TABS.map((t) => (
          <a
            key={t.id}
            href={routeHref(t.id)}
            className={t.id === active.id ? "active" : ""}
            aria-current={t.id === active.id ? "page" : undefined}
          >
            {t.label}
          </a>
        ))}
      </nav>
      <main className="content">
        <View key={active.id} />
      </main>
    </ToastProvider>
  );
}

// The quote of a transfer between currencies, shown BEFORE staff confirm: rate, both amounts, the bank's spread and
// a countdown to its expiry (an expired quote cannot be confirmed: the form asks for a new one).
import { useEffect, useState } from "react";
import { segundosRestantes } from "../../api/cambio";
import type { Cotizacion } from "../../api/types";
import { Alert, Money } from "../../components/ui";

/** Re-renders every second while the quote lives; says when it has expired. */
export function useSegundosRestantes(vence: string | undefined): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!vence) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [vence]);
  return vence ? segundosRestantes(vence, now) : 0;
}

function mmss(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export function CotizacionPanel({ cotizacion, restantes }: { cotizacion: Cotizacion; restantes: number }) {
  const c = cotizacion;
  return (
    <div className="card-inset" data-testid="cotizacion" aria-live="polite">
      <h3 className="card-subtitle">Cotización de cambio</h3>
      <dl className="kpis">
        <div>
          <dt>Tasa</dt>
          <dd data-testid="cotizacion-tasa">
            1 {c.monedaOrigen} = {c.tasa} {c.monedaDestino}
          </dd>
        </div>
        <div>
          <dt>Se debita</dt>
          <dd data-testid="cotizacion-origen">
            <Money amount={c.montoOrigen} moneda={c.monedaOrigen} />
          </dd>
        </div>
        <div>
          <dt>Se acredita</dt>
          <dd data-testid="cotizacion-destino">
            <Money amount={c.montoDestino} moneda={c.monedaDestino} />
          </dd>
        </div>
        <div>
          <dt>Margen del banco</dt>
          <dd data-testid="cotizacion-margen">
            <Money amount={c.ingreso} moneda={c.monedaOrigen} />
          </dd>
        </div>
      </dl>
      {restantes > 0 ? (
        <p className="cell-sub" data-testid="cotizacion-vence">
          Válida por {mmss(restantes)}
        </p>
      ) : (
        <Alert kind="warning">La cotización venció; pida una nueva antes de confirmar.</Alert>
      )}
    </div>
  );
}

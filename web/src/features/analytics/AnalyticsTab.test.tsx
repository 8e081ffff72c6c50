// @vitest-environment jsdom
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AnalyticsTab, Dashboard } from "./AnalyticsTab";

afterEach(() => vi.unstubAllGlobals());

/** The dashboard as analytics answers it for one currency: the original's eight metrics, once each. */
function dashboard(moneda: string) {
  return [
    { metrica: "Total Clientes", valor: 20, categoria: "clientes", moneda: null },
    { metrica: "Total Cuentas", valor: 4, categoria: "cuentas", moneda },
    { metrica: "Saldo Total Banco", valor: "400.00", categoria: "cuentas", moneda },
    { metrica: "Total Transacciones", valor: 3, categoria: "transacciones", moneda },
    { metrica: "Volumen Transaccional", valor: "30.00", categoria: "transacciones", moneda },
    { metrica: "Clientes Activos", valor: 18, categoria: "clientes", moneda: null },
    { metrica: "Saldo Promedio", valor: "100.00", categoria: "cuentas", moneda },
    { metrica: "Transacción Promedio", valor: "10.00", categoria: "transacciones", moneda },
  ];
}

function stubAnalytics() {
  const urls: URL[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL) => {
    const url = new URL(String(input), "http://console");
    urls.push(url);
    const moneda = url.searchParams.get("moneda") ?? "PEN";
    const data = url.pathname.endsWith("/api/dashboard") ? dashboard(moneda) : [];
    const body = { success: true, data, rows_count: data.length, execution_time_ms: 1, error: null };
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fn);
  return urls;
}

describe("AnalyticsTab currency", () => {
  it("asks every panel in PEN first, and again in the currency picked", async () => {
    const urls = stubAnalytics();
    render(<AnalyticsTab />);
    await waitFor(() => expect(urls.length).toBe(7));
    expect(urls.map((u) => u.searchParams.get("moneda"))).toEqual(Array(7).fill("PEN"));
    expect(urls.find((u) => u.pathname.endsWith("/top-saldos"))!.searchParams.get("limit")).toBe("10");
    const panel = screen.getByTestId("panel-dashboard");
    await waitFor(() => expect(within(panel).getByTestId("kpis-PEN")).toBeInTheDocument());

    await userEvent.setup({ delay: null }).click(screen.getByRole("radio", { name: "USD" }));
    await waitFor(() => expect(urls.length).toBe(14));
    expect(urls.slice(7).map((u) => u.searchParams.get("moneda"))).toEqual(Array(7).fill("USD"));
    await waitFor(() => expect(within(panel).getByTestId("kpis-USD")).toBeInTheDocument());
    expect(screen.getByRole("radio", { name: "USD" })).toHaveAttribute("aria-checked", "true");
  });
});

describe("Dashboard", () => {
  it("shows one card per original metric for one currency", () => {
    const { container } = render(<Dashboard rows={dashboard("PEN")} />);
    const keys = [...container.querySelectorAll("[data-kpi]")].map((e) => e.getAttribute("data-kpi"));
    expect(keys.sort()).toEqual(
      dashboard("PEN")
        .map((r) => r.metrica)
        .sort(),
    );
    const promedio = container.querySelector('[data-kpi="Transacción Promedio"] .kpi-value');
    expect(promedio?.textContent).toMatch(/S\//); // money, in soles
    expect(screen.queryByTestId("kpis-moneda")).toBeNull();
  });

  it("puts the currencies side by side with todas, never summed", () => {
    const rows = [...dashboard("PEN"), ...dashboard("USD").filter((r) => r.moneda)];
    render(<Dashboard rows={rows} />);
    const table = screen.getByTestId("kpis-moneda");
    expect(within(table).getByTestId("kpis-PEN")).toBeInTheDocument();
    expect(within(table).getByTestId("kpis-USD")).toBeInTheDocument();
  });
});

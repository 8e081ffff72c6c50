// @vitest-environment jsdom
import { render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { OpsView } from "../../api/operaciones";
import { OperacionesTab, OpsPanels, pointOf } from "./OperacionesTab";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

function view(lag: number, backlog: number): OpsView {
  return {
    scraped_at: "2026-12-04T19:00:00Z",
    targets: [
      { name: "clientes", url: "http://127.0.0.1:8001/metrics", up: true, error: null },
      { name: "lake-sink", url: "http://127.0.0.1:9464/metrics", up: false, error: "ConnectError" },
    ],
    consumer_lag: [
      { group: "cuentas.replica-clientes", topic: "bank.clientes.v1", partition: 0, lag, instance: "cuentas-1" },
    ],
    lag_by_group: { "cuentas.replica-clientes": lag },
    outboxes: [{ outbox: "clientes", backlog, oldest_age_seconds: 4.5 }],
    dlq_depth: { "bank.cuentas.v1.dlq": 2 },
    sagas: { by_outcome: { COMPLETADA: 9, FALLIDA: 1 }, p50_seconds: 0.12, p99_seconds: 1.5 },
    http_requests: 120,
    http_errors: 3,
    failures: [{ kind: "http-5xx", where: "cuentas POST /cuentas → 503", count: 3 }],
  };
}

function stubOps(views: OpsView[]) {
  const urls: string[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL) => {
    urls.push(new URL(String(input), "http://console").pathname);
    const body = views[Math.min(urls.length - 1, views.length - 1)];
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fn);
  return urls;
}

describe("OperacionesTab", () => {
  it("reads the aggregated view from analytics, never a /metrics, and shows every panel", async () => {
    const urls = stubOps([view(40, 7)]);
    render(<OperacionesTab />);
    await waitFor(() => expect(screen.getByTestId("ops-lag")).toBeInTheDocument());
    expect(urls).toEqual(["/api/analytics/api/operaciones"]);
    expect(within(screen.getByTestId("ops-procesos")).getByRole("alert")).toHaveTextContent("lake-sink");
    expect(within(screen.getByTestId("ops-lag")).getByText("cuentas.replica-clientes")).toBeInTheDocument();
    expect(within(screen.getByTestId("ops-outbox")).getByText("7")).toBeInTheDocument();
    expect(within(screen.getByTestId("ops-dlq")).getByText("bank.cuentas.v1.dlq")).toBeInTheDocument();
    expect(screen.getByTestId("saga-p99")).toHaveTextContent("1.5 s");
    expect(within(screen.getByTestId("ops-fallos")).getByText("cuentas POST /cuentas → 503")).toBeInTheDocument();
  });

  it("draws the trend of lag and backlog over the refreshes", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    stubOps([view(40, 7), view(10, 0)]);
    render(<OperacionesTab />);
    await waitFor(() => expect(screen.getByTestId("trend-lag")).toHaveTextContent("40"));
    await vi.advanceTimersByTimeAsync(10_000);
    await waitFor(() => expect(screen.getByTestId("trend-lag")).toHaveTextContent("10"));
    expect(screen.getByTestId("trend-lag")).toHaveTextContent("máx. 40");
    expect(screen.getByTestId("trend-lag").querySelector("path")?.getAttribute("d")).toBe("M0.0,0.0 L300.0,45.0");
  });
});

describe("OpsPanels", () => {
  it("says when Kafka does not answer instead of showing an empty DLQ", () => {
    const v = { ...view(0, 0), dlq_depth: null, failures: [] };
    render(<OpsPanels view={v} history={[pointOf(v)]} />);
    expect(screen.getByTestId("ops-dlq")).toHaveTextContent("Kafka no responde");
    expect(screen.getByTestId("ops-fallos")).toHaveTextContent("Sin fallos.");
  });
});

// The operator view (lag, outbox backlog, DLQ, sagas, failures), summed by analytics from every process's
// /metrics: GET /api/analytics/api/operaciones (role operaciones or admin). The browser never reads a /metrics.
import { request } from "./http";

export interface OpsTarget {
  name: string;
  url: string;
  up: boolean;
  error: string | null;
}

export interface OpsLag {
  group: string;
  topic: string;
  partition: number;
  lag: number;
  instance: string;
}

export interface OpsBacklog {
  outbox: string;
  backlog: number;
  oldest_age_seconds: number;
}

export interface OpsFailure {
  kind: string;
  where: string;
  count: number;
}

export interface OpsView {
  scraped_at: string;
  targets: OpsTarget[];
  consumer_lag: OpsLag[];
  lag_by_group: Record<string, number>;
  outboxes: OpsBacklog[];
  dlq_depth: Record<string, number> | null;
  sagas: { by_outcome: Record<string, number>; p50_seconds: number | null; p99_seconds: number | null };
  http_requests: number;
  http_errors: number;
  failures: OpsFailure[];
}

export async function opsView(signal?: AbortSignal): Promise<OpsView> {
  return (await request<OpsView>("analytics", "/analytics/api/operaciones", { signal })).data;
}

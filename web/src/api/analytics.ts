// analytics (MS5) through the gateway: /api/analytics/* → :8000/* (prefix stripped).
import { request, type Query } from "./http";
import type { AnalyticsResult } from "./types";

const S = "analytics";

export async function analytics<Row = Record<string, unknown>>(
  path: string,
  query?: Query,
  signal?: AbortSignal,
): Promise<AnalyticsResult<Row>> {
  return (await request<AnalyticsResult<Row>>(S, `/analytics${path}`, { query, signal })).data;
}

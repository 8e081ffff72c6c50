// Each service's /health through the gateway (/api/health/<service>), for the status dots in the header.
import { request } from "./http";

/** Health of one service through the gateway (/api/health/<service>); true when it answers 200. */
export async function serviceHealthy(service: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await request<unknown>(service, `/health/${service}`, { signal });
    return true;
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    return false;
  }
}

import { afterEach, describe, expect, it, vi } from "vitest";
import { SessionCheckError, fetchSession, loginUrl, notifyUnauthorized, onUnauthorized, sessionFrom } from "./session";

afterEach(() => vi.unstubAllGlobals());

describe("sessionFrom", () => {
  it("reads oauth2-proxy's userinfo: the username and the realm roles from the token's groups", () => {
    const body = { user: "f3a1-…", email: "cajero", preferredUsername: "cajero", groups: ["role:cajero"] };
    expect(sessionFrom(body)).toEqual({ username: "cajero", email: "cajero", roles: ["cajero"] });
  });

  it("falls back to user when the realm sends no preferred_username", () => {
    expect(sessionFrom({ user: "ana", email: "" })).toEqual({ username: "ana", email: undefined, roles: [] });
  });
});

describe("fetchSession", () => {
  it("401 from the gateway is no session, not an error", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response("Unauthorized", { status: 401 })),
    );
    await expect(fetchSession()).resolves.toBeNull();
  });

  it("asks /oauth2/userinfo with the same-origin cookie", async () => {
    const fn = vi.fn(async (_url: string, _init?: RequestInit) =>
      Response.json({ user: "x", preferredUsername: "analista", groups: ["role:analista"] }),
    );
    vi.stubGlobal("fetch", fn);
    await expect(fetchSession()).resolves.toMatchObject({ username: "analista", roles: ["analista"] });
    const [url, init] = fn.mock.calls[0] ?? [];
    expect(url).toBe("/oauth2/userinfo");
    expect(init?.credentials).toBe("same-origin");
  });

  it("a gateway that is down is an error the login screen can show", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response("", { status: 502 })),
    );
    await expect(fetchSession()).rejects.toBeInstanceOf(SessionCheckError);
  });
});

describe("loginUrl", () => {
  it("returns to the same place on this origin after Keycloak", () => {
    expect(loginUrl("/#/cuentas?cliente_id=7")).toBe("/oauth2/start?rd=%2F%23%2Fcuentas%3Fcliente_id%3D7");
  });

  it("never sends the user to another site afterwards", () => {
    expect(loginUrl("https://evil.example/")).toBe("/oauth2/start?rd=%2F");
    expect(loginUrl("//evil.example/")).toBe("/oauth2/start?rd=%2F");
    expect(loginUrl("/\\evil.example/")).toBe("/oauth2/start?rd=%2F");
  });
});

describe("onUnauthorized", () => {
  it("tells each subscriber until it unsubscribes", () => {
    const seen: string[] = [];
    const off = onUnauthorized(() => seen.push("a"));
    notifyUnauthorized();
    off();
    notifyUnauthorized();
    expect(seen).toEqual(["a"]);
  });
});

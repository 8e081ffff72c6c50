// @vitest-environment jsdom
import { renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { useIdempotencyKey } from "./useIdempotencyKey";

describe("useIdempotencyKey", () => {
  it("keeps one key per request until it changes or is settled", () => {
    const { result, rerender } = renderHook(() => useIdempotencyKey());
    const a = result.current.keyFor({ monto: "10.00" });
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    rerender();
    expect(result.current.keyFor({ monto: "10.00" })).toBe(a); // a retry, across renders
    const b = result.current.keyFor({ monto: "11.00" });
    expect(b).not.toBe(a);
    result.current.settle(a); // an older key settling does not drop the current one
    expect(result.current.keyFor({ monto: "11.00" })).toBe(b);
    result.current.settle(b);
    expect(result.current.keyFor({ monto: "11.00" })).not.toBe(b); // the same body again is a new operation
  });
});

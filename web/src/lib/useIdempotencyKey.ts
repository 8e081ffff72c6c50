// One Idempotency-Key per request body: a retried click of the same form (after a timeout, a 503, a lost answer)
// sends the same key, so the service answers the original result instead of writing twice; a changed body is
// another operation and gets a new key (the service refuses a reused key with another body: 409).
import { useCallback, useMemo, useRef } from "react";
import { newIdempotencyKey } from "./ids";

export interface IdempotencyKeys {
  /** The key for this request: the previous one while the request is the same, a new one once it changes. */
  keyFor: (request: unknown) => string;
  /** The write with this key got its final answer: the next request, even an identical one, is a new operation. */
  settle: (key: string) => void;
}

/**
 * `request` is everything that identifies the write (its body, plus the resource id when one hook serves
 * several rows); it is compared as JSON, so build it with a stable key order.
 */
export function useIdempotencyKey(): IdempotencyKeys {
  const current = useRef<{ request: string; key: string } | null>(null);
  const keyFor = useCallback((request: unknown) => {
    const json = JSON.stringify(request);
    if (current.current?.request !== json) current.current = { request: json, key: newIdempotencyKey() };
    return current.current.key;
  }, []);
  const settle = useCallback((key: string) => {
    if (current.current?.key === key) current.current = null;
  }, []);
  return useMemo(() => ({ keyFor, settle }), [keyFor, settle]);
}

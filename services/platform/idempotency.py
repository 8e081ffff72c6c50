"""Idempotency-Key on writes: the header, the request fingerprint and the replay-or-409 decision every SQL service
shares; each service stores the record in the same transaction as the write's effect (claim first, answer last).

A keyed write runs as: look the key up (a retry of a committed write is answered from its record, byte for byte);
else run the use case, whose transaction first claims the key (a concurrent request with the same key waits on that
row until the first commits, then finds its record: `KeyTaken`) and finally stores the answer beside the effect.
Only successful answers are recorded: a refused write (404/409/422) moved nothing and rolled its claim back, so a
retry is judged afresh and still applies at most once.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Generic, TypeVar

from fastapi import Header, Request, Response
from pydantic import BaseModel

from services.platform import failpoints
from services.platform.errors import Conflict

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
KEY_MAX: Final = 200
# Visible ASCII and inner spaces: a key is compared byte for byte, so nothing a proxy might fold or re-encode.
KEY_PATTERN: Final = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=KEY_MAX,
        pattern=KEY_PATTERN,
        description=(
            "Optional, 1..200 visible ASCII characters (e.g. a UUID). The same key with the same method, path and "
            "body answers the original response again (header Idempotent-Replayed: true) without applying the "
            "write twice; with another request 409; a request still running with that key is waited for. Only "
            "successful answers are recorded: a refused request moved nothing and is judged afresh."
        ),
    ),
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class IdempotencyKeyReused(Conflict):
    def __init__(self) -> None:
        super().__init__("Idempotency-Key ya usada con otra petición (otro método, ruta o cuerpo)")


@dataclass(frozen=True)
class Recorded:
    """What a committed keyed write answered, as stored beside its effect."""

    fingerprint: str
    status: int
    body: str
    location: str | None = None


class KeyTaken(Exception):
    """Raised inside a use case's transaction (rolling its work back) when another request committed the key."""

    def __init__(self, recorded: Recorded) -> None:
        super().__init__("idempotency key already recorded")
        self.recorded = recorded


def fingerprint(method: str, path: str, body: Any) -> str:
    """The request as parsed (so 100 and "100.00" are the same amount): what makes two uses of a key "the same"."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Keyed(Generic[T]):
    """A keyed write handed to a use case: claim `key` first in its transaction, `record(result)` last."""

    key: str
    fingerprint: str
    status: int
    render: Callable[[T], BaseModel]
    location: Callable[[T], str] | None = None

    def record(self, result: T) -> Recorded:
        body = self.render(result).model_dump_json()
        return Recorded(self.fingerprint, self.status, body, self.location(result) if self.location else None)


def answer(recorded: Recorded, fingerprint_now: str, *, replayed: bool) -> Response:
    """The recorded answer, or 409 when the key was used for another request."""
    if recorded.fingerprint != fingerprint_now:
        raise IdempotencyKeyReused()
    headers = {REPLAYED_HEADER: "true"} if replayed else {}
    if recorded.location:
        headers["Location"] = recorded.location
    return Response(recorded.body, status_code=recorded.status, media_type="application/json", headers=headers)


async def run_keyed(
    request: Request,
    key: str | None,
    body: BaseModel | None,
    *,
    find: Callable[[str], Awaitable[Recorded | None]],
    write: Callable[[Keyed[T] | None], Awaitable[T]],
    render: Callable[[T], M],
    status: int = 200,
    location: Callable[[T], str] | None = None,
) -> M | Response:
    """Run a write route with its optional Idempotency-Key: without one, `write(None)` as before; with one, the
    recorded answer for a repeat, else `write(keyed)`, answered exactly as it was recorded."""
    if key is None:
        return render(await write(None))
    fp = fingerprint(request.method, request.url.path, body.model_dump(mode="json") if body else None)
    recorded = await find(key)
    if recorded is not None:
        return answer(recorded, fp, replayed=True)
    keyed = Keyed(key, fp, status, render, location)
    try:
        result = await write(keyed)
    except KeyTaken as taken:
        return answer(taken.recorded, fp, replayed=True)
    failpoints.hit(request, failpoints.CRASH_AFTER_COMMIT)
    return answer(keyed.record(result), fp, replayed=False)

"""`Prefer: wait=N` (RFC 7240): how long a client asks a command to wait for its saga's end, within a ceiling.

Without it a command waits `wait_seconds` (2 s) and answers 202 if the saga is still running; the client then asks
again with the same Idempotency-Key. Under load (latency past 2 s) every transfer became two to five POSTs, each a
request through HAProxy, a token check and a lookup: a client that can hold a connection says how long, and makes one.
"""

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar

MAX_WAIT = 15  # seconds: under reenvio.TIMEOUT (a forwarded request waits at the other instance) and HAProxy's 30 s

_DELTA_SECONDS = re.compile(r"[0-9]{1,9}")  # ASCII digits only, and few: int() of a 5,000-digit value would raise

_asked: ContextVar[int | None] = ContextVar("prefer_wait", default=None)


def parse(header: str | None) -> int | None:
    """The wait a Prefer header asks for (delta-seconds), capped at MAX_WAIT; None when there is none. A malformed
    one is ignored, as RFC 7240 says of any preference a server does not understand."""
    for preference in (header or "").split(","):
        name, _, value = preference.split(";")[0].partition("=")
        if name.strip().lower() == "wait":
            value = value.strip().strip('"')
            return min(int(value), MAX_WAIT) if _DELTA_SECONDS.fullmatch(value) else None
    return None


@contextlib.contextmanager
def asked(seconds: int | None) -> Iterator[None]:
    """Within the block (one request's handling), `wait_or` answers `seconds` when the client asked for a wait."""
    token = _asked.set(seconds)
    try:
        yield
    finally:
        _asked.reset(token)


def wait_or(default: float) -> float:
    """The wait the current request asked for, else `default` (the service's own)."""
    seconds = _asked.get()
    return default if seconds is None else float(seconds)

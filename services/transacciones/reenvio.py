"""Sending a request on to the instance that runs its saga (api.py): the same request, its answer as is."""

import asyncio

import httpx
from fastapi import Request, Response

from services.platform.errors import Unavailable

FORWARDED = "X-Cloudbank-Forwarded"
"""Set on a forwarded request: it is answered where it lands, never forwarded again (partitions may move meanwhile)."""
TIMEOUT = 20.0  # beyond the other instance's own wait for the saga's end (prefer.MAX_WAIT at most)
_SENT = ("authorization", "idempotency-key", "content-type", "prefer")
_KEPT = ("content-type", "retry-after", "location", "idempotent-replayed", "preference-applied")

_client: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient] | None = None


def http() -> httpx.AsyncClient:
    """One client per event loop, kept: making one costs ~25 ms of CPU (its TLS context), more than a transfer, and
    under load every long poll that lands on the wrong instance is forwarded."""
    global _client
    loop = asyncio.get_running_loop()
    if _client is None or _client[0] is not loop:
        _client = (loop, httpx.AsyncClient(timeout=TIMEOUT))
    return _client[1]


def reenviada(request: Request) -> bool:
    return bool(request.headers.get(FORWARDED))


async def reenviar(request: Request, url: str) -> Response:
    """The same request (its body, the caller's credentials and Idempotency-Key) to `url`; its answer as is. The
    other instance unreachable (killed? its partitions come to a live one within the group's session timeout): 503."""
    answer = await intentar(request, url)
    if answer is None:
        raise Unavailable("La instancia que lleva la transacción no responde; reintente en unos segundos")
    return answer


async def intentar(request: Request, url: str) -> Response | None:
    """As reenviar, but None when the other instance does not answer (for a caller with an answer of its own)."""
    headers = {FORWARDED: "1"} | {k: v for k, v in request.headers.items() if k.lower() in _SENT}
    try:
        r = await http().request(request.method, url, content=await request.body(), headers=headers)
    except httpx.TransportError:
        return None
    return Response(
        content=r.content, status_code=r.status_code, headers={k: v for k, v in r.headers.items() if k.lower() in _KEPT}
    )

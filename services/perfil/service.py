"""Use cases of the read side: a profile, a search, a cliente's transactions; all read through the active view."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.perfil import projector
from services.perfil.errors import PerfilNoEncontrado
from services.perfil.store import Freshness, ViewStore

MAX_TERMS = 6


class ActiveView:
    """The schema the pointer names, re-read at most every `ttl` seconds (a switch keeps the old copy
    readable, so serving it for another second is harmless)."""

    def __init__(self, store: ViewStore, ttl: float = 1.0) -> None:
        self._store = store
        self._ttl = ttl
        self._schema: str | None = None
        self._read_at = 0.0

    async def schema(self) -> str:
        now = time.monotonic()
        if self._schema is None or now - self._read_at > self._ttl:
            self._schema = await self._store.active_schema()
            self._read_at = now
        return self._schema


@dataclass(frozen=True)
class ViewLag:
    """How fresh an answer is: seconds since the newest folded event was created, 0 when caught up."""

    seconds: float | None
    offsets: dict[str, int]

    def headers(self) -> dict[str, str]:
        out = {"X-View-Offsets": ",".join(f"{k}={v}" for k, v in self.offsets.items())}
        if self.seconds is not None:
            out["X-View-Lag"] = f"{self.seconds:.3f}"
        return out


def view_lag(freshness: Freshness, caught_up: bool) -> ViewLag:
    if caught_up:
        return ViewLag(0.0, freshness.offsets)
    if freshness.last_event_time is None:
        return ViewLag(None, freshness.offsets)
    age = (datetime.now(UTC) - freshness.last_event_time).total_seconds()
    return ViewLag(max(0.0, age), freshness.offsets)


async def perfil_completo(store: ViewStore, schema: str, cliente_id: int) -> dict[str, Any]:
    doc = await store.document(schema, cliente_id)
    if doc is None or not projector.visible(doc):
        raise PerfilNoEncontrado(cliente_id)
    return projector.perfil_completo(doc)


def search_terms(query: str) -> list[str]:
    """Whitespace-separated terms, each of which must match (at most MAX_TERMS, longest first)."""
    # NUL cannot be stored in PostgreSQL text, so it can match nothing: drop it rather than fail.
    terms = list(dict.fromkeys(t for t in query.replace("\x00", "").lower().split() if t))
    return sorted(terms, key=len, reverse=True)[:MAX_TERMS]


async def buscar(store: ViewStore, schema: str, query: str, *, skip: int, limit: int) -> dict[str, Any]:
    total, clientes = await store.search(schema, search_terms(query), skip=skip, limit=limit)
    return {"query": query, "total_resultados": total, "resultados": clientes}


async def transacciones(store: ViewStore, schema: str, cliente_id: int, limit: int) -> dict[str, Any]:
    doc = await store.document(schema, cliente_id)
    if doc is None or not projector.visible(doc):
        raise PerfilNoEncontrado(cliente_id)
    items = await store.transactions(schema, cliente_id, limit)
    return {
        "cliente_id": cliente_id,
        "total_transacciones": doc["total_transacciones"],
        "transacciones_mostradas": len(items),
        "transacciones": projector.with_numero_cuenta(doc, items),
    }

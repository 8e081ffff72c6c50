"""A batch (`POST /<recurso>/lote`) under one Idempotency-Key: every item is recorded under its own sub-key
(`<key>#<index>`) in the transaction that writes it, so whichever path wrote it (the one-transaction fast path or
the item-by-item fallback, services/platform/lote.py) and wherever a crash fell, a retry writes each item at most
once and answers the items already written as they were answered. Refused items are judged afresh, like any
refused keyed write."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel

from services.platform import failpoints
from services.platform.errors import DomainError
from services.platform.idempotency import (
    REPLAYED_HEADER,
    IdempotencyKeyReused,
    Keyed,
    KeyTaken,
    Recorded,
    fingerprint,
)
from services.platform.lote import Lote, ResultadoItem, ResultadoLote, judge

Item = TypeVar("Item")
Creado = TypeVar("Creado")


def sub_key(key: str, indice: int) -> str:
    return f"{key}#{indice}"


class KeyedLote(Generic[Item, Creado]):
    """`todos` writes the items in one transaction claiming their keys (one per item, in order; raising a
    DomainError or KeyTaken rolls it all back); `uno` writes one item claiming its key."""

    def __init__(
        self,
        todos: Callable[[Sequence[Item], Sequence[Keyed[Creado]]], Awaitable[list[Creado]]],
        uno: Callable[[Item, Keyed[Creado] | None], Awaitable[Creado]],
        ident: Callable[[Creado], int | str],
        find: Callable[[Sequence[str]], Awaitable[dict[str, Recorded]]],
    ) -> None:
        self._todos = todos
        self._uno = uno
        self._ident = ident
        self._find = find

    async def run(
        self, request: Request, key: str | None, body: BaseModel, items: Sequence[Item]
    ) -> ResultadoLote | Response:
        if key is None:
            plain: Lote[Item, Creado] = Lote(lambda xs: self._todos(xs, ()), lambda x: self._uno(x, None), self._ident)
            return await plain.run(items)
        fp = fingerprint(request.method, request.url.path, body.model_dump(mode="json"))
        keys = [sub_key(key, i) for i in range(len(items))]
        found = await self._find(keys)
        results = {i: _replayed(found[k], fp) for i, k in enumerate(keys) if k in found}
        replayed_all = len(results) == len(items)
        pending = [i for i in range(len(items)) if i not in results]
        keyed = {i: Keyed(keys[i], fp, 201, self._render(i)) for i in pending}
        wrote = False
        try:
            creados = await self._todos([items[i] for i in pending], [keyed[i] for i in pending])
            results.update({i: self._render(i)(c) for i, c in zip(pending, creados, strict=True)})
            wrote = bool(pending)
        except (DomainError, KeyTaken):
            for i in pending:
                results[i], wrote_one = await self._one(i, items[i], keyed[i], fp)
                wrote = wrote or wrote_one
        if wrote:
            failpoints.hit(request, failpoints.CRASH_AFTER_COMMIT)
        answer = ResultadoLote.of([results[i] for i in range(len(items))])
        headers = {REPLAYED_HEADER: "true"} if replayed_all else {}
        return Response(answer.model_dump_json(), media_type="application/json", headers=headers)

    def _render(self, indice: int) -> Callable[[Creado], ResultadoItem]:
        return lambda creado: ResultadoItem(indice=indice, status=201, id=self._ident(creado))

    async def _one(self, indice: int, item: Item, keyed: Keyed[Creado], fp: str) -> tuple[ResultadoItem, bool]:
        """The item's outcome, and whether this call wrote it."""
        try:
            result = await judge(indice, self._uno(item, keyed), self._ident)
        except KeyTaken as taken:  # a concurrent retry of this batch wrote this item meanwhile
            return _replayed(taken.recorded, fp), False
        return result, result.status == 201


def _replayed(recorded: Recorded, fp: str) -> ResultadoItem:
    if recorded.fingerprint != fp:
        raise IdempotencyKeyReused()
    return ResultadoItem.model_validate_json(recorded.body)

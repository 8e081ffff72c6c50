"""Batch creation (`POST /<recurso>/lote`): many items per request, each judged on its own, with the answer shape
every service shares. Bulk loads (the demo seed, migrations) use it instead of one HTTP round trip per record.

How a service runs a batch: the fast path writes every item in one database transaction; if any item is refused
there, that transaction rolls back and each item goes through the single-item use case on its own, so one bad
item costs only itself and every item is either wholly written (state, ledger, outbox event) or not at all.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from services.platform.errors import DomainError

LOTE_MAX = 1000
"""Most items per batch request: large enough to amortise a round trip, small enough for one transaction."""

Item = TypeVar("Item")
Creado = TypeVar("Creado")


class ResultadoItem(BaseModel):
    """The outcome of one item, in request order: 201 with the new id, or the status and detail a single
    request with this body would have received."""

    indice: int = Field(description="position of the item in the request (0-based)")
    status: int = Field(
        description="2xx as the single-item endpoint would answer (201 created, 202 accepted), or its 404/409/422"
    )
    id: int | str | None = Field(default=None, description="id of the created resource (status 201)")
    detail: str | None = Field(default=None, description="why the item was refused (status 4xx)")
    campo: str | None = Field(default=None, description="the field at fault, when one is")


class ResultadoLote(BaseModel):
    creados: int = Field(description="items accepted (2xx)")
    rechazados: int
    resultados: list[ResultadoItem]

    @classmethod
    def of(cls, resultados: list[ResultadoItem]) -> "ResultadoLote":
        creados = sum(1 for r in resultados if 200 <= r.status < 300)
        return cls(creados=creados, rechazados=len(resultados) - creados, resultados=resultados)


async def judge(
    indice: int,
    creating: Awaitable[Creado],
    ident: Callable[[Creado], int | str],
    status: Callable[[Creado], int] = lambda _: 201,
) -> ResultadoItem:
    """One item's outcome: what `creating` made (its id and status), or the DomainError that refused it."""
    try:
        creado = await creating
    except DomainError as error:
        return ResultadoItem(
            indice=indice, status=error.status_code, detail=error.detail, campo=getattr(error, "field", None)
        )
    return ResultadoItem(indice=indice, status=status(creado), id=ident(creado))


class Lote(Generic[Item, Creado]):
    """Runs a batch: `todos` writes every item in one transaction (raising a DomainError rolls it all back);
    `uno` is the single-item use case, used item by item when the fast path was refused."""

    def __init__(
        self,
        todos: Callable[[Sequence[Item]], Awaitable[list[Creado]]],
        uno: Callable[[Item], Awaitable[Creado]],
        ident: Callable[[Creado], int | str],
    ) -> None:
        self._todos = todos
        self._uno = uno
        self._ident = ident

    async def run(self, items: Sequence[Item]) -> ResultadoLote:
        try:
            creados = await self._todos(items)
        except DomainError:
            return ResultadoLote.of([await judge(i, self._uno(item), self._ident) for i, item in enumerate(items)])
        return ResultadoLote.of([ResultadoItem(indice=i, status=201, id=self._ident(c)) for i, c in enumerate(creados)])

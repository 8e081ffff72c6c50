"""Thin routes of MS3: parse, read the active view, add the freshness headers."""

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from services.perfil import service
from services.perfil.dependencies import Views, ViewsDep
from services.perfil.schemas import BusquedaClientes, PerfilCompleto, TransaccionesCliente
from services.platform.ids import PathId
from services.platform.openapi import VIEW_FRESHNESS, headers
from services.platform.pagination import PageDep, set_total

router = APIRouter()


ClienteId = PathId  # cliente_id of MS1


async def _answer(res: Views, response: Response, schema: str) -> None:
    """Say how fresh the view is: 0 s lag when this process's projection has nothing left to fold."""
    projection = res.projection
    caught_up = (
        projection is not None
        and projection.status.schema == schema
        and projection.status.behind == 0
        and time.monotonic() - projection.status.last_loop < 5.0
    )
    lag = service.view_lag(await res.store.freshness(schema), caught_up)
    response.headers.update(lag.headers())


_FRESH = headers(VIEW_FRESHNESS, 200)
_UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"description": "unknown cliente (or, for a customer, another cliente)"}
}


@router.get("/api/clientes/buscar", response_model=BusquedaClientes, responses=_FRESH, tags=["perfil"])
async def buscar(
    res: ViewsDep,
    response: Response,
    page: PageDep,
    q: Annotated[str, Query(min_length=1, max_length=200, pattern=r"\S", description="text to look for")],
) -> dict[str, Any]:
    """Clientes whose nombre, apellido, email, document number or account number contains every word of q."""
    schema = await res.view.schema()
    result = await service.buscar(res.store, schema, q, skip=page.skip, limit=page.limit)
    set_total(response, result["total_resultados"])
    await _answer(res, response, schema)
    return result


@router.get(
    "/api/clientes/{cliente_id}/perfil-completo",
    response_model=PerfilCompleto,
    responses={**_FRESH, **_UNKNOWN},
    tags=["perfil"],
)
@router.get(
    "/cliente/{cliente_id}/completo", response_model=PerfilCompleto, responses={**_FRESH, **_UNKNOWN}, tags=["perfil"]
)
async def perfil_completo(res: ViewsDep, response: Response, cliente_id: ClienteId) -> dict[str, Any]:
    """The 360° profile: cliente, accounts, 50 newest transactions, the PEN total and per-currency totals."""
    schema = await res.view.schema()
    perfil = await service.perfil_completo(res.store, schema, cliente_id)
    await _answer(res, response, schema)
    return perfil


@router.get(
    "/api/clientes/{cliente_id}/transacciones",
    response_model=TransaccionesCliente,
    responses={**_FRESH, **_UNKNOWN},
    tags=["perfil"],
)
async def transacciones(
    res: ViewsDep,
    response: Response,
    cliente_id: ClienteId,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The cliente's transactions (completed and failed), newest first."""
    schema = await res.view.schema()
    result = await service.transacciones(res.store, schema, cliente_id, limit)
    await _answer(res, response, schema)
    return result

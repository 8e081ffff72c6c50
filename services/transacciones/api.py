"""HTTP routes of MS4 (thin: parse, call a use case, shape the answer)."""

import asyncio
import re
from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BeforeValidator

from services.platform.actor import ActorDep
from services.platform.ids import PathId
from services.platform.json_body import ExactNumbersRoute
from services.platform.lote import ResultadoLote, judge
from services.platform.pagination import Page, PageDep, set_total
from services.transacciones.domain import Transaccion
from services.transacciones.errors import NoCancelable
from services.transacciones.repository import Filtro
from services.transacciones.schemas import (
    Estado,
    EstadoUpdate,
    Tipo,
    TransaccionCreate,
    TransaccionesLote,
    TransaccionPublic,
    TransaccionRechazada,
)
from services.transacciones.service import TransaccionesService

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _end_of_day(value: Any) -> Any:
    # A bare date as the end of a range means the whole day (the range is inclusive).
    if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
        return datetime.combine(datetime.fromisoformat(value.strip()).date(), time.max).replace(microsecond=999000)
    return value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Desde = Annotated[datetime, AfterValidator(_utc)]
Hasta = Annotated[datetime, BeforeValidator(_end_of_day), AfterValidator(_utc)]
CuentaId = PathId


async def get_service(request: Request) -> TransaccionesService:
    service: TransaccionesService = request.app.state.service
    return service


ServiceDep = Annotated[TransaccionesService, Depends(get_service)]

router = APIRouter(prefix="/transacciones", tags=["transacciones"], route_class=ExactNumbersRoute)


@router.post(
    "",
    status_code=201,
    response_model=TransaccionPublic,
    responses={
        202: {"model": TransaccionPublic, "description": "saga still running: poll the Location"},
        409: {
            "model": TransaccionRechazada,
            "description": "the saga ended FALLIDA (saldo insuficiente, cuenta bloqueada/cerrada/inexistente, moneda "
            "distinta): the FALLIDA transaction plus detail/error/message = its motivo. Also 409, as a plain error "
            "body: Idempotency-Key reused with a different body",
        },
    },
)
async def crear(
    body: TransaccionCreate,
    service: ServiceDep,
    response: Response,
    actor: ActorDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> TransaccionPublic | JSONResponse:
    """Records the transaction and runs its saga; 201 with the final state if it ends within the wait, 409 with the
    transaction if it ended FALLIDA (a refusal is an error to the caller), else 202 PENDIENTE with a Location to
    poll. Same Idempotency-Key and body: the original transaction, with the status its state gives (the same 409
    for a refusal)."""
    t = await service.crear(body, idempotency_key, actor=actor)
    if t.estado == "FALLIDA":
        return rechazada(t)
    if not t.final:
        response.status_code = 202
        response.headers["Location"] = f"/transacciones/{t.id}"
    return TransaccionPublic.of(t)


def rechazada(t: Transaccion) -> JSONResponse:
    """The 409 of a refused transaction: a resource representation (application/json), not only a problem."""
    return JSONResponse(TransaccionRechazada.of_fallida(t).model_dump(mode="json"), status_code=409)


@router.post("/lote", response_model=ResultadoLote)
async def crear_lote(body: TransaccionesLote, service: ServiceDep, actor: ActorDep) -> ResultadoLote:
    """Bulk recording (seed, migrations): each item as POST /transacciones with its Idempotency-Key would be,
    its saga started the same way, but without waiting for it: 202 (saga running) or 201 (already final) per
    item, with the id to poll. An item's 2xx says it was recorded, not how its saga ended: a FALLIDA (a replay of
    a key whose saga already failed) is 201 with its id like any final one, and its estado and motivo are read
    from GET /transacciones/{id} (the single POST, which waits, answers that refusal with 409)."""

    def estado(t: Transaccion) -> int:
        return 201 if t.final else 202

    # Concurrently: the writer stores what arrives together in one round.
    resultados = await asyncio.gather(
        *(
            judge(i, service.crear(item, item.idempotency_key, wait=False, actor=actor), lambda t: str(t.id), estado)
            for i, item in enumerate(body.transacciones)
        )
    )
    return ResultadoLote.of(list(resultados))


@router.get("")
async def listar(
    service: ServiceDep,
    page: PageDep,
    response: Response,
    tipo: Annotated[Tipo | None, Query()] = None,
    estado: Annotated[Estado | None, Query()] = None,
    cuenta_id: Annotated[int | None, Query(gt=0, le=2**63 - 1)] = None,
    desde: Annotated[Desde | None, Query()] = None,
    hasta: Annotated[Hasta | None, Query()] = None,
) -> list[TransaccionPublic]:
    """Newest first."""
    return await _page(
        service, Filtro(tipo=tipo, estado=estado, cuenta_id=cuenta_id, desde=desde, hasta=hasta), page, response
    )


@router.get("/fecha-rango")
async def por_fecha(
    service: ServiceDep, page: PageDep, response: Response, inicio: Desde, fin: Hasta
) -> list[TransaccionPublic]:
    """Inclusive range; a bare date as `fin` covers that whole day."""
    if inicio > fin:
        raise RequestValidationError(
            [{"loc": ("query", "inicio"), "msg": "inicio must not be after fin", "type": "value_error"}]
        )
    return await _page(service, Filtro(desde=inicio, hasta=fin), page, response)


@router.get("/transaccion-id/{transaccion_id}")
async def por_transaccion_id(transaccion_id: str, service: ServiceDep) -> TransaccionPublic:
    return TransaccionPublic.of(await service.por_transaccion_id(transaccion_id))


@router.get("/cuenta/{cuenta_id}")
async def por_cuenta(
    cuenta_id: CuentaId, service: ServiceDep, page: PageDep, response: Response
) -> list[TransaccionPublic]:
    """Transactions where the account is origen or destino, newest first."""
    return await _page(service, Filtro(cuenta_id=cuenta_id), page, response)


@router.get("/tipo/{tipo}")
async def por_tipo(tipo: Tipo, service: ServiceDep, page: PageDep, response: Response) -> list[TransaccionPublic]:
    """Case-insensitive tipo."""
    return await _page(service, Filtro(tipo=tipo), page, response)


@router.get("/estado/{estado}")
async def por_estado(estado: Estado, service: ServiceDep, page: PageDep, response: Response) -> list[TransaccionPublic]:
    """Case-insensitive estado."""
    return await _page(service, Filtro(estado=estado), page, response)


@router.get("/{id}", responses={404: {"description": "unknown id"}})
async def obtener(id: str, service: ServiceDep) -> TransaccionPublic:
    return TransaccionPublic.of(await service.obtener(id))


@router.patch("/{id}/estado", responses={404: {"description": "unknown id"}, 409: {"description": "not cancelable"}})
async def cambiar_estado(id: str, body: EstadoUpdate, service: ServiceDep, actor: ActorDep) -> TransaccionPublic:
    """Only CANCELADA, and only for a PENDIENTE that has moved no money yet; anything else is 409."""
    if body.estado != "CANCELADA":
        await service.obtener(id)  # an unknown id is still 404
        raise NoCancelable(f"El estado {body.estado} lo decide la saga; solo se puede pedir CANCELADA")
    return TransaccionPublic.of(await service.cancelar(id, actor))


async def _page(
    service: TransaccionesService, filtro: Filtro, page: Page, response: Response
) -> list[TransaccionPublic]:
    items, total = await service.listar(filtro, page.skip, page.limit)
    set_total(response, total)
    return [TransaccionPublic.of(t) for t in items]

"""HTTP routes of MS4 (thin: parse, call a use case, shape the answer)."""

import asyncio
import dataclasses
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BeforeValidator

from services.platform.actor import ActorDep
from services.platform.ids import PathId
from services.platform.json_body import ExactNumbersRoute
from services.platform.lote import ResultadoLote, judge
from services.platform.openapi import LOCATION
from services.platform.pagination import Page, PageDep, set_total
from services.platform.policy import OwnCliente, PrincipalDep, check_movimiento
from services.transacciones import prefer, recientes, reenvio
from services.transacciones.dependencies import Credenciales, PropietariosDep, ServiceDep, StatsDep
from services.transacciones.domain import Transaccion
from services.transacciones.errors import CuentaNoEncontrada, NoCancelable, TransaccionNoEncontrada
from services.transacciones.propietarios import Propietarios
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
from services.transacciones.service import EnOtraInstancia, TransaccionesService

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


async def _own_cuentas(own: int | None, propietarios: Propietarios) -> frozenset[int] | None:
    """The accounts a customer's lists are confined to; None for staff."""
    return None if own is None else await propietarios.cuentas_de(own)


def _visible(t: Transaccion, cuentas: frozenset[int] | None) -> Transaccion:
    if cuentas is not None and t.cuenta_origen_id not in cuentas and t.cuenta_destino_id not in cuentas:
        raise TransaccionNoEncontrada(str(t.id))
    return t


router = APIRouter(prefix="/transacciones", tags=["transacciones"], route_class=ExactNumbersRoute)


@router.post(
    "",
    status_code=201,
    response_model=TransaccionPublic,
    responses={
        202: {"model": TransaccionPublic, "description": "saga still running: poll the Location", "headers": LOCATION},
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
    request: Request,
    service: ServiceDep,
    response: Response,
    actor: ActorDep,
    principal: PrincipalDep,
    propietarios: PropietariosDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> TransaccionPublic | Response:
    """A customer may only move money out of an account of their own (else 404, as for no account).
    Records the transaction and runs its saga; 201 with the final state if it ends within the wait, 409 with the
    transaction if it ended FALLIDA (a refusal is an error to the caller), else 202 PENDIENTE with a Location to
    poll. Same Idempotency-Key and body: the original transaction, with the status its state gives (the same 409
    for a refusal)."""
    if not check_movimiento(principal, body.tipo):
        origen = body.cuentaOrigenId
        if origen is None or await propietarios.dueno(origen) != principal.cliente_id:
            raise CuentaNoEncontrada(origen, "cuentaOrigenId")
    return await _respuesta(
        request,
        response,
        "/transacciones",
        lambda reenviable: service.crear(body, idempotency_key, actor=actor, reenviable=reenviable),
    )


def rechazada(t: Transaccion) -> JSONResponse:
    """The 409 of a refused transaction: a resource representation (application/json), not only a problem."""
    return JSONResponse(TransaccionRechazada.of_fallida(t).model_dump(mode="json"), status_code=409)


@router.post("/lote", response_model=ResultadoLote)
async def crear_lote(
    body: TransaccionesLote, service: ServiceDep, principal: PrincipalDep, actor: ActorDep
) -> ResultadoLote:
    """Bulk recording (seed, migrations): each item as POST /transacciones with its Idempotency-Key would be,
    its saga started the same way, but without waiting for it: 202 (saga running) or 201 (already final) per
    item, with the id to poll. An item's 2xx says it was recorded, not how its saga ended: a FALLIDA (a replay of
    a key whose saga already failed) is 201 with its id like any final one, and its estado and motivo are read
    from GET /transacciones/{id} (the single POST, which waits, answers that refusal with 409)."""

    for tipo in sorted({item.tipo for item in body.transacciones}):
        check_movimiento(principal, tipo)  # 403 for the whole batch (customers never reach here: the policy)

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
    own: OwnCliente,
    propietarios: PropietariosDep,
    auth: Credenciales,
    tipo: Annotated[Tipo | None, Query()] = None,
    estado: Annotated[Estado | None, Query()] = None,
    cuenta_id: Annotated[int | None, Query(gt=0, le=2**63 - 1)] = None,
    desde: Annotated[Desde | None, Query()] = None,
    hasta: Annotated[Hasta | None, Query()] = None,
) -> list[TransaccionPublic]:
    """Newest first; a customer's, only those of their own accounts."""
    filtro = Filtro(tipo=tipo, estado=estado, cuenta_id=cuenta_id, desde=desde, hasta=hasta)
    return await _page(service, filtro, page, response, await _own_cuentas(own, propietarios), auth)


@router.get(recientes.PATH.removeprefix("/transacciones"), include_in_schema=False)
async def recientes_de_esta_instancia(
    service: ServiceDep,
    instancia: Annotated[str, Query(max_length=64)] = "",
    despues: Annotated[int | None, Query(ge=0)] = None,
) -> list[dict[str, Any]] | dict[str, Any]:
    """Internal: what this instance wrote in the last recientes.HORIZON seconds, as list rows, for the lists of the
    other instances (read-your-writes without scanning the store). Staff only (the policy), like a whole list.
    With `despues`: only the writes numbered after it, if `instancia` is this process's (recientes.Recientes.desde);
    without: every row, as a plain list (what an instance of the previous version asks for)."""
    if service.recientes is None:
        return []
    if despues is None:
        return service.recientes.filas()
    return service.recientes.desde(instancia, despues)


@router.get("/fecha-rango")
async def por_fecha(
    service: ServiceDep,
    page: PageDep,
    response: Response,
    own: OwnCliente,
    propietarios: PropietariosDep,
    inicio: Desde,
    fin: Hasta,
    auth: Credenciales,
) -> list[TransaccionPublic]:
    """Inclusive range; a bare date as `fin` covers that whole day."""
    if inicio > fin:
        raise RequestValidationError(
            [{"loc": ("query", "inicio"), "msg": "inicio must not be after fin", "type": "value_error"}]
        )
    cuentas = await _own_cuentas(own, propietarios)
    return await _page(service, Filtro(desde=inicio, hasta=fin), page, response, cuentas, auth)


@router.get("/transaccion-id/{transaccion_id}", responses={404: {"description": "unknown transaccionId"}})
async def por_transaccion_id(
    transaccion_id: str, service: ServiceDep, own: OwnCliente, propietarios: PropietariosDep
) -> TransaccionPublic:
    t = _visible(await service.por_transaccion_id(transaccion_id), await _own_cuentas(own, propietarios))
    return (await _publicas(service, [t]))[0]


@router.get("/cuenta/{cuenta_id}")
async def por_cuenta(
    cuenta_id: CuentaId,
    service: ServiceDep,
    page: PageDep,
    response: Response,
    own: OwnCliente,
    propietarios: PropietariosDep,
    auth: Credenciales,
) -> list[TransaccionPublic]:
    """Transactions where the account is origen or destino, newest first (a customer's own accounts only)."""
    if own is not None and await propietarios.dueno(cuenta_id) != own:
        raise CuentaNoEncontrada(cuenta_id)
    return await _page(service, Filtro(cuenta_id=cuenta_id), page, response, None, auth if own is None else None)


@router.get("/tipo/{tipo}")
async def por_tipo(
    tipo: Tipo,
    service: ServiceDep,
    page: PageDep,
    response: Response,
    own: OwnCliente,
    propietarios: PropietariosDep,
    auth: Credenciales,
) -> list[TransaccionPublic]:
    """Case-insensitive tipo."""
    return await _page(service, Filtro(tipo=tipo), page, response, await _own_cuentas(own, propietarios), auth)


@router.get("/estado/{estado}")
async def por_estado(
    estado: Estado,
    service: ServiceDep,
    page: PageDep,
    response: Response,
    own: OwnCliente,
    propietarios: PropietariosDep,
    auth: Credenciales,
) -> list[TransaccionPublic]:
    """Case-insensitive estado."""
    return await _page(service, Filtro(estado=estado), page, response, await _own_cuentas(own, propietarios), auth)


@router.get("/{id}", responses={404: {"description": "unknown id"}})
async def obtener(id: str, service: ServiceDep, own: OwnCliente, propietarios: PropietariosDep) -> TransaccionPublic:
    t = _visible(await service.obtener(id), await _own_cuentas(own, propietarios))
    return (await _publicas(service, [t]))[0]


@router.post(
    "/{id}/reversion",
    status_code=201,
    response_model=TransaccionPublic,
    responses={
        202: {"model": TransaccionPublic, "description": "saga still running: poll the Location", "headers": LOCATION},
        404: {"description": "unknown id"},
        409: {
            "model": TransaccionRechazada,
            "description": "the reversal's saga ended FALLIDA (e.g. SALDO_INSUFICIENTE: the account to debit no "
            "longer holds the money): the FALLIDA reversal plus detail/error/message = its motivo; the original "
            "stays reversible. Also 409, as a plain error body: the original is not COMPLETADA, is itself a "
            "reversal, already has a reversal (named), or the Idempotency-Key was used for another request",
        },
    },
)
async def revertir(
    id: str,
    service: ServiceDep,
    response: Response,
    actor: ActorDep,
    request: Request,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> TransaccionPublic | Response:
    """Give a COMPLETADA transaction's money back with a new transaction (`reversionDe`) through the same saga:
    a TRANSFERENCIA back from destino to origen, a DEPOSITO as a RETIRO, a RETIRO/PAGO_SERVICIO as a DEPOSITO.
    At most once per transaction (a FALLIDA reversal does not count); answers like POST /transacciones."""
    return await _respuesta(
        request,
        response,
        f"/transacciones/{id}/reversion",
        lambda reenviable: service.revertir(id, idempotency_key, actor=actor, reenviable=reenviable),
    )


@router.patch(
    "/{id}/estado",
    response_model=TransaccionPublic,
    responses={404: {"description": "unknown id"}, 409: {"description": "not cancelable"}},
)
async def cambiar_estado(
    id: str, body: EstadoUpdate, service: ServiceDep, actor: ActorDep, request: Request
) -> TransaccionPublic | Response:
    """Only CANCELADA, and only for a PENDIENTE that has moved no money yet; anything else is 409."""
    if body.estado != "CANCELADA":
        await service.obtener(id)  # an unknown id is still 404
        raise NoCancelable(f"El estado {body.estado} lo decide la saga; solo se puede pedir CANCELADA")
    try:
        return TransaccionPublic.of(await service.cancelar(id, actor))
    except EnOtraInstancia as other:
        if reenvio.reenviada(request):  # forwarded once already: the partitions moved meanwhile
            raise NoCancelable("La transacción la lleva otra instancia; reintente") from None
        return await reenvio.reenviar(request, f"{other.url}/transacciones/{id}/estado")


async def _respuesta(
    request: Request, response: Response, path: str, run: Callable[[bool], Awaitable[Transaccion]]
) -> TransaccionPublic | Response:
    """A command that records a transaction (`run(reenviable)`), answered like POST /transacciones: 409 with the
    transaction when it ended FALLIDA, 202 with a Location while it runs, else the final state. A retry whose saga
    another live instance runs is answered by that one (`path` on its url); should it not answer, with the
    transaction as this instance knows it (503 when this one has none). `Prefer: wait=N` sets the wait (prefer.py)
    and is answered with Preference-Applied."""
    seconds = prefer.parse(request.headers.get("prefer"))
    try:
        with prefer.asked(seconds):
            t = await run(not reenvio.reenviada(request))
    except EnOtraInstancia as other:
        if other.doc is None:
            return await reenvio.reenviar(request, other.url + path)
        forwarded = await reenvio.intentar(request, other.url + path)
        if forwarded is not None:
            return forwarded
        t = other.doc
    answer = rechazada(t) if t.estado == "FALLIDA" else response
    if seconds is not None:
        answer.headers["Preference-Applied"] = f"wait={seconds}"
    if answer is not response:
        return answer
    if not t.final:
        response.status_code = 202
        response.headers["Location"] = f"/transacciones/{t.id}"
    return TransaccionPublic.of(t)


async def _page(
    service: TransaccionesService,
    filtro: Filtro,
    page: Page,
    response: Response,
    cuentas: frozenset[int] | None = None,
    auth: str | None = None,
) -> list[TransaccionPublic]:
    if cuentas is not None:  # a customer: only their own accounts' transactions
        if filtro.cuenta_id is not None and filtro.cuenta_id not in cuentas:
            set_total(response, 0)
            return []
        filtro = dataclasses.replace(filtro, cuentas=cuentas)
    items, total = await service.listar(filtro, page.skip, page.limit, auth)
    set_total(response, total)
    return await _publicas(service, items)


async def _publicas(service: TransaccionesService, items: list[Transaccion]) -> list[TransaccionPublic]:
    """The answer's transactions, each COMPLETADA one with the reversal that gave it back (`revertidaPor`)."""
    revertidas = await service.revertidas(items)
    return [TransaccionPublic.of(t, revertidas.get(t.id)) for t in items]


ops = APIRouter(tags=["health"])


@ops.get("/stats", include_in_schema=False)
async def stats(read: StatsDep) -> dict[str, Any]:
    """The process's counters (writer, relay, sweeper), for benchmarks and diagnosis."""
    return read()

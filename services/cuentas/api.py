"""Thin REST routes of cuentas (API.md §MS2): parse, call a use case, shape the answer. Domain errors become
HTTP answers in the platform app (404/409/422)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response

from services.cuentas.dependencies import ServiceDep
from services.cuentas.domain import ID_MAX, Cuenta
from services.cuentas.errors import CuentaNoEncontrada
from services.cuentas.schemas import (
    CapturaIn,
    CuentaCreate,
    CuentaDetalle,
    CuentaPublic,
    CuentasInternasPublic,
    CuentasLote,
    EstadoIn,
    EstadoRetencionIn,
    EstadoUpdate,
    LimitesPublic,
    LimitesUpdate,
    Mensaje,
    MonedaIn,
    MovimientoPublic,
    RetencionCreate,
    RetencionPublic,
    SaldoUpdate,
    TipoCuentaPublic,
)
from services.cuentas.service import Apertura
from services.platform.actor import ActorDep
from services.platform.errors import Invalid
from services.platform.idempotency import IdempotencyKey, run_keyed
from services.platform.idempotent_lote import KeyedLote
from services.platform.ids import PathId, SmallPathId
from services.platform.json_body import ExactNumbersRoute
from services.platform.lote import ResultadoLote
from services.platform.pagination import PageDep, set_total
from services.platform.policy import OwnCliente

CuentaIdPath = PathId
# Lets a caller (the SPA, a script, another service) tie our events to its own flow.
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-ID", max_length=100)]

router = APIRouter(route_class=ExactNumbersRoute)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "unknown id"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "refused by a business rule, or Idempotency-Key already used for another request"}
}


@router.get("/tipos-cuenta", response_model=list[TipoCuentaPublic], tags=["tipos-cuenta"])
async def listar_tipos(service: ServiceDep) -> list[TipoCuentaPublic]:
    return [TipoCuentaPublic.model_validate(t) for t in await service.tipos_cuenta()]


@router.get(
    "/tipos-cuenta/{tipo_cuenta_id}", response_model=TipoCuentaPublic, responses=NOT_FOUND, tags=["tipos-cuenta"]
)
async def obtener_tipo(tipo_cuenta_id: SmallPathId, service: ServiceDep) -> TipoCuentaPublic:
    return TipoCuentaPublic.model_validate(await service.tipo_cuenta(tipo_cuenta_id))


@router.post(
    "/cuentas",
    response_model=CuentaPublic,
    status_code=201,
    responses={**NOT_FOUND, **CONFLICT},
    tags=["cuentas"],
)
async def abrir_cuenta(
    body: CuentaCreate,
    service: ServiceDep,
    request: Request,
    actor: ActorDep,
    correlation_id: CorrelationId = None,
    idempotency_key: IdempotencyKey = None,
) -> CuentaPublic | Response:
    apertura = Apertura(body.cliente_id, body.tipo_cuenta_id, body.saldo, body.moneda, correlation_id, actor)
    return await run_keyed(
        request,
        idempotency_key,
        body,
        find=service.respuesta_registrada,
        write=lambda idem: service.abrir_cuenta(apertura, idem),
        render=CuentaPublic.model_validate,
        status=201,
    )


@router.get("/cuentas-internas", response_model=list[CuentasInternasPublic], tags=["partida doble"])
async def cuentas_internas(service: ServiceDep) -> list[CuentasInternasPublic]:
    """The bank's own accounts per currency (double entry): CAJA, TRANSITO, ... with the customers' total; `total`
    (customers + internal) is 0 in every currency."""
    return [CuentasInternasPublic.de(b) for b in await service.cuentas_internas()]


@router.post("/cuentas/lote", response_model=ResultadoLote, tags=["cuentas"])
async def abrir_cuentas_lote(
    body: CuentasLote,
    service: ServiceDep,
    request: Request,
    actor: ActorDep,
    correlation_id: CorrelationId = None,
    idempotency_key: IdempotencyKey = None,
) -> ResultadoLote | Response:
    """Bulk opening (seed, migrations): each item as POST /cuentas would judge it, the same events; one result
    per item, in order. With an Idempotency-Key a retry opens each account at most once."""
    aperturas = [
        Apertura(c.cliente_id, c.tipo_cuenta_id, c.saldo, c.moneda, correlation_id, actor) for c in body.cuentas
    ]
    lote = KeyedLote(service.abrir_cuentas, service.abrir_cuenta, lambda c: c.cuenta_id, service.respuestas_registradas)
    return await lote.run(request, idempotency_key, body, aperturas)


@router.get("/cuentas", response_model=list[CuentaPublic], tags=["cuentas"])
async def listar_cuentas(
    response: Response,
    service: ServiceDep,
    page: PageDep,
    own: OwnCliente,
    cliente_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    estado: Annotated[EstadoIn | None, Query()] = None,
    moneda: Annotated[MonedaIn | None, Query()] = None,
) -> list[CuentaPublic]:
    """A customer's list holds only their own accounts (asking for another cliente_id finds none)."""
    if own is not None and cliente_id not in (None, own):
        set_total(response, 0)
        return []
    cliente_id = own if own is not None else cliente_id
    cuentas, total = await service.cuentas(
        cliente_id=cliente_id, estado=estado, moneda=moneda, skip=page.skip, limit=page.limit
    )
    set_total(response, total)
    return [CuentaPublic.model_validate(c) for c in cuentas]


@router.get("/cuentas/cliente/{cliente_id}", response_model=list[CuentaPublic], tags=["cuentas"])
async def cuentas_de_cliente(
    cliente_id: PathId, response: Response, service: ServiceDep, page: PageDep
) -> list[CuentaPublic]:
    cuentas, total = await service.cuentas(cliente_id=cliente_id, skip=page.skip, limit=page.limit)
    set_total(response, total)
    return [CuentaPublic.model_validate(c) for c in cuentas]


@router.get("/cuentas/numero/{numero_cuenta}", response_model=CuentaPublic, responses=NOT_FOUND, tags=["cuentas"])
async def cuenta_por_numero(
    numero_cuenta: Annotated[str, Path(min_length=1, max_length=32)], service: ServiceDep, own: OwnCliente
) -> CuentaPublic:
    return CuentaPublic.model_validate(_own(await service.cuenta_por_numero(numero_cuenta), own, numero_cuenta))


@router.get("/cuentas/{cuenta_id}", response_model=CuentaDetalle, responses=NOT_FOUND, tags=["cuentas"])
async def obtener_cuenta(cuenta_id: CuentaIdPath, service: ServiceDep, own: OwnCliente) -> CuentaDetalle:
    return CuentaDetalle.model_validate(_own(await service.cuenta(cuenta_id), own, cuenta_id))


def _own(cuenta: Cuenta, own: int | None, asked: int | str) -> Cuenta:
    """A customer asking for someone else's account gets the same 404 as for none: nothing is confirmed."""
    if own is not None and cuenta.cliente_id != own:
        raise CuentaNoEncontrada(asked)
    return cuenta


@router.get(
    "/cuentas/{cuenta_id}/movimientos", response_model=list[MovimientoPublic], responses=NOT_FOUND, tags=["cuentas"]
)
async def movimientos(
    cuenta_id: CuentaIdPath,
    response: Response,
    service: ServiceDep,
    page: PageDep,
    own: OwnCliente,
    desde: Annotated[datetime | None, Query(description="inclusive; ISO 8601 (UTC if no offset)")] = None,
    hasta: Annotated[datetime | None, Query(description="inclusive; ISO 8601 (UTC if no offset)")] = None,
) -> list[MovimientoPublic]:
    """The account's statement in the order the movements happened; each row carries the balance after it."""
    if own is not None:
        _own(await service.cuenta(cuenta_id), own, cuenta_id)
    desde, hasta = _utc("desde", desde), _utc("hasta", hasta)
    if desde and hasta and desde > hasta:
        raise Invalid("hasta", "must not be earlier than desde")
    rows, total = await service.movimientos(cuenta_id, desde=desde, hasta=hasta, skip=page.skip, limit=page.limit)
    set_total(response, total)
    return [MovimientoPublic.model_validate(m) for m in rows]


@router.get("/cuentas/{cuenta_id}/limites", response_model=LimitesPublic, responses=NOT_FOUND, tags=["cuentas"])
async def obtener_limites(cuenta_id: CuentaIdPath, service: ServiceDep, own: OwnCliente) -> LimitesPublic:
    """The daily limits in force (the account's override, else its tipo's), what today (America/Lima) used of
    each and what remains."""
    if own is not None:
        _own(await service.cuenta(cuenta_id), own, cuenta_id)
    return LimitesPublic.of(await service.limites(cuenta_id))


@router.put(
    "/cuentas/{cuenta_id}/limites", response_model=LimitesPublic, responses={**NOT_FOUND, **CONFLICT}, tags=["cuentas"]
)
async def fijar_limites(
    cuenta_id: CuentaIdPath,
    body: LimitesUpdate,
    service: ServiceDep,
    request: Request,
    actor: ActorDep,
    correlation_id: CorrelationId = None,
    idempotency_key: IdempotencyKey = None,
) -> LimitesPublic | Response:
    """The account's own daily limits, overriding its tipo's; null drops an override. Both fields are required.
    A change publishes LimitesCuentaCambiados."""
    return await run_keyed(
        request,
        idempotency_key,
        body,
        find=service.respuesta_registrada,
        write=lambda idem: service.fijar_limites(
            cuenta_id, body.limites(), idem, correlation_id=correlation_id, actor=actor
        ),
        render=LimitesPublic.of,
    )


@router.patch(
    "/cuentas/{cuenta_id}/saldo", response_model=CuentaPublic, responses={**NOT_FOUND, **CONFLICT}, tags=["cuentas"]
)
@router.put(
    "/cuentas/{cuenta_id}/saldo", response_model=CuentaPublic, responses={**NOT_FOUND, **CONFLICT}, tags=["cuentas"]
)
async def mover_saldo(
    cuenta_id: CuentaIdPath,
    body: SaldoUpdate,
    service: ServiceDep,
    request: Request,
    actor: ActorDep,
    correlation_id: CorrelationId = None,
    idempotency_key: IdempotencyKey = None,
) -> CuentaPublic | Response:
    return await run_keyed(
        request,
        idempotency_key,
        body,
        find=service.respuesta_registrada,
        write=lambda idem: service.mover_saldo(
            cuenta_id, monto=body.monto, operacion=body.operacion, correlation_id=correlation_id, idem=idem, actor=actor
        ),
        render=CuentaPublic.model_validate,
    )


@router.patch(
    "/cuentas/{cuenta_id}/estado", response_model=CuentaPublic, responses={**NOT_FOUND, **CONFLICT}, tags=["cuentas"]
)
async def cambiar_estado(
    cuenta_id: CuentaIdPath,
    body: EstadoUpdate,
    service: ServiceDep,
    request: Request,
    actor: ActorDep,
    correlation_id: CorrelationId = None,
    idempotency_key: IdempotencyKey = None,
) -> CuentaPublic | Response:
    return await run_keyed(
        request,
        idempotency_key,
        body,
        find=service.respuesta_registrada,
        write=lambda idem: service.cambiar_estado(
            cuenta_id, estado=body.estado, correlation_id=correlation_id, idem=idem, actor=actor
        ),
        render=CuentaPublic.model_validate,
    )


@router.delete("/cuentas/{cuenta_id}", response_model=Mensaje, responses={**NOT_FOUND, **CONFLICT}, tags=["cuentas"])
async def eliminar_cuenta(
    cuenta_id: CuentaIdPath,
    service: ServiceDep,
    request: Request,
    actor: ActorDep,
    correlation_id: CorrelationId = None,
    idempotency_key: IdempotencyKey = None,
) -> Mensaje | Response:
    """With an Idempotency-Key a retried delete answers its original message instead of 404 (already deleted)."""
    return await run_keyed(
        request,
        idempotency_key,
        None,
        find=service.respuesta_registrada,
        write=lambda idem: service.eliminar(cuenta_id, correlation_id=correlation_id, idem=idem, actor=actor),
        render=lambda _: Mensaje(mensaje=f"Cuenta {cuenta_id} eliminada"),
    )


def _utc(field: str, when: datetime | None) -> datetime | None:
    """An aware UTC instant (naive input is read as UTC); 422 for instants UTC cannot express (year 1 at +05:00)."""
    if when is None:
        return None
    try:
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except OverflowError:
        raise Invalid(field, "date out of range") from None


# --- holds (retenciones): create, list, capture, void (POST .../liberacion); they expire by themselves at vence ------

RetencionIdPath = PathId


@router.post(
    "/cuentas/{cuenta_id}/retenciones",
    response_model=RetencionPublic,
    status_code=201,
    responses={**NOT_FOUND, **CONFLICT},
    tags=["retenciones"],
)
async def crear_retencion(
    cuenta_id: CuentaIdPath,
    body: RetencionCreate,
    service: ServiceDep,
    request: Request,
    actor: ActorDep,
    correlation_id: CorrelationId = None,
    idempotency_key: IdempotencyKey = None,
) -> RetencionPublic | Response:
    """Reserve an amount (a card authorization): refused (409, motivo) when the available balance does not cover it
    or the account is not activa. Answers 201 with a Location of the hold."""
    vence = _utc("vence", body.vence)
    assert vence is not None
    response = await run_keyed(
        request,
        idempotency_key,
        body,
        find=service.respuesta_registrada,
        write=lambda idem: service.crear_retencion(
            cuenta_id,
            monto=body.monto,
            vence=vence,
            referencia=body.referencia,
            correlation_id=correlation_id,
            idem=idem,
            actor=actor,
        ),
        render=RetencionPublic.model_validate,
        status=201,
        location=lambda r: f"/cuentas/{r.cuenta_id}/retenciones/{r.retencion_id}",
    )
    if isinstance(response, RetencionPublic):
        return Response(
            response.model_dump_json(),
            status_code=201,
            media_type="application/json",
            headers={"Location": f"/cuentas/{cuenta_id}/retenciones/{response.retencion_id}"},
        )
    return response


@router.get(
    "/cuentas/{cuenta_id}/retenciones",
    response_model=list[RetencionPublic],
    responses=NOT_FOUND,
    tags=["retenciones"],
)
async def listar_retenciones(
    cuenta_id: CuentaIdPath,
    response: Response,
    service: ServiceDep,
    page: PageDep,
    own: OwnCliente,
    estado: Annotated[EstadoRetencionIn | None, Query()] = None,
) -> list[RetencionPublic]:
    """The account's holds, newest first, each with its estado (ACTIVA, CAPTURADA, LIBERADA, EXPIRADA)."""
    if own is not None:
        _own(await service.cuenta(cuenta_id), own, cuenta_id)
    rows, total = await service.retenciones(cuenta_id, estado=estado, skip=page.skip, limit=page.limit)
    set_total(response, total)
    return [RetencionPublic.model_validate(r) for r in rows]


@router.get(
    "/cuentas/{cuenta_id}/retenciones/{retencion_id}",
    response_model=RetencionPublic,
    responses=NOT_FOUND,
    tags=["retenciones"],
)
async def obtener_retencion(
    cuenta_id: CuentaIdPath, retencion_id: RetencionIdPath, service: ServiceDep, own: OwnCliente
) -> RetencionPublic:
    if own is not None:
        _own(await service.cuenta(cuenta_id), own, cuenta_id)
    return RetencionPublic.model_validate(await service.retencion(cuenta_id, retencion_id))


@router.post(
    "/cuentas/{cuenta_id}/retenciones/{retencion_id}/captura",
    response_model=RetencionPublic,
    responses={**NOT_FOUND, **CONFLICT},
    tags=["retenciones"],
)
async def capturar_retencion(
    cuenta_id: CuentaIdPath,
    retencion_id: RetencionIdPath,
    service: ServiceDep,
    request: Request,
    actor: ActorDep,
    body: CapturaIn | None = None,
    correlation_id: CorrelationId = None,
    idempotency_key: IdempotencyKey = None,
) -> RetencionPublic | Response:
    """Capture the hold (all of it, or `monto` of it): a DEBITO ledger movement (causa CAPTURA); the rest of the
    hold is released. 409 once it is captured, voided or expired."""
    body = body or CapturaIn()
    return await run_keyed(
        request,
        idempotency_key,
        body,
        find=service.respuesta_registrada,
        write=lambda idem: service.capturar_retencion(
            cuenta_id, retencion_id, monto=body.monto, correlation_id=correlation_id, idem=idem, actor=actor
        ),
        render=RetencionPublic.model_validate,
    )


@router.post(
    "/cuentas/{cuenta_id}/retenciones/{retencion_id}/liberacion",
    response_model=RetencionPublic,
    responses={**NOT_FOUND, **CONFLICT},
    tags=["retenciones"],
)
async def liberar_retencion(
    cuenta_id: CuentaIdPath,
    retencion_id: RetencionIdPath,
    service: ServiceDep,
    request: Request,
    actor: ActorDep,
    correlation_id: CorrelationId = None,
    idempotency_key: IdempotencyKey = None,
) -> RetencionPublic | Response:
    """Void the hold: all of it is available again, no money moves. 409 once it is captured, voided or expired."""
    return await run_keyed(
        request,
        idempotency_key,
        None,
        find=service.respuesta_registrada,
        write=lambda idem: service.liberar_retencion(
            cuenta_id, retencion_id, correlation_id=correlation_id, idem=idem, actor=actor
        ),
        render=RetencionPublic.model_validate,
    )

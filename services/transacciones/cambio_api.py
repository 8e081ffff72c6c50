"""HTTP routes of FX transfers (thin): the rate table and quotes; the transfer itself is POST /transacciones."""

from fastapi import APIRouter

from services.platform.actor import ActorDep
from services.platform.json_body import ExactNumbersRoute
from services.platform.policy import PrincipalDep, check_movimiento
from services.transacciones.cambio_schemas import (
    CotizacionCreate,
    CotizacionPublic,
    TasaCambioPublic,
    TiposCambioPut,
)
from services.transacciones.dependencies import CambiosDep, PropietariosDep
from services.transacciones.errors import CuentaNoEncontrada

router = APIRouter(tags=["cambio"], route_class=ExactNumbersRoute)


@router.get("/tipos-cambio")
async def tipos_cambio(cambios: CambiosDep) -> list[TasaCambioPublic]:
    """The bank's rates per pair BASE/COTIZADA (COTIZADA units per 1 BASE), ordered by pair."""
    return [TasaCambioPublic.of(v) for v in (await cambios.tabla()).values()]


@router.put("/tipos-cambio", responses={422: {"description": "a bad pair or rate, compra > venta, a pair twice"}})
async def fijar_tipos_cambio(body: TiposCambioPut, cambios: CambiosDep, actor: ActorDep) -> list[TasaCambioPublic]:
    """Set the listed pairs' rates in one change (the other pairs keep theirs; a pair replaces its inverse), publish
    TiposCambioActualizados, answer the whole table. Quotes already given keep their rate until they expire."""
    tabla = await cambios.fijar([t.tasa() for t in body.tasas], actor)
    return [TasaCambioPublic.of(v) for v in tabla.values()]


@router.post(
    "/cotizaciones",
    status_code=201,
    responses={
        404: {"description": "an account unknown here (a customer: not one of theirs)"},
        409: {"description": "the bank has no rate between the two currencies (motivo SIN_TIPO_CAMBIO)"},
        422: {"description": "same currency on both sides (no quote needed), same account, amount too small"},
    },
)
async def cotizar(
    body: CotizacionCreate,
    cambios: CambiosDep,
    principal: PrincipalDep,
    propietarios: PropietariosDep,
    actor: ActorDep,
) -> CotizacionPublic:
    """A quote for a TRANSFERENCIA between accounts of different currencies: the amounts both sides at the bank's
    rate, the spread, and until when it holds (`vence`); the transfer names it in `cotizacionId`. A customer only
    out of an account of their own, as for the transfer."""
    staff = check_movimiento(principal, "TRANSFERENCIA")
    if not staff and await propietarios.dueno(body.cuentaOrigenId) != principal.cliente_id:
        raise CuentaNoEncontrada(body.cuentaOrigenId, "cuentaOrigenId")
    c = await cambios.cotizar(body.cuentaOrigenId, body.cuentaDestinoId, body.monto, actor)
    return CotizacionPublic.of(c)

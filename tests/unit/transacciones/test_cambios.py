"""The FX use cases (cambios.py) over in-memory stand-ins of their stores: refusals of a quote and of its use."""

from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from bson import ObjectId

from services.transacciones import fx
from services.transacciones.cambios import Cambios
from services.transacciones.cotizaciones import Cotizacion, Cotizaciones
from services.transacciones.domain import ahora
from services.transacciones.errors import (
    CotizacionNoEncontrada,
    CotizacionUsada,
    CotizacionVencida,
    CuentaNoEncontrada,
    Invalid,
    SinTipoCambio,
)
from services.transacciones.propietarios import Propietarios
from services.transacciones.schemas import TransaccionCreate
from services.transacciones.tipos_cambio import TiposCambio


class _Tipos:
    def __init__(self, tasas: dict[str, fx.Tasa]) -> None:
        self._tasas = tasas

    async def tasas(self) -> dict[str, fx.Tasa]:
        return self._tasas


class _Cotizaciones:
    def __init__(self) -> None:
        self.guardadas: dict[str, Cotizacion] = {}
        self.usadas: dict[str, ObjectId] = {}

    async def guardar(self, c: Cotizacion) -> None:
        self.guardadas[c.cotizacion_id] = c

    async def obtener(self, cotizacion_id: str) -> Cotizacion | None:
        return self.guardadas.get(cotizacion_id)

    async def usar(self, cotizacion_id: str, doc_id: ObjectId) -> ObjectId | None:
        holder = self.usadas.setdefault(cotizacion_id, doc_id)
        return None if holder == doc_id else holder


class _Propietarios:
    async def moneda(self, cuenta_id: int) -> str | None:
        return {1: "PEN", 2: "USD", 3: "PEN", 4: "EUR"}.get(cuenta_id)


def _cambios(tasas: dict[str, fx.Tasa] | None = None, vigencia: float = 60) -> tuple[Cambios, _Cotizaciones]:
    cot = _Cotizaciones()
    usd = {"USD/PEN": fx.Tasa("USD", "PEN", Decimal("3.70"), Decimal("3.80"))}
    c = Cambios(
        cast(TiposCambio, _Tipos(usd if tasas is None else tasas)),
        cast(Cotizaciones, cot),
        cast(Propietarios, _Propietarios()),
        vigencia,
    )
    return c, cot


def _transferencia(c: Cotizacion, **cambios: Any) -> TransaccionCreate:
    body: dict[str, Any] = {
        "tipo": "TRANSFERENCIA",
        "cuentaOrigenId": c.cuenta_origen_id,
        "cuentaDestinoId": c.cuenta_destino_id,
        "monto": str(c.monto_origen),
        "moneda": c.moneda_origen,
        "cotizacionId": c.cotizacion_id,
    }
    return TransaccionCreate.model_validate(body | cambios)


async def test_una_cotizacion_fija_montos_y_vence() -> None:
    cambios, store = _cambios()
    c = await cambios.cotizar(1, 2, Decimal("100.00"), None)
    assert (c.monto_destino, c.tasa, c.ingreso, c.par) == (
        Decimal("26.31"),
        Decimal("0.26315789"),
        Decimal("1.34"),
        "USD/PEN",
    )
    assert c.vence - c.creada == timedelta(seconds=60)
    assert store.guardadas[c.cotizacion_id] == c


async def test_cotizaciones_rechazadas() -> None:
    cambios, _ = _cambios()
    with pytest.raises(Invalid, match="misma moneda"):
        await cambios.cotizar(1, 3, Decimal("1"), None)
    with pytest.raises(CuentaNoEncontrada):
        await cambios.cotizar(1, 99, Decimal("1"), None)
    with pytest.raises(SinTipoCambio) as sin:
        await cambios.cotizar(1, 4, Decimal("1"), None)  # PEN -> EUR: no pair EUR/PEN nor PEN/EUR
    assert sin.value.status_code == 409
    assert sin.value.extensions() == {"motivo": "SIN_TIPO_CAMBIO"}


async def test_la_transferencia_debe_ser_la_de_su_cotizacion() -> None:
    cambios, _ = _cambios()
    c = await cambios.cotizar(1, 2, Decimal("100.00"), None)
    assert await cambios.de_transferencia(_transferencia(c)) == c
    for campo, valor in (("monto", "99.99"), ("moneda", "USD"), ("cuentaOrigenId", 3)):
        with pytest.raises(Invalid) as e:
            await cambios.de_transferencia(_transferencia(c, **{campo: valor}))
        assert e.value.field == campo
    with pytest.raises(Invalid):
        await cambios.de_transferencia(_transferencia(c, tipo="RETIRO"))
    with pytest.raises(CotizacionNoEncontrada):
        await cambios.de_transferencia(_transferencia(c, cotizacionId="COTx"))


async def test_una_cotizacion_se_usa_una_vez_salvo_por_la_misma_transaccion() -> None:
    cambios, _ = _cambios()
    c = await cambios.cotizar(1, 2, Decimal("100.00"), None)
    primera, otra = ObjectId(), ObjectId()
    await cambios.usar(c, primera)
    await cambios.usar(c, primera)  # the same transaction again (its request retried): still its own
    with pytest.raises(CotizacionUsada) as e:
        await cambios.usar(c, otra)
    assert e.value.extensions()["motivo"] == "COTIZACION_USADA"


async def test_una_cotizacion_vencida_no_se_usa() -> None:
    cambios, store = _cambios(vigencia=60)
    c = await cambios.cotizar(1, 2, Decimal("100.00"), None)
    vieja = Cotizacion(**{**c.__dict__, "vence": ahora() - timedelta(seconds=1)})
    with pytest.raises(CotizacionVencida) as e:
        await cambios.usar(vieja, ObjectId())
    assert e.value.extensions()["motivo"] == "COTIZACION_VENCIDA"
    assert vieja.cotizacion_id not in store.usadas  # expired: not taken

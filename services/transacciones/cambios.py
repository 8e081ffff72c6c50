"""Use cases of FX transfers: set and read the rate table, quote a conversion, check and use a quote for a transfer."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from bson import ObjectId

from contracts.envelope import AuthContext
from contracts.money import Moneda
from services.transacciones import fx
from services.transacciones.cotizaciones import Cotizacion, Cotizaciones, nuevo_id
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
from services.transacciones.tipos_cambio import INICIAL, TasaVigente, TiposCambio


@dataclass
class Cambios:
    tipos: TiposCambio
    cotizaciones: Cotizaciones
    propietarios: Propietarios
    vigencia_seconds: float = 60.0

    async def tabla(self) -> dict[str, TasaVigente]:
        return await self.tipos.vigentes()

    async def fijar(self, tasas: list[fx.Tasa], actor: AuthContext | None) -> dict[str, TasaVigente]:
        """Set these pairs' rates (one change, one TiposCambioActualizados); the whole table after it."""
        now = ahora()
        return await self.tipos.fijar([TasaVigente(t, now, actor) for t in tasas])

    async def tabla_inicial(self) -> None:
        """The default table (tipos_cambio.INICIAL), on a bank that has none yet."""
        now = ahora()
        actor = AuthContext("system", "transacciones")
        tasas = [
            TasaVigente(fx.Tasa(b, c, Decimal(compra), Decimal(venta)), now, actor) for b, c, compra, venta in INICIAL
        ]
        await self.tipos.fijar(tasas, solo_si_vacia=True)

    async def _moneda(self, cuenta_id: int, campo: str) -> Moneda:
        moneda = await self.propietarios.moneda(cuenta_id)
        if moneda is None:
            raise CuentaNoEncontrada(cuenta_id, campo)
        return moneda

    async def cotizar(self, origen: int, destino: int, monto: Decimal, actor: AuthContext | None) -> Cotizacion:
        """A quote for converting `monto` (in the origin account's currency) into the destination's, held until
        now + vigencia_seconds."""
        if origen == destino:
            raise Invalid("cuentaDestinoId", "la cuenta destino debe ser distinta de la cuenta origen")
        moneda_o = await self._moneda(origen, "cuentaOrigenId")
        moneda_d = await self._moneda(destino, "cuentaDestinoId")
        if moneda_o == moneda_d:
            raise Invalid(
                "cuentaDestinoId",
                f"las dos cuentas son en {moneda_o}: una transferencia en la misma moneda no necesita cotización",
            )
        try:
            conversion = fx.convertir(
                monto, moneda_o, moneda_d, fx.tasa_para(await self.tipos.tasas(), moneda_o, moneda_d)
            )
        except fx.SinTasa:
            raise SinTipoCambio(moneda_o, moneda_d) from None
        except fx.MontoNoConvertible as exc:
            raise Invalid("monto", str(exc)) from None
        now = ahora()
        cotizacion = Cotizacion(
            cotizacion_id=nuevo_id(),
            cuenta_origen_id=origen,
            cuenta_destino_id=destino,
            moneda_origen=moneda_o,
            monto_origen=monto,
            moneda_destino=moneda_d,
            monto_destino=conversion.monto_destino,
            tasa=conversion.tasa,
            ingreso=conversion.ingreso,
            par=conversion.par,
            vence=now + timedelta(seconds=self.vigencia_seconds),
            creada=now,
            actor=actor,
        )
        await self.cotizaciones.guardar(cotizacion)
        return cotizacion

    async def de_transferencia(self, req: TransaccionCreate) -> Cotizacion | None:
        """The quote a transfer names, checked against the request (422 naming the field that differs); None when it
        names none. Expiry and use are judged only when a new transaction is recorded (`usar`): an Idempotency-Key
        retry of a recorded one gets its original answer."""
        if req.cotizacionId is None:
            return None
        if req.tipo != "TRANSFERENCIA":
            raise Invalid("cotizacionId", f"solo una TRANSFERENCIA se hace a una cotización, no un {req.tipo}")
        c = await self.cotizaciones.obtener(req.cotizacionId)
        if c is None:
            raise CotizacionNoEncontrada(req.cotizacionId)
        iguales: tuple[tuple[str, object, object], ...] = (
            ("cuentaOrigenId", req.cuentaOrigenId, c.cuenta_origen_id),
            ("cuentaDestinoId", req.cuentaDestinoId, c.cuenta_destino_id),
            ("moneda", req.moneda, c.moneda_origen),
            ("monto", req.monto, c.monto_origen),
        )
        for campo, pedido, cotizado in iguales:
            if pedido != cotizado:
                raise Invalid(
                    campo, f"{campo} debe ser el de la cotización {c.cotizacion_id} ({cotizado}), no {pedido}"
                )
        return c

    async def usar(self, c: Cotizacion, doc_id: ObjectId) -> None:
        """Take the quote for the transaction `doc_id` (before it is recorded): 409 when expired or held by another."""
        if c.vencida(ahora()):
            raise CotizacionVencida(c.cotizacion_id, c.vence)
        holder = await self.cotizaciones.usar(c.cotizacion_id, doc_id)
        if holder is not None:
            raise CotizacionUsada(c.cotizacion_id, str(holder))

"""The REST contract of FX transfers: the rate table (PUT/GET /tipos-cambio) and quotes (POST /cotizaciones)."""

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, field_validator

from contracts.money import MONEDAS, Moneda, Money, PositiveMoneyIn
from services.platform.actor import ActorPublic
from services.transacciones.cotizaciones import Cotizacion
from services.transacciones.fx import DECIMALES_TASA, Tasa
from services.transacciones.schemas import CuentaId
from services.transacciones.tipos_cambio import TasaVigente

_TASA = re.compile(rf"[0-9]{{1,10}}(?:\.[0-9]{{1,{DECIMALES_TASA}}})?")


def _tasa(value: str) -> str:
    text = value.strip()
    if not _TASA.fullmatch(text):
        raise ValueError(
            f"must be a decimal string: ASCII digits (at most 10 before the point), optionally '.' and at most "
            f"{DECIMALES_TASA} decimals"
        )
    if Decimal(text) <= 0:
        raise ValueError("must be greater than 0")
    return text


TasaIn = Annotated[str, AfterValidator(_tasa), Field(examples=["3.7500"])]


class TasaCambioIn(BaseModel):
    par: str = Field(description="BASE/COTIZADA among PEN, USD, EUR (two different currencies)", examples=["USD/PEN"])
    compra: TasaIn = Field(description="COTIZADA units the bank pays for 1 BASE it buys (> 0, <= venta)")
    venta: TasaIn = Field(description="COTIZADA units the bank charges for 1 BASE it sells")

    @field_validator("par")
    @classmethod
    def _par(cls, value: str) -> str:
        partes = value.strip().upper().split("/")
        if len(partes) != 2 or any(p not in MONEDAS for p in partes):
            raise ValueError(f"must be BASE/COTIZADA with currencies among {', '.join(MONEDAS)}, e.g. USD/PEN")
        if partes[0] == partes[1]:
            raise ValueError("must name two different currencies")
        return "/".join(partes)

    def tasa(self) -> Tasa:
        base, cotizada = self.par.split("/")
        return Tasa(base, cotizada, Decimal(self.compra), Decimal(self.venta))  # type: ignore[arg-type]


class TiposCambioPut(BaseModel):
    """PUT /tipos-cambio: the pairs to set (the table's other pairs keep their rates; a pair replaces its inverse)."""

    tasas: list[TasaCambioIn] = Field(min_length=1, max_length=20)

    @field_validator("tasas")
    @classmethod
    def _coherentes(cls, tasas: list[TasaCambioIn]) -> list[TasaCambioIn]:
        vistos: set[frozenset[str]] = set()
        for t in tasas:
            if Decimal(t.compra) > Decimal(t.venta):
                raise ValueError(f"{t.par}: compra ({t.compra}) must not exceed venta ({t.venta})")
            monedas = frozenset(t.par.split("/"))
            if monedas in vistos:
                raise ValueError(f"{t.par}: the pair (or its inverse) is given twice")
            vistos.add(monedas)
        return tasas


class TasaCambioPublic(BaseModel):
    par: str
    compra: str
    venta: str
    actualizado: datetime
    actor: ActorPublic | None = None

    @classmethod
    def of(cls, v: TasaVigente) -> "TasaCambioPublic":
        return cls(
            par=v.tasa.par,
            compra=str(v.tasa.compra),
            venta=str(v.tasa.venta),
            actualizado=v.actualizado,
            actor=ActorPublic.of(v.actor),
        )


class CotizacionCreate(BaseModel):
    cuentaOrigenId: CuentaId
    cuentaDestinoId: CuentaId
    monto: PositiveMoneyIn = Field(description="in the ORIGIN account's currency; > 0, at most 2 decimals")


class CotizacionPublic(BaseModel):
    cotizacionId: str
    cuentaOrigenId: int
    cuentaDestinoId: int
    monedaOrigen: Moneda
    montoOrigen: Money
    monedaDestino: Moneda
    montoDestino: Money = Field(description="what the destination account is credited (rounded down)")
    tasa: str = Field(description="effective destination units per origin unit (rounded down to 8 decimals)")
    ingreso: Money = Field(description="the bank's spread, in the origin currency")
    vence: datetime = Field(description="after this the quote is refused (409 COTIZACION_VENCIDA)")
    creada: datetime

    @classmethod
    def of(cls, c: Cotizacion) -> "CotizacionPublic":
        return cls(
            cotizacionId=c.cotizacion_id,
            cuentaOrigenId=c.cuenta_origen_id,
            cuentaDestinoId=c.cuenta_destino_id,
            monedaOrigen=c.moneda_origen,
            montoOrigen=c.monto_origen,
            monedaDestino=c.moneda_destino,
            montoDestino=c.monto_destino,
            tasa=str(c.tasa),
            ingreso=c.ingreso,
            vence=c.vence,
            creada=c.creada,
        )

"""Currency conversion of an FX transfer, pure: which rate applies, the amount credited and the bank's spread.

A pair BASE/COTIZADA has two rates, both in COTIZADA units per 1 BASE: `compra` (what the bank pays when it buys
BASE) and `venta` (what it charges when it sells BASE); 0 < compra <= venta. The customer always gets the bank's
side of the pair:
  origin O -> destination D, pair D/O (the bank sells D):  monto_destino = monto_origen / venta
  origin O -> destination D, pair O/D (the bank buys O):   monto_destino = monto_origen * compra
monto_destino is rounded DOWN to D's minor unit (never more than the rate allows). The spread, booked as income in O:
  ingreso = monto_origen - (monto_destino converted back at the mid rate (compra+venta)/2, HALF_EVEN to O's unit),
floored at 0. Everything is Decimal, computed in a local context with far more digits than any amount has.
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext
from typing import Final

from contracts.money import MAX_BALANCE, Moneda

# ISO 4217 minor units of each currency the bank holds; a currency with another exponent (JPY: 0) is one more line.
EXPONENTES: Final[dict[Moneda, int]] = {"PEN": 2, "USD": 2, "EUR": 2}
DECIMALES_TASA: Final = 8  # rates are stated (and the effective rate shown) with at most 8 decimals
_TASA = Decimal(1).scaleb(-DECIMALES_TASA)
_PRECISION: Final = 60  # digits of the local context: amounts have <= 15, rates <= 18, so division is exact enough


class SinTasa(Exception):
    """No rate of the bank converts between these two currencies."""


class MontoNoConvertible(ValueError):
    """The converted amount rounds to nothing, or is beyond what an account may hold."""


@dataclass(frozen=True)
class Tasa:
    """The bank's rates of one pair BASE/COTIZADA (COTIZADA units per 1 BASE)."""

    base: Moneda
    cotizada: Moneda
    compra: Decimal
    venta: Decimal

    @property
    def par(self) -> str:
        return f"{self.base}/{self.cotizada}"

    @property
    def media(self) -> Decimal:
        with localcontext(prec=_PRECISION):
            return (self.compra + self.venta) / 2


@dataclass(frozen=True)
class Conversion:
    """What a quote states: the amounts both sides, the effective rate (D per O) and the spread (in O)."""

    moneda_origen: Moneda
    monto_origen: Decimal
    moneda_destino: Moneda
    monto_destino: Decimal
    tasa: Decimal  # shown rounded down to 8 decimals; the amounts use the exact rate
    ingreso: Decimal
    par: str


def unidad(moneda: Moneda) -> Decimal:
    """The minor unit of `moneda` (0.01 for an exponent of 2)."""
    return Decimal(1).scaleb(-EXPONENTES[moneda])


def tasa_para(tasas: dict[str, Tasa], origen: Moneda, destino: Moneda) -> Tasa:
    """The pair that converts origen into destino (D/O or O/D); SinTasa when the bank quotes neither."""
    for par in (f"{destino}/{origen}", f"{origen}/{destino}"):
        if par in tasas:
            return tasas[par]
    raise SinTasa(f"{origen}/{destino}")


def convertir(monto_origen: Decimal, origen: Moneda, destino: Moneda, tasa: Tasa) -> Conversion:
    """The conversion of `monto_origen` (in origen) into destino at the bank's side of `tasa`."""
    if {tasa.base, tasa.cotizada} != {origen, destino} or origen == destino:
        raise ValueError(f"el par {tasa.par} no convierte {origen} en {destino}")
    with localcontext(prec=_PRECISION):
        vende_destino = tasa.base == destino  # pair D/O: the customer buys D from the bank
        efectiva = 1 / tasa.venta if vende_destino else tasa.compra
        exacto = monto_origen / tasa.venta if vende_destino else monto_origen * tasa.compra
        monto_destino = exacto.quantize(unidad(destino), rounding=ROUND_DOWN)
        if monto_destino <= 0:
            raise MontoNoConvertible(f"{monto_origen} {origen} es menos de {unidad(destino)} {destino} al cambio")
        if monto_destino > MAX_BALANCE:
            raise MontoNoConvertible(f"{monto_destino} {destino} excede el saldo máximo de una cuenta")
        vuelta = monto_destino * tasa.media if vende_destino else monto_destino / tasa.media
        ingreso = max(Decimal(0), monto_origen - vuelta.quantize(unidad(origen), rounding=ROUND_HALF_EVEN))
        mostrada = efectiva.quantize(_TASA, rounding=ROUND_DOWN)
    return Conversion(
        moneda_origen=origen,
        monto_origen=monto_origen,
        moneda_destino=destino,
        monto_destino=monto_destino,
        tasa=mostrada if mostrada > 0 else _TASA,
        ingreso=ingreso.quantize(unidad(origen)),
        par=tasa.par,
    )

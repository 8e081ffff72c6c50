"""Reversals, pure: which transaction gives a completed one's money back, and which transactions may be reversed.

A reversal is a new transaction through the same saga, in the mirror shape of its original:

TRANSFERENCIA a -> b    TRANSFERENCIA b -> a   (debit b first: refused SALDO_INSUFICIENTE if b no longer holds it)
DEPOSITO -> b           RETIRO out of b        (same refusal)
RETIRO / PAGO_SERVICIO  DEPOSITO into a        (a credit: refused only by the account's state or the balance cap)
out of a
FX TRANSFERENCIA a -> b TRANSFERENCIA b -> a   at the original's own rate: b gives back exactly what it was credited
(monto in a's currency,  (montoDestino in b's)  (monto_destino), a gets back exactly what it was debited (monto), and the
montoDestino in b's)                           bank hands back the spread it booked (ingreso_revertido): no new quote,
                                               no rate risk for the customer, no FX income left from a deal undone

Only a COMPLETADA original, never a reversal itself (reversing a reversal would redo the original: make a new
transaction instead). "At most once" is kept by the store (reversion_store.py): attempt n+1 of an original may only
be claimed once attempt n ended FALLIDA or CANCELADA, so at most one attempt is ever in progress or COMPLETADA.
"""

from decimal import ROUND_DOWN, Decimal

from contracts.transacciones import EstadoTransaccion, TipoTransaccion
from services.transacciones.errors import NoReversible
from services.transacciones.saga import Orden

# What a finished attempt that moved no money ended as: the original may be reversed again.
SIN_EFECTO: frozenset[EstadoTransaccion] = frozenset({"FALLIDA", "CANCELADA"})


def espejo(original: Orden) -> tuple[TipoTransaccion, int | None, int | None]:
    """(tipo, cuentaOrigenId, cuentaDestinoId) of the transaction that reverses `original`."""
    if original.tipo == "TRANSFERENCIA":
        return "TRANSFERENCIA", original.cuenta_destino_id, original.cuenta_origen_id
    if original.tipo == "DEPOSITO":
        return "RETIRO", original.cuenta_destino_id, None
    return "DEPOSITO", None, original.cuenta_origen_id  # RETIRO, PAGO_SERVICIO


def comprobar(original: Orden, estado: EstadoTransaccion) -> None:
    """Raises NoReversible (409) unless `original` may be reversed."""
    if estado != "COMPLETADA":
        raise NoReversible(f"La transacción {original.id} está {estado}: solo se revierte una transacción COMPLETADA")
    if original.reversion_de is not None:
        raise NoReversible(
            f"La transacción {original.id} es la reversión de {original.reversion_de}: una reversión no se revierte"
        )


def descripcion(original: Orden) -> str:
    return f"Reversión de {original.transaccion_id}"


def montos(original: Orden) -> tuple[Decimal, str]:
    """(monto, moneda) the reversal debits: what the original credited (an FX transfer's montoDestino)."""
    if original.monto_destino is not None and original.moneda_destino is not None:
        return original.monto_destino, original.moneda_destino
    return original.monto, original.moneda


def cambio(original: Orden) -> dict[str, object]:
    """The Orden FX fields of the reversal of `original` (none unless an FX transfer): the credit gives back the
    original's debit in its currency, and the spread it took; the rate is the original's, inverted (shown only:
    the amounts are the original's, exact)."""
    if original.cotizacion_id is None or original.monto_destino is None or original.moneda_destino is None:
        return {}
    return {
        "cotizacion_id": original.cotizacion_id,
        "monto_destino": original.monto,
        "moneda_destino": original.moneda,
        "tasa": (original.monto / original.monto_destino).quantize(Decimal("0.00000001"), rounding=ROUND_DOWN),
        "ingreso": Decimal("0.00"),
        "ingreso_revertido": original.ingreso or Decimal("0.00"),
    }

"""Reversals, pure: which transaction gives a completed one's money back, and which transactions may be reversed.

A reversal is a new transaction through the same saga, in the mirror shape of its original:

TRANSFERENCIA a -> b    TRANSFERENCIA b -> a   (debit b first: refused SALDO_INSUFICIENTE if b no longer holds it)
DEPOSITO -> b           RETIRO out of b        (same refusal)
RETIRO / PAGO_SERVICIO  DEPOSITO into a        (a credit: refused only by the account's state or the balance cap)
out of a

Only a COMPLETADA original, never a reversal itself (reversing a reversal would redo the original: make a new
transaction instead). "At most once" is kept by the store (reversion_store.py): attempt n+1 of an original may only
be claimed once attempt n ended FALLIDA or CANCELADA, so at most one attempt is ever in progress or COMPLETADA.
"""

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
    if original.cotizacion_id is not None:
        # Giving an FX transfer back means a conversion the other way at some rate (and the spread back): not a
        # mirror of the original. Until the bank decides at which rate, the customer makes a new quoted transfer.
        raise NoReversible(
            f"La transacción {original.id} es una transferencia con cambio de moneda (cotización "
            f"{original.cotizacion_id}): no se revierte automáticamente; haga una nueva transferencia cotizada"
        )


def descripcion(original: Orden) -> str:
    return f"Reversión de {original.transaccion_id}"

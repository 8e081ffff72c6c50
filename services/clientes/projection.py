"""The local projection of cuentas events (bank.cuentas.v1) that the delete rule reads: which accounts of a cliente
are still open with money in them. Pure mapping from event to change; the SQL lives in repository.py.

Why a projection and not a call to cuentas: no synchronous call chains between services. The price is a small window:
an account opened (or credited) a few milliseconds before a DELETE may not be projected yet, so the delete succeeds.
That is acceptable because a soft delete destroys nothing: the account, its ledger and its money stay in cuentas,
and ClienteEliminado reaches cuentas, whose replica then refuses new accounts for that cliente; cuentas can compensate
by blocking the deleted cliente's accounts that hold money (EstadoCuentaCambiado -> bloqueada) until someone
restores the cliente or pays the balance out. No money is created or lost in the window.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from contracts.cuentas import CuentaAbierta, CuentaEliminada, EstadoCuenta, EstadoCuentaCambiado, SaldoActualizado
from contracts.envelope import Envelope

CONSUMER: Final = "clientes.cuentas-abiertas"

# Every other type on the topic (MovimientoRechazado, future types) is skipped without decoding: it cannot change
# whether an account holds money, and an unknown type must not end in the DLQ.
RELEVANT: Final = frozenset(
    {CuentaAbierta.type, SaldoActualizado.type, EstadoCuentaCambiado.type, CuentaEliminada.type}
)

Kind = Literal["abierta", "saldo", "estado", "eliminada"]


@dataclass(frozen=True)
class CambioCuenta:
    kind: Kind
    cuenta_id: int
    cliente_id: int
    estado: EstadoCuenta = "activa"
    saldo: Decimal = Decimal("0.00")
    movimiento_id: int = 0


def cambio_for(envelope: Envelope) -> CambioCuenta | None:
    """The projection change an event causes, or None for events it ignores. Raises on a malformed payload."""
    if envelope.type not in RELEVANT:
        return None
    event = envelope.decode()
    if isinstance(event, CuentaAbierta):
        return CambioCuenta("abierta", event.cuenta_id, event.cliente_id, estado=event.estado, saldo=event.saldo)
    if isinstance(event, SaldoActualizado):
        return CambioCuenta(
            "saldo", event.cuenta_id, event.cliente_id, saldo=event.saldo, movimiento_id=event.movimiento_id
        )
    if isinstance(event, EstadoCuentaCambiado):
        return CambioCuenta("estado", event.cuenta_id, event.cliente_id, estado=event.estado)
    if isinstance(event, CuentaEliminada):
        return CambioCuenta("eliminada", event.cuenta_id, event.cliente_id, estado="cerrada")
    return None


def bloquea_baja(*, estado: EstadoCuenta, saldo: Decimal, eliminada: bool) -> bool:
    """Whether an account keeps its cliente from being deleted (mirrored by the SQL of the delete check)."""
    return not eliminada and estado != "cerrada" and saldo != 0

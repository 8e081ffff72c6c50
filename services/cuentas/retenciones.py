"""Pure rules of holds (retenciones, two-phase like a card authorization): the record, its states, and whether one
may be created, captured, voided or expired. No I/O; the use cases apply them under the account's row lock."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final, Literal

from contracts.envelope import AuthContext
from contracts.money import Moneda
from services.cuentas.domain import CuentaBloqueada, Rechazo, decidir_movimiento
from services.cuentas.errors import CapturaExcedeRetencion, RetencionNoActiva
from services.platform.errors import Invalid

EstadoRetencion = Literal["ACTIVA", "CAPTURADA", "LIBERADA", "EXPIRADA"]
ACTIVA: Final = "ACTIVA"
# How far ahead a hold may run: card authorizations last days; a year is a typo's safety net, not a product rule.
VENCE_MAX: Final = timedelta(days=366)
MIN_ESPERA: Final = 0.01  # seconds: the expiry task's sleep when a hold is due already (espera_de_expiracion)


@dataclass(frozen=True)
class Retencion:
    retencion_id: int
    cuenta_id: int
    monto: Decimal
    moneda: Moneda
    estado: EstadoRetencion
    referencia: str | None
    vence: datetime
    creada_en: datetime
    resuelta_en: datetime | None = None
    monto_capturado: Decimal | None = None  # CAPTURADA: what became the ledger row movimiento_id
    movimiento_id: int | None = None
    actor: AuthContext | None = None  # who created it

    @property
    def monto_liberado(self) -> Decimal | None:
        """What became available again when it stopped being ACTIVA (None while it is)."""
        if self.estado == ACTIVA:
            return None
        return self.monto - (self.monto_capturado or Decimal(0))


def validar_vence(vence: datetime, ahora: datetime) -> None:
    """`vence` (aware) must lie in the future, at most VENCE_MAX ahead."""
    if vence <= ahora:
        raise Invalid("vence", "must be a future date and time")
    if vence > ahora + VENCE_MAX:
        raise Invalid("vence", f"must be at most {VENCE_MAX.days} days ahead")


def decidir_retencion(cuenta_id: int, cuenta: CuentaBloqueada | None, monto: Decimal) -> Rechazo | None:
    """Whether `monto` may be reserved: exactly when it could be debited now (the one rule, domain.decidir_movimiento:
    the account exists, is activa, and its available balance covers it)."""
    decision = decidir_movimiento(cuenta_id, cuenta, "DEBITO", monto)
    return decision if isinstance(decision, Rechazo) else None


def vencida(retencion: Retencion, ahora: datetime) -> bool:
    """An ACTIVA hold whose time is up: the expiry task ends it, and nobody may capture or void it any more."""
    return retencion.estado == ACTIVA and retencion.vence <= ahora


def espera_de_expiracion(proximo: datetime | None, ahora: datetime, intervalo: float) -> float:
    """Seconds the expiry task may sleep: until the next ACTIVA hold falls due, so its reservation ends at vence and
    not up to `intervalo` later, and never longer than `intervalo` (the other instance's new holds are not known
    here until the next look). A hold already due and still ACTIVA (the other instance holds its lock, or more were
    due than one look ends) is looked at again after 10 ms, not spun on."""
    if proximo is None:
        return intervalo
    hasta = (proximo - ahora).total_seconds()
    # 1 ms past vence: asyncio may fire a timer a hair early, and the look must find the hold due.
    return min(intervalo, MIN_ESPERA if hasta <= 0 else hasta + 0.001)


def _activa(retencion: Retencion, ahora: datetime) -> None:
    if vencida(retencion, ahora):
        raise RetencionNoActiva(
            retencion.retencion_id,
            "EXPIRADA",
            f"La retención {retencion.retencion_id} venció el {retencion.vence.isoformat()}",
        )
    if retencion.estado != ACTIVA:
        raise RetencionNoActiva(retencion.retencion_id, retencion.estado)


def decidir_captura(retencion: Retencion, monto: Decimal | None, ahora: datetime) -> Decimal:
    """The amount to capture (default: the whole hold); the rest of the hold is released with it."""
    _activa(retencion, ahora)
    capturado = retencion.monto if monto is None else monto
    if capturado > retencion.monto:
        raise CapturaExcedeRetencion(capturado, retencion.monto)
    return capturado


def decidir_liberacion(retencion: Retencion, ahora: datetime) -> None:
    """A hold may be voided while it is ACTIVA and not yet due (a due one expires instead: one outcome only)."""
    _activa(retencion, ahora)

"""The cuentas side of the saga, pure: decide a batch of commands, in order, against the accounts locked for it.

The caller locks every account the batch touches (SELECT ... FOR UPDATE), so the balances seen here are exact
and the decisions are final; it then writes the net balance changes, one ledger row per applied command, and one
reply event per new command, all in the same transaction.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from contracts.comandos import AcreditarCuenta, DebitarCuenta, RevertirDebito
from contracts.cuentas import Causa, EstadoCuenta, MotivoRechazo, Operacion
from contracts.money import Moneda
from services.cuentas.domain import SALDO_MAX, saldo_tras
from services.cuentas.errors import SaldoExcedido, SaldoInsuficiente

Comando = DebitarCuenta | AcreditarCuenta | RevertirDebito


@dataclass(frozen=True)
class CuentaBloqueada:
    """What a decision needs to know about one account, read under its row lock."""

    cuenta_id: int
    cliente_id: int
    numero_cuenta: str
    saldo: Decimal
    moneda: Moneda
    estado: EstadoCuenta
    eliminada: bool = False


@dataclass(frozen=True)
class DebitoSaga:
    """A DEBITO a saga command made, as far as reverting it is concerned."""

    comando_id: str
    cuenta_id: int
    monto: Decimal
    revertido: bool = False


@dataclass(frozen=True)
class Aplicado:
    """Money moved: one ledger row and one SaldoActualizado."""

    comando: Comando
    cuenta: CuentaBloqueada  # the account right after this movement
    operacion: Operacion
    causa: Causa

    @property
    def saldo(self) -> Decimal:
        return self.cuenta.saldo


@dataclass(frozen=True)
class Rechazado:
    """A refusal the orchestrator must hear about: no money moved, one MovimientoRechazado.

    Every command that cannot apply is answered with one, whatever the reason (a business rule, a balance
    ceiling, a revert that names no debit): a command that is only dead-lettered leaves its saga waiting forever.
    Only what cannot even be read as a command (no comando_id/transaccion_id to answer to) goes to the DLQ.
    """

    comando: Comando
    operacion: Operacion
    motivo: MotivoRechazo
    detalle: str
    cliente_id: int | None


Resultado = Aplicado | Rechazado


def operacion_de(comando: Comando) -> Operacion:
    return "DEBITO" if isinstance(comando, DebitarCuenta) else "CREDITO"


def nuevos(comandos: Iterable[Comando], procesados: set[str]) -> list[Comando]:
    """The commands not applied before, each comando_id once (a redelivery inside one batch counts too)."""
    vistos = set(procesados)
    out = []
    for c in comandos:
        if c.comando_id not in vistos:
            vistos.add(c.comando_id)
            out.append(c)
    return out


def decidir(
    comandos: Sequence[Comando], cuentas: Mapping[int, CuentaBloqueada], debitos: Mapping[str, DebitoSaga]
) -> list[Resultado]:
    """One result per command, in order; each decision sees the balances the earlier ones left.

    `cuentas` holds the locked accounts (missing = no such account); `debitos` the saga debits that the batch's
    RevertirDebito commands name (comando_original_id), as found in the ledger.
    """
    cuentas = dict(cuentas)
    debitos = dict(debitos)
    resultados: list[Resultado] = []
    for comando in comandos:
        if isinstance(comando, RevertirDebito):
            resultado = _revertir(comando, cuentas.get(comando.cuenta_id), debitos.get(comando.comando_original_id))
            if isinstance(resultado, Aplicado):
                debitos[comando.comando_original_id] = replace(debitos[comando.comando_original_id], revertido=True)
        else:
            resultado = _mover(comando, cuentas.get(comando.cuenta_id))
            if isinstance(resultado, Aplicado) and resultado.operacion == "DEBITO":
                # A RevertirDebito later in the same batch must find this debit.
                debitos[comando.comando_id] = DebitoSaga(comando.comando_id, comando.cuenta_id, comando.monto)
        if isinstance(resultado, Aplicado):
            cuentas[comando.cuenta_id] = resultado.cuenta
        resultados.append(resultado)
    return resultados


def _mover(comando: DebitarCuenta | AcreditarCuenta, cuenta: CuentaBloqueada | None) -> Resultado:
    operacion = operacion_de(comando)

    def rechazo(motivo: MotivoRechazo, detalle: str) -> Rechazado:
        return Rechazado(comando, operacion, motivo, detalle, cuenta.cliente_id if cuenta else None)

    if cuenta is None or cuenta.eliminada:
        return rechazo("CUENTA_NO_EXISTE", f"La cuenta {comando.cuenta_id} no existe")
    if cuenta.estado == "cerrada":
        return rechazo("CUENTA_CERRADA", f"La cuenta {cuenta.numero_cuenta} está cerrada")
    if cuenta.estado == "bloqueada":
        return rechazo("CUENTA_BLOQUEADA", f"La cuenta {cuenta.numero_cuenta} está bloqueada")
    if comando.moneda != cuenta.moneda:
        return rechazo(
            "MONEDA_DISTINTA",
            f"La cuenta {cuenta.numero_cuenta} es en {cuenta.moneda}, el movimiento en {comando.moneda}",
        )
    try:
        saldo = saldo_tras(cuenta.saldo, operacion, comando.monto)
    except SaldoInsuficiente:
        return rechazo(
            "SALDO_INSUFICIENTE", f"Saldo insuficiente: disponible {cuenta.saldo:.2f}, requerido {comando.monto:.2f}"
        )
    except SaldoExcedido:
        return rechazo("SALDO_EXCEDIDO", _excedido(cuenta, comando.monto))
    return Aplicado(comando, replace(cuenta, saldo=saldo), operacion, "SAGA")


def _revertir(comando: RevertirDebito, cuenta: CuentaBloqueada | None, debito: DebitoSaga | None) -> Resultado:
    # Giving money back is applied whatever the account's estado is now (blocked, even closed or deleted since):
    # refusing would destroy the money the debit took. It is checked against the debit it names instead; a revert
    # that fails those checks is answered (COMANDO_INVALIDO) and its saga parks for an operator, never retried.
    def rechazo(motivo: MotivoRechazo, detalle: str) -> Rechazado:
        return Rechazado(comando, "CREDITO", motivo, detalle, cuenta.cliente_id if cuenta else None)

    if debito is None or debito.cuenta_id != comando.cuenta_id:
        return rechazo(
            "COMANDO_INVALIDO", f"No hay un débito {comando.comando_original_id} de la cuenta {comando.cuenta_id}"
        )
    if debito.revertido:
        return rechazo("COMANDO_INVALIDO", f"El débito {comando.comando_original_id} ya fue revertido por otro comando")
    if debito.monto != comando.monto:
        return rechazo("COMANDO_INVALIDO", f"El débito fue de {debito.monto:.2f}, no de {comando.monto:.2f}")
    if cuenta is None or comando.moneda != cuenta.moneda:
        return rechazo("COMANDO_INVALIDO", "La moneda no es la de la cuenta debitada")
    try:
        saldo = saldo_tras(cuenta.saldo, "CREDITO", comando.monto)
    except SaldoExcedido:
        # Credits that arrived after the debit filled the account to the ceiling; an operator must decide.
        return rechazo("SALDO_EXCEDIDO", _excedido(cuenta, comando.monto))
    return Aplicado(comando, replace(cuenta, saldo=saldo), "CREDITO", "REVERSION")


def _excedido(cuenta: CuentaBloqueada, monto: Decimal) -> str:
    return (
        f"El saldo resultante excedería el máximo por cuenta ({SALDO_MAX:.2f}): saldo {cuenta.saldo:.2f} + {monto:.2f}"
    )


def deltas(resultados: Iterable[Resultado]) -> dict[int, Decimal]:
    """The net balance change per account (accounts whose movements cancel out are left out: nothing to update)."""
    out: dict[int, Decimal] = {}
    for r in resultados:
        if isinstance(r, Aplicado):
            signo = 1 if r.operacion == "CREDITO" else -1
            out[r.cuenta.cuenta_id] = out.get(r.cuenta.cuenta_id, Decimal(0)) + signo * r.comando.monto
    return {k: v for k, v in out.items() if v != 0}

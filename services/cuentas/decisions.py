"""What cuentas decides, pure: a batch of balance movements (saga commands, or a teller deposit/withdrawal), in
order, against the accounts locked for it — each one approved with the balance it leaves, or denied with a motivo.

The caller (balance.py) locks every account the batch touches (SELECT ... FOR UPDATE), so the balances seen here are
exact and the decisions final. Whether one account may move money is domain.decidir_movimiento; this module adds
what a batch needs: the order, the saga debits a RevertirDebito gives back, and the net change per account.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from contracts.comandos import AcreditarCuenta, DebitarCuenta, RevertirDebito
from contracts.cuentas import Causa, MotivoRechazo, Operacion
from contracts.envelope import AuthContext
from contracts.money import Moneda
from services.cuentas.asientos import asientos
from services.cuentas.domain import (
    CERO,
    CuentaBloqueada,
    Cupo,
    CupoDiario,
    MovimientoNuevo,
    Rechazo,
    decidir_movimiento,
)

Comando = DebitarCuenta | AcreditarCuenta | RevertirDebito


@dataclass(frozen=True)
class Ventanilla:
    """A teller deposit or withdrawal (PATCH/PUT /cuentas/{id}/saldo): no saga behind it, the account's currency."""

    cuenta_id: int
    operacion: Operacion
    monto: Decimal


@dataclass(frozen=True)
class Captura:
    """A captured hold (POST /cuentas/{id}/retenciones/{rid}/captura): a DEBITO of the account's own currency. Its use
    case releases the hold first, in the same transaction, so the debit may spend the money the hold reserved."""

    cuenta_id: int
    monto: Decimal
    retencion_id: int


Pedido = Comando | Ventanilla | Captura


@dataclass(frozen=True)
class DebitoSaga:
    """A DEBITO a saga command made, as far as reverting it is concerned."""

    comando_id: str
    cuenta_id: int
    monto: Decimal
    revertido: bool = False
    cupo: Cupo | None = None  # the daily limit it counted against, which its reversal gives back


@dataclass(frozen=True)
class Aprobado:
    """Money moves: one ledger row and one SaldoActualizado."""

    pedido: Pedido
    cuenta: CuentaBloqueada  # the account right after this movement
    operacion: Operacion
    causa: Causa
    cupo: Cupo | None = None  # the daily limit it counts against (a reversal: gives back)

    @property
    def saldo(self) -> Decimal:
        return self.cuenta.saldo

    def asiento(self, fecha: datetime, actor: AuthContext | None = None) -> MovimientoNuevo:
        """The ledger row this movement writes, made by `actor`."""
        pedido = self.pedido
        comando = None if isinstance(pedido, Ventanilla | Captura) else pedido
        legs = asientos(
            causa=self.causa,
            operacion=self.operacion,
            moneda=self.cuenta.moneda,
            monto=pedido.monto,
            tipo_transaccion=pedido.tipo_transaccion if isinstance(pedido, DebitarCuenta | AcreditarCuenta) else None,
            cambio=pedido.cambio if isinstance(pedido, AcreditarCuenta) else None,
        )
        return MovimientoNuevo(
            cuenta_id=self.cuenta.cuenta_id,
            operacion=self.operacion,
            causa=self.causa,
            monto=pedido.monto,
            saldo_resultante=self.saldo,
            fecha=fecha,
            transaccion_id=comando.transaccion_id if comando else None,
            comando_id=comando.comando_id if comando else None,
            comando_original_id=pedido.comando_original_id if isinstance(pedido, RevertirDebito) else None,
            actor=actor,
            cupo_diario=self.cupo,
            asientos=tuple(legs),
        )


@dataclass(frozen=True)
class Denegado:
    """No money moves. A saga command gets one MovimientoRechazado; a teller request an error answer.

    Every command that cannot apply is answered, whatever the reason (a business rule, a balance ceiling, a revert
    that names no debit): a command that is only dead-lettered leaves its saga waiting forever. Only what cannot
    even be read as a command (no comando_id/transaccion_id to answer to) goes to the DLQ.
    """

    pedido: Pedido
    operacion: Operacion
    motivo: MotivoRechazo
    detalle: str
    cliente_id: int | None
    disponible: Decimal | None = None  # SALDO_INSUFICIENTE: the available balance it fell short of


Decision = Aprobado | Denegado
# What the batch's ledger day has used so far of each daily limit, per (cuenta_id, cupo); missing = nothing.
Usados = Mapping[tuple[int, Cupo], Decimal]

# Which daily limit a saga debit counts against, by its transaction's kind (DebitarCuenta.tipo_transaccion). A
# service payment takes money out of the bank like a withdrawal does. A debit without a kind (a command from before
# the field) or of a kind not listed (e.g. a future reversal of a credit) counts against none.
CUPO_POR_TIPO: dict[str, Cupo] = {"RETIRO": "RETIRO", "PAGO_SERVICIO": "RETIRO", "TRANSFERENCIA": "TRANSFERENCIA"}


def operacion_de(pedido: Pedido) -> Operacion:
    if isinstance(pedido, Ventanilla):
        return pedido.operacion
    return "DEBITO" if isinstance(pedido, DebitarCuenta | Captura) else "CREDITO"


def cupo_de(pedido: Pedido) -> Cupo | None:
    """The daily limit a request counts against: a teller withdrawal and a saga debit by its kind; credits none (a
    reversal gives back its debit's, which is read from the ledger)."""
    if isinstance(pedido, Ventanilla):
        return "RETIRO" if pedido.operacion == "DEBITO" else None
    if isinstance(pedido, DebitarCuenta) and pedido.tipo_transaccion is not None:
        return CUPO_POR_TIPO.get(pedido.tipo_transaccion)
    return None


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
    pedidos: Sequence[Pedido],
    cuentas: Mapping[int, CuentaBloqueada],
    debitos: Mapping[str, DebitoSaga],
    usados: Usados | None = None,
) -> list[Decision]:
    """One decision per request, in order; each sees the balances and the daily limits the earlier ones left.

    `cuentas` holds the locked accounts (missing = no such account); `debitos` the saga debits that the batch's
    RevertirDebito commands name (comando_original_id), as found in the ledger; `usados` what the batch's ledger day
    used of each daily limit before it (read under the same row locks).
    """
    cuentas = dict(cuentas)
    debitos = dict(debitos)
    usado: dict[tuple[int, Cupo], Decimal] = dict(usados or {})
    decisiones: list[Decision] = []
    for pedido in pedidos:
        if isinstance(pedido, RevertirDebito):
            debito = debitos.get(pedido.comando_original_id)
            decision = _revertir(pedido, cuentas.get(pedido.cuenta_id), debito)
            if isinstance(decision, Aprobado):
                debitos[pedido.comando_original_id] = replace(debitos[pedido.comando_original_id], revertido=True)
        else:
            cupo = cupo_de(pedido)
            clave = (pedido.cuenta_id, cupo) if cupo is not None else None
            decision = _mover(pedido, cuentas.get(pedido.cuenta_id), usado.get(clave, CERO) if clave else None)
            if isinstance(decision, Aprobado) and isinstance(pedido, DebitarCuenta):
                # A RevertirDebito later in the same batch must find this debit.
                debitos[pedido.comando_id] = DebitoSaga(pedido.comando_id, pedido.cuenta_id, pedido.monto, cupo=cupo)
        if isinstance(decision, Aprobado):
            cuentas[pedido.cuenta_id] = decision.cuenta
            if decision.cupo is not None:
                clave = (pedido.cuenta_id, decision.cupo)
                signo = 1 if decision.operacion == "DEBITO" else -1
                usado[clave] = usado.get(clave, CERO) + signo * pedido.monto
        decisiones.append(decision)
    return decisiones


def _mover(
    pedido: DebitarCuenta | AcreditarCuenta | Ventanilla | Captura,
    cuenta: CuentaBloqueada | None,
    usado: Decimal | None,
) -> Decision:
    """`usado`: what the ledger day used of the daily limit this request counts against (None: it counts against
    none)."""
    operacion = operacion_de(pedido)
    moneda: Moneda | None = None  # a teller or a capture moves the account's own currency
    causa: Causa = "SAGA"
    if isinstance(pedido, Ventanilla):
        causa = "DEPOSITO" if operacion == "CREDITO" else "RETIRO"
    elif isinstance(pedido, Captura):
        causa = "CAPTURA"
    else:
        moneda = pedido.moneda
    cupo = cupo_de(pedido)
    diario = None
    if cupo is not None and cuenta is not None:
        diario = CupoDiario(cupo, cuenta.limites.de(cupo), usado or CERO)
    saldo = decidir_movimiento(pedido.cuenta_id, cuenta, operacion, pedido.monto, moneda=moneda, cupo=diario)
    return _decision(pedido, cuenta, operacion, causa, saldo, cupo)


def _revertir(comando: RevertirDebito, cuenta: CuentaBloqueada | None, debito: DebitoSaga | None) -> Decision:
    # Checked against the debit it names; a revert that fails those checks is answered (COMANDO_INVALIDO) and its
    # saga parks for an operator, never retried.
    def invalido(detalle: str) -> Denegado:
        return Denegado(comando, "CREDITO", "COMANDO_INVALIDO", detalle, cuenta.cliente_id if cuenta else None)

    if debito is None or debito.cuenta_id != comando.cuenta_id:
        return invalido(f"No hay un débito {comando.comando_original_id} de la cuenta {comando.cuenta_id}")
    if debito.revertido:
        return invalido(f"El débito {comando.comando_original_id} ya fue revertido por otro comando")
    if debito.monto != comando.monto:
        return invalido(f"El débito fue de {debito.monto:.2f}, no de {comando.monto:.2f}")
    # SALDO_EXCEDIDO here: credits that arrived after the debit filled the account to the ceiling; an operator decides.
    saldo = decidir_movimiento(
        comando.cuenta_id, cuenta, "CREDITO", comando.monto, moneda=comando.moneda, reversion=True
    )
    # The money comes back, and so does the daily limit it used (on the day the reversal is made).
    return _decision(comando, cuenta, "CREDITO", "REVERSION", saldo, debito.cupo)


def _decision(
    pedido: Pedido,
    cuenta: CuentaBloqueada | None,
    operacion: Operacion,
    causa: Causa,
    saldo: Decimal | Rechazo,
    cupo: Cupo | None = None,
) -> Decision:
    if isinstance(saldo, Rechazo):
        cliente_id = cuenta.cliente_id if cuenta else None
        return Denegado(pedido, operacion, saldo.motivo, saldo.detalle, cliente_id, saldo.disponible)
    assert cuenta is not None  # an approved movement always has its locked account
    return Aprobado(pedido, replace(cuenta, saldo=saldo), operacion, causa, cupo)


def deltas(decisiones: Iterable[Decision]) -> dict[int, Decimal]:
    """The net balance change per account (accounts whose movements cancel out are left out: nothing to update)."""
    out: dict[int, Decimal] = {}
    for d in decisiones:
        if isinstance(d, Aprobado):
            signo = 1 if d.operacion == "CREDITO" else -1
            out[d.cuenta.cuenta_id] = out.get(d.cuenta.cuenta_id, Decimal(0)) + signo * d.pedido.monto
    return {k: v for k, v in out.items() if v != 0}

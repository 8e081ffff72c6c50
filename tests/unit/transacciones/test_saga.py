"""The saga's decisions, exhaustively: every tipo, every step, every reply, duplicates and late replies."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.comandos import AcreditarCuenta, DebitarCuenta, RevertirDebito
from contracts.cuentas import MovimientoRechazado, SaldoActualizado
from contracts.transacciones import TransaccionFallida, TransaccionRegistrada, TransaccionSolicitada
from services.transacciones import saga
from services.transacciones.saga import Aplicado, Orden, Rechazado, SagaState

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TRX = "TRX0123456789abcdef01234567"


def orden(tipo: str, origen: int | None = None, destino: int | None = None) -> Orden:
    return Orden(
        id="0123456789abcdef01234567",
        transaccion_id=TRX,
        tipo=tipo,  # type: ignore[arg-type]
        monto=Decimal("25.00"),
        moneda="PEN",
        cuenta_origen_id=origen,
        cuenta_destino_id=destino,
        fecha=T0,
    )


DEPOSITO = orden("DEPOSITO", destino=2)
RETIRO = orden("RETIRO", origen=1)
PAGO = orden("PAGO_SERVICIO", origen=1)
TRANSFERENCIA = orden("TRANSFERENCIA", origen=1, destino=2)


def ok(comando_id: str | None, cliente: int = 7, numero: str = "1234567890123") -> Aplicado:
    assert comando_id is not None
    return Aplicado(comando_id, cliente, numero)


def no(comando_id: str | None, motivo: str = "SALDO_INSUFICIENTE") -> Rechazado:
    assert comando_id is not None
    return Rechazado(comando_id, motivo, "detalle", 7)


# --- start ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("o", "command", "cuenta"),
    [
        (DEPOSITO, AcreditarCuenta, 2),
        (RETIRO, DebitarCuenta, 1),
        (PAGO, DebitarCuenta, 1),
        (TRANSFERENCIA, DebitarCuenta, 1),
    ],
)
def test_cada_tipo_empieza_con_su_comando(o: Orden, command: type, cuenta: int) -> None:
    d = saga.iniciar(o, T0)
    assert d.estado == "PENDIENTE"
    solicitada, primero = d.mensajes
    assert isinstance(solicitada, TransaccionSolicitada)
    assert isinstance(primero, AcreditarCuenta | DebitarCuenta)
    assert solicitada.transaccion_id == TRX
    assert isinstance(primero, command)
    assert primero.cuenta_id == cuenta
    assert primero.monto == Decimal("25.00")
    assert primero.comando_id == d.saga.comando_id
    assert d.saga.desde == T0


def test_el_debito_nombra_su_limite_diario_salvo_en_una_reversion() -> None:
    """A debit counts against the daily limit of its kind; a reversal's debit gives money back and counts against none."""
    for o, tipo in (
        (RETIRO, "RETIRO"),
        (TRANSFERENCIA, "TRANSFERENCIA"),
        (TRANSFERENCIA.model_copy(update={"reversion_de": "x"}), None),
        # The reversal of a DEPOSITO: a one-step debit, no limit, its cash goes back out (not into TRANSITO).
        (orden("RETIRO", origen=2).model_copy(update={"reversion_de": "x"}), "REVERSION"),
    ):
        debito = saga.iniciar(o, T0).mensajes[1]
        assert isinstance(debito, DebitarCuenta)
        assert debito.tipo_transaccion == tipo


def test_el_credito_nombra_su_tipo_para_la_partida_doble() -> None:
    """cuentas books a DEPOSITO's credit against CAJA and a transfer's against TRANSITO: the credit says its kind (a
    reversal's too: the DEPOSITO giving back a RETIRO is cash, the transfer back passes TRANSITO)."""
    for o in (DEPOSITO, DEPOSITO.model_copy(update={"reversion_de": "x"})):
        deposito = saga.iniciar(o, T0).mensajes[1]
        assert isinstance(deposito, AcreditarCuenta)
        assert deposito.tipo_transaccion == "DEPOSITO"
    credito = SagaState(paso="CREDITO", comando_id=saga.comando_id(TRX, "CREDITO"), desde=T0)
    for o, tipo in (
        (TRANSFERENCIA, "TRANSFERENCIA"),
        (TRANSFERENCIA.model_copy(update={"reversion_de": "x"}), "TRANSFERENCIA"),
    ):
        comando = saga.comando_actual(o, credito)
        assert isinstance(comando, AcreditarCuenta)
        assert comando.tipo_transaccion == tipo


def test_los_ids_de_comando_derivan_de_la_transaccion_y_el_paso() -> None:
    assert {saga.comando_id(TRX, p) for p in ("DEBITO", "CREDITO", "REVERSION")} == {
        f"{TRX}-DEB",
        f"{TRX}-CRE",
        f"{TRX}-REV",
    }


def test_una_respuesta_es_posterior_solo_si_nombra_un_paso_siguiente_de_la_misma_saga() -> None:
    def en(paso: saga.Paso) -> SagaState:
        return SagaState(paso=paso, comando_id=saga.comando_id(TRX, paso), desde=T0)

    assert saga.posterior(en("DEBITO"), f"{TRX}-CRE")
    assert saga.posterior(en("DEBITO"), f"{TRX}-REV")
    assert saga.posterior(en("CREDITO"), f"{TRX}-REV")
    assert not saga.posterior(en("DEBITO"), f"{TRX}-DEB")  # the awaited one
    assert not saga.posterior(en("CREDITO"), f"{TRX}-DEB")  # a late one
    assert not saga.posterior(en("DEBITO"), "TRXotra-CRE")
    assert not saga.posterior(en("DEBITO"), f"{TRX}-XYZ")
    assert not saga.posterior(SagaState(paso="FIN", comando_id=None, desde=T0), f"{TRX}-CRE")


# --- one-step sagas --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("o", [DEPOSITO, RETIRO, PAGO])
def test_un_paso_aplicado_completa(o: Orden) -> None:
    inicio = saga.iniciar(o, T0).saga
    d = saga.avanzar(o, inicio, ok(inicio.comando_id), T0 + timedelta(seconds=1))
    assert d is not None
    assert (d.estado, d.motivo, d.saga.paso, d.saga.comando_id) == ("COMPLETADA", None, "FIN", None)
    (evento,) = d.mensajes
    assert isinstance(evento, TransaccionRegistrada)
    lado = "destino" if o.tipo == "DEPOSITO" else "origen"
    assert getattr(evento, f"cliente_{lado}_id") == 7
    assert getattr(evento, f"numero_cuenta_{lado}") == "1234567890123"


@pytest.mark.parametrize("o", [DEPOSITO, RETIRO, PAGO])
@pytest.mark.parametrize(
    "motivo", ["CUENTA_NO_EXISTE", "CUENTA_BLOQUEADA", "CUENTA_CERRADA", "MONEDA_DISTINTA", "SALDO_INSUFICIENTE"]
)
def test_un_paso_rechazado_falla_con_motivo(o: Orden, motivo: str) -> None:
    inicio = saga.iniciar(o, T0).saga
    d = saga.avanzar(o, inicio, no(inicio.comando_id, motivo), T0)
    assert d is not None
    assert d.estado == "FALLIDA"
    assert d.motivo == f"{motivo}: detalle"
    (evento,) = d.mensajes
    assert isinstance(evento, TransaccionFallida)
    assert (evento.estado, evento.motivo) == ("FALLIDA", d.motivo)


# --- transfer ----------------------------------------------------------------------------------------------------


def test_transferencia_debito_luego_credito_completa() -> None:
    s0 = saga.iniciar(TRANSFERENCIA, T0).saga
    d1 = saga.avanzar(TRANSFERENCIA, s0, ok(s0.comando_id, 7, "111"), T0)
    assert d1 is not None
    assert (d1.estado, d1.saga.paso) == ("PENDIENTE", "CREDITO")
    (credito,) = d1.mensajes
    assert isinstance(credito, AcreditarCuenta)
    assert (credito.cuenta_id, credito.comando_id) == (2, f"{TRX}-CRE")
    d2 = saga.avanzar(TRANSFERENCIA, d1.saga, ok(d1.saga.comando_id, 8, "222"), T0)
    assert d2 is not None
    assert d2.estado == "COMPLETADA"
    (evento,) = d2.mensajes
    assert isinstance(evento, TransaccionRegistrada)
    assert (evento.cliente_origen_id, evento.numero_cuenta_origen) == (7, "111")
    assert (evento.cliente_destino_id, evento.numero_cuenta_destino) == (8, "222")


def test_transferencia_con_debito_rechazado_falla_sin_compensar() -> None:
    s0 = saga.iniciar(TRANSFERENCIA, T0).saga
    d = saga.avanzar(TRANSFERENCIA, s0, no(s0.comando_id), T0)
    assert d is not None
    assert d.estado == "FALLIDA"
    assert [type(m) for m in d.mensajes] == [TransaccionFallida]


@pytest.mark.parametrize("motivo", ["CUENTA_NO_EXISTE", "CUENTA_BLOQUEADA", "CUENTA_CERRADA", "MONEDA_DISTINTA"])
def test_credito_rechazado_revierte_el_debito_y_luego_falla(motivo: str) -> None:
    s0 = saga.iniciar(TRANSFERENCIA, T0).saga
    d1 = saga.avanzar(TRANSFERENCIA, s0, ok(s0.comando_id), T0)
    assert d1 is not None
    d2 = saga.avanzar(TRANSFERENCIA, d1.saga, no(d1.saga.comando_id, motivo), T0)
    assert d2 is not None
    assert (d2.estado, d2.saga.paso) == ("PENDIENTE", "REVERSION")
    (revertir,) = d2.mensajes
    assert isinstance(revertir, RevertirDebito)
    assert (revertir.cuenta_id, revertir.comando_original_id, revertir.comando_id) == (1, f"{TRX}-DEB", f"{TRX}-REV")
    d3 = saga.avanzar(TRANSFERENCIA, d2.saga, ok(d2.saga.comando_id), T0)
    assert d3 is not None
    assert d3.estado == "FALLIDA"
    assert d3.motivo == f"{motivo}: detalle"
    (evento,) = d3.mensajes
    assert isinstance(evento, TransaccionFallida)


def test_reversion_rechazada_queda_para_un_operador() -> None:
    s0 = saga.iniciar(TRANSFERENCIA, T0).saga
    d1 = saga.avanzar(TRANSFERENCIA, s0, ok(s0.comando_id), T0)
    assert d1 is not None
    d2 = saga.avanzar(TRANSFERENCIA, d1.saga, no(d1.saga.comando_id, "CUENTA_CERRADA"), T0)
    assert d2 is not None
    d3 = saga.avanzar(TRANSFERENCIA, d2.saga, no(d2.saga.comando_id, "CUENTA_CERRADA"), T0)
    assert d3 is not None
    # Money left the origin and did not come back: never declared FALLIDA ("moved no money"), never re-sent.
    assert (d3.estado, d3.saga.paso, d3.mensajes) == ("PENDIENTE", "REVERSION_RECHAZADA", ())
    assert d3.motivo is not None
    assert d3.motivo.startswith("REVERSION_RECHAZADA")
    assert saga.reenviar(TRANSFERENCIA, d3.saga, T0) is None
    assert saga.vence(d3.saga, 10, 300) is None


# --- duplicates, late and stray replies ----------------------------------------------------------------------------


def test_respuestas_que_no_se_esperan_no_deciden_nada() -> None:
    s0 = saga.iniciar(TRANSFERENCIA, T0).saga
    d1 = saga.avanzar(TRANSFERENCIA, s0, ok(s0.comando_id), T0)
    assert d1 is not None
    # the debit's reply again (a redelivery) while waiting for the credit
    assert saga.avanzar(TRANSFERENCIA, d1.saga, ok(s0.comando_id), T0) is None
    assert saga.avanzar(TRANSFERENCIA, d1.saga, no(s0.comando_id), T0) is None
    # a reply for some other command
    assert saga.avanzar(TRANSFERENCIA, d1.saga, ok("TRXother-CRE"), T0) is None
    d2 = saga.avanzar(TRANSFERENCIA, d1.saga, ok(d1.saga.comando_id), T0)
    assert d2 is not None
    # after the end, nothing moves it
    for late in (ok(s0.comando_id), ok(d1.saga.comando_id), no(d1.saga.comando_id)):
        assert saga.avanzar(TRANSFERENCIA, d2.saga, late, T0) is None


# --- re-send and deadlines -------------------------------------------------------------------------------------------


def test_reenviar_repite_el_mismo_comando_con_otra_emision() -> None:
    d0 = saga.iniciar(RETIRO, T0)
    d1 = saga.reenviar(RETIRO, d0.saga, T0 + timedelta(seconds=30))
    assert d1 is not None
    (again,) = d1.mensajes
    assert again == d0.mensajes[1]  # same command, same comando_id
    assert d1.saga.intentos == 1
    assert d1.saga.desde == T0 + timedelta(seconds=30)
    assert saga.event_id(again, d1.saga.intentos) != saga.event_id(again, 0)
    assert saga.event_id(again, 1) == saga.event_id(again, 1)


def test_vence_con_espera_que_se_duplica_hasta_un_tope() -> None:
    s = SagaState(paso="DEBITO", comando_id="x", desde=T0)
    assert saga.vence(s, 10, 300) == T0 + timedelta(seconds=10)
    assert saga.vence(s.model_copy(update={"intentos": 2}), 10, 300) == T0 + timedelta(seconds=40)
    assert saga.vence(s.model_copy(update={"intentos": 50}), 10, 300) == T0 + timedelta(seconds=300)
    assert saga.vence(s.model_copy(update={"paso": "FIN"}), 10, 300) is None


# --- cancel ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("o", [DEPOSITO, RETIRO, PAGO, TRANSFERENCIA])
def test_cancelar_en_el_primer_paso(o: Orden) -> None:
    s0 = saga.iniciar(o, T0).saga
    d = saga.cancelar(o, s0, "PENDIENTE", T0)
    assert d is not None
    assert (d.estado, d.saga.paso, d.motivo) == ("CANCELADA", "FIN", saga.MOTIVO_CANCELADA)
    (evento,) = d.mensajes
    assert isinstance(evento, TransaccionFallida)
    assert evento.estado == "CANCELADA"


def test_no_se_cancela_tras_el_primer_paso_ni_reenviada_ni_final() -> None:
    s0 = saga.iniciar(TRANSFERENCIA, T0).saga
    d1 = saga.avanzar(TRANSFERENCIA, s0, ok(s0.comando_id), T0)
    assert d1 is not None
    assert saga.cancelar(TRANSFERENCIA, d1.saga, "PENDIENTE", T0) is None
    reenviada = saga.reenviar(TRANSFERENCIA, s0, T0)
    assert reenviada is not None
    assert saga.cancelar(TRANSFERENCIA, reenviada.saga, "PENDIENTE", T0) is None
    for estado in ("COMPLETADA", "FALLIDA", "CANCELADA"):
        assert saga.cancelar(TRANSFERENCIA, s0, estado, T0) is None  # type: ignore[arg-type]


# --- replies from events -------------------------------------------------------------------------------------------------


def test_respuesta_de_eventos_de_cuentas() -> None:
    comun = {"cuenta_id": 1, "monto": Decimal("1.00"), "moneda": "PEN", "fecha": T0}
    aplicado = SaldoActualizado(
        **comun, cliente_id=3, numero_cuenta="9", movimiento_id=1, operacion="DEBITO", causa="SAGA",
        saldo=Decimal("0.00"), transaccion_id=TRX, comando_id=f"{TRX}-DEB",
    )  # fmt: skip
    assert saga.respuesta_de(aplicado) == (TRX, Aplicado(f"{TRX}-DEB", 3, "9"))
    ventanilla = aplicado.model_copy(update={"transaccion_id": None, "comando_id": None})
    assert saga.respuesta_de(ventanilla) is None
    rechazo = MovimientoRechazado(
        **comun, transaccion_id=TRX, comando_id=f"{TRX}-CRE", operacion="CREDITO", motivo="CUENTA_CERRADA",
        detalle="cerrada",
    )  # fmt: skip
    assert saga.respuesta_de(rechazo) == (TRX, Rechazado(f"{TRX}-CRE", "CUENTA_CERRADA", "cerrada", None))


# --- property: whatever cuentas answers, however often, money is conserved --------------------------------------------


class FakeCuentas:
    """Applies each comando_id once (like the real one) and answers every delivery, duplicates included."""

    def __init__(self, rng: random.Random, saldo_origen: Decimal, destino_acepta: bool) -> None:
        self.saldo = {1: saldo_origen, 2: Decimal(0)}
        self.rng = rng
        self.destino_acepta = destino_acepta
        self.respuestas: dict[str, saga.Respuesta] = {}

    def aplicar(self, comando: object) -> saga.Respuesta:
        cid = comando.comando_id  # type: ignore[attr-defined]
        if cid in self.respuestas:
            return self.respuestas[cid]
        cuenta, monto = comando.cuenta_id, comando.monto  # type: ignore[attr-defined]
        respuesta: saga.Respuesta
        if isinstance(comando, DebitarCuenta):
            if self.saldo[cuenta] >= monto:
                self.saldo[cuenta] -= monto
                respuesta = Aplicado(cid, 1, "n")
            else:
                respuesta = Rechazado(cid, "SALDO_INSUFICIENTE", "", 1)
        elif isinstance(comando, AcreditarCuenta) and not self.destino_acepta:
            respuesta = Rechazado(cid, "CUENTA_BLOQUEADA", "", 2)
        else:
            self.saldo[cuenta] += monto
            respuesta = Aplicado(cid, 1, "n")
        self.respuestas[cid] = respuesta
        return respuesta


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    tipo=st.sampled_from(["DEPOSITO", "RETIRO", "PAGO_SERVICIO", "TRANSFERENCIA"]),
    saldo=st.sampled_from([Decimal(0), Decimal("10.00"), Decimal("25.00"), Decimal("100.00")]),
    destino_acepta=st.booleans(),
)
def test_propiedad_el_dinero_se_conserva_con_duplicados_y_reenvios(
    seed: int, tipo: str, saldo: Decimal, destino_acepta: bool
) -> None:
    rng = random.Random(seed)
    o = orden(
        tipo, origen=None if tipo == "DEPOSITO" else 1, destino=2 if tipo in ("DEPOSITO", "TRANSFERENCIA") else None
    )
    cuentas = FakeCuentas(rng, saldo, destino_acepta)
    inicial = dict(cuentas.saldo)
    d = saga.iniciar(o, T0)
    estado, s = d.estado, d.saga
    en_vuelo = [m for m in d.mensajes if hasattr(m, "comando_id")]
    respuestas: list[saga.Respuesta] = []
    for _ in range(60):
        if rng.random() < 0.2:  # the sweeper re-sends the step in progress
            r = saga.reenviar(o, s, T0)
            if r is not None:
                s = r.saga
                en_vuelo += list(r.mensajes)
        if en_vuelo and rng.random() < 0.7:
            respuestas.append(cuentas.aplicar(en_vuelo.pop(rng.randrange(len(en_vuelo)))))
        if respuestas:
            respuesta = respuestas[rng.randrange(len(respuestas))]  # redeliveries and reordering
            if rng.random() < 0.7:
                respuestas.remove(respuesta)
            decision = saga.avanzar(o, s, respuesta, T0)
            if decision is not None:
                estado, s = decision.estado, decision.saga
                en_vuelo += [m for m in decision.mensajes if hasattr(m, "comando_id")]
    delta = {k: cuentas.saldo[k] - inicial[k] for k in inicial}
    monto = o.monto
    if estado == "COMPLETADA":
        esperado = {
            "DEPOSITO": {1: 0, 2: monto},
            "RETIRO": {1: -monto, 2: 0},
            "PAGO_SERVICIO": {1: -monto, 2: 0},
            "TRANSFERENCIA": {1: -monto, 2: monto},
        }[tipo]
        assert delta == esperado
    elif estado == "FALLIDA":
        assert delta == {1: 0, 2: 0}
    else:  # still running: at most the debit of a transfer is outstanding
        assert delta[2] == 0 or tipo == "DEPOSITO"
        assert delta[1] in (0, -monto)

"""What the commands consumer judges before touching the database: what cannot be read as a command is
dead-lettered (never retried); a readable command that can never apply is marked to be answered as invalid."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pydantic
import pytest

from consumers.errors import PermanentError, is_permanent
from contracts.clientes import ClienteEliminado
from contracts.comandos import DebitarCuenta, RevertirDebito
from contracts.envelope import AuthContext, envelope_for
from services.cuentas import events
from services.cuentas.commands import decodificar
from services.cuentas.replica import inbox_id
from services.cuentas.repository import _movimiento
from services.cuentas.schemas import MovimientoPublic


def _debit(**kw: object) -> DebitarCuenta:
    base: dict[str, object] = {
        "comando_id": str(uuid.uuid4()),
        "transaccion_id": "TRX1",
        "cuenta_id": 1,
        "monto": "1.00",
        "moneda": "PEN",
    }
    return DebitarCuenta(**(base | kw))  # type: ignore[arg-type]


def test_un_comando_valido_se_decodifica() -> None:
    command = _debit()
    assert decodificar(envelope_for(command, source="/t")).comando == command


def test_un_evento_que_no_es_comando_es_permanente() -> None:
    with pytest.raises(PermanentError):
        decodificar(envelope_for(ClienteEliminado(cliente_id=1), source="/t"))


@pytest.mark.parametrize("field", ["comando_id", "transaccion_id"])
def test_ids_que_no_caben_en_sus_columnas_se_responden_como_invalidos(field: str) -> None:
    recibido = decodificar(envelope_for(_debit(**{field: "x" * 101}), source="/t"))
    assert recibido.invalido is not None
    assert "caracteres" in recibido.invalido


def test_ids_vacios_o_largos_de_reversion_se_responden_como_invalidos() -> None:
    assert decodificar(envelope_for(_debit(comando_id=""), source="/t")).invalido is not None
    revert = RevertirDebito(
        comando_id="r",
        transaccion_id="t",
        cuenta_id=1,
        monto="1.00",
        moneda="PEN",
        comando_original_id="y" * 65,  # type: ignore[arg-type]
    )
    assert decodificar(envelope_for(revert, source="/t")).invalido is not None
    assert decodificar(envelope_for(_debit(), source="/t")).invalido is None


def test_un_payload_invalido_es_permanente() -> None:
    env = envelope_for(_debit(), source="/t")
    bad = type(env)(**{**env.__dict__, "data": {**env.data, "monto": "-5"}})
    with pytest.raises(pydantic.ValidationError) as info:
        decodificar(bad)
    assert is_permanent(info.value)


def test_ids_de_evento_largos_se_resumen_para_el_inbox() -> None:
    env = envelope_for(ClienteEliminado(cliente_id=1), source="/t", time=datetime.now(UTC))
    assert inbox_id(env) == env.id
    long = type(env)(**{**env.__dict__, "id": "z" * 200})
    assert len(inbox_id(long)) == 64
    assert inbox_id(long) == inbox_id(long)


def test_una_fila_del_libro_guarda_su_actor() -> None:
    fecha = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    base = (
        1,
        7,
        "DEBITO",
        "SAGA",
        Decimal("1.00"),
        Decimal("9.00"),
        fecha,
        "TRX1",
        "TRX1-DEB",
        None,
    )  # ... comando_id, comando_original_id
    con = _movimiento((*base, "user", "cajero"))
    assert con.actor == AuthContext(authtype="user", authid="cajero")
    assert con.fecha.tzinfo is UTC
    assert MovimientoPublic.model_validate(con).model_dump(mode="json")["actor"] == {
        "authtype": "user",
        "authid": "cajero",
    }
    assert _movimiento((*base, None, None)).actor is None  # a row older than the columns


def test_la_respuesta_de_la_saga_lleva_el_actor_del_comando() -> None:
    actor = AuthContext(authtype="user", authid="cajero")
    recibido = decodificar(envelope_for(_debit(), source="/t", authcontext=actor))
    assert recibido.envelope.authcontext == actor
    reply = envelope_for(_debit(), source="/cuentas")  # any message: what matters is the envelope
    assert events.envelope(reply.decode(), correlation_id="c", authcontext=actor).authcontext == actor

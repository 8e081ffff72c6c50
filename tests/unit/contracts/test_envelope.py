"""The CloudEvents envelope survives a trip through Kafka's binary mode unchanged."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from contracts import topics
from contracts.comandos import DebitarCuenta
from contracts.cuentas import SaldoActualizado
from contracts.envelope import AuthContext, EnvelopeError, envelope_for, from_record, type_and_data
from contracts.registry import UnknownMessageType


def _saldo() -> SaldoActualizado:
    return SaldoActualizado(
        cuenta_id=7,
        cliente_id=3,
        numero_cuenta="1234567890123",
        movimiento_id=11,
        operacion="DEBITO",
        causa="SAGA",
        monto=Decimal("10.5"),
        saldo=Decimal("89.5"),
        moneda="PEN",
        fecha=datetime(2026, 1, 2, tzinfo=UTC),
        transaccion_id="TRX1",
    )


def test_evento_ida_y_vuelta_conserva_atributos_y_payload() -> None:
    env = envelope_for(_saldo(), source="/cuentas", correlation_id="corr-1", causation_id="cause-1")
    back = from_record(env.topic, env.value(), env.headers())
    assert back.id == env.id
    assert back.type == "bank.cuentas.SaldoActualizado.v1"
    assert back.subject == "7"
    assert back.topic == topics.CUENTAS
    assert (back.correlation_id, back.causation_id) == ("corr-1", "cause-1")
    assert back.decode() == _saldo()


def test_el_dinero_viaja_como_texto_decimal() -> None:
    env = envelope_for(_saldo(), source="/cuentas")
    assert b'"monto":"10.50"' in env.value()
    assert b'"saldo":"89.50"' in env.value()


def test_los_headers_son_los_de_cloudevents_binary_mode() -> None:
    env = envelope_for(
        DebitarCuenta(comando_id="c", transaccion_id="t", cuenta_id=1, monto=Decimal(1), moneda="USD"),
        source="/transacciones",
    )
    names = {k for k, _ in env.headers()}
    assert {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "ce_correlationid"} <= names
    assert env.correlation_id == env.id  # a message that starts a flow is its own correlation


def test_correlacion_causalidad_y_dataschema_son_atributos_cloudevents() -> None:
    env = envelope_for(_saldo(), source="/cuentas", correlation_id="corr-1", causation_id="cause-1")
    headers = dict(env.headers())
    assert headers["ce_correlationid"] == b"corr-1"
    assert headers["ce_causationid"] == b"cause-1"
    assert headers["ce_dataschema"] == b"https://schemas.cloudbank.example/events/bank.cuentas.SaldoActualizado.v1.json"
    assert not {"correlation_id", "causation_id"} & set(headers)  # the plain headers are only read now
    # The audit export (structured mode) names them as the wire does, without the binary-mode prefix.
    exported = env.to_structured()
    for name in ("correlationid", "causationid", "dataschema"):
        assert headers[f"ce_{name}"].decode() == exported[name]


def test_un_registro_antiguo_con_headers_planos_conserva_su_correlacion() -> None:
    env = envelope_for(_saldo(), source="/cuentas", correlation_id="corr-1", causation_id="cause-1")
    renamed = {"ce_correlationid": "correlation_id", "ce_causationid": "causation_id"}
    old = [(renamed.get(k, k), v) for k, v in env.headers() if k != "ce_dataschema"]
    back = from_record(env.topic, env.value(), old)
    assert (back.correlation_id, back.causation_id) == ("corr-1", "cause-1")
    assert back.extra_headers == {}  # the legacy names are known attributes, not unknown headers
    assert back.dataschema == env.dataschema  # derived from the type for records that predate the attribute


def test_un_registro_sin_headers_no_es_un_evento() -> None:
    with pytest.raises(EnvelopeError):
        from_record(topics.CUENTAS, b"{}", [])


def test_un_tipo_desconocido_no_se_decodifica() -> None:
    env = envelope_for(_saldo(), source="/cuentas")
    headers = [(k, b"bank.cuentas.Nada.v9" if k == "ce_type" else v) for k, v in env.headers()]
    with pytest.raises(UnknownMessageType):
        from_record(env.topic, env.value(), headers).decode()


def test_authcontext_viaja_en_ce_authtype_y_ce_authid() -> None:
    actor = AuthContext(authtype="user", authid="cajero")
    env = envelope_for(_saldo(), source="/cuentas", authcontext=actor)
    headers = dict(env.headers())
    assert (headers["ce_authtype"], headers["ce_authid"]) == (b"user", b"cajero")
    back = from_record(env.topic, env.value(), env.headers())
    assert back.authcontext == actor
    assert "ce_authtype" not in back.extra_headers  # an attribute, not an unknown header
    assert env.to_structured()["authtype"] == "user"
    assert env.to_structured()["authid"] == "cajero"


def test_un_anonimo_lleva_authtype_sin_authid() -> None:
    env = envelope_for(_saldo(), source="/cuentas", authcontext=AuthContext(authtype="unauthenticated"))
    names = {k for k, _ in env.headers()}
    assert "ce_authtype" in names
    assert "ce_authid" not in names
    back = from_record(env.topic, env.value(), env.headers())
    assert back.authcontext == AuthContext(authtype="unauthenticated", authid=None)


def test_un_evento_sin_authcontext_no_lo_inventa() -> None:
    env = envelope_for(_saldo(), source="/cuentas")
    assert not {k for k, _ in env.headers()} & {"ce_authtype", "ce_authid"}
    assert from_record(env.topic, env.value(), env.headers()).authcontext is None
    assert "authtype" not in env.to_structured()


def test_authcontext_en_su_forma_json_ida_y_vuelta() -> None:
    actor = AuthContext(authtype="service_account", authid="service-account-cloudbank-cli")
    assert AuthContext.from_data(actor.to_data()) == actor
    assert AuthContext.from_data(None) is None
    assert AuthContext.from_data({"authid": "x"}) is None  # no authtype: not an authcontext


def test_un_authid_que_no_es_utf8_no_es_un_evento() -> None:
    env = envelope_for(_saldo(), source="/cuentas", authcontext=AuthContext(authtype="user", authid="ana"))
    headers = [(k, b"\xff" if k == "ce_authid" else v) for k, v in env.headers()]
    with pytest.raises(EnvelopeError):
        from_record(env.topic, env.value(), headers)


def test_type_and_data_lee_lo_mismo_que_from_record() -> None:
    env = envelope_for(_saldo(), source="/cuentas", authcontext=AuthContext("user", "ana"))
    full = from_record(env.topic, env.value(), env.headers())
    assert type_and_data(env.value(), env.headers()) == (full.type, full.data)


@pytest.mark.parametrize(
    ("value", "drop", "problem"),
    [
        (b'{"a": 1}', "ce_type", "missing header ce_type"),
        (b"{not json", None, "malformed record"),
        (b"[1, 2]", None, "payload is not a JSON object"),
        (None, None, "malformed record"),
    ],
)
def test_type_and_data_rechaza_lo_que_no_es_un_evento(value: bytes | None, drop: str | None, problem: str) -> None:
    headers = [(k, v) for k, v in envelope_for(_saldo(), source="/cuentas").headers() if k != drop]
    with pytest.raises(EnvelopeError, match=problem):
        type_and_data(value, headers)

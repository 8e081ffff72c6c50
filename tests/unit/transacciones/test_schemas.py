"""The REST contract's parsing and the list filters' query, without a server."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from bson import ObjectId
from pydantic import ValidationError

from contracts.envelope import AuthContext
from services.transacciones.domain import Transaccion, object_id_de, parse_object_id
from services.transacciones.repository import Filtro, MongoRepository
from services.transacciones.saga import SagaState
from services.transacciones.schemas import TransaccionCreate, TransaccionPublic, TransaccionRechazada

BASE: dict[str, Any] = {"tipo": "deposito", "monto": "10", "moneda": "pen", "cuentaDestinoId": 5}


def test_normaliza_tipo_moneda_y_monto() -> None:
    req = TransaccionCreate.model_validate(BASE)
    assert (req.tipo, req.moneda, req.monto) == ("DEPOSITO", "PEN", Decimal("10.00"))
    assert req.fingerprint_body() == TransaccionCreate.model_validate(BASE | {"monto": 10.0}).fingerprint_body()


@pytest.mark.parametrize(
    "change",
    [
        {"monto": 0},
        {"monto": "-1"},
        {"monto": "0.001"},
        {"monto": "10000000000000"},
        {"monto": "Infinity"},
        {"moneda": "BTC"},
        {"descripcion": "a\x00b"},
        {"metadata": {"x": float("nan")}},
        {"metadata": {"x": "y" * 9000}},
        {"cuentaDestinoId": 0},
    ],
)
def test_rechaza_entradas_invalidas(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TransaccionCreate.model_validate(BASE | change)


def test_ignora_campos_que_asigna_el_servidor() -> None:
    req = TransaccionCreate.model_validate(BASE | {"id": "x", "estado": "COMPLETADA", "fecha": "2000-01-01"})
    assert "estado" not in req.model_dump()


def test_filtro_combina_condiciones() -> None:
    desde = datetime(2026, 1, 1, tzinfo=UTC)
    q = Filtro(tipo="RETIRO", estado="FALLIDA", cuenta_id=7, desde=desde).query()
    assert q == {
        "tipo": "RETIRO",
        "estado": "FALLIDA",
        "$or": [{"cuenta_origen_id": 7}, {"cuenta_destino_id": 7}],
        "fecha": {"$gte": desde},
    }
    assert Filtro().query() == {}


def test_ids() -> None:
    assert object_id_de("TRX0123456789abcdef01234567") == parse_object_id("0123456789abcdef01234567")
    assert object_id_de("XYZ0123456789abcdef01234567") is None
    assert parse_object_id("0123456789abcdef0123456g") is None


def test_dinero_en_bson_exacto_en_ambos_formatos() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    doc = Transaccion(
        id=ObjectId(), transaccion_id="TRX1", tipo="RETIRO", monto=Decimal("0.10"), moneda="PEN", fecha=now,
        estado="PENDIENTE", idem="t:TRX1", epoch="e", saga=SagaState(paso="DEBITO", desde=now), actualizada=now,
    )  # fmt: skip
    for kind in ("string", "decimal128"):
        repo = MongoRepository.__new__(MongoRepository)
        repo._money = kind  # type: ignore[assignment]
        raw = repo.to_bson(doc)
        assert not isinstance(raw["monto"], float)
        assert MongoRepository.from_bson(raw) == doc
    assert TransaccionPublic.of(doc).model_dump(mode="json")["monto"] == "0.10"


def test_una_fallida_es_la_transaccion_mas_los_campos_de_error_con_su_motivo() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    doc = Transaccion(
        id=ObjectId(), transaccion_id="TRX1", tipo="RETIRO", monto=Decimal("10.01"), moneda="PEN", fecha=now,
        estado="FALLIDA", motivo="SALDO_INSUFICIENTE: saldo 10.00", cuenta_origen_id=5, idem="t:TRX1", epoch="e",
        saga=SagaState(paso="FIN", desde=now), actualizada=now,
    )  # fmt: skip
    body = TransaccionRechazada.of_fallida(doc).model_dump(mode="json")
    recurso = TransaccionPublic.of(doc).model_dump(mode="json")
    assert {k: body[k] for k in recurso} == recurso  # every Transaccion field, as GET answers it
    motivo = "SALDO_INSUFICIENTE: saldo 10.00"
    assert (body["detail"], body["error"], body["message"], body["status"]) == (motivo, motivo, motivo, 409)
    assert body["instance"] == f"/transacciones/{doc.id}"
    assert (body["type"], body["title"]) == ("urn:cloudbank:problema:transaccion-fallida", "Transacción rechazada")


def test_el_actor_se_guarda_y_se_muestra() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    actor = AuthContext(authtype="service_account", authid="service-account-cloudbank-cli")
    doc = Transaccion(
        id=ObjectId(), transaccion_id="TRX1", tipo="RETIRO", monto=Decimal("1.00"), moneda="PEN", fecha=now,
        estado="PENDIENTE", idem="t:TRX1", epoch="e", saga=SagaState(paso="DEBITO", desde=now), actualizada=now,
        actor=actor,
    )  # fmt: skip
    repo = MongoRepository.__new__(MongoRepository)
    repo._money = "string"  # type: ignore[assignment]
    raw = repo.to_bson(doc)
    assert raw["actor"] == {"authtype": "service_account", "authid": "service-account-cloudbank-cli"}
    assert MongoRepository.from_bson(raw) == doc
    shown = TransaccionPublic.of(doc).model_dump(mode="json")
    assert shown["actor"] == raw["actor"]
    assert shown["canceladaPor"] is None
    antiguo = {k: v for k, v in raw.items() if k != "actor"}  # a document older than the field
    assert MongoRepository.from_bson(antiguo).actor is None

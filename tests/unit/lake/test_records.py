"""A consumed record becomes one typed row in the right table and date partition, or a rejected row."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel

from contracts.lake import REJECTED_TABLE, arrow_schema
from streams.lake.records import _nested_fields, _plain, to_row
from tests.lake_events import sample_event
from tests.unit.lake.fakes import Record, record


def test_evento_valido_va_a_su_tabla_con_columnas_tipadas():
    row = to_row(record("bank.cuentas.v1", 2, 41, n=1))

    assert row.table == "cuenta_abierta"
    assert row.dt == "2025-03-02"  # 23:59 + 1 minute, UTC
    assert row.values["saldo"] == Decimal("100.00")
    assert row.values["kafka_offset"] == 41
    assert row.values["kafka_partition"] == 2
    assert row.values["event_id"] == "ev-bank.cuentas.v1-2-41"
    table = pa.Table.from_pylist([row.values], schema=arrow_schema(row.table))
    assert table.schema.field("saldo").type == pa.decimal128(15, 2)
    assert str(table.schema.field("event_time").type) == "timestamp[us, tz=UTC]"


def test_documentos_anidados_se_guardan_como_lista_de_structs():
    row = to_row(record("bank.clientes.v1", 0, 0, n=0))
    table = pa.Table.from_pylist([row.values], schema=arrow_schema("cliente_creado"))
    assert table.column("documentos").to_pylist()[0][0]["numero_documento"] == "00000000"


def test_registro_que_no_es_cloudevent_se_guarda_como_rechazado():
    row = to_row(Record("bank.clientes.v1", 1, 7, b"not json", (("x", b"y"),)))
    assert row.table == REJECTED_TABLE
    assert "missing header" in row.values["error"]
    assert row.values["raw_value"] == "not json"
    pa.Table.from_pylist([row.values], schema=arrow_schema(REJECTED_TABLE))


def test_payload_que_no_cumple_su_modelo_se_guarda_como_rechazado():
    good = record("bank.cuentas.v1", 0, 3, n=1)
    row = to_row(Record(good.topic, 0, 3, b'{"cuenta_id": "no-int"}', good.headers))
    assert row.table == REJECTED_TABLE
    assert row.values["event_type"] == "bank.cuentas.CuentaAbierta.v1"
    assert "ValidationError" in row.values["error"]


def test_tipo_desconocido_se_guarda_como_rechazado():
    good = record("bank.cuentas.v1", 0, 3, n=1)
    headers = tuple((k, b"bank.cuentas.Nuevo.v9" if k == "ce_type" else v) for k, v in good.headers)
    row = to_row(Record(good.topic, 0, 3, good.value, headers))
    assert row.table == REJECTED_TABLE
    assert "UnknownMessageType" in row.values["error"]


class _Hijo(BaseModel):
    n: int
    monto: Decimal


class _Padre(BaseModel):
    nombre: str
    estado: Literal["a", "b"]
    cuando: datetime | None = None
    uno: _Hijo | None = None
    varios: tuple[_Hijo, ...] = ()
    etiquetas: list[str] = []


def _generic_plain(model: BaseModel) -> dict[str, Any]:
    """The reference: every value checked, whatever its field's type."""
    out = dict(model.__dict__)
    for name, value in out.items():
        if isinstance(value, tuple | list):
            out[name] = [_generic_plain(v) if isinstance(v, BaseModel) else v for v in value]
        elif isinstance(value, BaseModel):
            out[name] = _generic_plain(value)
    return out


def test_solo_los_campos_con_modelos_o_secuencias_se_convierten_y_el_resultado_es_el_mismo():
    assert _nested_fields(_Padre) == ("uno", "varios", "etiquetas")
    padre = _Padre(
        nombre="x", estado="a", uno=_Hijo(n=1, monto=Decimal("1.10")), varios=(_Hijo(n=2, monto=Decimal("2")),)
    )
    assert _plain(padre) == _generic_plain(padre)
    assert _plain(padre)["uno"] == {"n": 1, "monto": Decimal("1.10")}
    assert _plain(padre)["varios"] == [{"n": 2, "monto": Decimal("2")}]
    now = datetime(2026, 12, 7, tzinfo=UTC)
    for n in range(10):  # every table of the lake's sample events, nested documents included
        event = sample_event(n, now)
        assert _plain(event) == _generic_plain(event)

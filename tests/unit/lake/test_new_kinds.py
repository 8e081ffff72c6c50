"""Holds, reversals and (later) FX land as typed tables and columns; a type the lake does not know yet is kept."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest

from contracts.base import DomainEvent
from contracts.cuentas import (
    LimitesCuentaCambiados,
    RetencionCapturada,
    RetencionCreada,
    RetencionExpirada,
    RetencionLiberada,
)
from contracts.envelope import envelope_for
from contracts.lake import REJECTED_TABLE, TABLES, arrow_schema, hive_columns
from contracts.transacciones import TransaccionRegistrada
from streams.lake.records import to_row
from tests.unit.lake.fakes import Record

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
_HOLD = {
    "cuenta_id": 5,
    "cliente_id": 1,
    "retencion_id": 9,
    "moneda": "USD",
    "saldo_disponible": Decimal("70.00"),
    "fecha": T0,
    "monto": Decimal("30.00"),
}


def _record(event: DomainEvent, offset: int = 3) -> Record:
    env = envelope_for(event, source="/test", event_id=f"ev-{offset}", time=T0)
    return Record(event.topic, 0, offset, env.value(), tuple(env.headers()))


@pytest.mark.parametrize(
    ("event", "table"),
    [
        (RetencionCreada(**_HOLD, vence=T0 + timedelta(days=1), referencia="POS-1"), "retencion_creada"),
        (RetencionCapturada(**_HOLD, liberado=Decimal("0.00"), movimiento_id=12), "retencion_capturada"),
        (RetencionLiberada(**_HOLD), "retencion_liberada"),
        (RetencionExpirada(**_HOLD, vence=T0), "retencion_expirada"),
    ],
)
def test_cada_evento_de_retencion_va_a_su_tabla_tipada(event: DomainEvent, table: str):
    row = to_row(_record(event))
    assert row.table == table
    assert table in TABLES
    stored = pa.Table.from_pylist([row.values], schema=arrow_schema(table))
    assert stored.schema.field("monto").type == pa.decimal128(15, 2)
    assert stored.schema.field("saldo_disponible").type == pa.decimal128(15, 2)
    assert stored.column("monto").to_pylist() == [Decimal("30.00")]
    assert stored.column("retencion_id").to_pylist() == [9]
    assert dict(hive_columns(table))["monto"] == "decimal(15,2)"


def test_la_retencion_creada_guarda_su_vencimiento_como_timestamp():
    row = to_row(_record(RetencionCreada(**_HOLD, vence=T0 + timedelta(days=1))))
    stored = pa.Table.from_pylist([row.values], schema=arrow_schema("retencion_creada"))
    assert str(stored.schema.field("vence").type) == "timestamp[us, tz=UTC]"
    assert stored.column("referencia").to_pylist() == [None]


def test_un_cambio_de_limites_guarda_antes_y_despues_y_nulo_es_sin_limite_propio():
    event = LimitesCuentaCambiados(
        cuenta_id=5,
        cliente_id=1,
        moneda="PEN",
        retiro_diario=Decimal("500.00"),
        transferencia_diaria=None,
        retiro_diario_anterior=None,
        transferencia_diaria_anterior=Decimal("2000.00"),
        fecha=T0,
    )
    row = to_row(_record(event))
    assert row.table == "limites_cuenta_cambiados"
    stored = pa.Table.from_pylist([row.values], schema=arrow_schema(row.table))
    assert stored.schema.field("retiro_diario").type == pa.decimal128(15, 2)
    limits = ["retiro_diario", "transferencia_diaria", "retiro_diario_anterior", "transferencia_diaria_anterior"]
    assert [stored.column(c).to_pylist()[0] for c in limits] == [Decimal("500.00"), None, None, Decimal("2000.00")]


def test_una_reversion_guarda_reversion_de_y_las_demas_lo_dejan_nulo():
    base = {
        "transaccion_id": "TRX2",
        "id": "b",
        "tipo": "DEPOSITO",
        "monto": Decimal("5.00"),
        "moneda": "PEN",
        "cuenta_destino_id": 5,
        "fecha": T0,
    }
    reversal = to_row(_record(TransaccionRegistrada(**base, reversion_de="a")))
    plain = to_row(_record(TransaccionRegistrada(**base), offset=4))
    stored = pa.Table.from_pylist([reversal.values, plain.values], schema=arrow_schema("transaccion_registrada"))
    assert stored.column("reversion_de").to_pylist() == ["a", None]


def test_un_tipo_que_el_lago_aun_no_conoce_se_guarda_sin_bloquear():
    """e.g. bank.cambio.TiposCambioActualizados.v1 before its contract is merged: kept whole in the rejected
    table, never dropped, and the table is typed by the sink once the contract names it."""
    good = _record(RetencionLiberada(**_HOLD))
    headers = tuple((k, b"bank.cambio.TiposCambioActualizados.v1" if k == "ce_type" else v) for k, v in good.headers)
    row = to_row(Record(good.topic, 0, 3, good.value, headers))
    assert row.table == REJECTED_TABLE
    assert row.values["event_type"] == "bank.cambio.TiposCambioActualizados.v1"
    assert row.values["raw_value"]

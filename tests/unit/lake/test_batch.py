"""Batching rules: flush by count or age, all files of a batch named by its first offset."""

import pytest

from streams.lake.batch import FlushPolicy, PartitionBuffer, file_name, plan_files
from streams.lake.records import to_row
from tests.unit.lake.fakes import record


def buffer_of(offsets: range, now: float = 0.0) -> PartitionBuffer:
    buffer = PartitionBuffer("bank.cuentas.v1", 3)
    buffer.add([to_row(record("bank.cuentas.v1", 3, o)) for o in offsets], now)
    return buffer


def test_nombre_de_archivo_es_determinista_por_topic_particion_y_primer_offset():
    assert file_name("bank.cuentas.v1", 3, 1234) == "bank.cuentas.v1-3-000000001234.parquet"


def test_todas_las_tablas_de_un_lote_llevan_el_primer_offset_del_lote():
    files = plan_files(buffer_of(range(100, 112)))

    assert {f.table for f in files} == {
        "cliente_creado",
        "cuenta_abierta",
        "saldo_actualizado",
        "transaccion_solicitada",
        "transaccion_registrada",
    }
    assert {f.dt for f in files} == {"2025-03-01", "2025-03-02"}
    assert all(f.path.endswith("bank.cuentas.v1-3-000000000100.parquet") for f in files)
    assert len({f.path for f in files}) == len(files)
    assert sum(f.data.num_rows for f in files) == 12  # every row in exactly one file


def test_mismo_lote_produce_mismos_archivos():
    a = plan_files(buffer_of(range(5, 30)))
    b = plan_files(buffer_of(range(5, 30)))
    assert [(f.path, f.data) for f in a] == [(f.path, f.data) for f in b]


def test_politica_vacia_por_cantidad_o_por_tiempo():
    policy = FlushPolicy(max_records=10, max_seconds=5.0)
    small = buffer_of(range(3), now=100.0)
    assert not policy.due(small, now=104.9)
    assert policy.due(small, now=105.0)
    assert policy.due(buffer_of(range(10), now=100.0), now=100.0)
    assert not policy.due(PartitionBuffer("t", 0), now=1e9)
    assert policy.next_deadline([small]) == 105.0


def test_offsets_deben_crecer_dentro_de_un_buffer():
    buffer = buffer_of(range(10, 12))
    with pytest.raises(ValueError, match="grow"):
        buffer.add([to_row(record("bank.cuentas.v1", 3, 11))], 0.0)

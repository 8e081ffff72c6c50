"""The Athena engine's SQL and calls, against a fake awswrangler boundary."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from contracts.lake import TABLES
from services.analytics.athena_engine import AthenaEngine
from services.analytics.errors import QueryRefused, QueryTimeout
from services.analytics.service import AnalyticsService, jsonable
from services.analytics.views import VIEWS
from tests.unit.analytics.fakes import FakeWrangler


def engine(wr: FakeWrangler) -> AthenaEngine:
    return AthenaEngine(
        lake_root="s3://lake/bank", database="cloud_bank", workgroup="wg", s3_output="s3://out/", wr=wr, poll_seconds=0
    )


async def test_al_arrancar_crea_tablas_y_vistas_traducidas():
    wr = FakeWrangler()
    await engine(wr).start()

    sqls = [sql for sql, _ in wr.started]
    assert len([s for s in sqls if s.startswith("CREATE EXTERNAL TABLE IF NOT EXISTS")]) == len(TABLES)
    views = [s for s in sqls if s.startswith("CREATE OR REPLACE VIEW")]
    assert [v.split()[4] for v in views] == list(VIEWS)
    assert all("CARDINALITY" in v for v in views if v.split()[4] == "clientes")
    assert {kw["database"] for _, kw in wr.started} == {"cloud_bank"}
    assert {kw["workgroup"] for _, kw in wr.started} == {"wg"}


async def test_consulta_predefinida_va_traducida_y_el_resultado_se_tipa():
    frame = pd.DataFrame(
        {"moneda": ["PEN"], "total_cuentas": [np.int64(3)], "saldo_total_banco": [Decimal("10.50")], "x": [pd.NA]}
    )
    wr = FakeWrangler(frame=frame)
    service = AnalyticsService(engine(wr), timeout=5, custom_max_rows=10)

    answer = await service.predefined("actividad_transaccional_diaria", {"dias": 7})

    assert "INTERVAL '7' DAY" in wr.started[-1][0]
    assert answer.data == [{"moneda": "PEN", "total_cuentas": 3, "saldo_total_banco": "10.50", "x": None}]


async def test_sql_fallida_en_athena_es_rechazo_con_el_motivo():
    wr = FakeWrangler(state_for=lambda sql: ("FAILED", "line 1:8: Column 'nope' cannot be resolved"))
    with pytest.raises(QueryRefused, match="cannot be resolved"):
        await engine(wr).query("SELECT nope FROM clientes", timeout=5)


async def test_consulta_que_excede_el_tiempo_se_detiene():
    wr = FakeWrangler(state_for=lambda sql: ("RUNNING", ""))
    with pytest.raises(QueryTimeout):
        await engine(wr).query("SELECT 1", timeout=0.01)
    assert wr.stopped == ["q1"]


def test_valores_numpy_se_vuelven_json_nativo():
    assert jsonable(np.int64(5)) == 5
    assert jsonable(np.float64(1.5)) == 1.5

"""The views and predefined queries are written once and must also be valid Athena (Trino) SQL."""

import pytest
import sqlglot

from services.analytics.athena_engine import table_ddl, view_ddl
from services.analytics.queries import PREDEFINED
from services.analytics.service import transpile
from services.analytics.views import VIEWS


@pytest.mark.parametrize("name", list(VIEWS))
def test_cada_vista_se_traduce_a_athena(name):
    sql = view_ddl(name)
    assert sql.startswith(f"CREATE OR REPLACE VIEW {name} AS ")
    assert "CARDINALITY(" in sql or "array_length" not in VIEWS[name]
    sqlglot.parse_one(sql, read="athena")


@pytest.mark.parametrize("query", PREDEFINED, ids=lambda q: q.name)
def test_cada_consulta_predefinida_se_traduce_a_athena(query):
    sql = transpile(query.render({p.name: p.default for p in query.params}), "athena")
    sqlglot.parse_one(sql, read="athena")
    for duckdb_only in ("STRFTIME", "ARRAY_LENGTH", "LIST_"):
        assert duckdb_only not in sql.upper()


def test_ddl_de_tabla_lleva_tipos_de_glue_y_particion_dt():
    ddl = table_ddl("cuenta_abierta", "s3://lake/bank")
    assert "`saldo` decimal(15,2)" in ddl
    assert "`event_time` timestamp" in ddl
    assert "PARTITIONED BY (`dt` string)" in ddl
    assert ddl.endswith("LOCATION 's3://lake/bank/cuenta_abierta/'")

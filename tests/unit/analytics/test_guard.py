"""Custom SQL is parsed, not keyword-matched: one read-only SELECT over the lake views, bounded."""

import pytest

from services.analytics.errors import QueryRefused
from services.analytics.guard import check_query
from services.analytics.views import QUERYABLE


def check(sql: str, max_rows: int = 100, dialect: str = "duckdb") -> str:
    return check_query(sql, dialect=dialect, tables=QUERYABLE, max_rows=max_rows)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM clientes",
        "select moneda, sum(saldo) AS total from cuentas group by moneda order by total desc",
        "WITH ricos AS (SELECT * FROM cuentas WHERE saldo > 1000) SELECT count(*) FROM ricos",
        "SELECT tipo FROM transacciones UNION ALL SELECT tipo FROM transaccion_solicitada",
        "SELECT c.nombre FROM clientes c WHERE EXISTS (SELECT 1 FROM cuentas k WHERE k.cliente_id = c.cliente_id)",
        "SELECT 'DELETE FROM clientes' AS texto, 'drop' AS otro FROM clientes",  # keywords inside strings are fine
        "SELECT lpad(nombre, 20, '.'), repeat('-', 10) FROM clientes",  # bounded padding is fine
        "SELECT cliente_id, unnest(documentos) FROM clientes",  # unnesting the lake's own lists is fine
    ],
)
def test_consultas_de_lectura_sobre_las_vistas_son_aceptadas(sql):
    assert check(sql)


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT 1; SELECT 2", "exactly one statement"),
        ("SELECT * FROM clientes; DROP TABLE clientes", "exactly one statement"),
        ("", "exactly one statement"),
        ("DELETE FROM clientes", "only SELECT"),
        ("UPDATE cuentas SET saldo = 0", "only SELECT"),
        ("INSERT INTO clientes VALUES (1)", "only SELECT"),
        ("CREATE TABLE x AS SELECT 1", "only SELECT"),
        ("DROP VIEW clientes", "only SELECT"),
        ("COPY clientes TO '/tmp/x.csv'", "only SELECT"),
        ("ATTACH '/tmp/x.db'", "only SELECT"),
        ("INSTALL httpfs", "only SELECT"),
        ("LOAD httpfs", "only SELECT"),
        ("PRAGMA show_tables", "only SELECT"),
        ("SET threads = 1", "only SELECT"),
        ("SELECT * INTO copia FROM clientes", "INTO"),
        ("WITH x AS (DELETE FROM clientes RETURNING *) SELECT * FROM x", "not allowed"),
        ("SELECT * FROM read_parquet('/etc/passwd')", "table functions"),
        ("SELECT * FROM read_csv('/etc/passwd')", "table functions"),
        ("SELECT * FROM read_text('/etc/passwd')", "table functions"),
        ("SELECT * FROM glob('/*')", "table functions"),
        ("SELECT * FROM '/etc/passwd'", "unknown table"),
        ("SELECT * FROM duckdb_settings()", "table functions"),
        ("SELECT current_setting('allowed_directories')", "current_setting"),
        ("SELECT * FROM information_schema.tables", "qualified"),
        ("SELECT * FROM sqlite_master", "unknown table"),
        ("SELECT * FROM _empty_clientes", "unknown table"),
        ("SELECT * FROM (WITH duckdb_views AS (SELECT 1) SELECT * FROM duckdb_views), duckdb_views", "unknown table"),
        ("SELEC * FROM clientes", "not valid SQL"),
    ],
)
def test_todo_lo_demas_es_rechazado_con_el_motivo(sql, reason):
    with pytest.raises(QueryRefused, match=reason):
        check(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM (SELECT unnest(range(1000000000)))",  # grew the process to 20 GB
        "SELECT unnest(generate_series(1, 1e8))",  # ignored the time limit for 40 s
        "SELECT range(10)",
        "SELECT * FROM range(10)",
        "SELECT list_transform(range(10), x -> x * 2)",
        "SELECT generate_series(1, 10) FROM clientes",
        "SELECT repeat('x', 1e9)",  # ran 12 s
        "SELECT repeat('x', 10001)",
        "SELECT repeat('x', n) FROM (SELECT count(*) AS n FROM clientes)",
        "SELECT repeat(repeat('x', 10000), 10000)",
        "SELECT length(string_agg(repeat(string_agg(email, ''), 10), '')) FROM clientes",
        "SELECT lpad('x', 1000000000, 'y')",
        "SELECT space(100000000)",
        "SELECT format('{:>1000000000}', 'x')",
        "SELECT printf('%1000000000d', 1)",
        "SELECT list_resize([1], 100000000)",
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t",
    ],
)
def test_consultas_que_generan_datos_de_la_nada_son_rechazadas(sql):
    with pytest.raises(QueryRefused, match=r"not allowed|at most"):
        check(sql)


def test_se_impone_un_limite_de_filas():
    assert check("SELECT * FROM clientes", max_rows=100).endswith("LIMIT 101")
    assert check("SELECT * FROM clientes LIMIT 100000", max_rows=100).endswith("LIMIT 101")
    assert check("SELECT * FROM clientes LIMIT 5", max_rows=100).endswith("LIMIT 5")


def test_el_dialecto_de_athena_se_valida_igual():
    assert "LIMIT 11" in check("SELECT date_format(fecha, '%Y') FROM transacciones", 10, dialect="athena")
    with pytest.raises(QueryRefused):
        check("SELECT * FROM clientes; SELECT 1", dialect="athena")

"""The answer shape and real status codes, with a scripted engine."""

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from services.analytics.engine import QueryResult
from services.analytics.errors import LakeUnavailable, QueryTimeout, QueryTooLarge
from services.analytics.main import Resources, create_app
from services.analytics.settings import AnalyticsSettings
from tests.asgi import in_process
from tests.signing import admin_headers, authorized
from tests.unit.analytics.fakes import FakeEngine


@pytest.fixture
def fake() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
async def client(fake: FakeEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(
        authorized(create_app(AnalyticsSettings(custom_max_rows=2), Resources(fake))), headers=admin_headers()
    ) as c:
        yield c


async def test_respuesta_con_forma_original_y_valores_tipados(client, fake):
    fake.answer = lambda sql: QueryResult(
        ["moneda", "total_cuentas", "saldo_total_banco"], [("PEN", 2, Decimal("5.00"))], 7
    )
    body = (await client.get("/api/cuentas/resumen")).json()
    assert body == {
        "success": True,
        "data": [{"moneda": "PEN", "total_cuentas": 2, "saldo_total_banco": "5.00"}],
        "rows_count": 1,
        "execution_time_ms": 7,
        "error": None,
        "truncated": False,
    }


async def test_moneda_llega_a_la_sql_pen_por_omision(client, fake):
    await client.get("/api/cuentas/por-tipo")
    assert "moneda IN ('PEN')" in fake.queries[-1]
    await client.get("/api/cuentas/por-tipo", params={"moneda": "USD"})
    assert "moneda IN ('USD')" in fake.queries[-1]
    await client.get("/api/cuentas/por-tipo", params={"moneda": "todas"})
    assert "moneda IN ('PEN', 'USD', 'EUR')" in fake.queries[-1]


async def test_moneda_invalida_es_422_con_el_parametro(client, fake):
    for bad in ("GBP", "pen", "PEN' OR 1=1 --", ""):
        response = await client.get("/api/dashboard", params={"moneda": bad})
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"][-1] == "moneda"
    assert fake.queries == []


async def test_openapi_documenta_moneda_en_cada_ruta_con_dinero(client):
    spec = (await client.get("/openapi.json")).json()

    def params(path: str) -> dict[str, Any]:
        return {p["name"]: p for p in spec["paths"][path]["get"].get("parameters", [])}

    for path in ("/api/dashboard", "/api/cuentas/por-tipo", "/api/cuentas/top-saldos", "/api/analisis/clientes-vip"):
        moneda = params(path)["moneda"]
        assert moneda["in"] == "query"
        assert moneda["schema"]["default"] == "PEN"
        assert set(moneda["schema"]["enum"]) == {"PEN", "USD", "EUR", "todas"}
    assert "moneda" not in params("/api/clientes/resumen")  # no money there


async def test_parametros_fuera_de_rango_dan_422_con_el_campo(client):
    response = await client.get("/api/cuentas/top-saldos", params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "limit"
    assert (await client.get("/api/analisis/clientes-vip", params={"threshold": "-1"})).status_code == 422


async def test_limite_llega_a_la_sql(client, fake):
    await client.get("/api/transacciones/recientes", params={"limit": 7})
    assert fake.queries[-1].rstrip().endswith("LIMIT 7")


async def test_consulta_personalizada_rechazada_es_400_con_motivo(client):
    response = await client.post("/api/query/custom", json={"query": "DROP TABLE clientes"})
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert "only SELECT" in body["error"]


async def test_consulta_personalizada_marca_truncado(client, fake):
    fake.answer = lambda sql: QueryResult(["n"], [(1,), (2,), (3,)], 1)
    body = (await client.post("/api/query/custom", json={"query": "SELECT 1 AS n FROM clientes"})).json()
    assert body["rows_count"] == 2
    assert body["truncated"] is True
    assert fake.queries[-1].endswith("LIMIT 3")


async def test_tiempo_agotado_es_504_y_lago_caido_503(client, fake):
    def timeout(sql: str) -> QueryResult:
        raise QueryTimeout("query interrupted after 1 s")

    fake.answer = timeout
    assert (await client.get("/api/dashboard")).status_code == 504

    def down(sql: str) -> QueryResult:
        raise LakeUnavailable("lake storage error")

    fake.answer = down
    response = await client.get("/api/dashboard")
    assert response.status_code == 503
    assert response.json()["error"] == "lake storage error"


async def test_health_503_si_el_lago_no_responde(client, fake):
    assert (await client.get("/health")).json()["status"] == "healthy"
    fake.ping_error = OSError("bucket unreachable")
    response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")
    assert response.json()["kafka"] == "not used"


async def test_lista_de_consultas(client):
    body = (await client.get("/api/queries/list")).json()
    assert body["total_queries"] == body["rows_count"] == len(body["queries"])
    assert "analisis_clientes_vip" in body["queries"]


async def test_cors_preflight(client):
    response = await client.options(
        "/api/dashboard", headers={"Origin": "http://spa", "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code == 200


async def test_consulta_personalizada_interrumpida_es_408_y_sin_memoria_422(client, fake):
    def slow(sql: str) -> QueryResult:
        raise QueryTimeout("query interrupted after 15 s")

    fake.answer = slow
    response = await client.post("/api/query/custom", json={"query": "SELECT 1 AS n FROM clientes"})
    assert response.status_code == 408
    assert response.json()["success"] is False
    assert "interrupted" in response.json()["error"]

    def big(sql: str) -> QueryResult:
        raise QueryTooLarge("query interrupted: it needed more memory than a custom query may use")

    fake.answer = big
    response = await client.post("/api/query/custom", json={"query": "SELECT 1 AS n FROM clientes"})
    assert response.status_code == 422
    assert "memory" in response.json()["error"]


class BlockingEngine(FakeEngine):
    """Custom queries wait until released: they hold their slots meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def custom_query(self, sql: str, *, timeout: float, max_bytes: int) -> QueryResult:
        await self.release.wait()
        return QueryResult(["n"], [(1,)], 1)


async def test_mas_consultas_personalizadas_que_cupos_es_429_con_retry_after():
    engine = BlockingEngine()
    async with in_process(
        authorized(create_app(AnalyticsSettings(custom_max_concurrent=2), Resources(engine))), headers=admin_headers()
    ) as client:
        body = {"query": "SELECT 1 AS n FROM clientes"}
        running = [asyncio.create_task(client.post("/api/query/custom", json=body)) for _ in range(2)]
        await asyncio.sleep(0.2)
        refused = await client.post("/api/query/custom", json=body)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["success"] is False
        assert (await client.get("/api/clientes/resumen")).status_code == 200  # standard queries are not held up
        engine.release.set()
        assert [r.status_code for r in await asyncio.gather(*running)] == [200, 200]
        assert (await client.post("/api/query/custom", json=body)).status_code == 200  # the slots are free again

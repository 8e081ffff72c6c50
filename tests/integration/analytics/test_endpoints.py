"""Every analytics path over a known lake (written by the sink's writer) returns the right figures,
computed here independently from the dataset's plain-Python description."""

import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.money import MONEDAS
from services.analytics.main import create_app
from services.analytics.queries import PREDEFINED
from services.analytics.settings import AnalyticsSettings
from tests.conftest import eventually
from tests.integration.analytics import dataset
from tests.integration.analytics.dataset import CLIENTES, CUENTAS, TIPOS, TRANSACCIONES, saldo_final
from tests.unit.analytics.asgi import app_client

D = Decimal
VIVOS = {cid: c for cid, c in CLIENTES.items() if not c["eliminado"]}
ABIERTAS = {kid: k for kid, k in CUENTAS.items() if not k.get("eliminada")}


def estado_cuenta(k: dict[str, Any]) -> str:
    return str(k.get("estado", "activa"))


def money(value: Decimal) -> str:
    return f"{value:.2f}"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    dataset.build(root)
    return root


@pytest.fixture
async def api(lake: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(AnalyticsSettings(lake_root=str(lake), custom_max_rows=3))) as client:
        yield client


async def data(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["error"] is None
    assert body["rows_count"] == len(body["data"])
    assert isinstance(body["execution_time_ms"], int)
    rows: list[dict[str, Any]] = body["data"]
    return rows


async def test_dashboard(api):
    rows = await data(api, "/api/dashboard")
    got = {(r["metrica"], r["moneda"]): r["valor"] for r in rows}
    completadas = [t for t in TRANSACCIONES.values() if t["estado"] == "COMPLETADA"]
    assert got[("Total Clientes", None)] == len(VIVOS)
    assert got[("Clientes Activos", None)] == sum(c["estado"] == "activo" for c in VIVOS.values())
    assert got[("Total Cuentas", None)] == len(ABIERTAS)
    assert got[("Cuentas Activas", None)] == sum(estado_cuenta(k) == "activa" for k in ABIERTAS.values())
    assert got[("Total Transacciones", None)] == len(TRANSACCIONES)
    assert got[("Transacciones Completadas", None)] == len(completadas)
    for m in MONEDAS:
        assert got[("Saldo Total Banco", m)] == money(
            sum((saldo_final(k) for k in ABIERTAS.values() if k["moneda"] == m), D(0))
        )
        assert got[("Volumen Transaccional", m)] == money(
            sum((t["monto"] for t in completadas if t["moneda"] == m), D(0))
        )
    assert await data(api, "/dashboard-ejecutivo") == rows


async def test_clientes_resumen_y_por_estado(api):
    [row] = await data(api, "/api/clientes/resumen")
    estados = Counter(c["estado"] for c in VIVOS.values())
    assert row == {
        "total_clientes": len(VIVOS),
        "clientes_activos": estados["activo"],
        "clientes_inactivos": estados["inactivo"],
        "clientes_bloqueados": estados["bloqueado"],
        "clientes_eliminados": len(CLIENTES) - len(VIVOS),
    }
    por_estado = {r["estado"]: r["cantidad"] for r in await data(api, "/clientes-por-estado")}
    assert por_estado == {**estados, "eliminado": 1}


async def test_clientes_lista_y_activos(api):
    rows = await data(api, "/api/clientes/lista", limit=500)
    assert [r["cliente_id"] for r in rows] == sorted(VIVOS, reverse=True)  # newest registration first
    luis = next(r for r in rows if r["cliente_id"] == 2)
    assert luis["email"] == "luis@banco.pe"  # the update wins
    assert luis["estado"] == "inactivo"
    assert (luis["tipo_documento"], luis["numero_documento"]) == CLIENTES[2]["doc"]
    assert len(await data(api, "/api/clientes/lista", limit=2)) == 2
    activos = await data(api, "/clientes/activos")
    assert {r["cliente_id"] for r in activos} == {cid for cid, c in VIVOS.items() if c["estado"] == "activo"}


async def test_clientes_con_cuentas_saldo_por_moneda(api):
    rows = await data(api, "/api/clientes/con-cuentas")
    expected = {}
    for cid in VIVOS:
        mine = [k for k in ABIERTAS.values() if k["cliente"] == cid]
        if mine:
            expected[cid] = {
                "total_cuentas": len(mine),
                "saldo_total": {
                    m: money(sum((saldo_final(k) for k in mine if k["moneda"] == m), D(0))) for m in MONEDAS
                },
            }
    assert {
        r["cliente_id"]: {"total_cuentas": r["total_cuentas"], "saldo_total": r["saldo_total"]} for r in rows
    } == expected


async def test_cuentas_resumen_por_moneda(api):
    rows = {r["moneda"]: r for r in await data(api, "/api/cuentas/resumen")}
    for m in MONEDAS:
        saldos = [saldo_final(k) for k in ABIERTAS.values() if k["moneda"] == m]
        row = rows[m]
        assert row["total_cuentas"] == len(saldos)
        assert row["saldo_total_banco"] == money(sum(saldos, D(0)))
        assert row["saldo_maximo"] == money(max(saldos))
        assert row["saldo_minimo"] == money(min(saldos))
        assert row["cuentas_activas"] == sum(
            estado_cuenta(k) == "activa" for k in ABIERTAS.values() if k["moneda"] == m
        )


async def test_cuentas_por_tipo(api):
    rows = await data(api, "/api/cuentas/por-tipo")
    cantidad: Counter[tuple[str, str]] = Counter()
    total: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for k in ABIERTAS.values():
        cantidad[(TIPOS[k["tipo"]], k["moneda"])] += 1
        total[(TIPOS[k["tipo"]], k["moneda"])] += saldo_final(k)
    assert {(r["tipo_cuenta"], r["moneda"]): r["cantidad_cuentas"] for r in rows} == cantidad
    assert {(r["tipo_cuenta"], r["moneda"]): D(r["saldo_total"]) for r in rows} == total
    assert await data(api, "/cuentas/por-tipo") == rows


async def test_top_saldos_por_moneda(api):
    rows = await data(api, "/api/cuentas/top-saldos", limit=1)
    best: dict[str, int] = {}
    for kid, k in ABIERTAS.items():
        if k["moneda"] not in best or saldo_final(k) > saldo_final(ABIERTAS[best[k["moneda"]]]):
            best[k["moneda"]] = kid
    assert {r["moneda"]: r["cuenta_id"] for r in rows} == best
    assert all(r["ranking"] == 1 for r in rows)
    assert len(await data(api, "/top-cuentas", limit=20)) == len(ABIERTAS)


async def test_transacciones_resumen_tipo_estado(api):
    resumen = {r["moneda"]: r for r in await data(api, "/api/transacciones/resumen")}
    for m in {t["moneda"] for t in TRANSACCIONES.values()}:
        mine = [t for t in TRANSACCIONES.values() if t["moneda"] == m]
        done = [t["monto"] for t in mine if t["estado"] == "COMPLETADA"]
        assert resumen[m]["total_transacciones"] == len(mine)
        assert resumen[m]["completadas"] == len(done)
        assert resumen[m]["fallidas"] == sum(t["estado"] == "FALLIDA" for t in mine)
        assert resumen[m]["pendientes"] == sum(t["estado"] == "PENDIENTE" for t in mine)
        assert resumen[m]["volumen_total"] == money(sum(done, D(0)))
    por_tipo = {(r["tipo"], r["moneda"]): r["cantidad"] for r in await data(api, "/api/transacciones/por-tipo")}
    assert por_tipo == Counter((t["tipo"], t["moneda"]) for t in TRANSACCIONES.values())
    por_estado = {
        (r["estado"], r["moneda"]): D(r["monto_total"]) for r in await data(api, "/api/transacciones/por-estado")
    }
    expected: defaultdict[Any, Decimal] = defaultdict(Decimal)
    for t in TRANSACCIONES.values():
        expected[(t["estado"], t["moneda"])] += t["monto"]
    assert por_estado == expected


async def test_recientes_y_detalladas(api):
    recientes = await data(api, "/api/transacciones/recientes", limit=3)
    order = sorted(TRANSACCIONES, key=lambda tid: (TRANSACCIONES[tid]["dias"], int(tid[3:])))
    assert [r["transaccion_id"] for r in recientes] == order[:3]
    assert recientes[0]["monto"] == money(TRANSACCIONES[order[0]]["monto"])
    detalladas = {r["transaccion_id"]: r for r in await data(api, "/api/transacciones/detalladas")}
    trx3 = detalladas["TRX3"]
    assert trx3["cuenta_origen"] == f"{11:013d}"
    assert trx3["cliente_origen_nombre"] == CLIENTES[1]["nombre"]
    assert trx3["cliente_destino_nombre"] == CLIENTES[6]["nombre"]
    assert trx3["motivo"] == "CUENTA_CERRADA"
    assert trx3["estado"] == "FALLIDA"


async def test_clientes_vip_por_moneda(api):
    rows = await data(api, "/api/analisis/clientes-vip", threshold="10000", limit=20)
    patrimonio: defaultdict[Any, Decimal] = defaultdict(Decimal)
    for k in ABIERTAS.values():
        if k["cliente"] in VIVOS:
            patrimonio[(k["cliente"], k["moneda"])] += saldo_final(k)
    expected = {key: money(v) for key, v in patrimonio.items() if v >= 10000}
    assert {(r["cliente_id"], r["moneda"]): r["patrimonio_total"] for r in rows} == expected
    ana_usd = next(r for r in rows if r["cliente_id"] == 1 and r["moneda"] == "USD")
    assert ana_usd["total_transacciones"] == 1  # TRX3 left from cuenta 11
    assert await data(api, "/api/analisis/clientes-vip", threshold="1000000") == []


async def test_actividad_diaria_ultimos_30_dias(api):
    rows = await data(api, "/api/analisis/actividad-diaria")
    recent = [t for t in TRANSACCIONES.values() if t["dias"] < 30]
    assert sum(r["cantidad"] for r in rows) == len(recent)
    assert sum(D(r["monto_total"]) for r in rows) == sum(
        (t["monto"] for t in recent if t["estado"] == "COMPLETADA"), D(0)
    )
    assert len(await data(api, "/api/analisis/actividad-diaria", dias=60)) > len(rows) - 1


async def test_volumen_y_por_mes(api):
    volumen = {(r["moneda"], r["tipo"]): D(r["volumen"]) for r in await data(api, "/volumen-transacciones")}
    expected: defaultdict[Any, Decimal] = defaultdict(Decimal)
    for t in TRANSACCIONES.values():
        if t["estado"] == "COMPLETADA":
            expected[(t["moneda"], t["tipo"])] += t["monto"]
    assert volumen == expected
    por_mes = await data(api, "/transacciones/por-mes")
    assert sum(r["cantidad"] for r in por_mes) == len(TRANSACCIONES)
    assert all(len(r["mes"]) == 7 for r in por_mes)


async def test_consulta_personalizada_de_lectura(api):
    response = await api.post(
        "/api/query/custom",
        json={"query": "SELECT moneda, SUM(saldo) AS total FROM cuentas GROUP BY moneda ORDER BY moneda"},
    )
    assert response.status_code == 200
    got = {r["moneda"]: r["total"] for r in response.json()["data"]}
    all_cuentas: defaultdict[Any, Decimal] = defaultdict(Decimal)
    for k in CUENTAS.values():
        all_cuentas[k["moneda"]] += saldo_final(k)
    assert got == {m: money(v) for m, v in all_cuentas.items()}


async def test_consulta_personalizada_acotada_en_filas(api):
    body = (await api.post("/api/query/custom", json={"query": "SELECT * FROM saldo_actualizado"})).json()
    assert body["rows_count"] <= 3


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM cuentas",
        "CREATE TABLE x AS SELECT * FROM cuentas",
        "COPY cuentas TO '/tmp/robado.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('/tmp/*.parquet')",
        "SELECT * FROM '/etc/hostname'",
        "SELECT 1 FROM cuentas; SELECT 2 FROM cuentas",
        "SELECT * FROM cuentas; DROP VIEW cuentas",
        "ATTACH '/tmp/x.db' AS x",
    ],
)
async def test_consulta_personalizada_que_escribe_lee_archivos_o_son_dos_es_rechazada(api, query):
    response = await api.post("/api/query/custom", json={"query": query})
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["error"]
    assert (await api.post("/api/query/custom", json={"query": "SELECT COUNT(*) AS n FROM cuentas"})).json()[
        "data"
    ] == [{"n": len(CUENTAS)}]


async def test_consulta_que_se_pasa_de_tiempo_es_interrumpida(lake):
    settings = AnalyticsSettings(lake_root=str(lake), query_timeout_seconds=0.2)
    async with app_client(create_app(settings)) as client:
        slow = "SELECT COUNT(*) AS n FROM cuentas a, cuentas b, cuentas c, cuentas d, cuentas e, cuentas f, cuentas g, cuentas h, cuentas i, cuentas j, cuentas k, cuentas l"
        started = time.monotonic()
        response = await client.post("/api/query/custom", json={"query": slow})
        elapsed = time.monotonic() - started
    assert response.status_code == 408
    assert "interrupted" in response.json()["error"]
    assert elapsed < 3, elapsed  # the interrupt really stops it (the query alone would run for hours)


async def test_respuesta_de_consulta_personalizada_se_corta_en_bytes(lake):
    settings = AnalyticsSettings(lake_root=str(lake), custom_max_bytes=2_000)
    async with app_client(create_app(settings)) as client:
        body = (
            await client.post("/api/query/custom", json={"query": "SELECT repeat('x', 500) AS s FROM cuentas"})
        ).json()
        assert body["truncated"] is True
        assert 1 <= body["rows_count"] < len(CUENTAS)
        response = await client.post("/api/query/custom", json={"query": "SELECT repeat('x', 5000) AS s FROM cuentas"})
        assert response.status_code == 422
        assert "first row" in response.json()["error"]


async def test_todas_las_rutas_responden_sobre_lago_vacio(tmp_path):
    async with app_client(create_app(AnalyticsSettings(lake_root=str(tmp_path)))) as client:
        for query in PREDEFINED:
            for path in query.paths:
                response = await client.get(path)
                assert response.status_code == 200, (path, response.text)
        [resumen] = (await client.get("/api/clientes/resumen")).json()["data"]
        assert resumen["total_clientes"] == 0
        health = await client.get("/health")
        assert health.status_code == 200


async def test_archivos_nuevos_del_lago_se_ven_sin_reiniciar(tmp_path):
    settings = AnalyticsSettings(lake_root=str(tmp_path), listing_ttl_seconds=0.2, state_cache_seconds=0.5)
    async with app_client(create_app(settings)) as client:
        assert (await client.get("/api/clientes/resumen")).json()["data"][0]["total_clientes"] == 0
        dataset.build(tmp_path)

        async def visible() -> bool:
            body = (await client.get("/api/clientes/resumen")).json()
            return bool(body["data"][0]["total_clientes"] == len(VIVOS))

        await eventually(visible, timeout=20, what="the new lake files in the views")

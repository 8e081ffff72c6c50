"""Every analytics path over a known lake (written by the sink's writer) returns the right figures,
computed here independently from the dataset's plain-Python description."""

import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.money import MONEDAS
from services.analytics.main import create_app
from services.analytics.queries import PREDEFINED
from services.analytics.settings import AnalyticsSettings
from tests.asgi import in_process
from tests.conftest import eventually
from tests.integration.analytics import dataset
from tests.integration.analytics.dataset import (
    CLIENTES,
    CUENTAS,
    ORIGINAL_METRICS,
    TIPOS,
    TRANSACCIONES,
    analytics_sobre,
    saldo_final,
)
from tests.integration.auth import Bearer

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
    async with in_process(
        create_app(AnalyticsSettings(lake_root=str(lake), custom_max_rows=3)), auth=Bearer()
    ) as client:
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


def avg(values: list[Decimal]) -> str:
    return money((sum(values, D(0)) / len(values)).quantize(D("0.01"), ROUND_HALF_UP) if values else D(0))


@pytest.mark.parametrize("moneda", MONEDAS)
async def test_dashboard_tiene_las_metricas_originales_una_vez_en_una_moneda(api, moneda):
    rows = await data(api, "/api/dashboard", moneda=moneda)
    assert [r["metrica"] for r in rows] == ORIGINAL_METRICS
    got = {r["metrica"]: r["valor"] for r in rows}
    mine = [k for k in ABIERTAS.values() if k["moneda"] == moneda]
    trx = [t for t in TRANSACCIONES.values() if t["moneda"] == moneda]
    completadas = [t["monto"] for t in trx if t["estado"] == "COMPLETADA"]
    assert got == {
        "Total Clientes": len(VIVOS),
        "Clientes Activos": sum(c["estado"] == "activo" for c in VIVOS.values()),
        "Total Cuentas": len(mine),
        "Saldo Total Banco": money(sum((saldo_final(k) for k in mine), D(0))),
        "Saldo Promedio": avg([saldo_final(k) for k in mine]),
        "Total Transacciones": len(trx),
        "Volumen Transaccional": money(sum(completadas, D(0))),
        "Transacción Promedio": avg(completadas),
    }
    assert {r["moneda"] for r in rows if r["categoria"] != "clientes"} == {moneda}
    assert {r["moneda"] for r in rows if r["categoria"] == "clientes"} == {None}


async def test_dashboard_pen_por_omision_y_todas_reparte_por_moneda(api):
    assert await data(api, "/api/dashboard") == await data(api, "/api/dashboard", moneda="PEN")
    assert await data(api, "/dashboard-ejecutivo") == await data(api, "/api/dashboard")
    todas = await data(api, "/api/dashboard", moneda="todas")
    por_moneda = {m: await data(api, "/api/dashboard", moneda=m) for m in MONEDAS}
    for metrica in ORIGINAL_METRICS:
        rows = [r for r in todas if r["metrica"] == metrica]
        if metrica in ("Total Clientes", "Clientes Activos"):
            assert len(rows) == 1  # no currency: once
        else:
            assert [r["moneda"] for r in rows] == list(MONEDAS)  # never one sum over currencies
            for r in rows:
                assert [x for x in por_moneda[r["moneda"]] if x["metrica"] == metrica] == [r]


MONEY_PATHS = [
    ("/api/cuentas/resumen", {}),
    ("/api/cuentas/por-tipo", {}),
    ("/cuentas/por-tipo", {}),
    ("/api/cuentas/top-saldos", {"limit": 2}),
    ("/top-cuentas", {"limit": 2}),
    ("/api/clientes/con-cuentas", {"limit": 2}),
    ("/api/transacciones/resumen", {}),
    ("/api/transacciones/por-tipo", {}),
    ("/api/transacciones/por-estado", {}),
    ("/api/analisis/clientes-vip", {"threshold": "0", "limit": 1}),
    ("/api/analisis/actividad-diaria", {"dias": 60}),
    ("/volumen-transacciones", {}),
    ("/transacciones/por-mes", {}),
]


@pytest.mark.parametrize(("path", "params"), MONEY_PATHS)
async def test_cada_ruta_con_dinero_responde_en_una_moneda_y_todas_es_el_reparto(api, path, params):
    por_moneda = {m: await data(api, path, moneda=m, **params) for m in MONEDAS}
    for m, rows in por_moneda.items():
        assert {r["moneda"] for r in rows} <= {m}
    assert await data(api, path, **params) == por_moneda["PEN"]
    assert await data(api, path, moneda="todas", **params) == [r for m in MONEDAS for r in por_moneda[m]]


async def test_moneda_invalida_es_422(api):
    response = await api.get("/api/cuentas/top-saldos", params={"moneda": "BTC"})
    assert response.status_code == 422
    assert "moneda" in response.text


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


@pytest.mark.parametrize("moneda", MONEDAS)
async def test_clientes_con_cuentas_en_una_moneda(api, moneda):
    rows = await data(api, "/api/clientes/con-cuentas", moneda=moneda)
    expected = {}
    for cid in VIVOS:
        mine = [k for k in ABIERTAS.values() if k["cliente"] == cid and k["moneda"] == moneda]
        if mine:
            expected[cid] = (len(mine), money(sum((saldo_final(k) for k in mine), D(0))))
    assert {r["cliente_id"]: (r["total_cuentas"], r["saldo_total"]) for r in rows} == expected
    saldos = [D(r["saldo_total"]) for r in rows]
    assert saldos == sorted(saldos, reverse=True)  # as the original: highest balance first
    assert len(await data(api, "/api/clientes/con-cuentas", moneda=moneda, limit=1)) == min(1, len(expected))


async def test_cuentas_resumen_por_moneda(api):
    for m in MONEDAS:
        [row] = await data(api, "/api/cuentas/resumen", moneda=m)  # one row, as the original
        saldos = [saldo_final(k) for k in ABIERTAS.values() if k["moneda"] == m]
        assert row["moneda"] == m
        assert row["total_cuentas"] == len(saldos)
        assert row["saldo_total_banco"] == money(sum(saldos, D(0)))
        assert row["saldo_maximo"] == money(max(saldos))
        assert row["saldo_minimo"] == money(min(saldos))
        assert row["cuentas_activas"] == sum(
            estado_cuenta(k) == "activa" for k in ABIERTAS.values() if k["moneda"] == m
        )


async def test_cuentas_por_tipo(api):
    rows = await data(api, "/api/cuentas/por-tipo", moneda="todas")
    cantidad: Counter[tuple[str, str]] = Counter()
    total: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for k in ABIERTAS.values():
        cantidad[(TIPOS[k["tipo"]], k["moneda"])] += 1
        total[(TIPOS[k["tipo"]], k["moneda"])] += saldo_final(k)
    assert {(r["tipo_cuenta"], r["moneda"]): r["cantidad_cuentas"] for r in rows} == cantidad
    assert {(r["tipo_cuenta"], r["moneda"]): D(r["saldo_total"]) for r in rows} == total
    pen = await data(api, "/api/cuentas/por-tipo")
    assert len({r["tipo_cuenta"] for r in pen}) == len(pen)  # one row per tipo
    assert {r["tipo_cuenta"] for r in pen} == {TIPOS[k["tipo"]] for k in ABIERTAS.values() if k["moneda"] == "PEN"}


async def test_top_saldos_en_una_moneda(api):
    for m in MONEDAS:
        mine = sorted((k for k in ABIERTAS.items() if k[1]["moneda"] == m), key=lambda kv: -saldo_final(kv[1]))
        rows = await data(api, "/api/cuentas/top-saldos", moneda=m, limit=1)
        assert [(r["cuenta_id"], r["ranking"]) for r in rows] == [(mine[0][0], 1)]
        everything = await data(api, "/api/cuentas/top-saldos", moneda=m, limit=20)
        assert [r["cuenta_id"] for r in everything] == [kid for kid, _ in mine]
    assert len(await data(api, "/api/cuentas/top-saldos", moneda="todas", limit=1)) == len(MONEDAS)


async def test_transacciones_resumen_tipo_estado(api):
    resumen = {r["moneda"]: r for r in await data(api, "/api/transacciones/resumen", moneda="todas")}
    for m in {t["moneda"] for t in TRANSACCIONES.values()}:
        mine = [t for t in TRANSACCIONES.values() if t["moneda"] == m]
        done = [t["monto"] for t in mine if t["estado"] == "COMPLETADA"]
        assert resumen[m]["total_transacciones"] == len(mine)
        assert resumen[m]["completadas"] == len(done)
        assert resumen[m]["fallidas"] == sum(t["estado"] == "FALLIDA" for t in mine)
        assert resumen[m]["pendientes"] == sum(t["estado"] == "PENDIENTE" for t in mine)
        assert resumen[m]["volumen_total"] == money(sum(done, D(0)))
    por_tipo = {
        (r["tipo"], r["moneda"]): r["cantidad"] for r in await data(api, "/api/transacciones/por-tipo", moneda="todas")
    }
    assert por_tipo == Counter((t["tipo"], t["moneda"]) for t in TRANSACCIONES.values())
    por_estado = {
        (r["estado"], r["moneda"]): D(r["monto_total"])
        for r in await data(api, "/api/transacciones/por-estado", moneda="todas")
    }
    expected: defaultdict[Any, Decimal] = defaultdict(Decimal)
    for t in TRANSACCIONES.values():
        expected[(t["estado"], t["moneda"])] += t["monto"]
    assert por_estado == expected


async def test_recientes_y_detalladas(api):
    recientes = await data(api, "/api/transacciones/recientes", moneda="todas", limit=3)
    order = sorted(TRANSACCIONES, key=lambda tid: (TRANSACCIONES[tid]["dias"], int(tid[3:])))
    assert [r["transaccion_id"] for r in recientes] == order[:3]
    assert recientes[0]["monto"] == money(TRANSACCIONES[order[0]]["monto"])
    detalladas = {r["transaccion_id"]: r for r in await data(api, "/api/transacciones/detalladas", moneda="todas")}
    trx3 = detalladas["TRX3"]
    assert trx3["cuenta_origen"] == f"{11:013d}"
    assert trx3["cliente_origen_nombre"] == CLIENTES[1]["nombre"]
    assert trx3["cliente_destino_nombre"] == CLIENTES[6]["nombre"]
    assert trx3["motivo"] == "CUENTA_CERRADA"
    assert trx3["estado"] == "FALLIDA"
    pen = await data(api, "/api/transacciones/recientes", limit=500)
    assert [r["transaccion_id"] for r in pen] == [t for t in order if TRANSACCIONES[t]["moneda"] == "PEN"]


async def test_clientes_vip_por_moneda(api):
    rows = await data(api, "/api/analisis/clientes-vip", moneda="todas", threshold="10000", limit=20)
    patrimonio: defaultdict[Any, Decimal] = defaultdict(Decimal)
    for k in ABIERTAS.values():
        if k["cliente"] in VIVOS:
            patrimonio[(k["cliente"], k["moneda"])] += saldo_final(k)
    expected = {key: money(v) for key, v in patrimonio.items() if v >= 10000}
    assert {(r["cliente_id"], r["moneda"]): r["patrimonio_total"] for r in rows} == expected
    ana_usd = next(r for r in rows if r["cliente_id"] == 1 and r["moneda"] == "USD")
    assert ana_usd["total_transacciones"] == 1  # TRX3 left from cuenta 11
    assert await data(api, "/api/analisis/clientes-vip", moneda="todas", threshold="1000000") == []
    pen = await data(api, "/api/analisis/clientes-vip", threshold="0", limit=1)
    best_pen = max((v, -cid) for (cid, m), v in patrimonio.items() if m == "PEN")
    assert [(r["cliente_id"], r["ranking"]) for r in pen] == [(-best_pen[1], 1)]  # limit over the whole answer


async def test_actividad_diaria_ultimos_30_dias(api):
    rows = await data(api, "/api/analisis/actividad-diaria", moneda="todas")
    recent = [t for t in TRANSACCIONES.values() if t["dias"] < 30]
    assert sum(r["cantidad"] for r in rows) == len(recent)
    assert sum(D(r["monto_total"]) for r in rows) == sum(
        (t["monto"] for t in recent if t["estado"] == "COMPLETADA"), D(0)
    )
    assert len(await data(api, "/api/analisis/actividad-diaria", moneda="todas", dias=60)) > len(rows) - 1


async def test_volumen_y_por_mes(api):
    volumen = {
        (r["moneda"], r["tipo"]): D(r["volumen"]) for r in await data(api, "/volumen-transacciones", moneda="todas")
    }
    expected: defaultdict[Any, Decimal] = defaultdict(Decimal)
    for t in TRANSACCIONES.values():
        if t["estado"] == "COMPLETADA":
            expected[(t["moneda"], t["tipo"])] += t["monto"]
    assert volumen == expected
    por_mes = await data(api, "/transacciones/por-mes", moneda="todas")
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
    async with in_process(create_app(settings), auth=Bearer()) as client:
        slow = "SELECT COUNT(*) AS n FROM cuentas a, cuentas b, cuentas c, cuentas d, cuentas e, cuentas f, cuentas g, cuentas h, cuentas i, cuentas j, cuentas k, cuentas l"
        started = time.monotonic()
        response = await client.post("/api/query/custom", json={"query": slow})
        elapsed = time.monotonic() - started
    assert response.status_code == 408
    assert "interrupted" in response.json()["error"]
    assert elapsed < 3, elapsed  # the interrupt really stops it (the query alone would run for hours)


async def test_respuesta_de_consulta_personalizada_se_corta_en_bytes(lake):
    settings = AnalyticsSettings(lake_root=str(lake), custom_max_bytes=2_000)
    async with in_process(create_app(settings), auth=Bearer()) as client:
        body = (
            await client.post("/api/query/custom", json={"query": "SELECT repeat('x', 500) AS s FROM cuentas"})
        ).json()
        assert body["truncated"] is True
        assert 1 <= body["rows_count"] < len(CUENTAS)
        response = await client.post("/api/query/custom", json={"query": "SELECT repeat('x', 5000) AS s FROM cuentas"})
        assert response.status_code == 422
        assert "first row" in response.json()["error"]


async def test_todas_las_rutas_responden_sobre_lago_vacio(tmp_path):
    async with analytics_sobre(tmp_path) as client:
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
    async with in_process(create_app(settings), auth=Bearer()) as client:
        assert (await client.get("/api/clientes/resumen")).json()["data"][0]["total_clientes"] == 0
        dataset.build(tmp_path)

        async def visible() -> bool:
            body = (await client.get("/api/clientes/resumen")).json()
            return bool(body["data"][0]["total_clientes"] == len(VIVOS))

        await eventually(visible, timeout=20, what="the new lake files in the views")

"""On the running stack, the way the original SPA reads analytics (MS5): the same paths and fields, answered in
one currency (PEN by default, or the `moneda` asked) in the original's shapes, and `todas` as the per-currency
split. The data is made through the APIs and reaches analytics through Kafka, the lake sink and Parquet."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from contracts.money import MONEDAS
from tests.conftest import eventually
from tests.integration.analytics.dataset import ORIGINAL_METRICS
from tests.integration.auth import Bearer
from tests.integration.conftest import URLS
from tests.integration.transacciones.conftest import Banco

D = Decimal
CLIENTES = 11  # one more than the SPA's limit=10, in every currency


@pytest.fixture(scope="module")
async def seeded() -> dict[str, Any]:
    """11 clientes, each with a PEN, a USD and an EUR account (>= 10000, so all are VIP), and a deposit in each
    currency; waits until analytics sees every one of them."""
    tag = uuid.uuid4().hex[:8]
    async with (
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["clientes"], timeout=20) as clientes,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["cuentas"], timeout=20) as cuentas,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["transacciones"], timeout=20) as trx,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["analytics"], timeout=30) as analytics,
    ):
        banco = Banco(clientes, cuentas, trx)
        ids: dict[str, list[int]] = {m: [] for m in MONEDAS}
        for i in range(CLIENTES):
            cliente_id = await banco.nuevo_cliente()
            r = await clientes.put(
                f"/clientes/{cliente_id}",
                json={"nombre": "SPA", "apellido": f"{tag} {i}", "email": f"spa.{tag}.{i}@example.com"},
            )
            assert r.status_code == 200, r.text
            for n, moneda in enumerate(MONEDAS):
                ids[moneda].append(await banco.abrir_cuenta(cliente_id, f"{20000 + 100 * i + n}.{i:02d}", moneda))
        for moneda in MONEDAS:
            await banco.final(
                {"tipo": "DEPOSITO", "monto": "10.50", "moneda": moneda, "cuentaDestinoId": ids[moneda][0]}
            )
        everything = ", ".join(str(k) for m in MONEDAS for k in ids[m])
        query = {
            "query": f"SELECT (SELECT count(*) FROM cuentas WHERE cuenta_id IN ({everything})) AS cuentas, "
            f"(SELECT count(*) FROM transacciones WHERE estado = 'COMPLETADA' AND cuenta_destino_id IN ({everything})"
            f" AND monto = 10.50) AS depositos, (SELECT count(*) FROM clientes WHERE email LIKE 'spa.{tag}.%') AS c"
        }

        async def visible() -> bool:
            r = await analytics.post("/api/query/custom", json=query)
            assert r.status_code == 200, r.text
            return bool(r.json()["data"] == [{"cuentas": 3 * CLIENTES, "depositos": len(MONEDAS), "c": CLIENTES}])

        await eventually(visible, timeout=120, interval=1.0, what="the new clientes, cuentas and deposits in analytics")
    return {"tag": tag, "cuentas": ids}


@pytest.fixture(scope="module")
async def spa(seeded: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(auth=Bearer(), base_url=URLS["analytics"], timeout=30) as client:
        yield client


async def get(spa: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await spa.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["rows_count"] == len(body["data"])
    rows: list[dict[str, Any]] = body["data"]
    return rows


async def consistent(check: Callable[[], Awaitable[list[str]]], what: str) -> None:
    """The lake keeps moving (the sink, the state rebuild): retry a cross-endpoint check on a fresh read."""
    seen: list[list[str]] = []

    async def probe() -> bool:
        seen.append(await check())
        return not seen[-1]

    try:
        await eventually(probe, timeout=30, interval=1.0, what=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {seen[-1]}") from None


@pytest.mark.parametrize("moneda", [None, "USD"])
async def test_dashboard_del_spa_metricas_originales_una_vez(spa, moneda):
    params = {"moneda": moneda} if moneda else {}
    esperada = moneda or "PEN"

    async def check() -> list[str]:
        rows = await get(spa, "/api/dashboard", **params)
        [resumen] = await get(spa, "/api/cuentas/resumen", **params)
        [trx] = await get(spa, "/api/transacciones/resumen", **params)
        valor = {r["metrica"]: r["valor"] for r in rows}
        problems = []
        if [r["metrica"] for r in rows] != ORIGINAL_METRICS:
            problems.append(f"metrics {[r['metrica'] for r in rows]}")
        if {r["moneda"] for r in rows if r["categoria"] != "clientes"} != {esperada}:
            problems.append("a money metric in another currency")
        if valor.get("Total Cuentas") != resumen["total_cuentas"]:
            problems.append("Total Cuentas != cuentas/resumen")
        if valor.get("Saldo Total Banco") != resumen["saldo_total_banco"]:
            problems.append("Saldo Total Banco != cuentas/resumen")
        if valor.get("Total Transacciones") != trx["total_transacciones"]:
            problems.append("Total Transacciones != transacciones/resumen")
        if valor.get("Volumen Transaccional") != trx["volumen_total"]:
            problems.append("Volumen Transaccional != transacciones/resumen")
        promedio = (D(resumen["saldo_total_banco"]) / resumen["total_cuentas"]).quantize(D("0.01"), ROUND_HALF_UP)
        if abs(D(valor.get("Saldo Promedio", "0")) - promedio) > D("0.01"):
            problems.append(f"Saldo Promedio {valor.get('Saldo Promedio')} != {promedio}")
        if D(valor.get("Transacción Promedio", "0")) <= 0:
            problems.append("no Transacción Promedio")
        return problems

    await consistent(check, f"a consistent dashboard in {esperada}")
    assert (await spa.get("/api/dashboard", params={"moneda": "XYZ"})).status_code == 422


async def test_dashboard_todas_reparte_por_moneda(spa):
    rows = await get(spa, "/api/dashboard", moneda="todas")
    for metrica in ORIGINAL_METRICS:
        monedas = [r["moneda"] for r in rows if r["metrica"] == metrica]
        assert monedas == ([None] if metrica in ("Total Clientes", "Clientes Activos") else list(MONEDAS)), metrica


@pytest.mark.parametrize("moneda", [None, "USD", "todas"])
async def test_cuentas_por_tipo_y_top_saldos_como_el_spa(spa, moneda):
    params = {"moneda": moneda} if moneda else {}
    asked = list(MONEDAS) if moneda == "todas" else [moneda or "PEN"]
    por_tipo = await get(spa, "/api/cuentas/por-tipo", **params)
    for m in asked:
        mine = [r for r in por_tipo if r["moneda"] == m]
        assert len({r["tipo_cuenta"] for r in mine}) == len(mine)  # one card per tipo, not one per tipo x moneda
        assert all(isinstance(r["cantidad_cuentas"], int) and D(r["saldo_total"]) >= 0 for r in mine)
    assert {r["moneda"] for r in por_tipo} == set(asked)

    top = await get(spa, "/api/cuentas/top-saldos", limit=10, **params)
    assert len(top) == 10 * len(asked)  # limit=10 is 10 rows for one currency (not 30)
    for m in asked:
        mine = [r for r in top if r["moneda"] == m]
        assert [r["ranking"] for r in mine] == list(range(1, 11))
        saldos = [D(r["saldo"]) for r in mine]
        assert saldos == sorted(saldos, reverse=True)
        assert all(r["numero_cuenta"] and r["nombre"] is not None for r in mine)  # the fields the SPA shows


@pytest.mark.parametrize("moneda", [None, "USD", "todas"])
async def test_clientes_vip_como_el_spa(spa, moneda):
    params = {"moneda": moneda} if moneda else {}
    asked = list(MONEDAS) if moneda == "todas" else [moneda or "PEN"]
    vip = await get(spa, "/api/analisis/clientes-vip", limit=10, **params)
    assert len(vip) == 10 * len(asked)  # our 11 clientes are all over the default threshold, in every currency
    for m in asked:
        mine = [r for r in vip if r["moneda"] == m]
        assert len({r["cliente_id"] for r in mine}) == 10
        patrimonio = [D(r["patrimonio_total"]) for r in mine]
        assert patrimonio == sorted(patrimonio, reverse=True)
        assert min(patrimonio) >= 10000
        assert all({"nombre", "apellido", "email", "total_cuentas", "total_transacciones"} <= r.keys() for r in mine)
    con_cuentas = await get(spa, "/api/clientes/con-cuentas", limit=10, **params)
    assert len(con_cuentas) == 10 * len(asked)
    assert {r["moneda"] for r in con_cuentas} == set(asked)


@pytest.mark.parametrize("moneda", [None, "USD", "todas"])
async def test_transacciones_como_el_spa(spa, moneda):
    params = {"moneda": moneda} if moneda else {}
    asked = list(MONEDAS) if moneda == "todas" else [moneda or "PEN"]
    for path, key in (
        ("/api/transacciones/por-tipo", "tipo"),
        ("/api/transacciones/por-estado", "estado"),
        ("/api/analisis/actividad-diaria", "fecha"),
    ):
        rows = await get(spa, path, **params)
        assert {r["moneda"] for r in rows} == set(asked), path
        for m in asked:
            mine = [(r[key], r.get("tipo")) for r in rows if r["moneda"] == m]
            assert len(set(mine)) == len(mine), path  # one row per tipo/estado (per day and tipo) in a currency
    depositos = [r for r in await get(spa, "/api/transacciones/por-tipo", **params) if r["tipo"] == "DEPOSITO"]
    assert all(D(r["monto_total"]) >= D("10.50") for r in depositos)
    recientes = await get(spa, "/api/transacciones/recientes", limit=10, **params)
    assert 1 <= len(recientes) <= 10
    assert {r["moneda"] for r in recientes} <= set(asked)
    fechas = [r["fecha"] for r in recientes]
    assert fechas == sorted(fechas, reverse=True)

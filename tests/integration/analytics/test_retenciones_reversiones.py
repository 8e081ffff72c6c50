"""Holds and reversals in analytics, over a lake written by the sink's own writer: the holds summary per currency,
reversals counted as their own transactions but left out of money volumes (with their original: no double count)."""

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.cuentas import RetencionCapturada, RetencionCreada, RetencionExpirada, RetencionLiberada
from contracts.transacciones import TransaccionFallida, TransaccionRegistrada, TransaccionSolicitada
from tests.integration.analytics.dataset import NOW, History, analytics_sobre
from tests.integration.analytics.test_endpoints import data

D = Decimal


def _hold(rid: int, monto: str, moneda: str = "PEN") -> dict[str, Any]:
    return {
        "cuenta_id": 10 + rid % 2,
        "cliente_id": 1,
        "retencion_id": rid,
        "moneda": moneda,
        "saldo_disponible": D("0.00"),
        "fecha": NOW,
        "monto": D(monto),
    }


def _trx(tid: str, tipo: str, monto: str, *, dias: int = 1, **kw: Any) -> dict[str, Any]:
    return {
        "transaccion_id": tid,
        "id": f"id-{tid}",
        "tipo": tipo,
        "monto": D(monto),
        "moneda": "PEN",
        "cuenta_destino_id": 10 if tipo == "DEPOSITO" else None,
        "cuenta_origen_id": 10 if tipo != "DEPOSITO" else None,
        "fecha": NOW - timedelta(days=dias),
        **kw,
    }


def build(root: Path) -> None:
    h = History()
    when = NOW - timedelta(hours=1)
    # holds: 1 active 30 PEN, 2 captured (25 of 40) PEN, 3 voided 5 PEN, 4 expired 7 PEN, 5 active 9 USD
    for rid, monto, moneda in ((1, "30.00", "PEN"), (2, "40.00", "PEN"), (3, "5.00", "PEN"), (4, "7.00", "PEN")):
        h.add(RetencionCreada(**_hold(rid, monto, moneda), vence=NOW + timedelta(days=1)), when)
    h.add(RetencionCreada(**_hold(5, "9.00", "USD"), vence=NOW + timedelta(days=1)), when)
    h.add(RetencionCapturada(**_hold(2, "25.00"), liberado=D("15.00"), movimiento_id=77), when)
    h.add(RetencionLiberada(**_hold(3, "5.00")), when)
    h.add(RetencionExpirada(**_hold(4, "7.00"), vence=NOW), when)
    # transactions: a deposit of 100 reversed (its RETIRO reversal COMPLETADA), a deposit of 60 whose reversal
    # FAILED (so it counts), a plain withdrawal of 10
    for common in (
        _trx("TRX1", "DEPOSITO", "100.00"),
        _trx("TRX2", "RETIRO", "100.00", reversion_de="id-TRX1"),
        _trx("TRX3", "DEPOSITO", "60.00"),
        _trx("TRX5", "RETIRO", "10.00"),
    ):
        h.add(TransaccionSolicitada(**common), when)
        h.add(TransaccionRegistrada(**common), when)
    failed = _trx("TRX4", "RETIRO", "60.00", reversion_de="id-TRX3")
    h.add(TransaccionSolicitada(**failed), when)
    h.add(TransaccionFallida(**failed, motivo="SALDO_INSUFICIENTE"), when)
    h.write(root)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake-retenciones")
    build(root)
    return root


@pytest.fixture
async def api(lake: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with analytics_sobre(lake) as client:
        yield client


async def test_resumen_de_retenciones_por_moneda(api):
    [pen] = await data(api, "/api/retenciones/resumen")
    assert pen == {
        "moneda": "PEN",
        "activas": 1,
        "monto_activo": "30.00",
        "capturadas": 1,
        "monto_capturado": "25.00",
        "liberadas": 1,
        "monto_liberado": "5.00",
        "expiradas": 1,
        "monto_expirado": "7.00",
    }
    todas = await data(api, "/api/retenciones/resumen", moneda="todas")
    assert [r["moneda"] for r in todas] == ["PEN", "USD", "EUR"]
    assert (todas[1]["activas"], todas[1]["monto_activo"]) == (1, "9.00")
    assert (todas[2]["activas"], todas[2]["monto_activo"]) == (0, "0.00")  # a currency without holds: its zeros


async def test_la_vista_de_retenciones_da_el_estado_de_cada_una(api):
    r = await api.post(
        "/api/query/custom", json={"query": "SELECT retencion_id, estado FROM retenciones ORDER BY retencion_id"}
    )
    assert r.status_code == 200, r.text
    estados = [(row["retencion_id"], row["estado"]) for row in r.json()["data"]]
    assert estados == [(1, "ACTIVA"), (2, "CAPTURADA"), (3, "LIBERADA"), (4, "EXPIRADA"), (5, "ACTIVA")]


async def test_una_reversion_cuenta_como_transaccion_pero_no_como_volumen(api):
    [pen] = await data(api, "/api/transacciones/resumen")
    assert pen["total_transacciones"] == 5  # every one is its own transaction, reversals included
    assert pen["completadas"] == 4
    assert pen["fallidas"] == 1
    # net volume: TRX1 and its reversal TRX2 cancel out; TRX3 (its reversal failed) and TRX5 count
    assert pen["volumen_total"] == "70.00"
    assert (pen["monto_minimo"], pen["monto_maximo"]) == ("10.00", "60.00")
    assert (pen["reversiones"], pen["revertidas"], pen["volumen_revertido"]) == (1, 1, "100.00")
    dashboard = {r["metrica"]: r["valor"] for r in await data(api, "/api/dashboard")}
    assert dashboard["Volumen Transaccional"] == "70.00"
    assert dashboard["Total Transacciones"] == 5
    por_tipo = {r["tipo"]: r for r in await data(api, "/api/transacciones/por-tipo")}
    assert (por_tipo["DEPOSITO"]["cantidad"], por_tipo["DEPOSITO"]["monto_total"]) == (2, "60.00")
    assert (por_tipo["RETIRO"]["cantidad"], por_tipo["RETIRO"]["monto_total"]) == (3, "10.00")
    volumen = {r["tipo"]: r for r in await data(api, "/volumen-transacciones")}
    assert (volumen["DEPOSITO"]["volumen"], volumen["RETIRO"]["volumen"]) == ("60.00", "10.00")


async def test_reversiones_por_tipo_de_la_original(api):
    rows = await data(api, "/api/transacciones/reversiones")
    assert rows == [
        {
            "tipo_original": "DEPOSITO",
            "moneda": "PEN",
            "solicitadas": 2,
            "completadas": 1,
            "fallidas": 1,
            "monto_revertido": "100.00",
        }
    ]
    assert await data(api, "/api/transacciones/reversiones", moneda="USD") == []


async def test_las_transacciones_muestran_sus_enlaces_de_reversion(api):
    r = await api.post(
        "/api/query/custom",
        json={"query": "SELECT id, reversion_de, revertida_por FROM transacciones ORDER BY transaccion_id"},
    )
    assert r.status_code == 200, r.text
    links = {row["id"]: (row["reversion_de"], row["revertida_por"]) for row in r.json()["data"]}
    assert links["id-TRX1"] == (None, "id-TRX2")
    assert links["id-TRX2"] == ("id-TRX1", None)
    assert links["id-TRX3"] == (None, None)  # its reversal failed
    assert links["id-TRX4"] == ("id-TRX3", None)

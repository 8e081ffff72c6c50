"""FX transfers in analytics, over a lake written by the sink's own writer: per currency pair, what was debited in
the origin currency and credited in the destination's; the transacciones view names both sides and the quote."""

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.transacciones import TransaccionFallida, TransaccionRegistrada, TransaccionSolicitada
from tests.integration.analytics.dataset import NOW, History, analytics_sobre
from tests.integration.analytics.test_endpoints import data

D = Decimal


def _fx(tid: str, monto: str, moneda: str, monto_destino: str, moneda_destino: str) -> dict[str, Any]:
    return {
        "transaccion_id": tid,
        "id": f"id-{tid}",
        "tipo": "TRANSFERENCIA",
        "monto": D(monto),
        "moneda": moneda,
        "cuenta_origen_id": 10,
        "cuenta_destino_id": 11,
        "fecha": NOW - timedelta(hours=2),
        "monto_destino": D(monto_destino),
        "moneda_destino": moneda_destino,
        "cotizacion_id": f"COT-{tid}",
    }


def build(root: Path) -> None:
    h = History()
    when = NOW - timedelta(hours=1)
    # PEN -> USD twice completed (100.00 -> 26.31, 38.00 -> 10.00), once failed; USD -> PEN once; a plain transfer
    for common in (
        _fx("TRX1", "100.00", "PEN", "26.31", "USD"),
        _fx("TRX2", "38.00", "PEN", "10.00", "USD"),
        _fx("TRX3", "10.00", "USD", "37.00", "PEN"),
    ):
        h.add(TransaccionSolicitada(**common), when)
        h.add(TransaccionRegistrada(**common), when)
    failed = _fx("TRX4", "500.00", "PEN", "131.57", "USD")
    h.add(TransaccionSolicitada(**failed), when)
    h.add(TransaccionFallida(**failed, motivo="SALDO_INSUFICIENTE"), when)
    plain = {**_fx("TRX5", "5.00", "PEN", "5.00", "PEN"), "monto_destino": None, "moneda_destino": None}
    plain["cotizacion_id"] = None
    h.add(TransaccionSolicitada(**plain), when)
    h.add(TransaccionRegistrada(**plain), when)
    h.write(root)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake-fx")
    build(root)
    return root


@pytest.fixture
async def api(lake: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with analytics_sobre(lake) as client:
        yield client


async def test_fx_por_par_de_monedas(api):
    assert await data(api, "/api/transacciones/fx") == [
        {
            "moneda_origen": "PEN",
            "moneda_destino": "USD",
            "solicitadas": 3,
            "completadas": 2,
            "fallidas": 1,
            "monto_origen": "138.00",
            "monto_destino": "36.31",
        }
    ]
    todas = await data(api, "/api/transacciones/fx", moneda="todas")
    assert [(r["moneda_origen"], r["moneda_destino"], r["monto_destino"]) for r in todas] == [
        ("PEN", "USD", "36.31"),
        ("USD", "PEN", "37.00"),
    ]
    assert await data(api, "/api/transacciones/fx", moneda="EUR") == []


async def test_la_vista_de_transacciones_nombra_ambos_lados(api):
    r = await api.post(
        "/api/query/custom",
        json={"query": "SELECT id, monto_destino, moneda_destino, cotizacion_id FROM transacciones ORDER BY id"},
    )
    assert r.status_code == 200, r.text
    rows = {row["id"]: row for row in r.json()["data"]}
    assert (rows["id-TRX1"]["monto_destino"], rows["id-TRX1"]["moneda_destino"]) == ("26.31", "USD")
    assert rows["id-TRX1"]["cotizacion_id"] == "COT-TRX1"
    assert (rows["id-TRX5"]["monto_destino"], rows["id-TRX5"]["cotizacion_id"]) == (None, None)

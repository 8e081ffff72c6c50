"""perfil read the way the original SPA reads it: `resumen_financiero.patrimonio_total` as one number (shown as
"S/ …"), `ultima_actividad` null for a cliente without transactions, and the same answers through the gateway
(:8080/api/perfil/…), the only way a browser reaches perfil (it refuses port 6000, ERR_UNSAFE_PORT)."""

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import GATEWAY
from tests.integration.perfil.conftest import Bank

SPA_ORIGIN = "http://localhost:3000"  # the original SPA's dev server: another origin than any service


async def perfil_when(bank: Bank, cliente_id: int, ready: Any) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        r = await bank.perfil.get(f"/api/clientes/{cliente_id}/perfil-completo")
        body: dict[str, Any] | None = r.json() if r.status_code == 200 else None
        return body if body is not None and ready(body) else None

    return await eventually(probe, timeout=30, interval=0.3, what=f"profile of cliente {cliente_id}")


async def test_patrimonio_total_is_the_pen_sum_as_one_decimal_string_and_the_split_is_per_moneda(bank: Bank) -> None:
    cliente_id = (await bank.nuevo_cliente())["cliente_id"]
    await bank.abrir_cuenta(cliente_id, "1200.50", "PEN")
    await bank.abrir_cuenta(cliente_id, "0.25", "PEN")
    await bank.abrir_cuenta(cliente_id, "99.99", "USD")

    perfil = await perfil_when(bank, cliente_id, lambda b: len(b["cuentas"]) == 3)
    resumen = perfil["resumen_financiero"]
    assert isinstance(resumen["patrimonio_total"], str)
    assert resumen["patrimonio_total"] == "1200.75"  # what the SPA formats as "S/ 1,200.75"; USD is never added
    assert resumen["patrimonio_por_moneda"] == {"PEN": "1200.75", "USD": "99.99"}
    assert resumen["ultima_actividad"] is None  # registered and with accounts, but no transaction yet


async def test_ultima_actividad_is_null_for_a_fresh_cliente_then_the_newest_transaction(bank: Bank) -> None:
    cliente_id = (await bank.nuevo_cliente())["cliente_id"]
    perfil = await perfil_when(bank, cliente_id, lambda b: True)
    assert perfil["resumen_financiero"]["ultima_actividad"] is None
    assert perfil["resumen_financiero"]["patrimonio_total"] == "0.00"

    cuenta = await bank.abrir_cuenta(cliente_id, "5.00", "PEN")
    ok = await bank.transaccion(
        {"tipo": "DEPOSITO", "monto": "10.00", "moneda": "PEN", "cuentaDestinoId": cuenta["cuenta_id"]}
    )
    refused = await bank.transaccion(
        {"tipo": "RETIRO", "monto": "500.00", "moneda": "PEN", "cuentaOrigenId": cuenta["cuenta_id"]}
    )
    await bank.wait_final([ok, refused])
    newest = (await bank.trx.get(f"/transacciones/{refused}")).json()

    perfil = await perfil_when(bank, cliente_id, lambda b: b["resumen_financiero"]["total_transacciones"] == 2)
    resumen = perfil["resumen_financiero"]
    assert datetime.fromisoformat(resumen["ultima_actividad"]) == datetime.fromisoformat(newest["fecha"])
    assert Decimal(resumen["patrimonio_total"]) == Decimal("15.00")


@pytest.fixture
async def gateway() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(auth=Bearer(), base_url=f"{GATEWAY}/api/perfil", timeout=30) as client:
        yield client


async def test_the_gateway_path_answers_every_perfil_endpoint_with_the_same_body_as_port_6000(
    bank: Bank, gateway: httpx.AsyncClient
) -> None:
    cliente = await bank.nuevo_cliente(nombre="Pasarela")
    cliente_id = cliente["cliente_id"]
    cuenta = await bank.abrir_cuenta(cliente_id, "40.00", "PEN")
    trx = await bank.transaccion(
        {"tipo": "RETIRO", "monto": "1.00", "moneda": "PEN", "cuentaOrigenId": cuenta["cuenta_id"]}
    )
    await bank.wait_final([trx])
    await perfil_when(bank, cliente_id, lambda b: b["resumen_financiero"]["total_transacciones"] == 1)

    paths = [
        (f"/api/clientes/{cliente_id}/perfil-completo", {}),
        (f"/cliente/{cliente_id}/completo", {}),
        (f"/api/clientes/{cliente_id}/transacciones", {"limit": 10}),
        ("/api/clientes/buscar", {"q": cliente["email"]}),
        ("/api/clientes/999999999999/perfil-completo", {}),  # the 404 too
    ]
    for path, params in paths:
        direct = await bank.perfil.get(path, params=params)
        via = await gateway.get(path, params=params, headers={"Origin": SPA_ORIGIN})
        assert (via.status_code, via.json()) == (direct.status_code, direct.json()), path
        if direct.status_code == 200:
            assert "X-View-Offsets" in via.headers  # the freshness headers pass through
            assert via.headers["access-control-allow-origin"] in ("*", SPA_ORIGIN)  # readable by another origin
    found = (await gateway.get("/api/clientes/buscar", params={"q": cliente["email"]})).json()
    assert [c["cliente_id"] for c in found["resultados"]] == [cliente_id]


async def test_a_browser_on_another_origin_may_call_perfil_through_the_gateway(gateway: httpx.AsyncClient) -> None:
    preflight = await gateway.options(
        "/api/clientes/1/perfil-completo",
        headers={
            "Origin": SPA_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] in ("*", SPA_ORIGIN)
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert (await gateway.get("/health")).json()["status"] == "healthy"

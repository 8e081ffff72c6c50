"""POST /cuentas/lote through the balancer: each item judged as POST /cuentas would judge it, the same events
(CuentaAbierta, and SaldoActualizado APERTURA for an opening balance), nothing half-written."""

from decimal import Decimal

import aiomysql
import httpx

from tests.integration.cuentas.conftest import Tap, abrir_cuenta, nuevo_cliente_id, saldo_y_ledger

ABIERTA = "bank.cuentas.CuentaAbierta.v1"
SALDO = "bank.cuentas.SaldoActualizado.v1"


async def test_lote_abre_todas_con_sus_eventos(
    http: httpx.AsyncClient, cliente: int, cuentas_tap: Tap, db: aiomysql.Pool
) -> None:
    await abrir_cuenta(http, cliente)  # waits until the replica knows the cliente
    items = [
        {"cliente_id": cliente, "tipo_cuenta_id": 1, "saldo": "150.50", "moneda": "PEN"},
        {"cliente_id": cliente, "tipo_cuenta_id": 4, "saldo": "0", "moneda": "USD"},
        {"cliente_id": cliente, "tipo_cuenta_id": 3, "saldo": 99.99, "moneda": "eur"},
    ]
    response = await http.post("/cuentas/lote", json={"cuentas": items})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["creados"], result["rechazados"]) == (3, 0)
    ids = [r["id"] for r in result["resultados"]]
    for cuenta_id, item in zip(ids, items, strict=True):
        cuenta = (await http.get(f"/cuentas/{cuenta_id}")).json()
        assert Decimal(cuenta["saldo"]) == Decimal(str(item["saldo"]))
        assert cuenta["moneda"] == str(item["moneda"]).upper()
        [abierta] = await cuentas_tap.wait_for(ABIERTA, cuenta_id=cuenta_id)
        assert abierta["numero_cuenta"] == cuenta["numero_cuenta"]
        saldo, ledger, movimientos = await saldo_y_ledger(db, cuenta_id)
        assert saldo == ledger
        assert movimientos == (1 if saldo > 0 else 0)
    [apertura] = await cuentas_tap.wait_for(SALDO, cuenta_id=ids[0])
    assert (apertura["causa"], apertura["saldo"]) == ("APERTURA", "150.50")
    await cuentas_tap.wait_for(SALDO, cuenta_id=ids[2])
    assert cuentas_tap.events(SALDO, cuenta_id=ids[1]) == []  # no opening balance, no movement


async def test_un_cliente_desconocido_solo_se_rechaza_a_si_mismo(http: httpx.AsyncClient, cliente: int) -> None:
    await abrir_cuenta(http, cliente)
    desconocido = nuevo_cliente_id()
    items = [
        {"cliente_id": cliente, "tipo_cuenta_id": 1, "saldo": "10.00"},
        {"cliente_id": desconocido, "tipo_cuenta_id": 1, "saldo": "10.00"},
        {"cliente_id": cliente, "tipo_cuenta_id": 99, "saldo": "10.00"},
    ]
    response = await http.post("/cuentas/lote", json={"cuentas": items})
    assert response.status_code == 200, response.text
    ok, unknown, bad_tipo = response.json()["resultados"]
    assert ok["status"] == 201
    assert (unknown["status"], unknown["id"]) == (404, None)
    assert bad_tipo["status"] == 404
    listed = (await http.get("/cuentas", params={"cliente_id": desconocido})).json()
    assert listed == []


async def test_un_item_invalido_rechaza_el_lote_entero(http: httpx.AsyncClient, cliente: int) -> None:
    await abrir_cuenta(http, cliente)
    before = int((await http.get("/cuentas", params={"cliente_id": cliente})).headers["X-Total-Count"])
    items = [
        {"cliente_id": cliente, "tipo_cuenta_id": 1, "saldo": "10.00"},
        {"cliente_id": cliente, "tipo_cuenta_id": 1, "saldo": "-5.00"},
    ]
    response = await http.post("/cuentas/lote", json={"cuentas": items})
    assert response.status_code == 422
    assert ["body", "cuentas", 1, "saldo"] in [e["loc"] for e in response.json()["detail"]]
    after = int((await http.get("/cuentas", params={"cliente_id": cliente})).headers["X-Total-Count"])
    assert after == before

"""Holds and reversals reach the live perfil through the real stack: a hold made through cuentas shows on the
cliente's account (retenido, saldo_disponible, the hold) and leaves it when captured or voided; a reversal made
through transacciones links both transactions in the profile."""

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.perfil.conftest import Bank
from tests.integration.perfil.test_spa_compat import perfil_when


def _cuenta(perfil: dict[str, Any], cuenta_id: int) -> dict[str, Any]:
    """The account as the profile lists it; an empty one while the profile has not folded it yet."""
    return next((c for c in perfil["cuentas"] if c["cuenta_id"] == cuenta_id), {"retenciones": [], "retenido": None})


async def _retener(bank: Bank, cuenta_id: int, monto: str) -> int:
    vence = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = await bank.cuentas.post(f"/cuentas/{cuenta_id}/retenciones", json={"monto": monto, "vence": vence})
    assert r.status_code == 201, r.text
    retencion_id: int = r.json()["retencion_id"]
    return retencion_id


async def test_a_hold_shows_in_the_perfil_and_leaves_it_when_captured(bank: Bank) -> None:
    cliente_id = (await bank.nuevo_cliente(nombre="Retenida"))["cliente_id"]
    cuenta_id = (await bank.abrir_cuenta(cliente_id, "100.00", "PEN"))["cuenta_id"]
    rid = await _retener(bank, cuenta_id, "30.00")

    perfil = await perfil_when(bank, cliente_id, lambda b: _cuenta(b, cuenta_id)["retenciones"])
    cuenta = _cuenta(perfil, cuenta_id)
    assert (cuenta["saldo"], cuenta["retenido"], cuenta["saldo_disponible"]) == ("100.00", "30.00", "70.00")
    [hold] = cuenta["retenciones"]
    assert (hold["retencion_id"], hold["monto"], hold["estado"], hold["moneda"]) == (rid, "30.00", "ACTIVA", "PEN")

    r = await bank.cuentas.post(f"/cuentas/{cuenta_id}/retenciones/{rid}/captura", json={"monto": "12.50"})
    assert r.status_code == 200, r.text
    perfil = await perfil_when(bank, cliente_id, lambda b: _cuenta(b, cuenta_id).get("saldo") == "87.50")
    cuenta = _cuenta(perfil, cuenta_id)
    # the captured part left the account through the ledger, the rest is available again
    assert (cuenta["saldo"], cuenta["retenido"], cuenta["saldo_disponible"]) == ("87.50", "0.00", "87.50")


async def test_a_voided_hold_leaves_the_perfil_and_a_refused_one_never_enters(bank: Bank) -> None:
    cliente_id = (await bank.nuevo_cliente(nombre="Liberada"))["cliente_id"]
    cuenta_id = (await bank.abrir_cuenta(cliente_id, "50.00", "USD"))["cuenta_id"]
    refused = await bank.cuentas.post(
        f"/cuentas/{cuenta_id}/retenciones",
        json={"monto": "50.01", "vence": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
    )
    assert refused.status_code == 409, refused.text  # more than the available balance
    rid = await _retener(bank, cuenta_id, "20.00")
    await perfil_when(bank, cliente_id, lambda b: _cuenta(b, cuenta_id)["retenido"] == "20.00")

    r = await bank.cuentas.post(f"/cuentas/{cuenta_id}/retenciones/{rid}/liberacion")
    assert r.status_code == 200, r.text
    perfil = await perfil_when(bank, cliente_id, lambda b: _cuenta(b, cuenta_id)["retenido"] == "0.00")
    cuenta = _cuenta(perfil, cuenta_id)
    assert (cuenta["saldo"], cuenta["saldo_disponible"], cuenta["retenciones"]) == ("50.00", "50.00", [])
    assert perfil["resumen_financiero"]["patrimonio_por_moneda"] == {"USD": "50.00"}  # holds never change it


async def test_a_reversal_links_both_transactions_in_the_perfil(bank: Bank) -> None:
    cliente_id = (await bank.nuevo_cliente(nombre="Revertida"))["cliente_id"]
    cuenta_id = (await bank.abrir_cuenta(cliente_id, "10.00", "PEN"))["cuenta_id"]
    original = await bank.transaccion(
        {"tipo": "DEPOSITO", "monto": "40.00", "moneda": "PEN", "cuentaDestinoId": cuenta_id}
    )
    await bank.wait_final([original])
    r = await bank.trx.post(f"/transacciones/{original}/reversion")
    assert r.status_code in (201, 202), r.text
    reversal = r.json()["id"]
    await bank.wait_final([reversal])

    # The balance comes with cuentas' events, the links with transacciones': two topics, each folded when it lands.
    perfil = await perfil_when(
        bank,
        cliente_id,
        lambda b: b["resumen_financiero"]["total_transacciones"] == 2 and _cuenta(b, cuenta_id).get("saldo") == "10.00",
    )
    items = {t["id"]: t for t in perfil["transacciones_recientes"]}
    assert items[original]["revertidaPor"] == reversal
    assert items[reversal]["reversionDe"] == original
    assert items[reversal]["tipo"] == "RETIRO"

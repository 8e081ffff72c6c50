"""POST /transacciones/lote against the real services: every item recorded as POST /transacciones with its
Idempotency-Key would be, its saga run the same way (money moves once), per-item refusals."""

import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.transacciones.conftest import Banco, CuentaFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_lote_corre_la_saga_de_cada_item(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b = await cuenta("100.00"), await cuenta("0.00")
    k = uuid.uuid4().hex
    items: list[dict[str, Any]] = [
        {
            "idempotency_key": f"{k}-1",
            "tipo": "TRANSFERENCIA",
            "monto": "30.00",
            "moneda": "PEN",
            "cuentaOrigenId": a,
            "cuentaDestinoId": b,
        },
        {"idempotency_key": f"{k}-2", "tipo": "DEPOSITO", "monto": "5.50", "moneda": "PEN", "cuentaDestinoId": b},
        {"idempotency_key": f"{k}-3", "tipo": "RETIRO", "monto": "1000.00", "moneda": "PEN", "cuentaOrigenId": a},
        {"tipo": "RETIRO", "monto": "1.00", "moneda": "PEN"},  # no cuentaOrigenId: refused alone (422)
    ]
    response = await banco.trx.post("/transacciones/lote", json={"transacciones": items})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["creados"], result["rechazados"]) == (3, 1)
    *accepted, refused = result["resultados"]
    assert all(r["status"] in (201, 202) for r in accepted)
    assert (refused["status"], refused["campo"]) == (422, "cuentaOrigenId")
    finals = [await banco.esperar_final(r["id"]) for r in accepted]
    assert [f["estado"] for f in finals] == ["COMPLETADA", "COMPLETADA", "FALLIDA"]
    assert await banco.saldo(a) == Decimal("70.00")
    assert await banco.saldo(b) == Decimal("35.50")

    # The same batch again: the keys answer with the original transactions; no money moves twice.
    again = (await banco.trx.post("/transacciones/lote", json={"transacciones": items[:3]})).json()
    assert [r["id"] for r in again["resultados"]] == [r["id"] for r in accepted]
    assert [r["status"] for r in again["resultados"]] == [201, 201, 201]
    # ... and so does a single POST with one of those keys and the same body.
    single = await banco.post({k2: v for k2, v in items[1].items() if k2 != "idempotency_key"}, key=f"{k}-2")
    assert single.json()["id"] == accepted[1]["id"]
    assert await banco.saldo(a) == Decimal("70.00")
    assert await banco.saldo(b) == Decimal("35.50")


async def test_misma_clave_con_otro_cuerpo_es_409_solo_para_ese_item(banco: Banco, cuenta: CuentaFactory) -> None:
    c = await cuenta("10.00")
    key = uuid.uuid4().hex
    first = await banco.final({"tipo": "DEPOSITO", "monto": "1.00", "moneda": "PEN", "cuentaDestinoId": c}, key)
    items = [
        {"idempotency_key": key, "tipo": "DEPOSITO", "monto": "2.00", "moneda": "PEN", "cuentaDestinoId": c},
        {"tipo": "DEPOSITO", "monto": "3.00", "moneda": "PEN", "cuentaDestinoId": c},
    ]
    result = (await banco.trx.post("/transacciones/lote", json={"transacciones": items})).json()
    reused, fresh = result["resultados"]
    assert reused["status"] == 409
    assert fresh["id"] != first["id"]
    assert (await banco.esperar_final(fresh["id"]))["estado"] == "COMPLETADA"
    assert await banco.saldo(c) == Decimal("14.00")


async def test_un_item_invalido_rechaza_el_lote_entero(banco: Banco, cuenta: CuentaFactory) -> None:
    c = await cuenta("10.00")
    items = [
        {"tipo": "DEPOSITO", "monto": "2.00", "moneda": "PEN", "cuentaDestinoId": c},
        {"tipo": "DEPOSITO", "monto": "-2.00", "moneda": "PEN", "cuentaDestinoId": c},
    ]
    response = await banco.trx.post("/transacciones/lote", json={"transacciones": items})
    assert response.status_code == 422
    assert ["body", "transacciones", 1, "monto"] in [e["loc"] for e in response.json()["detail"]]
    listed = await banco.trx.get(f"/transacciones/cuenta/{c}")
    assert listed.json() == []

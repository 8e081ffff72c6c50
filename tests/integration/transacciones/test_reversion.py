"""POST /transacciones/{id}/reversion through the real stack (balancer :8004, two instances): the money goes back
through the saga, both records link, at most once (also concurrently), idempotent, refusals and roles."""

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.integration.auth import Bearer
from tests.integration.conftest import URLS
from tests.integration.transacciones.conftest import Banco, CuentaFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


def transferencia(origen: int, destino: int, monto: str = "40.00") -> dict[str, Any]:
    return {
        "tipo": "TRANSFERENCIA",
        "monto": monto,
        "moneda": "PEN",
        "cuentaOrigenId": origen,
        "cuentaDestinoId": destino,
    }


async def revertir(banco: Banco, trx_id: str, key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return await banco.trx.post(f"/transacciones/{trx_id}/reversion", headers=headers)


async def revertir_final(banco: Banco, trx_id: str, key: str | None = None) -> dict[str, Any]:
    r = await revertir(banco, trx_id, key)
    assert r.status_code in (201, 202), r.text
    return await banco.esperar_final(r.json()["id"]) if r.status_code == 202 else dict(r.json())


async def transferida(banco: Banco, cuenta: CuentaFactory) -> tuple[int, int, dict[str, Any]]:
    a, b = await cuenta("100.00"), await cuenta("5.00")
    t = await banco.final(transferencia(a, b))
    assert t["estado"] == "COMPLETADA", t
    return a, b, t


async def test_revertir_una_transferencia_devuelve_el_dinero_y_enlaza_ambas(
    banco: Banco, cuenta: CuentaFactory
) -> None:
    a, b, t = await transferida(banco, cuenta)
    assert (await banco.saldo(a), await banco.saldo(b)) == (Decimal("60.00"), Decimal("45.00"))
    rev = await revertir_final(banco, t["id"])
    assert rev["estado"] == "COMPLETADA", rev
    assert (rev["tipo"], rev["cuentaOrigenId"], rev["cuentaDestinoId"], rev["monto"]) == (
        "TRANSFERENCIA",
        b,
        a,
        "40.00",
    )
    assert rev["reversionDe"] == t["id"]
    assert (await banco.saldo(a), await banco.saldo(b)) == (Decimal("100.00"), Decimal("5.00"))
    original = (await banco.trx.get(f"/transacciones/{t['id']}")).json()
    assert original["revertidaPor"] == rev["id"]
    assert {k: v for k, v in original.items() if k != "revertidaPor"} == {
        k: v for k, v in t.items() if k != "revertidaPor"
    }  # every other field as it was
    listed = (await banco.trx.get(f"/transacciones/cuenta/{a}")).json()
    by_id = {x["id"]: x for x in listed}
    assert by_id[t["id"]]["revertidaPor"] == rev["id"]
    assert by_id[rev["id"]]["reversionDe"] == t["id"]
    again = (await banco.trx.get(f"/transacciones/transaccion-id/{rev['transaccionId']}")).json()
    assert (again["reversionDe"], again["revertidaPor"]) == (t["id"], None)


async def test_una_segunda_reversion_es_409_y_nombra_la_primera(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b, t = await transferida(banco, cuenta)
    rev = await revertir_final(banco, t["id"])
    r = await revertir(banco, t["id"])
    assert r.status_code == 409, r.text
    assert rev["id"] in r.json()["detail"]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await banco.saldo(a), await banco.saldo(b)) == (Decimal("100.00"), Decimal("5.00"))


async def test_reversiones_simultaneas_crean_exactamente_una(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b, t = await transferida(banco, cuenta)
    # Separate connections, so the balancer spreads them over both instances.
    clients = [httpx.AsyncClient(auth=Bearer(), base_url=URLS["transacciones"], timeout=30) for _ in range(6)]
    try:
        answers = await asyncio.gather(*(c.post(f"/transacciones/{t['id']}/reversion") for c in clients))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    created = [r for r in answers if r.status_code in (201, 202)]
    assert len(created) == 1, [(r.status_code, r.text) for r in answers]
    rev_id = created[0].json()["id"]
    for r in answers:
        if r is not created[0]:
            assert r.status_code == 409, r.text
            assert rev_id in r.json()["detail"]
    assert (await banco.esperar_final(rev_id))["estado"] == "COMPLETADA"
    assert (await banco.saldo(a), await banco.saldo(b)) == (Decimal("100.00"), Decimal("5.00"))
    ours = [x for x in (await banco.trx.get(f"/transacciones/cuenta/{a}")).json() if x["reversionDe"] == t["id"]]
    assert [x["id"] for x in ours] == [rev_id]


async def test_la_misma_idempotency_key_da_una_sola_reversion(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b, t = await transferida(banco, cuenta)
    key = f"rev-{uuid.uuid4()}"
    first = await revertir_final(banco, t["id"], key)
    r = await revertir(banco, t["id"], key)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == first["id"]
    clients = [httpx.AsyncClient(auth=Bearer(), base_url=URLS["transacciones"], timeout=30) for _ in range(3)]
    try:
        answers = await asyncio.gather(
            *(c.post(f"/transacciones/{t['id']}/reversion", headers={"Idempotency-Key": key}) for c in clients)
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    assert {(x.status_code, x.json()["id"]) for x in answers} == {(201, first["id"])}
    assert (await banco.saldo(a), await banco.saldo(b)) == (Decimal("100.00"), Decimal("5.00"))


async def test_la_misma_key_para_otra_peticion_es_409(banco: Banco, cuenta: CuentaFactory) -> None:
    _, _, t = await transferida(banco, cuenta)
    key = f"rev-{uuid.uuid4()}"
    other = await banco.final(
        {"tipo": "DEPOSITO", "monto": "1.00", "moneda": "PEN", "cuentaDestinoId": await cuenta()}, key
    )
    assert other["estado"] == "COMPLETADA"
    r = await revertir(banco, t["id"], key)
    assert r.status_code == 409, r.text


async def test_solo_se_revierte_una_completada(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b = await cuenta("1.00"), await cuenta()
    r = await banco.post(transferencia(a, b, "50.00"))
    assert r.status_code == 409, r.text  # FALLIDA: saldo insuficiente
    fallida = r.json()
    r = await revertir(banco, fallida["id"])
    assert r.status_code == 409, r.text
    assert "FALLIDA" in r.json()["detail"]
    assert (await banco.saldo(a), await banco.saldo(b)) == (Decimal("1.00"), Decimal("0.00"))


async def test_sin_saldo_en_destino_es_409_y_luego_se_puede_revertir(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b, t = await transferida(banco, cuenta)
    c = await cuenta()
    gasto = await banco.final(transferencia(b, c, "30.00"))  # b keeps 15.00 of the 40.00 it got
    assert gasto["estado"] == "COMPLETADA"
    r = await revertir(banco, t["id"])
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["estado"] == "FALLIDA"
    assert body["reversionDe"] == t["id"]
    assert body["error"].startswith("SALDO_INSUFICIENTE"), body
    assert (await banco.saldo(a), await banco.saldo(b)) == (Decimal("60.00"), Decimal("15.00"))
    assert (await banco.trx.get(f"/transacciones/{t['id']}")).json()["revertidaPor"] is None
    deposito = await banco.final({"tipo": "DEPOSITO", "monto": "25.00", "moneda": "PEN", "cuentaDestinoId": b})
    assert deposito["estado"] == "COMPLETADA"
    rev = await revertir_final(banco, t["id"])
    assert rev["estado"] == "COMPLETADA", rev
    assert rev["id"] != body["id"]
    assert (await banco.saldo(a), await banco.saldo(b)) == (Decimal("100.00"), Decimal("0.00"))
    assert (await banco.trx.get(f"/transacciones/{t['id']}")).json()["revertidaPor"] == rev["id"]


async def test_deposito_y_retiro_se_revierten_en_espejo(banco: Banco, cuenta: CuentaFactory) -> None:
    c = await cuenta("10.00")
    dep = await banco.final({"tipo": "DEPOSITO", "monto": "7.00", "moneda": "PEN", "cuentaDestinoId": c})
    ret = await banco.final({"tipo": "RETIRO", "monto": "2.00", "moneda": "PEN", "cuentaOrigenId": c})
    rdep = await revertir_final(banco, dep["id"])
    rret = await revertir_final(banco, ret["id"])
    assert (rdep["tipo"], rdep["cuentaOrigenId"], rdep["estado"]) == ("RETIRO", c, "COMPLETADA")
    assert (rret["tipo"], rret["cuentaDestinoId"], rret["estado"]) == ("DEPOSITO", c, "COMPLETADA")
    assert await banco.saldo(c) == Decimal("10.00")
    r = await revertir(banco, rdep["id"])  # a reversal is not reversed
    assert r.status_code == 409, r.text


@pytest.mark.parametrize("role", ["cajero", "cliente"])
async def test_cajero_y_cliente_no_pueden_revertir(banco: Banco, cuenta: CuentaFactory, role: str) -> None:
    a, b, t = await transferida(banco, cuenta)
    if role == "cliente":
        cliente_id = (await banco.cuentas.get(f"/cuentas/{a}")).json()["cliente_id"]
        auth = Bearer(cliente_id=cliente_id)
    else:
        auth = Bearer(role)
    async with httpx.AsyncClient(auth=auth, base_url=URLS["transacciones"], timeout=20) as http:
        r = await http.post(f"/transacciones/{t['id']}/reversion")
    assert r.status_code == 403, r.text
    assert "operaciones" in r.json()["message"]
    assert (await banco.saldo(a), await banco.saldo(b)) == (Decimal("60.00"), Decimal("45.00"))


async def test_id_desconocido_es_404(banco: Banco) -> None:
    for ref in ("0123456789abcdef01234567", "no-es-un-id"):
        r = await revertir(banco, ref)
        assert r.status_code == 404, r.text


async def test_operaciones_puede_revertir(banco: Banco, cuenta: CuentaFactory) -> None:
    _, _, t = await transferida(banco, cuenta)
    async with httpx.AsyncClient(auth=Bearer("operaciones"), base_url=URLS["transacciones"], timeout=20) as http:
        r = await http.post(f"/transacciones/{t['id']}/reversion")
    assert r.status_code in (201, 202), r.text

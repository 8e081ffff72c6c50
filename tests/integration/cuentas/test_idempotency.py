"""Idempotency-Key on cuentas writes, through HAProxy: a repeated key answers the original response and moves
money once (also when the instance dies between commit and answer), another request under the key is 409."""

import asyncio
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiomysql
import httpx
import pytest

from tests.conftest import eventually
from tests.integration import stack
from tests.integration.auth import Bearer
from tests.integration.cuentas.conftest import saldo_y_ledger

PROGRAMS = ("cuentas:cuentas-1", "cuentas:cuentas-2")
INSTANCES = ("http://127.0.0.1:8012", "http://127.0.0.1:8013")


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{uuid.uuid4()}"}


async def _movimientos(http: httpx.AsyncClient, cuenta_id: int) -> int:
    r = await http.get(f"/cuentas/{cuenta_id}/movimientos")
    assert r.status_code == 200, r.text
    return int(r.headers["X-Total-Count"])


async def test_misma_clave_y_cuerpo_repite_la_respuesta_y_mueve_una_vez(
    http: httpx.AsyncClient, cuenta_factory: Callable[..., Any], db: aiomysql.Pool
) -> None:
    cuenta = await cuenta_factory(saldo="100.00")
    headers = _key()
    body = {"monto": "25.50", "operacion": "deposito"}
    first = await http.patch(f"/cuentas/{cuenta['cuenta_id']}/saldo", json=body, headers=headers)
    # The same amount written differently is the same request.
    again = await http.patch(
        f"/cuentas/{cuenta['cuenta_id']}/saldo", json={"monto": 25.5, "operacion": "deposito"}, headers=headers
    )
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json()["saldo"] == "125.50"
    assert again.content == first.content
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await http.get(f"/cuentas/{cuenta['cuenta_id']}")).json()["saldo"] == "125.50"
    assert await _movimientos(http, cuenta["cuenta_id"]) == 2  # APERTURA + one deposit
    saldo, ledger, _ = await saldo_y_ledger(db, cuenta["cuenta_id"])
    assert saldo == ledger == Decimal("125.50")


async def test_misma_clave_con_otro_cuerpo_o_metodo_es_409(
    http: httpx.AsyncClient, cuenta_factory: Callable[..., Any]
) -> None:
    cuenta = await cuenta_factory(saldo="100.00")
    path = f"/cuentas/{cuenta['cuenta_id']}/saldo"
    headers = _key()
    assert (await http.patch(path, json={"monto": "10", "operacion": "retiro"}, headers=headers)).status_code == 200
    other_body = await http.patch(path, json={"monto": "11", "operacion": "retiro"}, headers=headers)
    other_method = await http.put(path, json={"monto": "10", "operacion": "retiro"}, headers=headers)
    assert other_body.status_code == other_method.status_code == 409, (other_body.text, other_method.text)
    assert "Idempotency-Key" in other_body.json()["detail"]
    assert (await http.get(f"/cuentas/{cuenta['cuenta_id']}")).json()["saldo"] == "90.00"
    assert await _movimientos(http, cuenta["cuenta_id"]) == 2


async def test_reintentos_concurrentes_con_la_misma_clave_mueven_una_vez(
    http: httpx.AsyncClient, cuenta_factory: Callable[..., Any]
) -> None:
    """Requests with one key spread over both instances at once: one applies, the rest wait for it and replay."""
    cuenta = await cuenta_factory(saldo="0.00")
    headers = _key()
    answers = await asyncio.gather(
        *(
            http.patch(
                f"/cuentas/{cuenta['cuenta_id']}/saldo", json={"monto": "7", "operacion": "deposito"}, headers=headers
            )
            for _ in range(8)
        )
    )
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
    assert len({r.content for r in answers}) == 1
    assert sum(1 for r in answers if "Idempotent-Replayed" not in r.headers) == 1
    assert (await http.get(f"/cuentas/{cuenta['cuenta_id']}")).json()["saldo"] == "7.00"
    assert await _movimientos(http, cuenta["cuenta_id"]) == 1


async def test_apertura_repetida_devuelve_la_misma_cuenta(
    http: httpx.AsyncClient, cliente: int, cuenta_factory: Callable[..., Any]
) -> None:
    await cuenta_factory()  # waits until the replica knows the cliente
    headers = _key()
    body = {"cliente_id": cliente, "tipo_cuenta_id": 1, "saldo": "50.00", "moneda": "PEN"}
    first = await http.post("/cuentas", json=body, headers=headers)
    again = await http.post("/cuentas", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json()["cuenta_id"] == first.json()["cuenta_id"]
    assert again.content == first.content
    cuentas = (await http.get(f"/cuentas/cliente/{cliente}")).json()
    assert len(cuentas) == 2


async def test_rechazo_no_se_registra_y_el_reintento_se_juzga_de_nuevo(
    http: httpx.AsyncClient, cuenta_factory: Callable[..., Any]
) -> None:
    """A refused write moved nothing: its key stays free, and a retry once it can succeed applies (once)."""
    cuenta = await cuenta_factory(saldo="5.00")
    path = f"/cuentas/{cuenta['cuenta_id']}/saldo"
    headers = _key()
    retiro = {"monto": "8", "operacion": "retiro"}
    assert (await http.patch(path, json=retiro, headers=headers)).status_code == 409
    assert (await http.patch(path, json={"monto": "5", "operacion": "deposito"})).status_code == 200
    ok = await http.patch(path, json=retiro, headers=headers)
    replay = await http.patch(path, json=retiro, headers=headers)
    assert ok.status_code == replay.status_code == 200
    assert replay.json()["saldo"] == ok.json()["saldo"] == "2.00"


async def test_estado_y_eliminacion_repetidos_devuelven_la_respuesta_original(
    http: httpx.AsyncClient, cuenta_factory: Callable[..., Any]
) -> None:
    cuenta = await cuenta_factory()
    headers = _key()
    estado = await http.patch(f"/cuentas/{cuenta['cuenta_id']}/estado", json={"estado": "bloqueada"}, headers=headers)
    assert estado.status_code == 200, estado.text
    assert (await http.patch(f"/cuentas/{cuenta['cuenta_id']}/estado", json={"estado": "activa"})).status_code == 200
    replay = await http.patch(f"/cuentas/{cuenta['cuenta_id']}/estado", json={"estado": "bloqueada"}, headers=headers)
    assert replay.content == estado.content
    assert (await http.get(f"/cuentas/{cuenta['cuenta_id']}")).json()["estado"] == "activa"  # not applied again

    delete_key = _key()
    first = await http.delete(f"/cuentas/{cuenta['cuenta_id']}", headers=delete_key)
    again = await http.delete(f"/cuentas/{cuenta['cuenta_id']}", headers=delete_key)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.json() == first.json() == {"mensaje": f"Cuenta {cuenta['cuenta_id']} eliminada"}
    assert (await http.delete(f"/cuentas/{cuenta['cuenta_id']}")).status_code == 404  # without the key: gone


async def test_lote_repetido_abre_cada_cuenta_una_vez(
    http: httpx.AsyncClient, cliente: int, cuenta_factory: Callable[..., Any]
) -> None:
    """Both paths: a batch written in one transaction, and one with a refused item (written item by item)."""
    await cuenta_factory()
    ok = {"cliente_id": cliente, "tipo_cuenta_id": 1, "saldo": "10.00"}
    refused = {"cliente_id": cliente, "tipo_cuenta_id": 99, "saldo": "10.00"}
    for items, creados in (([ok, ok], 2), ([ok, refused, ok], 2)):
        headers = _key()
        first = await http.post("/cuentas/lote", json={"cuentas": items}, headers=headers)
        again = await http.post("/cuentas/lote", json={"cuentas": items}, headers=headers)
        assert first.status_code == again.status_code == 200, (first.text, again.text)
        assert first.json()["creados"] == creados
        assert again.json() == first.json()
        other = await http.post("/cuentas/lote", json={"cuentas": [ok]}, headers=headers)
        assert other.status_code == 409, other.text
    assert len((await http.get(f"/cuentas/cliente/{cliente}")).json()) == 1 + 2 + 2


@pytest.mark.parametrize("key", [b"", b"x" * 201, "clave-ñ".encode(), b"tab\there"])
async def test_clave_invalida_es_422(http: httpx.AsyncClient, key: bytes) -> None:
    r = await http.patch(
        "/cuentas/1/saldo", json={"monto": "1", "operacion": "deposito"}, headers=[(b"Idempotency-Key", key)]
    )
    assert r.status_code == 422, r.text
    assert "Idempotency-Key" in r.text


@pytest.mark.slow
async def test_instancia_muerta_entre_commit_y_respuesta_el_reintento_devuelve_el_original(
    http: httpx.AsyncClient, cuenta_factory: Callable[..., Any], db: aiomysql.Pool
) -> None:
    """The instance serving the deposit commits, then dies before answering (failpoint, like a kill -9 there).
    HAProxy resends the keyed request to the other instance, which finds the record in the shared MariaDB and
    answers the original result: the client sees one 200 and the money moved once."""
    cuenta = await cuenta_factory(saldo="100.00")
    pids = [await asyncio.to_thread(stack.pid, p) for p in PROGRAMS]
    assert all(pids), "both cuentas instances run"
    r = await http.patch(
        f"/cuentas/{cuenta['cuenta_id']}/saldo",
        json={"monto": "40.00", "operacion": "deposito"},
        headers={**_key(), "X-Failpoint": "crash-after-commit"},
    )
    try:
        assert r.status_code == 200, r.text
        assert r.json()["saldo"] == "140.00"
        assert r.headers.get("Idempotent-Replayed") == "true", "answered from the record, by the other instance"
        after = [await asyncio.to_thread(stack.pid, p) for p in PROGRAMS]
        assert sum(1 for a, b in zip(pids, after, strict=True) if a != b) == 1, (pids, after)
        assert (await http.get(f"/cuentas/{cuenta['cuenta_id']}")).json()["saldo"] == "140.00"
        assert await _movimientos(http, cuenta["cuenta_id"]) == 2
        saldo, ledger, _ = await saldo_y_ledger(db, cuenta["cuenta_id"])
        assert saldo == ledger == Decimal("140.00")
    finally:
        await _both_instances_healthy()


@pytest.mark.slow
async def test_lote_con_instancia_muerta_tras_escribir_item_a_item_abre_cada_cuenta_una_vez(
    http: httpx.AsyncClient, cliente: int, cuenta_factory: Callable[..., Any]
) -> None:
    """A batch with a refused item is written item by item, one transaction (and one recorded sub-key) each; the
    instance dies after the last one, HAProxy resends the batch and the other instance answers it from the records,
    opening nothing twice."""
    await cuenta_factory()
    ok = {"cliente_id": cliente, "tipo_cuenta_id": 1, "saldo": "10.00"}
    items = [ok, {"cliente_id": cliente, "tipo_cuenta_id": 99, "saldo": "10.00"}, ok]
    pids = [await asyncio.to_thread(stack.pid, p) for p in PROGRAMS]
    r = await http.post(
        "/cuentas/lote", json={"cuentas": items}, headers={**_key(), "X-Failpoint": "crash-after-commit"}
    )
    try:
        assert r.status_code == 200, r.text
        after = [await asyncio.to_thread(stack.pid, p) for p in PROGRAMS]
        assert sum(1 for a, b in zip(pids, after, strict=True) if a != b) == 1, (pids, after)
        result = r.json()
        assert [x["status"] for x in result["resultados"]] == [201, 404, 201]
        opened = {c["cuenta_id"] for c in (await http.get(f"/cuentas/cliente/{cliente}")).json()}
        assert len(opened) == 3  # the fixture's account and the batch's two
        assert {x["id"] for x in result["resultados"] if x["status"] == 201} <= opened
    finally:
        await _both_instances_healthy()


async def _both_instances_healthy() -> None:
    """Later tests expect both instances up: wait for the restarted one to answer /health again."""

    async def healthy() -> bool:
        async with httpx.AsyncClient(auth=Bearer(), timeout=1) as c:
            for url in INSTANCES:
                try:
                    if (await c.get(f"{url}/health")).status_code != 200:
                        return False
                except httpx.TransportError:
                    return False
        return True

    await eventually(healthy, timeout=60, interval=0.2, what="both cuentas instances answering /health")

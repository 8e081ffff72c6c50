"""Daily limits through the real stack: cuentas behind its balancer (:8002) for the teller and the limits, and
transacciones (:8004) for saga RETIRO / PAGO_SERVICIO / TRANSFERENCIA debits."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import aiomysql
import httpx
import pytest

from services.cuentas.domain import ZONA_LEDGER
from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import URLS
from tests.integration.cuentas.conftest import Tap, saldo_y_ledger

Factory = Callable[..., Any]
FINALES = {"COMPLETADA", "FALLIDA", "CANCELADA"}
CAMBIADOS = "bank.cuentas.LimitesCuentaCambiados.v1"


@pytest.fixture(autouse=True)
async def lejos_de_medianoche() -> None:
    """Every test counts within one ledger day: started in the last 90 s of a Lima day, it waits for the next."""
    ahora = datetime.now(ZONA_LEDGER)
    manana = datetime.combine(ahora.date() + timedelta(days=1), datetime.min.time(), ZONA_LEDGER)
    if manana - ahora < timedelta(seconds=90):
        await asyncio.sleep((manana - ahora).total_seconds() + 1)


@pytest.fixture
async def trx() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(auth=Bearer(), base_url=URLS["transacciones"], timeout=30) as client:
        yield client


async def fijar(
    http: httpx.AsyncClient, cuenta_id: int, retiro: str | None, transferencia: str | None
) -> dict[str, Any]:
    r = await http.put(
        f"/cuentas/{cuenta_id}/limites", json={"retiroDiario": retiro, "transferenciaDiaria": transferencia}
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def limites(http: httpx.AsyncClient, cuenta_id: int) -> dict[str, Any]:
    r = await http.get(f"/cuentas/{cuenta_id}/limites")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def retiro(http: httpx.AsyncClient, cuenta_id: int, monto: str, key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return await http.patch(
        f"/cuentas/{cuenta_id}/saldo", json={"monto": monto, "operacion": "retiro"}, headers=headers
    )


async def saldo(http: httpx.AsyncClient, cuenta_id: int) -> Decimal:
    r = await http.get(f"/cuentas/{cuenta_id}")
    assert r.status_code == 200, r.text
    return Decimal(r.json()["saldo"])


async def transaccion(trx: httpx.AsyncClient, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    """POST with an Idempotency-Key; while the saga runs (202), wait for it to end and POST again with the key,
    which answers as a final one does (201, or 409 with the FALLIDA transaction)."""
    key = key or f"lim-{uuid.uuid4()}"
    r = await trx.post("/transacciones", json=body, headers={"Idempotency-Key": key})
    if r.status_code != 202:
        return r
    trx_id = r.json()["id"]

    async def final() -> bool:
        return (await trx.get(f"/transacciones/{trx_id}")).json()["estado"] in FINALES

    await eventually(final, timeout=60, interval=0.1, what=f"transaction {trx_id} final")
    return await trx.post("/transacciones", json=body, headers={"Idempotency-Key": key})


def _retiro(cuenta_id: int, monto: str, tipo: str = "RETIRO") -> dict[str, Any]:
    return {"tipo": tipo, "monto": monto, "moneda": "PEN", "cuentaOrigenId": cuenta_id}


def _transferencia(origen: int, destino: int, monto: str) -> dict[str, Any]:
    return {
        "tipo": "TRANSFERENCIA",
        "monto": monto,
        "moneda": "PEN",
        "cuentaOrigenId": origen,
        "cuentaDestinoId": destino,
    }


def _refusal(r: httpx.Response, disponible: str, requerido: str, nombre: str = "retiro") -> None:
    """A 409 whose texts name the motivo, the limit's kind, what remains today and what was asked."""
    assert r.status_code == 409, r.text
    body = r.json()
    for campo in ("detail", "message"):
        assert "LIMITE_DIARIO_EXCEDIDO" in body[campo], body
        assert f"Límite diario de {nombre}" in body[campo], body
        assert f"disponible hoy {disponible}, requerido {requerido}" in body[campo], body


async def test_tipos_y_cuentas_muestran_sus_limites(http: httpx.AsyncClient, cuenta_factory: Factory) -> None:
    r = await http.get("/tipos-cuenta")
    assert r.status_code == 200
    tipos = {t["tipo_cuenta_id"]: t for t in r.json()}
    # Cuenta Sueldo carries no limits (the suite and the bench use it); the others come with defaults.
    assert (tipos[1]["limite_retiro_diario"], tipos[1]["limite_transferencia_diario"]) == (None, None)
    assert all(tipos[t]["limite_retiro_diario"] is not None for t in (2, 3, 4))
    assert {"costo_mantenimiento", "tasa_interes", "estado", "nombre"} <= set(tipos[2])
    cuenta = await cuenta_factory(tipo=2)
    assert cuenta["limite_retiro_diario"] == tipos[2]["limite_retiro_diario"]
    assert cuenta["limite_transferencia_diario"] == tipos[2]["limite_transferencia_diario"]


async def test_limite_del_tipo_exacto_pasa_y_el_centimo_siguiente_se_rechaza(
    http: httpx.AsyncClient, cuenta_factory: Factory, db: aiomysql.Pool
) -> None:
    tipo = (await http.get("/tipos-cuenta/2")).json()
    limite = Decimal(tipo["limite_retiro_diario"])
    cuenta = await cuenta_factory(saldo=f"{limite * 2:.2f}", tipo=2)
    cid = cuenta["cuenta_id"]
    assert (await retiro(http, cid, f"{limite - 1:.2f}")).status_code == 200
    assert (await retiro(http, cid, "1.00")).status_code == 200  # used + monto == limit: passes
    r = await retiro(http, cid, "0.01")
    _refusal(r, "0.00", "0.01")
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["error"] == "Límite diario excedido"
    assert await saldo(http, cid) == limite  # nothing moved
    saldo_db, ledger, _ = await saldo_y_ledger(db, cid)
    assert saldo_db == ledger == limite
    vista = await limites(http, cid)
    assert vista["retiroDiario"] == {
        "limite": f"{limite:.2f}",
        "origen": "tipo",
        "usadoHoy": f"{limite:.2f}",
        "disponibleHoy": "0.00",
    }
    assert vista["dia"] == datetime.now(ZONA_LEDGER).date().isoformat()
    assert vista["zonaHoraria"] == "America/Lima"
    # Deposits are not limited.
    r = await http.patch(f"/cuentas/{cid}/saldo", json={"monto": "5.00", "operacion": "deposito"})
    assert r.status_code == 200, r.text


async def test_limite_propio_de_la_cuenta_cuenta_ventanilla_retiro_y_pago(
    http: httpx.AsyncClient, trx: httpx.AsyncClient, cuenta_factory: Factory
) -> None:
    cuenta = await cuenta_factory(saldo="2000.00")  # Cuenta Sueldo: no limit of its tipo
    cid = cuenta["cuenta_id"]
    vista = await fijar(http, cid, "500.00", None)
    assert vista["retiroDiario"] == {
        "limite": "500.00",
        "origen": "cuenta",
        "usadoHoy": "0.00",
        "disponibleHoy": "500.00",
    }
    assert vista["transferenciaDiaria"]["limite"] is None
    detalle = (await http.get(f"/cuentas/{cid}")).json()
    assert (detalle["limite_retiro_diario"], detalle["limite_transferencia_diario"]) == ("500.00", None)
    assert {"costo_mantenimiento", "tasa_interes", "tipo_cuenta_nombre", "numero_cuenta"} <= set(detalle)

    assert (await retiro(http, cid, "300.00")).status_code == 200
    r = await transaccion(trx, _retiro(cid, "150.00"))
    assert r.json()["estado"] == "COMPLETADA", r.text
    r = await transaccion(trx, _retiro(cid, "50.00", "PAGO_SERVICIO"))  # reaches 500.00 exactly
    assert r.json()["estado"] == "COMPLETADA", r.text
    assert (await limites(http, cid))["retiroDiario"]["disponibleHoy"] == "0.00"

    r = await transaccion(trx, _retiro(cid, "0.01"))
    _refusal(r, "0.00", "0.01")
    assert r.json()["estado"] == "FALLIDA"
    assert r.json()["motivo"].startswith("LIMITE_DIARIO_EXCEDIDO: Límite diario de retiro 500.00")
    r = await transaccion(trx, _retiro(cid, "0.01", "PAGO_SERVICIO"))
    assert r.status_code == 409, r.text
    assert r.json()["estado"] == "FALLIDA"
    _refusal(await retiro(http, cid, "0.01"), "0.00", "0.01")
    assert await saldo(http, cid) == Decimal("1500.00")

    # Raising the override opens what is left of the day; dropping it falls back to the tipo's (none).
    await fijar(http, cid, "600.00", None)
    _refusal(await retiro(http, cid, "100.01"), "100.00", "100.01")
    assert (await retiro(http, cid, "100.00")).status_code == 200
    vista = await fijar(http, cid, None, None)
    assert vista["retiroDiario"] == {"limite": None, "origen": None, "usadoHoy": "600.00", "disponibleHoy": None}
    assert (await retiro(http, cid, "400.00")).status_code == 200


async def test_cada_cambio_de_limites_se_publica_una_vez_con_antes_despues_y_quien(
    http: httpx.AsyncClient, cuenta_factory: Factory, cuentas_tap: Tap
) -> None:
    cuenta = await cuenta_factory(saldo="10.00")
    cid = cuenta["cuenta_id"]
    await fijar(http, cid, "500.00", None)
    await fijar(http, cid, "500", None)  # the same limits: nothing changed, nothing is published
    await fijar(http, cid, None, "2000.00")
    # One account's events keep their order (one key, one partition), so a spurious second event would be here.
    publicados = await cuentas_tap.wait_for(CAMBIADOS, count=2, cuenta_id=cid)
    comun = {"cuenta_id": cid, "cliente_id": cuenta["cliente_id"], "moneda": cuenta["moneda"]}
    antes_despues = ("retiro_diario_anterior", "transferencia_diaria_anterior", "retiro_diario", "transferencia_diaria")
    assert [{k: e[k] for k in (*comun, *antes_despues)} for e in publicados] == [
        comun | dict(zip(antes_despues, (None, None, "500.00", None), strict=True)),
        comun | dict(zip(antes_despues, ("500.00", None, None, "2000.00"), strict=True)),
    ]
    quien = [h for _, h, d in cuentas_tap.records if h.get("ce_type") == CAMBIADOS and d.get("cuenta_id") == cid]
    assert all(h.get("ce_authtype") == "user" and h.get("ce_authid") for h in quien), quien


async def test_limite_de_transferencia_por_post_transacciones(
    http: httpx.AsyncClient, trx: httpx.AsyncClient, cuenta_factory: Factory
) -> None:
    origen = (await cuenta_factory(saldo="5000.00"))["cuenta_id"]
    destino = (await cuenta_factory())["cuenta_id"]
    await fijar(http, origen, "100.00", "1000.00")
    r = await transaccion(trx, _transferencia(origen, destino, "600.00"))
    assert r.json()["estado"] == "COMPLETADA", r.text

    r = await transaccion(trx, _transferencia(origen, destino, "400.01"))
    _refusal(r, "400.00", "400.01", "transferencia")
    assert r.json()["estado"] == "FALLIDA"
    assert r.json()["motivo"].startswith("LIMITE_DIARIO_EXCEDIDO: Límite diario de transferencia 1000.00")
    assert (await saldo(http, origen), await saldo(http, destino)) == (Decimal("4400.00"), Decimal("600.00"))

    # The withdrawal limit is another one: transfers did not use it, and it does not stop transfers.
    vista = await limites(http, origen)
    assert vista["retiroDiario"]["usadoHoy"] == "0.00"
    assert vista["transferenciaDiaria"]["usadoHoy"] == "600.00"
    r = await transaccion(trx, _transferencia(origen, destino, "400.00"))  # exactly at the limit
    assert r.json()["estado"] == "COMPLETADA", r.text
    assert (await saldo(http, origen), await saldo(http, destino)) == (Decimal("4000.00"), Decimal("1000.00"))
    # A credit into an account is never limited by that account's own limits.
    await fijar(http, destino, "0.00", "0.00")
    await fijar(http, origen, "100.00", "2000.00")
    r = await transaccion(trx, _transferencia(origen, destino, "10.00"))
    assert r.json()["estado"] == "COMPLETADA", r.text
    r = await transaccion(trx, {"tipo": "DEPOSITO", "monto": "10.00", "moneda": "PEN", "cuentaDestinoId": destino})
    assert r.json()["estado"] == "COMPLETADA", r.text


async def test_el_mismo_comando_repetido_cuenta_una_vez(
    http: httpx.AsyncClient, trx: httpx.AsyncClient, cuenta_factory: Factory
) -> None:
    cid = (await cuenta_factory(saldo="1000.00"))["cuenta_id"]
    await fijar(http, cid, "100.00", None)
    key = f"lim-{uuid.uuid4()}"
    primera = await transaccion(trx, _retiro(cid, "60.00"), key)
    assert primera.json()["estado"] == "COMPLETADA", primera.text
    otra = await trx.post("/transacciones", json=_retiro(cid, "60.00"), headers={"Idempotency-Key": key})
    assert otra.status_code == 201, otra.text
    assert otra.json()["id"] == primera.json()["id"]
    teller_key = f"lim-{uuid.uuid4()}"
    for _ in range(2):
        r = await retiro(http, cid, "20.00", teller_key)
        assert r.status_code == 200, r.text
    assert (await limites(http, cid))["retiroDiario"]["usadoHoy"] == "80.00"
    assert (await retiro(http, cid, "20.00")).status_code == 200  # 100.00 exactly: both counted once
    _refusal(await retiro(http, cid, "0.01"), "0.00", "0.01")
    assert await saldo(http, cid) == Decimal("900.00")


async def test_retiros_concurrentes_no_pasan_el_limite(http: httpx.AsyncClient, cuenta_factory: Factory) -> None:
    """Ten withdrawals of 30.00 at once against a 100.00 limit: exactly three pass, whichever instance serves each."""
    cid = (await cuenta_factory(saldo="1000.00"))["cuenta_id"]
    await fijar(http, cid, "100.00", None)
    answers = await asyncio.gather(*(retiro(http, cid, "30.00") for _ in range(10)))
    assert sorted(r.status_code for r in answers) == [200] * 3 + [409] * 7
    assert await saldo(http, cid) == Decimal("910.00")


async def test_entrada_invalida_nombra_el_campo_y_solo_operaciones_fija(
    http: httpx.AsyncClient, cuenta_factory: Factory
) -> None:
    cid = (await cuenta_factory())["cuenta_id"]
    for body, campo in (
        ({"retiroDiario": "-1.00", "transferenciaDiaria": None}, "retiroDiario"),
        ({"retiroDiario": "1.001", "transferenciaDiaria": None}, "retiroDiario"),
        ({"retiroDiario": None, "transferenciaDiaria": "abc"}, "transferenciaDiaria"),
        ({"retiroDiario": None}, "transferenciaDiaria"),
        ({"retiroDiario": None, "transferenciaDiaria": None, "retiroDiaro": "5"}, "retiroDiaro"),
    ):
        r = await http.put(f"/cuentas/{cid}/limites", json=body)
        assert r.status_code == 422, (body, r.text)
        assert campo in r.json()["message"], r.text
    assert (
        await http.put("/cuentas/999999999999/limites", json={"retiroDiario": None, "transferenciaDiaria": None})
    ).status_code == 404
    assert (await http.get("/cuentas/999999999999/limites")).status_code == 404
    body = {"retiroDiario": "1.00", "transferenciaDiaria": None}
    async with httpx.AsyncClient(auth=Bearer("cajero"), base_url=URLS["cuentas"], timeout=15) as cajero:
        r = await cajero.put(f"/cuentas/{cid}/limites", json=body)
        assert r.status_code == 403, r.text
        assert "operaciones" in r.json()["message"]
        assert (await cajero.get(f"/cuentas/{cid}/limites")).status_code == 200
    async with httpx.AsyncClient(auth=Bearer("operaciones"), base_url=URLS["cuentas"], timeout=15) as ops:
        assert (await ops.put(f"/cuentas/{cid}/limites", json=body)).status_code == 200

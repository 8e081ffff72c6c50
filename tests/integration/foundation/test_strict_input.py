"""Strict input on the running services: amounts only in the plain grammar, path ids only as ASCII integers;
each refusal is a 422 that names the field."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import URLS

# A sample of the near misses the property test (tests/unit/contracts/test_money.py) generates.
NEAR_MISS_STRINGS = ["٥", "1_000", " 5.00 ", "5.", "+5", "5e-2", "1.0E+2", "5.00\n", "5,00", "5.001", "５"]
# JSON numbers a float would forgive: written here as raw JSON text.
NEAR_MISS_NUMBERS = ["1e-400", "5e-2", "1.0E+2", "5.001", "1E2"]
BAD_IDS = ["%201", "+1", "%D9%A1", "1_0", "1%0A"]  # " 1", "+1", "١", "1_0", "1\n"


@pytest.fixture
async def clients() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with (
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["clientes"], timeout=20) as clientes,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["cuentas"], timeout=20) as cuentas,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["transacciones"], timeout=20) as trx,
        httpx.AsyncClient(auth=Bearer(), base_url=URLS["perfil"], timeout=20) as perfil,
    ):
        yield {"clientes": clientes, "cuentas": cuentas, "transacciones": trx, "perfil": perfil}


@pytest.fixture
async def cuenta_id(clients: dict[str, httpx.AsyncClient]) -> int:
    u = uuid.uuid4().hex[:12]
    r = await clients["clientes"].post(
        "/clientes",
        json={
            "nombre": "Estricta",
            "apellido": f"Entrada {u}",
            "email": f"strict.{u}@example.com",
            "documento": {"tipo_documento": "Pasaporte", "numero_documento": f"S{u.upper()}"},
        },
    )
    assert r.status_code == 201, r.text
    cliente_id = r.json()["cliente_id"]

    async def abrir() -> int | None:
        a = await clients["cuentas"].post("/cuentas", json={"cliente_id": cliente_id, "tipo_cuenta_id": 1})
        if a.status_code in (404, 502, 503):
            return None
        assert a.status_code == 201, a.text
        return int(a.json()["cuenta_id"])

    return await eventually(abrir, timeout=60, interval=0.2, what="cliente in cuentas' replica")


def _loc(r: httpx.Response) -> list[Any]:
    assert r.status_code == 422, r.text
    return list(r.json()["detail"][0]["loc"])


def _json(text: str) -> dict[str, Any]:
    return {"content": text, "headers": {"content-type": "application/json"}}


@pytest.mark.parametrize("monto", NEAR_MISS_STRINGS)
async def test_un_monto_casi_valido_es_422_en_cada_endpoint(
    clients: dict[str, httpx.AsyncClient], cuenta_id: int, monto: str
) -> None:
    deposito = {"tipo": "DEPOSITO", "monto": monto, "moneda": "PEN", "cuentaDestinoId": cuenta_id}
    assert _loc(await clients["transacciones"].post("/transacciones", json=deposito)) == ["body", "monto"]
    patch = await clients["cuentas"].patch(
        f"/cuentas/{cuenta_id}/saldo", json={"monto": monto, "operacion": "deposito"}
    )
    assert _loc(patch) == ["body", "monto"]
    apertura = {"cliente_id": 1, "tipo_cuenta_id": 1, "saldo": monto}
    assert _loc(await clients["cuentas"].post("/cuentas", json=apertura)) == ["body", "saldo"]
    lote = await clients["cuentas"].post("/cuentas/lote", json={"cuentas": [apertura]})
    assert _loc(lote) == ["body", "cuentas", 0, "saldo"]


@pytest.mark.parametrize("number", NEAR_MISS_NUMBERS)
async def test_un_numero_json_que_un_float_perdonaria_es_422(
    clients: dict[str, httpx.AsyncClient], cuenta_id: int, number: str
) -> None:
    body = f'{{"tipo": "DEPOSITO", "monto": {number}, "moneda": "PEN", "cuentaDestinoId": {cuenta_id}}}'
    assert _loc(await clients["transacciones"].post("/transacciones", **_json(body))) == ["body", "monto"]
    saldo = f'{{"cliente_id": 1, "tipo_cuenta_id": 1, "saldo": {number}}}'
    assert _loc(await clients["cuentas"].post("/cuentas", **_json(saldo))) == ["body", "saldo"]


async def test_el_lote_de_transacciones_juzga_el_monto_de_cada_item(
    clients: dict[str, httpx.AsyncClient], cuenta_id: int
) -> None:
    item = {"tipo": "DEPOSITO", "moneda": "PEN", "cuentaDestinoId": cuenta_id}
    lote = {"transacciones": [item | {"monto": "1.00"}, item | {"monto": "1_000"}]}
    assert _loc(await clients["transacciones"].post("/transacciones/lote", json=lote)) == [
        "body",
        "transacciones",
        1,
        "monto",
    ]


async def test_un_numero_json_exacto_se_acepta(clients: dict[str, httpx.AsyncClient], cuenta_id: int) -> None:
    r = await clients["cuentas"].patch(
        f"/cuentas/{cuenta_id}/saldo", **_json('{"monto": 5.10, "operacion": "deposito"}')
    )
    assert r.status_code == 200, r.text
    assert r.json()["saldo"] == "5.10"


@pytest.mark.parametrize("raw", BAD_IDS)
async def test_un_id_de_ruta_que_no_es_un_entero_ascii_es_422_nombrando_el_parametro(
    clients: dict[str, httpx.AsyncClient], raw: str
) -> None:
    assert _loc(await clients["clientes"].get(f"/clientes/{raw}")) == ["path", "cliente_id"]
    assert _loc(await clients["cuentas"].get(f"/cuentas/{raw}")) == ["path", "cuenta_id"]
    assert _loc(await clients["cuentas"].get(f"/cuentas/cliente/{raw}")) == ["path", "cliente_id"]
    assert _loc(await clients["cuentas"].get(f"/tipos-cuenta/{raw}")) == ["path", "tipo_cuenta_id"]
    assert _loc(await clients["transacciones"].get(f"/transacciones/cuenta/{raw}")) == ["path", "cuenta_id"]
    assert _loc(await clients["perfil"].get(f"/api/clientes/{raw}/perfil-completo")) == ["path", "cliente_id"]


async def test_un_id_de_ruta_ascii_se_sigue_leyendo(clients: dict[str, httpx.AsyncClient], cuenta_id: int) -> None:
    assert (await clients["cuentas"].get(f"/cuentas/{cuenta_id}")).status_code == 200
    assert (await clients["cuentas"].get("/tipos-cuenta/1")).status_code == 200


@pytest.mark.parametrize("raw", [" 1", "+1", "١", "1_0", "1.0", True])
async def test_un_id_en_el_cuerpo_que_no_es_un_entero_ascii_es_422(
    clients: dict[str, httpx.AsyncClient], raw: object
) -> None:
    deposito = {"tipo": "DEPOSITO", "monto": "1.00", "moneda": "PEN", "cuentaDestinoId": raw}
    assert _loc(await clients["transacciones"].post("/transacciones", json=deposito)) == ["body", "cuentaDestinoId"]
    apertura = {"cliente_id": raw, "tipo_cuenta_id": 1}
    assert _loc(await clients["cuentas"].post("/cuentas", json=apertura)) == ["body", "cliente_id"]

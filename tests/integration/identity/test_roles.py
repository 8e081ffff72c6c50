"""The role table against the real Keycloak and the five running services: anonymous callers get 401 on every
business operation each service publishes; each role's allowed call succeeds and its refused call is 403 naming the
roles; a customer sees only their own cliente, cuentas, movimientos, transacciones and perfil (404 for others') and
moves money only out of their own accounts."""

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import eventually
from tests.integration.auth import Bearer, access_token
from tests.integration.clientes.conftest import nuevo_cliente
from tests.integration.conftest import URLS
from tests.integration.transacciones.conftest import Banco

PUBLIC = {"/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.parametrize("service", list(URLS))
async def test_anonimo_recibe_401_en_cada_operacion_publicada(service: str) -> None:
    async with httpx.AsyncClient(base_url=URLS[service], timeout=30) as anon:
        doc = (await anon.get("/openapi.json")).json()
        assert "keycloak" in doc["components"]["securitySchemes"]
        operations = [
            (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
            for path, ops in doc["paths"].items()
            if path not in PUBLIC
            for method in ops
        ]
        assert len(operations) >= 3, operations
        for method, path in operations:
            r = await anon.request(method, path, json={})
            assert "token" in _problem(r, 401)["message"]
            assert r.headers["www-authenticate"] == "Bearer"
            r = await anon.request(method, path, json={}, headers={"Authorization": "Bearer no.es.un-token"})
            assert _problem(r, 401)
            assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert (await anon.get("/health")).status_code in (200, 503)


async def test_un_token_de_keycloak_manipulado_se_rechaza() -> None:
    head, payload, signature = access_token("cajero").split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    async with httpx.AsyncClient(base_url=URLS["clientes"], timeout=30) as anon:
        r = await anon.get("/clientes", headers={"Authorization": f"Bearer {forged}"})
    _problem(r, 401)


@dataclass
class Mundo:
    """Two clientes with an account each (A's with money), and clients per role."""

    banco: Banco
    a: int
    b: int
    cuenta_a: int
    cuenta_b: int
    email_b: str
    http: dict[str, httpx.AsyncClient]

    def as_(self, role: str, service: str) -> httpx.AsyncClient:
        return self.http[f"{role}:{service}"]


@pytest.fixture(scope="module")
async def mundo() -> AsyncIterator[Mundo]:
    roles = ["admin", "cajero", "operaciones", "analista", "auditor"]
    clients = {f"{r}:{s}": httpx.AsyncClient(base_url=URLS[s], timeout=30, auth=Bearer(r)) for r in roles for s in URLS}
    try:
        banco = Banco(clients["admin:clientes"], clients["admin:cuentas"], clients["admin:transacciones"])
        body_b = nuevo_cliente("identidad-b")
        a = await banco.nuevo_cliente()
        r = await banco.clientes.post("/clientes", json=body_b)
        assert r.status_code == 201, r.text
        b = int(r.json()["cliente_id"])
        cuenta_a = await banco.abrir_cuenta(a, "500.00")
        cuenta_b = await banco.abrir_cuenta(b, "500.00")
        for label, cid in (("A", a), ("B", b)):
            for s in URLS:
                clients[f"cliente{label}:{s}"] = httpx.AsyncClient(
                    base_url=URLS[s], timeout=30, auth=Bearer(cliente_id=cid)
                )
        yield Mundo(banco, a, b, cuenta_a, cuenta_b, body_b["email"], clients)
    finally:
        for c in clients.values():
            await c.aclose()


def _movimiento(tipo: str, origen: int | None, destino: int | None, monto: str = "1.00") -> dict[str, Any]:
    return {"tipo": tipo, "monto": monto, "moneda": "PEN", "cuentaOrigenId": origen, "cuentaDestinoId": destino}


async def test_clientes_por_rol(mundo: Mundo) -> None:
    assert (await mundo.as_("cajero", "clientes").post("/clientes", json=nuevo_cliente())).status_code == 201
    refused = _problem(await mundo.as_("cajero", "clientes").delete(f"/clientes/{mundo.b}"), 403)
    assert "operaciones, admin" in refused["message"]
    assert (await mundo.as_("auditor", "clientes").get(f"/clientes/{mundo.a}")).status_code == 200
    _problem(await mundo.as_("auditor", "clientes").post("/clientes", json=nuevo_cliente()), 403)
    _problem(await mundo.as_("analista", "clientes").get("/clientes"), 403)
    r = await mundo.as_("operaciones", "clientes").post("/clientes", json=nuevo_cliente())
    borrable = r.json()["cliente_id"]
    assert (await mundo.as_("operaciones", "clientes").delete(f"/clientes/{borrable}")).status_code == 200


async def test_cuentas_por_rol(mundo: Mundo) -> None:
    abrir = {"cliente_id": mundo.a, "tipo_cuenta_id": 1, "saldo": "0.00", "moneda": "PEN"}
    r = await mundo.as_("cajero", "cuentas").post("/cuentas", json=abrir)
    assert r.status_code == 201, r.text
    nueva = r.json()["cuenta_id"]
    refused = _problem(
        await mundo.as_("cajero", "cuentas").patch(f"/cuentas/{nueva}/estado", json={"estado": "bloqueada"}), 403
    )
    assert "operaciones, admin" in refused["message"]
    ok = await mundo.as_("operaciones", "cuentas").patch(f"/cuentas/{nueva}/estado", json={"estado": "bloqueada"})
    assert ok.status_code == 200, ok.text
    assert (await mundo.as_("auditor", "cuentas").get(f"/cuentas/{mundo.cuenta_b}")).status_code == 200
    _problem(await mundo.as_("auditor", "cuentas").delete(f"/cuentas/{nueva}"), 403)
    _problem(await mundo.as_("analista", "cuentas").get("/cuentas"), 403)


async def test_transacciones_por_rol(mundo: Mundo) -> None:
    cajero = mundo.as_("cajero", "transacciones")
    r = await cajero.post("/transacciones", json=_movimiento("DEPOSITO", None, mundo.cuenta_a))
    assert r.status_code in (201, 202), r.text
    refused = _problem(
        await cajero.post("/transacciones", json=_movimiento("TRANSFERENCIA", mundo.cuenta_a, mundo.cuenta_b)), 403
    )
    assert "operaciones, admin" in refused["message"]
    _problem(await cajero.patch(f"/transacciones/{r.json()['id']}/estado", json={"estado": "CANCELADA"}), 403)
    r = await mundo.as_("operaciones", "transacciones").post(
        "/transacciones", json=_movimiento("TRANSFERENCIA", mundo.cuenta_a, mundo.cuenta_b)
    )
    assert r.status_code in (201, 202), r.text
    assert (await mundo.as_("auditor", "transacciones").get("/transacciones")).status_code == 200
    _problem(
        await mundo.as_("auditor", "transacciones").post(
            "/transacciones", json=_movimiento("DEPOSITO", None, mundo.cuenta_a)
        ),
        403,
    )
    _problem(await mundo.as_("analista", "transacciones").get("/transacciones"), 403)
    lote = {
        "transacciones": [
            _movimiento("TRANSFERENCIA", mundo.cuenta_a, mundo.cuenta_b) | {"idempotency_key": uuid.uuid4().hex}
        ]
    }
    _problem(await cajero.post("/transacciones/lote", json=lote), 403)


async def test_perfil_por_rol(mundo: Mundo) -> None:
    async def projected() -> bool:
        r = await mundo.as_("cajero", "perfil").get(f"/api/clientes/{mundo.a}/perfil-completo")
        return r.status_code == 200

    await eventually(projected, timeout=60, what="cliente A in perfil")
    assert (await mundo.as_("auditor", "perfil").get("/api/clientes/buscar", params={"q": "Saga"})).status_code == 200
    refused = _problem(await mundo.as_("analista", "perfil").get(f"/api/clientes/{mundo.a}/perfil-completo"), 403)
    assert "cajero" in refused["message"]


async def test_analytics_por_rol(mundo: Mundo) -> None:
    for role in ("analista", "auditor", "admin"):
        r = await mundo.as_(role, "analytics").get("/api/queries/list")
        assert r.status_code == 200, (role, r.text)
    query = {"query": "SELECT 1 AS uno"}
    r = await mundo.as_("analista", "analytics").post("/api/query/custom", json=query)
    assert r.status_code == 200, r.text
    for role in ("cajero", "operaciones"):
        body = _problem(await mundo.as_(role, "analytics").post("/api/query/custom", json=query), 403)
        assert "analista" in body["message"]
        assert body["success"] is False  # analytics' envelope around the problem


async def test_un_cliente_ve_solo_lo_suyo(mundo: Mundo) -> None:
    clientes, cuentas = mundo.as_("clienteA", "clientes"), mundo.as_("clienteA", "cuentas")
    assert (await clientes.get(f"/clientes/{mundo.a}")).json()["cliente_id"] == mundo.a
    _problem(await clientes.get(f"/clientes/{mundo.b}"), 404)
    _problem(await clientes.get(f"/clientes/email/{mundo.email_b}"), 404)
    lista = await clientes.get("/clientes")
    assert [c["cliente_id"] for c in lista.json()] == [mundo.a]
    assert lista.headers["x-total-count"] == "1"
    _problem(await clientes.post("/clientes", json=nuevo_cliente()), 403)
    _problem(await clientes.delete(f"/clientes/{mundo.a}"), 403)

    assert {c["cliente_id"] for c in (await cuentas.get("/cuentas")).json()} == {mundo.a}
    assert (await cuentas.get("/cuentas", params={"cliente_id": mundo.b})).json() == []
    assert (await cuentas.get(f"/cuentas/{mundo.cuenta_a}")).status_code == 200
    _problem(await cuentas.get(f"/cuentas/{mundo.cuenta_b}"), 404)
    _problem(await cuentas.get(f"/cuentas/{mundo.cuenta_b}/movimientos"), 404)
    _problem(await cuentas.get(f"/cuentas/cliente/{mundo.b}"), 404)
    assert (await cuentas.get(f"/cuentas/{mundo.cuenta_a}/movimientos")).status_code == 200
    assert (await cuentas.get("/tipos-cuenta")).status_code == 200
    _problem(
        await cuentas.patch(f"/cuentas/{mundo.cuenta_a}/saldo", json={"monto": "1.00", "operacion": "CREDITO"}), 403
    )

    perfil = mundo.as_("clienteA", "perfil")
    _problem(await perfil.get(f"/api/clientes/{mundo.b}/perfil-completo"), 404)
    _problem(await perfil.get(f"/cliente/{mundo.b}/completo"), 404)
    _problem(await perfil.get("/api/clientes/buscar", params={"q": "Saga"}), 403)

    async def own_profile() -> bool:
        return (await perfil.get(f"/api/clientes/{mundo.a}/perfil-completo")).status_code == 200

    await eventually(own_profile, timeout=60, what="cliente A's own perfil")
    _problem(await mundo.as_("clienteA", "analytics").get("/api/queries/list"), 403)


async def test_un_cliente_mueve_dinero_solo_desde_sus_cuentas(mundo: Mundo) -> None:
    trx = mundo.as_("clienteA", "transacciones")

    async def retiro_propio() -> httpx.Response | None:
        # 404 until transacciones' replica of account owners has folded the opening of A's account.
        r = await trx.post("/transacciones", json=_movimiento("RETIRO", mundo.cuenta_a, None))
        return None if r.status_code == 404 else r

    r = await eventually(retiro_propio, timeout=60, what="A's account in transacciones' owner replica")
    assert r.status_code in (201, 202), r.text
    propia = r.json()["id"]
    r = await trx.post("/transacciones", json=_movimiento("TRANSFERENCIA", mundo.cuenta_a, mundo.cuenta_b))
    assert r.status_code in (201, 202), r.text
    ajena = _problem(await trx.post("/transacciones", json=_movimiento("RETIRO", mundo.cuenta_b, None)), 404)
    assert ajena["errors"][0]["field"] == "cuentaOrigenId"
    _problem(await trx.post("/transacciones", json=_movimiento("TRANSFERENCIA", mundo.cuenta_b, mundo.cuenta_a)), 404)
    _problem(await trx.post("/transacciones", json=_movimiento("DEPOSITO", None, mundo.cuenta_a)), 403)
    _problem(await trx.patch(f"/transacciones/{propia}/estado", json={"estado": "CANCELADA"}), 403)

    # B's own withdrawal: A cannot see it, by id or in any list.
    r = await eventually(
        lambda: _retiro(mundo.as_("clienteB", "transacciones"), mundo.cuenta_b), timeout=60, what="B's replica"
    )
    de_b = r.json()["id"]
    _problem(await trx.get(f"/transacciones/{de_b}"), 404)
    _problem(await trx.get(f"/transacciones/cuenta/{mundo.cuenta_b}"), 404)
    assert (await trx.get(f"/transacciones/{propia}")).status_code == 200
    for path in ("/transacciones", "/transacciones/tipo/RETIRO", "/transacciones/estado/COMPLETADA"):
        visibles = (await trx.get(path, params={"limit": 500})).json()
        assert all(mundo.cuenta_a in (t.get("cuentaOrigenId"), t.get("cuentaDestinoId")) for t in visibles), path
        assert de_b not in {t["id"] for t in visibles}
    assert propia in {t["id"] for t in (await trx.get("/transacciones", params={"limit": 500})).json()}
    staff = (await mundo.as_("auditor", "transacciones").get(f"/transacciones/{de_b}")).json()
    assert staff["id"] == de_b


async def _retiro(trx: httpx.AsyncClient, cuenta: int) -> httpx.Response | None:
    r = await trx.post("/transacciones", json=_movimiento("RETIRO", cuenta, None))
    return None if r.status_code == 404 else r

"""Every change records its actor, through the real stack: the CloudEvents authcontext (ce_authtype, ce_authid) on
the events a request causes, through each service's outbox; the saga's commands and cuentas' replies on behalf of
whoever asked for the transaction; and the records that keep it (cliente, transaction document, ledger rows, perfil).
"""

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from contracts import topics
from tests.conftest import eventually
from tests.integration.auth import CLIENT, TOKEN_URL, Bearer
from tests.integration.clientes.kafka_tail import Record, Tail
from tests.integration.conftest import URLS

pytestmark = pytest.mark.asyncio(loop_scope="session")


def actor(role: str) -> dict[str, str | None]:
    """How a change made by the demo user `role` (logged in through the stack's Keycloak) is recorded."""
    return {"authtype": "user", "authid": role}


CAJERO, OPERACIONES = "cajero", "operaciones"


def headers_of(role: str) -> dict[str, str]:
    """The authcontext headers of a record caused by the demo user `role`."""
    return {"ce_authtype": "user", "ce_authid": role}


def authcontext(record: Record) -> dict[str, str]:
    return {k: v for k, v in record.headers.items() if k in ("ce_authtype", "ce_authid")}


def of_type(name: str, **data: Any) -> Callable[[Record], bool]:
    return lambda r: r.headers.get("ce_type") == name and all(r.data.get(k) == v for k, v in data.items())


@dataclass
class Apis:
    """One client per service and role."""

    clients: dict[tuple[str, str], httpx.AsyncClient]

    def __call__(self, service: str, role: str) -> httpx.AsyncClient:
        return self.clients[(service, role)]


@pytest.fixture
async def apis() -> AsyncIterator[Apis]:
    clients = {
        (s, role): httpx.AsyncClient(base_url=URLS[s], timeout=30, auth=Bearer(role))
        for s in ("clientes", "cuentas", "transacciones", "perfil")
        for role in (CAJERO, OPERACIONES)
    }
    try:
        yield Apis(clients)
    finally:
        for client in clients.values():
            await client.aclose()


@pytest.fixture
async def tails() -> AsyncIterator[dict[str, Tail]]:
    """Each topic read from its end as the test starts."""
    opened: dict[str, Tail] = {}
    try:
        for topic in topics.ALL_TOPICS:
            opened[topic] = await Tail(topic).__aenter__()
        yield opened
    finally:
        for tail in opened.values():
            await tail.__aexit__()


async def nuevo_cliente(apis: Apis) -> dict[str, Any]:
    u = uuid.uuid4().hex[:12]
    body = {
        "nombre": "Ada",
        "apellido": f"Actor {u}",
        "email": f"actor.{u}@example.com",
        "documento": {"tipo_documento": "Pasaporte", "numero_documento": f"A{u.upper()}"},
    }
    r = await apis("clientes", CAJERO).post("/clientes", json=body)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def abrir_cuenta(apis: Apis, cliente_id: int, saldo: str) -> int:
    body = {"cliente_id": cliente_id, "tipo_cuenta_id": 1, "saldo": saldo, "moneda": "PEN"}

    async def attempt() -> int | None:
        r = await apis("cuentas", CAJERO).post("/cuentas", json=body)
        if r.status_code in (404, 502, 503):  # cuentas' replica does not know the cliente yet / balancer switching
            return None
        assert r.status_code == 201, r.text
        return int(r.json()["cuenta_id"])

    return await eventually(attempt, timeout=60, interval=0.2, what=f"cliente {cliente_id} in cuentas")


async def transferir(apis: Apis, origen: int, destino: int, monto: str) -> dict[str, Any]:
    """POST as operaciones; polled (as the same role) until the saga ends."""
    trx = apis("transacciones", OPERACIONES)
    body = {"tipo": "TRANSFERENCIA", "monto": monto, "moneda": "PEN", "cuentaOrigenId": origen}
    r = await trx.post("/transacciones", json=body | {"cuentaDestinoId": destino})
    assert r.status_code in (201, 202, 409), r.text

    async def final() -> dict[str, Any] | None:
        got = await trx.get(f"/transacciones/{r.json()['id']}")
        assert got.status_code == 200, got.text
        doc: dict[str, Any] = got.json()
        return doc if doc["estado"] in ("COMPLETADA", "FALLIDA") else None

    return await eventually(final, timeout=60, what="the transfer's final state")


async def movimientos(apis: Apis, cuenta_id: int) -> list[dict[str, Any]]:
    r = await apis("cuentas", CAJERO).get(f"/cuentas/{cuenta_id}/movimientos")
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    return rows


async def test_una_transferencia_lleva_su_actor_de_punta_a_punta(apis: Apis, tails: dict[str, Tail]) -> None:
    cliente = await nuevo_cliente(apis)
    cliente_id = cliente["cliente_id"]
    assert cliente["creado_por"] == cliente["actualizado_por"] == actor(CAJERO)
    origen, destino = await abrir_cuenta(apis, cliente_id, "100.00"), await abrir_cuenta(apis, cliente_id, "0.00")

    t = await transferir(apis, origen, destino, "30.00")
    assert t["estado"] == "COMPLETADA", t
    assert t["actor"] == actor(OPERACIONES)
    trx_id = t["transaccionId"]

    # Kafka: the request's events, the saga's commands and cuentas' replies all name the one who asked.
    eventos = tails[topics.TRANSACCIONES]
    for tipo in ("TransaccionSolicitada", "TransaccionRegistrada"):
        record = await eventos.wait_for(of_type(f"bank.transacciones.{tipo}.v1", transaccion_id=trx_id), what=tipo)
        assert authcontext(record) == headers_of(OPERACIONES), tipo
    comandos = tails[topics.CUENTAS_COMANDOS]
    for tipo in ("DebitarCuenta", "AcreditarCuenta"):
        record = await comandos.wait_for(of_type(f"bank.cuentas.{tipo}.v1", transaccion_id=trx_id), what=tipo)
        assert authcontext(record) == headers_of(OPERACIONES), tipo
    cuentas = tails[topics.CUENTAS]
    for cuenta_id in (origen, destino):
        reply = await cuentas.wait_for(
            of_type("bank.cuentas.SaldoActualizado.v1", transaccion_id=trx_id, cuenta_id=cuenta_id),
            what=f"SaldoActualizado of {cuenta_id}",
        )
        assert authcontext(reply) == headers_of(OPERACIONES)
    # ... while what cajero did before carries cajero.
    creado = await tails[topics.CLIENTES].wait_for(
        of_type("bank.clientes.ClienteCreado.v1", cliente_id=cliente_id), what="ClienteCreado"
    )
    assert authcontext(creado) == headers_of(CAJERO)
    abierta = await cuentas.wait_for(of_type("bank.cuentas.CuentaAbierta.v1", cuenta_id=origen), what="CuentaAbierta")
    assert authcontext(abierta) == headers_of(CAJERO)

    # Storage: the transaction document and the ledger rows keep it.
    stored = await apis("transacciones", CAJERO).get(f"/transacciones/{t['id']}")
    assert stored.json()["actor"] == actor(OPERACIONES)
    [apertura, debito] = await movimientos(apis, origen)
    assert (apertura["causa"], apertura["actor"]) == ("APERTURA", actor(CAJERO))
    assert (debito["causa"], debito["transaccion_id"], debito["actor"]) == ("SAGA", trx_id, actor(OPERACIONES))
    [credito] = await movimientos(apis, destino)
    assert (credito["operacion"], credito["actor"]) == ("CREDITO", actor(OPERACIONES))

    # perfil shows who made the cliente and who asked for each transaction.
    async def perfil_con_la_transaccion() -> dict[str, Any] | None:
        r = await apis("perfil", CAJERO).get(f"/api/clientes/{cliente_id}/perfil-completo")
        if r.status_code == 404:
            return None
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body if any(x["transaccionId"] == trx_id for x in body["transacciones_recientes"]) else None

    perfil = await eventually(perfil_con_la_transaccion, timeout=60, what="the transfer in perfil")
    assert perfil["cliente"]["creado_por"] == actor(CAJERO)
    for item in perfil["transacciones_recientes"]:
        assert item["actor"] == actor(OPERACIONES), item


async def test_una_compensacion_la_hace_la_saga_en_nombre_del_actor_original(
    apis: Apis, tails: dict[str, Tail]
) -> None:
    cliente_id = (await nuevo_cliente(apis))["cliente_id"]
    origen, destino = await abrir_cuenta(apis, cliente_id, "50.00"), await abrir_cuenta(apis, cliente_id, "0.00")
    r = await apis("cuentas", OPERACIONES).patch(f"/cuentas/{destino}/estado", json={"estado": "bloqueada"})
    assert r.status_code == 200, r.text
    bloqueo = await tails[topics.CUENTAS].wait_for(
        of_type("bank.cuentas.EstadoCuentaCambiado.v1", cuenta_id=destino), what="EstadoCuentaCambiado"
    )
    assert authcontext(bloqueo) == headers_of(OPERACIONES)

    t = await transferir(apis, origen, destino, "20.00")
    assert t["estado"] == "FALLIDA", t
    trx_id = t["transaccionId"]
    comandos = tails[topics.CUENTAS_COMANDOS]
    for tipo in ("DebitarCuenta", "AcreditarCuenta", "RevertirDebito"):
        record = await comandos.wait_for(of_type(f"bank.cuentas.{tipo}.v1", transaccion_id=trx_id), what=tipo)
        assert authcontext(record) == headers_of(OPERACIONES), tipo
    rechazo = await tails[topics.CUENTAS].wait_for(
        of_type("bank.cuentas.MovimientoRechazado.v1", transaccion_id=trx_id), what="MovimientoRechazado"
    )
    assert authcontext(rechazo) == headers_of(OPERACIONES)
    fallida = await tails[topics.TRANSACCIONES].wait_for(
        of_type("bank.transacciones.TransaccionFallida.v1", transaccion_id=trx_id), what="TransaccionFallida"
    )
    assert authcontext(fallida) == headers_of(OPERACIONES)
    saga = [m for m in await movimientos(apis, origen) if m["transaccion_id"] == trx_id]
    assert [(m["causa"], m["actor"]) for m in saga] == [("SAGA", actor(OPERACIONES)), ("REVERSION", actor(OPERACIONES))]


async def test_un_cambio_del_cliente_lo_firma_quien_lo_hizo(apis: Apis, tails: dict[str, Tail]) -> None:
    cliente = await nuevo_cliente(apis)
    cliente_id = cliente["cliente_id"]
    r = await apis("clientes", OPERACIONES).put(f"/clientes/{cliente_id}", json={"telefono": "987654321"})
    assert r.status_code == 200, r.text
    assert (r.json()["creado_por"], r.json()["actualizado_por"]) == (actor(CAJERO), actor(OPERACIONES))
    again = (await apis("clientes", CAJERO).get(f"/clientes/{cliente_id}")).json()
    assert (again["creado_por"], again["actualizado_por"]) == (actor(CAJERO), actor(OPERACIONES))
    evento = await tails[topics.CLIENTES].wait_for(
        of_type("bank.clientes.ClienteActualizado.v1", cliente_id=cliente_id), what="ClienteActualizado"
    )
    assert authcontext(evento) == headers_of(OPERACIONES)

    async def perfil_actualizado() -> dict[str, Any] | None:
        got = await apis("perfil", CAJERO).get(f"/api/clientes/{cliente_id}/perfil-completo")
        if got.status_code == 404:
            return None
        body: dict[str, Any] = got.json()
        return body if body["cliente"]["telefono"] == "987654321" else None

    perfil = await eventually(perfil_actualizado, timeout=60, what="the update in perfil")
    assert (perfil["cliente"]["creado_por"], perfil["cliente"]["actualizado_por"]) == (
        actor(CAJERO),
        actor(OPERACIONES),
    )


async def test_una_cuenta_de_servicio_queda_registrada_como_tal(tails: dict[str, Tail]) -> None:
    """The CLI's own login (client credentials, as `bank seed` uses it) is a service_account, not a user."""
    async with httpx.AsyncClient(timeout=30) as http:
        token = await http.post(
            TOKEN_URL, data={"grant_type": "client_credentials", "client_id": CLIENT[0], "client_secret": CLIENT[1]}
        )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        u = uuid.uuid4().hex[:12]
        body = {
            "nombre": "Sam",
            "apellido": f"Servicio {u}",
            "email": f"servicio.{u}@example.com",
            "documento": {"tipo_documento": "Pasaporte", "numero_documento": f"S{u.upper()}"},
        }
        r = await http.post(f"{URLS['clientes']}/clientes", json=body, headers=headers)
    assert r.status_code == 201, r.text
    servicio = {"authtype": "service_account", "authid": f"service-account-{CLIENT[0]}"}
    assert r.json()["creado_por"] == servicio
    creado = await tails[topics.CLIENTES].wait_for(
        of_type("bank.clientes.ClienteCreado.v1", cliente_id=r.json()["cliente_id"]), what="ClienteCreado"
    )
    assert authcontext(creado) == {"ce_authtype": "service_account", "ce_authid": f"service-account-{CLIENT[0]}"}

"""DELETE is refused while the cliente has an open account with money, as the cuentas projection knows it.

The projection is exercised two ways: in-process against a scratch database and a fresh cuentas topic (events we
craft: ordering by movimiento_id, duplicates, closed accounts), and end to end through the real cuentas service."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from consumers.handler import Delivery
from contracts.base import DomainEvent
from contracts.cuentas import CuentaEliminada, EstadoCuenta, EstadoCuentaCambiado, SaldoActualizado
from contracts.envelope import Envelope, envelope_for
from producers.kafka import make_producer
from services.clientes.handlers import CuentasProjector
from services.clientes.main import create_app, projection_worker
from services.clientes.settings import ClientesSettings
from services.platform.kafka_link import KafkaLink
from services.platform.workers import Workers
from tests.aperturas import abierta
from tests.asgi import in_process
from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.clientes.conftest import nuevo_cliente
from tests.integration.conftest import KAFKA, PG_DSN, URLS

NOW = datetime(2024, 5, 1, tzinfo=UTC)


@dataclass
class Harness:
    """clientes in-process on a scratch database, its projection consuming a fresh topic we publish to."""

    api: httpx.AsyncClient
    db: asyncpg.Pool
    topic: str
    producer: AIOKafkaProducer

    async def publish(self, event: DomainEvent | Envelope) -> Envelope:
        env = event if isinstance(event, Envelope) else envelope_for(event, source="/cuentas")
        await self.producer.send_and_wait(self.topic, env.value(), key=env.key, headers=env.headers())
        return env

    async def cuenta(self, cuenta_id: int) -> asyncpg.Record | None:
        return await self.db.fetchrow("SELECT * FROM cuentas_cliente WHERE cuenta_id = $1", cuenta_id)

    async def cliente(self) -> int:
        response = await self.api.post("/clientes", json=nuevo_cliente())
        assert response.status_code == 201, response.text
        cliente_id: int = response.json()["cliente_id"]
        return cliente_id


@pytest.fixture
async def harness(scratch_dsn: str) -> AsyncIterator[Harness]:
    topic = f"test.clientes.cuentas.{uuid.uuid4().hex[:12]}"
    group = f"{topic}.group"  # never the service's own group: joining it would rebalance the running service
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 3, 1), NewTopic(f"{topic}.dlq", 1, 1)])
    # No workers from the app itself: its outbox relay would publish this scratch database's clientes to the real
    # bank.clientes.v1. Only the projection worker runs, built by the same factory the service uses.
    settings = ClientesSettings(
        database_url=scratch_dsn,
        cuentas_topic=topic,
        cuentas_group=group,
        run_workers=False,
        db_pool_min=1,
        db_pool_max=3,
        kafka_bootstrap=KAFKA,
    )
    producer = make_producer(KAFKA)
    await producer.start()
    workers = Workers()
    link = KafkaLink(KAFKA, client_id="clientes-test")
    try:
        async with (
            in_process(create_app(settings), auth=Bearer()) as api,
            asyncpg.create_pool(scratch_dsn, min_size=1, max_size=2) as db,
        ):
            workers.spawn("projection", projection_worker(db, link, settings))
            yield Harness(api, db, topic, producer)
    finally:
        await workers.close()
        await link.close()
        await producer.stop()
        await admin.delete_topics([topic, f"{topic}.dlq"])
        await admin.close()


def _saldo(cuenta_id: int, cliente_id: int, movimiento_id: int, saldo: str) -> SaldoActualizado:
    return SaldoActualizado(
        cuenta_id=cuenta_id,
        cliente_id=cliente_id,
        numero_cuenta=f"{cuenta_id:013d}",
        movimiento_id=movimiento_id,
        operacion="DEBITO",
        causa="RETIRO",
        monto=Decimal("1.00"),
        saldo=Decimal(saldo),
        moneda="PEN",
        fecha=NOW,
    )


def _estado(cuenta_id: int, cliente_id: int, antes: EstadoCuenta, despues: EstadoCuenta) -> EstadoCuentaCambiado:
    return EstadoCuentaCambiado(
        cuenta_id=cuenta_id, cliente_id=cliente_id, estado_anterior=antes, estado=despues, fecha=NOW
    )


async def test_baja_rechazada_con_saldo_y_permitida_al_vaciar_la_cuenta(harness: Harness) -> None:
    cliente_id = await harness.cliente()
    await harness.publish(abierta(101, cliente_id, saldo="100.00", fecha=NOW))
    await eventually(lambda: harness.cuenta(101), what="CuentaAbierta projected")

    refused = await harness.api.delete(f"/clientes/{cliente_id}")
    assert refused.status_code == 409, refused.text
    assert (await harness.api.get(f"/clientes/{cliente_id}")).status_code == 200

    await harness.publish(_saldo(101, cliente_id, movimiento_id=7, saldo="0.00"))

    async def vaciada() -> bool:
        row = await harness.cuenta(101)
        return row is not None and row["saldo"] == 0

    await eventually(vaciada, what="saldo 0 projected")
    assert (await harness.api.delete(f"/clientes/{cliente_id}")).status_code == 200
    assert (await harness.api.get(f"/clientes/{cliente_id}")).status_code == 404


async def test_un_movimiento_anterior_no_pisa_el_saldo_de_uno_posterior(harness: Harness) -> None:
    cliente_id = await harness.cliente()
    await harness.publish(abierta(201, cliente_id, saldo="50.00", fecha=NOW))
    await harness.publish(_saldo(201, cliente_id, movimiento_id=9, saldo="0.00"))
    await harness.publish(_saldo(201, cliente_id, movimiento_id=8, saldo="50.00"))  # late, older movement
    # Same cuenta, same partition: once this one is projected, the late movement was consumed before it.
    await harness.publish(_estado(201, cliente_id, "activa", "bloqueada"))

    async def hasta_el_ultimo() -> asyncpg.Record | None:
        row = await harness.cuenta(201)
        return row if row is not None and row["estado"] == "bloqueada" else None

    row = await eventually(hasta_el_ultimo, what="all events of cuenta 201 projected")
    assert (row["saldo"], row["ultimo_movimiento_id"]) == (Decimal("0.00"), 9)
    assert (await harness.api.delete(f"/clientes/{cliente_id}")).status_code == 200


async def test_evento_duplicado_se_aplica_una_sola_vez(harness: Harness) -> None:
    cliente_id = await harness.cliente()
    await harness.publish(abierta(301, cliente_id, saldo="10.00", fecha=NOW))
    bloqueo = await harness.publish(_estado(301, cliente_id, "activa", "bloqueada"))
    await harness.publish(_estado(301, cliente_id, "bloqueada", "activa"))
    await harness.publish(bloqueo)  # redelivered: the same ce_id again
    await harness.publish(_saldo(301, cliente_id, movimiento_id=3, saldo="10.00"))  # last event of the partition

    async def hasta_el_ultimo() -> asyncpg.Record | None:
        row = await harness.cuenta(301)
        return row if row is not None and row["ultimo_movimiento_id"] == 3 else None

    row = await eventually(hasta_el_ultimo, what="all events of cuenta 301 projected")
    assert row["estado"] == "activa"


async def test_un_lote_con_un_evento_repetido_lo_aplica_una_vez_y_en_orden(harness: Harness) -> None:
    """The projector's batch path directly (one inbox statement, one executemany per run of a kind): an id twice in
    the same batch and a batch delivered again change nothing more."""
    cliente_id = await harness.cliente()
    bloqueo = envelope_for(_estado(401, cliente_id, "activa", "bloqueada"), source="/cuentas")
    eventos = [
        envelope_for(abierta(401, cliente_id, saldo="10.00", fecha=NOW), source="/cuentas"),
        bloqueo,
        envelope_for(_estado(401, cliente_id, "bloqueada", "activa"), source="/cuentas"),
        bloqueo,  # the same ce_id again, inside the batch: applied once, at its first place
        envelope_for(_saldo(401, cliente_id, movimiento_id=5, saldo="0.00"), source="/cuentas"),
        envelope_for(_saldo(401, cliente_id, movimiento_id=4, saldo="7.00"), source="/cuentas"),  # older
    ]
    projector = CuentasProjector(harness.db)
    lote = [Delivery(e, "t", 0, n) for n, e in enumerate(eventos)]
    await projector.handle_batch(lote)
    await projector.handle_batch(lote)  # redelivered whole
    row = await harness.cuenta(401)
    assert row is not None
    assert (row["estado"], row["saldo"], row["ultimo_movimiento_id"]) == ("activa", Decimal("0.00"), 5)
    aplicados = await harness.db.fetchval(
        "SELECT count(*) FROM inbox WHERE message_id = ANY($1::text[])", [e.id for e in eventos]
    )
    assert aplicados == 5


@pytest.mark.parametrize("final", ["cerrada", "eliminada"])
async def test_cuentas_cerradas_o_eliminadas_no_impiden_la_baja(harness: Harness, final: str) -> None:
    cliente_id = await harness.cliente()
    # A stale saldo on a closed account must not keep the cliente forever.
    await harness.publish(abierta(401, cliente_id, saldo="5.00", fecha=NOW))
    last: DomainEvent = (
        _estado(401, cliente_id, "activa", "cerrada")
        if final == "cerrada"
        else CuentaEliminada(cuenta_id=401, cliente_id=cliente_id, fecha=NOW)
    )
    await harness.publish(last)

    async def terminada() -> bool:
        row = await harness.cuenta(401)
        return row is not None and (row["estado"] == "cerrada" or row["eliminada"])

    await eventually(terminada, what=f"cuenta {final} projected")
    assert (await harness.api.delete(f"/clientes/{cliente_id}")).status_code == 200


# --- end to end through the real cuentas service and the running clientes service ---


async def _proyectada(cliente_id: int, saldo: Decimal) -> bool:
    conn = await asyncpg.connect(PG_DSN)
    try:
        return bool(
            await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM cuentas_cliente WHERE cliente_id = $1 AND saldo = $2)", cliente_id, saldo
            )
        )
    finally:
        await conn.close()


async def test_con_el_servicio_cuentas_real_la_baja_espera_a_que_la_cuenta_quede_en_cero(
    api: httpx.AsyncClient,
) -> None:
    cliente_id = (await api.post("/clientes", json=nuevo_cliente())).json()["cliente_id"]
    async with httpx.AsyncClient(auth=Bearer(), base_url=URLS["cuentas"], timeout=15.0) as cuentas:

        async def abrir() -> dict[str, Any] | None:
            # cuentas validates the cliente against its replica, which follows bank.clientes.v1 a moment behind.
            response = await cuentas.post(
                "/cuentas", json={"cliente_id": cliente_id, "tipo_cuenta_id": 1, "saldo": "100.00", "moneda": "PEN"}
            )
            return response.json() if response.status_code == 201 else None

        cuenta = await eventually(abrir, timeout=30, what="cuentas accepting the new cliente")
        await eventually(lambda: _proyectada(cliente_id, Decimal("100.00")), what="opening balance projected")
        assert (await api.delete(f"/clientes/{cliente_id}")).status_code == 409

        retiro = await cuentas.patch(
            f"/cuentas/{cuenta['cuenta_id']}/saldo", json={"monto": "100.00", "operacion": "retiro"}
        )
        assert retiro.status_code == 200, retiro.text
        await eventually(lambda: _proyectada(cliente_id, Decimal("0.00")), what="withdrawal projected")
    assert (await api.delete(f"/clientes/{cliente_id}")).status_code == 200

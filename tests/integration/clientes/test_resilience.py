"""clientes keeps serving while Kafka is away: writes land in the outbox, /health says 200 "degraded" naming Kafka."""

from typing import Any

import asyncpg

from services.clientes.main import create_app
from services.clientes.settings import ClientesSettings
from tests.asgi import in_process
from tests.integration.auth import Bearer
from tests.integration.clientes.conftest import nuevo_cliente

NO_BROKER = "127.0.0.1:1"  # nothing listens there: connection refused at once


async def test_sin_kafka_la_api_registra_y_health_es_degraded(scratch_dsn: str) -> None:
    settings = ClientesSettings(database_url=scratch_dsn, kafka_bootstrap=NO_BROKER, db_pool_min=1, db_pool_max=2)
    async with in_process(create_app(settings), auth=Bearer()) as api:
        created = await api.post("/clientes", json=nuevo_cliente())
        assert created.status_code == 201, created.text
        health = await api.get("/health")
        # Still ready for the balancer: a request needs only the database.
        assert health.status_code == 200
        body: dict[str, Any] = health.json()
        assert (body["status"], body["database"]) == ("degraded", "connected")
        assert body["kafka"].startswith("error")

    conn = await asyncpg.connect(scratch_dsn)
    try:
        pending = await conn.fetch("SELECT msg_key, published_at FROM outbox")
    finally:
        await conn.close()
    # The event waits in the outbox for the relay, committed with the cliente it describes.
    assert [(r["msg_key"], r["published_at"]) for r in pending] == [(str(created.json()["cliente_id"]), None)]

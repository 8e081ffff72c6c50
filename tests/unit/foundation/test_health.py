"""/health: a request-path dependency down is 503, a background one (Kafka) only degrades with 200."""

import json
from typing import Any

from services.platform.health import health_response


async def _ok() -> None:
    return None


async def _down() -> None:
    raise ConnectionError("refused")


async def _answer(**probes: Any) -> tuple[int, dict[str, Any]]:
    response = await health_response("1.2.3", probes)
    return response.status_code, json.loads(bytes(response.body))


async def test_todo_conectado_es_healthy_200() -> None:
    status, body = await _answer(database=_ok, kafka=_ok)
    assert status == 200
    assert {k: body[k] for k in ("status", "database", "kafka", "version")} == {
        "status": "healthy",
        "database": "connected",
        "kafka": "connected",
        "version": "1.2.3",
    }
    assert body["timestamp"]


async def test_kafka_caido_es_degraded_200_y_nombra_el_error() -> None:
    status, body = await _answer(database=_ok, kafka=_down)
    assert (status, body["status"], body["database"]) == (200, "degraded", "connected")
    assert body["kafka"] == "error: ConnectionError"


async def test_base_de_datos_caida_es_503_aunque_kafka_responda() -> None:
    status, body = await _answer(database=_down, kafka=_ok)
    assert (status, body["status"], body["database"]) == (503, "unhealthy", "error: ConnectionError")


async def test_ambos_caidos_es_503() -> None:
    status, body = await _answer(database=_down, kafka=_down)
    assert (status, body["status"]) == (503, "unhealthy")

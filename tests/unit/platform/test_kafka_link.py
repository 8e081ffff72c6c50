"""KafkaLink: a failed start is not cached, so the next caller tries again (the API never needs Kafka to boot)."""

import pytest
from aiokafka.errors import KafkaConnectionError

from services.platform.kafka_link import KafkaLink


async def test_sin_broker_cada_llamada_reintenta_y_cerrar_no_falla() -> None:
    link = KafkaLink("127.0.0.1:1", client_id="test")  # nothing listens on port 1
    for _ in range(2):
        with pytest.raises(KafkaConnectionError):
            await link.producer()
    await link.close()
    await link.close()  # idempotent

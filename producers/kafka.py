"""The one way we build a Kafka producer: idempotent, acks=all, so a retried send never duplicates or reorders."""

from aiokafka import AIOKafkaProducer

from contracts.envelope import Envelope
from producers.partitioner import partitioner


def make_producer(bootstrap_servers: str, *, client_id: str = "cloud-bank", linger_ms: int = 5) -> AIOKafkaProducer:
    """A producer that is not started yet; the caller owns its lifecycle (start/stop in a lifespan)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=linger_ms,
        max_batch_size=256 * 1024,
        request_timeout_ms=15000,
        retry_backoff_ms=200,
        partitioner=partitioner,
    )


async def publish(producer: AIOKafkaProducer, envelope: Envelope) -> None:
    """Send one envelope and wait until the broker has it (for code paths without an outbox)."""
    await producer.send_and_wait(envelope.topic, envelope.value(), key=envelope.key, headers=envelope.headers())

"""`bank topics create|list`: the topics of DESIGN.md §3 through the Kafka admin API, idempotently."""

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from contracts import topics

if TYPE_CHECKING:
    from aiokafka.admin import NewTopic

app = typer.Typer(no_args_is_help=True, help="Kafka topics.")

# The log is the audit trail and the replay source: never delete by age or size.
INFINITE = {"retention.ms": "-1", "retention.bytes": "-1"}


def wanted() -> list["NewTopic"]:
    from aiokafka.admin import NewTopic  # lazy: every `bank` command (each service's start) imports this module

    out = []
    for name in topics.ALL_TOPICS:
        out.append(NewTopic(name, num_partitions=topics.PARTITIONS[name], replication_factor=1, topic_configs=INFINITE))
        out.append(
            NewTopic(
                topics.dlq(name), num_partitions=topics.DLQ_PARTITIONS, replication_factor=1, topic_configs=INFINITE
            )
        )
    return out


async def ensure_topics(bootstrap: str) -> list[str]:
    """Create the missing topics; returns the names created."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted() if t.name not in existing]
        if missing:
            await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


@app.command("create")
def create(bootstrap: Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP")] = "127.0.0.1:9092") -> None:
    """Create every topic (and its .dlq) that does not exist yet."""
    created = asyncio.run(ensure_topics(bootstrap))
    typer.echo(f"created {len(created)} topics" + (f": {', '.join(created)}" if created else " (all existed)"))

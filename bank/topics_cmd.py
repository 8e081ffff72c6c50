"""`bank topics create|list|describe|lag`: the topics of DESIGN.md §3 (created idempotently) and what is in them."""

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from contracts import topics
from contracts.brokers import bootstrap_servers, replication

if TYPE_CHECKING:
    from aiokafka.admin import NewTopic

# Every broker of KAFKA_BROKERS (the local stack's); KAFKA_BOOTSTRAP or --bootstrap point elsewhere.
LOCAL_BOOTSTRAP = bootstrap_servers()

app = typer.Typer(no_args_is_help=True, help="Kafka topics.")

# The log is the audit trail and the replay source: never delete by age or size.
INFINITE = {"retention.ms": "-1", "retention.bytes": "-1"}


def wanted() -> list["NewTopic"]:
    """Every topic and its .dlq, replicated as KAFKA_BROKERS says (contracts.brokers: RF 1 / min ISR 1 on one
    broker, RF 3 / min ISR 2 on three)."""
    from aiokafka.admin import NewTopic  # lazy: every `bank` command (each service's start) imports this module

    copies = replication()
    configs = {**INFINITE, "min.insync.replicas": str(copies.min_insync)}
    out = []
    for name in topics.ALL_TOPICS:
        out.append(NewTopic(name, topics.PARTITIONS[name], copies.factor, topic_configs=configs))
        out.append(NewTopic(topics.dlq(name), topics.DLQ_PARTITIONS, copies.factor, topic_configs=configs))
    return out


async def ensure_topics(bootstrap: str, *, wait_brokers: float = 120.0) -> list[str]:
    """Create the missing topics; returns the names created. A freshly started cluster answers before all its
    brokers have registered: a replication factor above the registered count is refused, so wait for them."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        needed = replication().factor
        deadline = asyncio.get_running_loop().time() + wait_brokers
        while len((await admin.describe_cluster())["brokers"]) < needed:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"fewer than {needed} brokers registered after {wait_brokers:.0f}s")
            await asyncio.sleep(0.5)
        existing = set(await admin.list_topics())
        missing = [t for t in wanted() if t.name not in existing]
        if missing:
            await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


@app.command("create")
def create(bootstrap: Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP")] = LOCAL_BOOTSTRAP) -> None:
    """Create every topic (and its .dlq) that does not exist yet."""
    created = asyncio.run(ensure_topics(bootstrap))
    typer.echo(f"created {len(created)} topics" + (f": {', '.join(created)}" if created else " (all existed)"))


Bootstrap = Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP")]


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        typer.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@app.command("list")
def list_topics(bootstrap: Bootstrap = LOCAL_BOOTSTRAP) -> None:
    """Every topic with its partitions, replication factor and records in the log; ours that are missing."""
    from bank.kafka_inspect import describe

    found = asyncio.run(describe(bootstrap))
    _table(
        ("TOPIC", "PARTITIONS", "REPLICAS", "RECORDS"),
        [(t.name, len(t.partitions), t.replication, t.records) for t in found],
    )
    missing = sorted({t.name for t in wanted()} - {t.name for t in found})
    if missing:
        typer.echo(f"missing (run `bank topics create`): {', '.join(missing)}", err=True)
        raise typer.Exit(1)


@app.command("describe")
def describe_topic(
    topic: Annotated[str, typer.Argument(help="e.g. bank.cuentas.v1")], bootstrap: Bootstrap = LOCAL_BOOTSTRAP
) -> None:
    """TOPIC's partitions (leader, replicas, in-sync replicas, first and end offsets) and its own settings."""
    from bank.kafka_inspect import describe

    try:
        [info] = asyncio.run(describe(bootstrap, [topic], configs=True))
    except LookupError as exc:
        raise typer.BadParameter(str(exc), param_hint="TOPIC") from None
    typer.echo(
        f"{info.name}: {len(info.partitions)} partitions, replication {info.replication}, {info.records} records"
    )
    for name, value in sorted(info.configs.items()):
        typer.echo(f"  {name}={value}")
    _table(
        ("PARTITION", "LEADER", "REPLICAS", "ISR", "START", "END"),
        [
            (p.partition, p.leader, ",".join(map(str, p.replicas)), ",".join(map(str, p.isr)), p.start, p.end)
            for p in info.partitions
        ],
    )


@app.command("lag")
def lag(
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="only this consumer group (repeatable)")
    ] = None,
    bootstrap: Bootstrap = LOCAL_BOOTSTRAP,
) -> None:
    """Per consumer group and partition: committed offset, end offset and lag (records not yet processed)."""
    from bank.kafka_inspect import lag as read_lag

    rows = asyncio.run(read_lag(bootstrap, group))
    _table(
        ("GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"),
        [(r.group, r.topic, r.partition, r.committed, r.end, r.lag) for r in rows],
    )
    totals: dict[str, int] = {}
    for r in rows:
        totals[r.group] = totals.get(r.group, 0) + r.lag
    for name, total in totals.items():
        typer.echo(f"{name}: lag {total}", err=True)

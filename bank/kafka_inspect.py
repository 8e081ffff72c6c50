"""What `bank topics list|describe|lag` show: topics, their partitions and settings, and each consumer group's lag,
read through the Kafka admin API and a group-less reader (nothing is joined or committed)."""

from dataclasses import dataclass, field

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from consumers.reader import make_reader

# describe_configs' config_source for a broker default: not worth printing beside the topic's own settings.
DEFAULT_CONFIG_SOURCE = 5


@dataclass(frozen=True)
class PartitionInfo:
    partition: int
    leader: int
    replicas: list[int]
    isr: list[int]
    start: int  # first offset still in the log
    end: int  # high-water mark: the next offset to be written


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: list[PartitionInfo]
    configs: dict[str, str] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return sum(p.end - p.start for p in self.partitions)

    @property
    def replication(self) -> int:
        return max((len(p.replicas) for p in self.partitions), default=0)


@dataclass(frozen=True)
class Lag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


async def _offsets(bootstrap: str, tps: list[TopicPartition]) -> tuple[dict[TopicPartition, int], ...]:
    reader = make_reader(bootstrap, client_id="bank-topics")
    await reader.start()
    try:
        return await reader.beginning_offsets(tps), await reader.end_offsets(tps)
    finally:
        await reader.stop()


async def describe(bootstrap: str, names: list[str] | None = None, *, configs: bool = False) -> list[TopicInfo]:
    """Every topic (internal ones left out), or `names`; LookupError for a name that does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bank-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(set(names or ()) - existing)
        if missing:
            raise LookupError(f"no topic {', '.join(missing)}")
        metadata = await admin.describe_topics(sorted(names or existing))
        metadata = [t for t in metadata if not t["is_internal"]]
        settings: dict[str, dict[str, str]] = {}
        if configs and metadata:
            resources = [ConfigResource(ConfigResourceType.TOPIC, t["topic"]) for t in metadata]
            for response in await admin.describe_configs(resources):
                for resource in response.to_object()["resources"]:
                    settings[resource["resource_name"]] = {
                        e["config_names"]: e["config_value"]
                        for e in resource["config_entries"]
                        if e["config_source"] != DEFAULT_CONFIG_SOURCE
                    }
    finally:
        await admin.close()
    tps = [TopicPartition(t["topic"], p["partition"]) for t in metadata for p in t["partitions"]]
    starts, ends = await _offsets(bootstrap, tps) if tps else ({}, {})
    out = []
    for t in sorted(metadata, key=lambda t: t["topic"]):
        parts = [
            PartitionInfo(
                p["partition"],
                p["leader"],
                list(p["replicas"]),
                list(p["isr"]),
                starts[TopicPartition(t["topic"], p["partition"])],
                ends[TopicPartition(t["topic"], p["partition"])],
            )
            for p in sorted(t["partitions"], key=lambda p: p["partition"])
        ]
        out.append(TopicInfo(t["topic"], parts, settings.get(t["topic"], {})))
    return out


async def lag(bootstrap: str, groups: list[str] | None = None) -> list[Lag]:
    """Per consumer group and partition: the group's committed offset, the partition's end and the difference.
    Readers that join no group (perfil keeps its positions in its own database) have no row here."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bank-topics")
    await admin.start()
    try:
        names = groups or sorted(g for g, _ in await admin.list_consumer_groups())
        committed = {g: await admin.list_consumer_group_offsets(g) for g in names}
    finally:
        await admin.close()
    tps = sorted({tp for offsets in committed.values() for tp in offsets})
    _, ends = await _offsets(bootstrap, tps) if tps else ({}, {})
    return [
        Lag(group, tp.topic, tp.partition, meta.offset, ends[tp])
        for group in names
        for tp, meta in sorted(committed[group].items())
        if meta.offset >= 0  # -1: nothing committed for that partition yet
    ]

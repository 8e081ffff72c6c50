"""The operator's view of the whole system: every process's /metrics scraped at once and summed up (consumer lag,
outbox backlog, dead letters, DLQ depth, saga p50/p99, failures). `make status` prints it; analytics serves it to
the console's "Operaciones" tab as GET /operaciones.

Where the processes are: `infra/metrics-targets.txt` ("<supervisor program> <url>" lines, only those whose program
is configured, like infra/health-urls.txt), or the targets given (compose: ANALYTICS_METRICS_TARGETS).
"""

import asyncio
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, Field

ROOT = Path(__file__).resolve().parents[2]
TARGETS_FILE = ROOT / "infra" / "metrics-targets.txt"
SUPERVISOR_DIR = ROOT / "infra" / "supervisor.d"
SCRAPE_TIMEOUT = 3.0

Labels = dict[str, str]
Sample = tuple[str, Labels, float]


class Target(BaseModel):
    name: str
    url: str
    up: bool = False
    error: str | None = None


class Lag(BaseModel):
    group: str
    topic: str
    partition: int
    lag: int
    instance: str


class Backlog(BaseModel):
    outbox: str
    backlog: int
    oldest_age_seconds: float


class Sagas(BaseModel):
    by_outcome: dict[str, int] = Field(default_factory=dict)
    p50_seconds: float | None = None
    p99_seconds: float | None = None


class Failure(BaseModel):
    kind: str  # "http-5xx", "saga-fallida", "dead-letter"
    where: str
    count: int


class OpsView(BaseModel):
    """Counts are since each process started (Prometheus counters); lag and backlog are as of the scrape."""

    scraped_at: datetime
    targets: list[Target]
    consumer_lag: list[Lag]
    lag_by_group: dict[str, int]
    outboxes: list[Backlog]
    dlq_depth: dict[str, int] | None = Field(None, description="records in each dead-letter topic (None: Kafka away)")
    sagas: Sagas
    http_requests: int
    http_errors: int
    failures: list[Failure]


# -- targets --------------------------------------------------------------------------------------------------------


def configured_programs(folder: Path = SUPERVISOR_DIR) -> set[str]:
    found: set[str] = set()
    for conf in folder.glob("*.conf"):
        found |= set(re.findall(r"^\[program:([^\]]+)\]", conf.read_text(), re.MULTILINE))
    return found


def local_targets(path: Path = TARGETS_FILE, programs: set[str] | None = None) -> list[Target]:
    """The targets of the native stack: the file's lines whose program is configured in supervisor."""
    programs = configured_programs() if programs is None else programs
    targets: list[Target] = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#") and parts[0] in programs:
            targets.append(Target(name=parts[0], url=parts[1]))
    return targets


def parse_targets(text: str) -> list[Target]:
    """`name=url,name=url` (an env setting) as targets."""
    pairs = [item.split("=", 1) for item in text.split(",") if "=" in item]
    return [Target(name=name.strip(), url=url.strip()) for name, url in pairs]


# -- scrape ---------------------------------------------------------------------------------------------------------


def samples(text: str) -> list[Sample]:
    """Every sample of a text exposition as (name, labels, value)."""
    return [
        (s.name, dict(s.labels), s.value) for family in text_string_to_metric_families(text) for s in family.samples
    ]


async def scrape(targets: Sequence[Target], client: httpx.AsyncClient | None = None) -> list[Sample]:
    """Every target's samples (a target that does not answer is marked down, not fatal)."""
    own = client is None
    http = client or httpx.AsyncClient(timeout=SCRAPE_TIMEOUT)

    async def one(target: Target) -> list[Sample]:
        try:
            r = await http.get(target.url)
            r.raise_for_status()
        except httpx.HTTPError as exc:
            target.up, target.error = False, f"{type(exc).__name__}: {exc}"[:200]
            return []
        target.up = True
        return samples(r.text)

    try:
        found = await asyncio.gather(*(one(t) for t in targets))
    finally:
        if own:
            await http.aclose()
    return [s for batch in found for s in batch]


# -- sum up ---------------------------------------------------------------------------------------------------------


def quantile(buckets: dict[float, float], q: float) -> float | None:
    """The q-quantile of a cumulative histogram ({le: count}), linear inside the bucket, like PromQL's
    histogram_quantile; None without observations."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    total = buckets[bounds[-1]]
    rank = q * total
    lower, below = 0.0, 0.0
    for le in bounds:
        count = buckets[le]
        if count >= rank:
            if math.isinf(le):
                return lower  # past the last finite bound: its lower edge is all that is known
            inside = count - below
            return lower + (le - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = le, count
    return lower


def summarize(targets: list[Target], found: Iterable[Sample], dlq_depth: dict[str, int] | None = None) -> OpsView:
    lags: list[Lag] = []
    lag_by_group: dict[str, int] = defaultdict(int)
    outboxes: dict[str, Backlog] = {}
    saga_buckets: dict[float, float] = defaultdict(float)
    outcomes: dict[str, int] = defaultdict(int)
    requests = errors = 0
    failures: dict[tuple[str, str], int] = defaultdict(int)
    ages: dict[str, float] = {}
    for name, labels, value in found:
        if name == "cloudbank_consumer_lag":
            lag = Lag(
                group=labels["group"],
                topic=labels["topic"],
                partition=int(labels["partition"]),
                lag=int(value),
                instance=labels.get("instance", ""),
            )
            lags.append(lag)
            lag_by_group[lag.group] += lag.lag
        elif name == "cloudbank_outbox_backlog":
            # Instances over one database (cuentas-1, -2) each report the same table: the largest, not the sum.
            box = labels["outbox"]
            now = outboxes.get(box)
            if now is None or value > now.backlog:
                outboxes[box] = Backlog(outbox=box, backlog=int(value), oldest_age_seconds=0.0)
        elif name == "cloudbank_outbox_oldest_age_seconds":
            ages[labels["outbox"]] = max(ages.get(labels["outbox"], 0.0), value)
        elif name == "cloudbank_saga_duration_seconds_bucket":
            saga_buckets[float(labels["le"])] += value
        elif name == "cloudbank_saga_duration_seconds_count":
            outcomes[labels["outcome"]] += int(value)
            if labels["outcome"] == "FALLIDA" and value:
                failures[("saga-fallida", labels.get("instance", "transacciones"))] += int(value)
        elif name == "cloudbank_http_requests_total":
            requests += int(value)
            if labels["status"].startswith("5"):
                errors += int(value)
                where = f"{labels['service']} {labels['method']} {labels['route']} → {labels['status']}"
                failures[("http-5xx", where)] += int(value)
        elif name == "cloudbank_dead_lettered_total" and value:
            failures[("dead-letter", f"{labels['group']} ← {labels['topic']}")] += int(value)
    for box, age in ages.items():
        if box in outboxes:
            outboxes[box].oldest_age_seconds = round(age, 3)
    return OpsView(
        scraped_at=datetime.now(UTC),
        targets=targets,
        consumer_lag=sorted(lags, key=lambda x: (x.group, x.topic, x.partition)),
        lag_by_group=dict(sorted(lag_by_group.items())),
        outboxes=sorted(outboxes.values(), key=lambda b: b.outbox),
        dlq_depth=dlq_depth,
        sagas=Sagas(
            by_outcome=dict(sorted(outcomes.items())),
            p50_seconds=_round(quantile(saga_buckets, 0.5)),
            p99_seconds=_round(quantile(saga_buckets, 0.99)),
        ),
        http_requests=requests,
        http_errors=errors,
        failures=[Failure(kind=k, where=w, count=c) for (k, w), c in sorted(failures.items(), key=lambda kv: -kv[1])],
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


async def dlq_depths(bootstrap: str, topics: Sequence[str], timeout: float = SCRAPE_TIMEOUT) -> dict[str, int] | None:
    """Records in each dead-letter topic (end minus beginning offsets), read by a group-less client; None while
    Kafka does not answer. A DLQ topic not created yet holds 0."""
    from consumers.reader import make_reader, topic_partitions  # aiokafka only when asked

    reader = make_reader(bootstrap, client_id="ops-view")
    try:
        await asyncio.wait_for(reader.start(), timeout)
        depths: dict[str, int] = {}
        for topic in topics:
            try:
                tps = await asyncio.wait_for(topic_partitions(reader, topic), timeout)
            except LookupError:
                depths[topic] = 0
                continue
            begins = await asyncio.wait_for(reader.beginning_offsets(tps), timeout)
            ends = await asyncio.wait_for(reader.end_offsets(tps), timeout)
            depths[topic] = sum(ends[tp] - begins[tp] for tp in tps)
        return depths
    except Exception:  # Kafka away: the view says unknown rather than failing
        return None
    finally:
        await reader.stop()


async def ops_view(targets: list[Target], bootstrap: str | None, dlq_topics: Sequence[str]) -> OpsView:
    """Scrape every target (and the DLQ topics' depth when `bootstrap` is given) at once and sum up."""
    depth = dlq_depths(bootstrap, dlq_topics) if bootstrap else _none()
    found, depths = await asyncio.gather(scrape(targets), depth)
    return summarize(targets, found, depths)


async def _none() -> None:
    return None

"""What `bank audit` reports besides balances: sagas that never ended and messages dead-lettered.

A saga is read through the transacciones REST API (audit is a client of the services, never of their stores);
it is stuck when it is still PENDIENTE `stuck_after` after it was asked for. A dead letter is any record of a
`<topic>.dlq` topic. Both can be limited to what happened after `triaged_until`: what an operator has already
looked at (the DLQ is never deleted, so without that bound a single old letter would fail every audit).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from consumers.reader import make_reader, offsets_at, read_range, topic_partitions
from contracts.topics import dlq

SAMPLES = 5
_DLQ_SUFFIX = dlq("")


@dataclass(frozen=True)
class SagasPendientes:
    total: int
    muestras: tuple[dict[str, Any], ...] = ()

    def lines(self, stuck_after: timedelta) -> list[str]:
        head = f"  sagas PENDIENTE for more than {stuck_after.total_seconds():.0f}s: {self.total}"
        return [head] + [
            f"  - {t.get('transaccionId')} {t.get('tipo')} {t.get('monto')} {t.get('moneda')} since {t.get('fecha')}"
            + (f" ({t['motivo']})" if t.get("motivo") else "")
            for t in self.muestras
        ]


@dataclass
class DlqTopic:
    topic: str
    total: int = 0
    muestras: list[dict[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"  {self.topic}: {self.total} dead letter(s)"] + [
            "    - " + ", ".join(f"{k}={v}" for k, v in m.items()) for m in self.muestras
        ]


async def sagas_pendientes(
    transacciones_url: str,
    *,
    stuck_after: timedelta,
    triaged_until: datetime | None = None,
    samples: int = SAMPLES,
    auth: httpx.Auth | None = None,
) -> SagasPendientes:
    """PENDIENTE transactions asked for before now - stuck_after (and after triaged_until): the count and the oldest."""
    params: dict[str, Any] = {
        "estado": "PENDIENTE",
        "hasta": (datetime.now(UTC) - stuck_after).isoformat(),
        "limit": 1,
    }
    if triaged_until is not None:
        params["desde"] = triaged_until.isoformat()
    # The services require a bearer token: `auth` is the caller's (the bank CLI passes its service account's).
    async with httpx.AsyncClient(base_url=transacciones_url, timeout=30, auth=auth) as client:
        first = await client.get("/transacciones", params=params)
        first.raise_for_status()
        total = int(first.headers.get("X-Total-Count", len(first.json())))
        if total == 0:
            return SagasPendientes(0)
        # Newest first: the oldest (the most overdue) are at the end of the list.
        oldest = await client.get("/transacciones", params=params | {"limit": samples, "skip": max(0, total - samples)})
        oldest.raise_for_status()
        return SagasPendientes(total, tuple(reversed(oldest.json())))


async def dead_letters(
    bootstrap: str, *, triaged_until: datetime | None = None, samples: int = SAMPLES
) -> list[DlqTopic]:
    """Every `<topic>.dlq` that holds a record (after triaged_until): how many, and the first few."""
    consumer = make_reader(bootstrap, client_id="bank-audit-dlq")
    await consumer.start()
    try:
        out = []
        for topic in sorted(t for t in await consumer.topics() if t.endswith(_DLQ_SUFFIX)):
            tps = await topic_partitions(consumer, topic)
            starts = await offsets_at(consumer, tps, triaged_until)
            stops = await consumer.end_offsets(tps)
            if all(starts[tp] >= stops[tp] for tp in tps):
                continue
            found = DlqTopic(topic)
            async for record in read_range(consumer, starts, stops):
                found.total += 1
                if len(found.muestras) < samples:
                    found.muestras.append(_sample(record.key, record.timestamp, record.headers))
            if found.total:
                out.append(found)
        return out
    finally:
        await consumer.stop()


def _sample(key: bytes | None, timestamp: int, headers: Any) -> dict[str, str]:
    h = {k: (v or b"").decode(errors="replace") for k, v in headers}
    sample = {
        "at": datetime.fromtimestamp(timestamp / 1000, UTC).isoformat(timespec="seconds"),
        "key": (key or b"").decode(errors="replace"),
        "type": h.get("ce_type", "?"),
        "from": f"{h.get('dlq_original_topic', '?')}@{h.get('dlq_original_partition', '?')}:"
        f"{h.get('dlq_original_offset', '?')}",
        "group": h.get("dlq_consumer_group", "?"),
        "error": " ".join(h.get("dlq_error", "?").split())[:200],
    }
    return sample

"""Read-your-writes for a replica folded from a topic: a lookup that misses is tried again, within a bound, while the
replica's consumer group has not yet committed up to the end of the topic as it stood just after the miss.

Why: transacciones knows an account's owner and currency from its replica of the openings (propietarios.py), which
lags cuentas by a fold (a bulk fetch, ~0.3 s). Staff who open an account and quote on it at once, or a customer
who moves money from an account opened a moment ago, got 404 "Cuenta no encontrada" and had to poll. Asking cuentas
instead would make transacciones depend on cuentas being up; this asks only Kafka (which the replica needs anyway),
and only on a miss: an id the replica does not know and has nothing pending for is answered after SETTLE_SECONDS.

Once the group's committed offsets reach the end offsets taken SETTLE_SECONDS after the miss, every opening
published by then (cuentas publishes within ms of its commit) is in the replica, so a lookup after that is final. A miss while Kafka does not answer is answered as
before (not found): the bound keeps it short.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from consumers.reader import make_reader, topic_partitions

log = logging.getLogger(__name__)

T = TypeVar("T")

LIMIT_SECONDS = 3.0  # the longest a miss waits: the replica's fold plus its group's commit, several times over
# What cuentas commits reaches Kafka a few ms later (its outbox relay): end offsets read at the miss itself could
# predate an opening answered a moment before the request. They are read this long after the miss instead.
SETTLE_SECONDS = 0.25
POLL_SECONDS = 0.05


class ReplicaCatchUp:
    """Kafka clients opened at the first miss that outlasts SETTLE_SECONDS, and kept (then a miss costs two small
    requests per look, not a connect) until `aclose` (use it in `contextlib.aclosing`)."""

    def __init__(
        self,
        bootstrap: str,
        group: str,
        topic: str,
        *,
        limit: float = LIMIT_SECONDS,
        settle: float = SETTLE_SECONDS,
        poll: float = POLL_SECONDS,
    ) -> None:
        self._bootstrap = bootstrap
        self._group = group
        self._topic = topic
        self._limit = limit
        self._settle = settle
        self._poll = poll
        self._clients: tuple[AIOKafkaConsumer, AIOKafkaAdminClient, list[TopicPartition]] | None = None
        self._opening = asyncio.Lock()

    async def retry(self, lookup: Callable[[], Awaitable[T | None]]) -> T | None:
        """`lookup` again every POLL_SECONDS until it finds something, the group has caught up with the topic's
        end as it stood SETTLE_SECONDS after the call (then one last time), or the bound passes; None when it found
        nothing."""
        started = time.monotonic()
        deadline = started + self._limit
        ends: dict[TopicPartition, int] | None = None
        try:
            while True:
                caught_up = False
                if time.monotonic() >= started + self._settle:
                    reader, admin, tps = await asyncio.wait_for(self._open(), _left(deadline))
                    ends = ends or dict(await asyncio.wait_for(reader.end_offsets(tps), _left(deadline)) or {})
                    # Caught up first, then the lookup: a lookup after the group reached `ends` sees every opening.
                    caught_up = await self._caught_up(admin, ends, deadline)
                found = await lookup()
                if found is not None or caught_up or time.monotonic() + self._poll > deadline:
                    return found
                await asyncio.sleep(self._poll)
        except Exception as exc:  # Kafka away or slow: the miss stands, as before this existed
            log.warning("replica catch-up of %s on %s not checked: %r", self._group, self._topic, exc)
            await self.aclose()  # a later miss opens fresh clients
            return None

    async def _caught_up(self, admin: AIOKafkaAdminClient, ends: dict[TopicPartition, int], deadline: float) -> bool:
        asked = admin.list_consumer_group_offsets(self._group, partitions=list(ends))
        committed = await asyncio.wait_for(asked, _left(deadline))
        return all((committed.get(tp) is not None and committed[tp].offset >= end) for tp, end in ends.items() if end)

    async def _open(self) -> tuple[AIOKafkaConsumer, AIOKafkaAdminClient, list[TopicPartition]]:
        async with self._opening:
            if self._clients is None:
                reader = make_reader(self._bootstrap, client_id=f"{self._group}-catch-up")
                admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, client_id=f"{self._group}-catch-up")
                try:
                    await reader.start()
                    await admin.start()
                    tps = await topic_partitions(reader, self._topic)
                except BaseException:
                    await _stop(reader, admin)
                    raise
                self._clients = (reader, admin, tps)
            return self._clients

    async def aclose(self) -> None:
        clients, self._clients = self._clients, None
        if clients is not None:
            await _stop(clients[0], clients[1])


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


async def _stop(reader: AIOKafkaConsumer, admin: AIOKafkaAdminClient) -> None:
    for stop in (reader.stop, admin.close):
        try:
            await stop()
        except Exception as exc:
            log.debug("closing a catch-up client: %r", exc)

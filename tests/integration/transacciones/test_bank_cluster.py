"""The bank test on the 3-broker Kafka (`make test-cluster`, KAFKA_BROKERS=3): one broker killed (-9) mid-run and
restarted by supervisor, and every invariant still holds — books, perfil, the lake once per event, `bank audit`.

Printed: how long the killed broker's partitions had no live leader, how many requests were acknowledged, that
none was lost or applied twice, and how long until the broker was back in every partition's in-sync replicas.
"""

import asyncio
import time
from dataclasses import dataclass, field

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from contracts import brokers, topics
from tests.integration.conftest import KAFKA
from tests.integration.transacciones import jepsen
from tests.integration.transacciones.conftest import Banco

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.asyncio(loop_scope="session"),
]

KILL_AT = 15.0
LOAD_SECONDS = 60.0
WATCHED = (*topics.ALL_TOPICS, "__consumer_offsets")


def program_of(node: int) -> str:
    return "kafka" if node == 1 else f"kafka-{node}"


@dataclass
class Partitions:
    """Every WATCHED partition: leader and in-sync replicas, as the cluster's metadata says now."""

    leaders: dict[tuple[str, int], int] = field(default_factory=dict)
    isr: dict[tuple[str, int], list[int]] = field(default_factory=dict)


async def partitions(admin: AIOKafkaAdminClient) -> Partitions:
    out = Partitions()
    for t in await admin.describe_topics(list(WATCHED)):
        for p in t["partitions"]:
            out.leaders[(t["topic"], p["partition"])] = p["leader"]
            out.isr[(t["topic"], p["partition"])] = list(p["isr"])
    return out


@dataclass
class BrokerWatch:
    """From the kill of `node`: until its partitions have a live leader again, and until it is back in every ISR."""

    node: int
    killed_at: float = 0.0
    led: int = 0  # partitions it led when killed
    leaderless_for: float | None = None
    back_in_isr_after: float | None = None

    async def watch(self, admin: AIOKafkaAdminClient, timeout: float = 240.0) -> None:
        while time.monotonic() < self.killed_at + timeout:
            try:
                now = await partitions(admin)
            except Exception:  # the metadata request went to the dead broker: ask again
                await asyncio.sleep(0.2)
                continue
            at = time.monotonic() - self.killed_at
            if self.leaderless_for is None and all(leader not in (-1, self.node) for leader in now.leaders.values()):
                self.leaderless_for = at
            if self.leaderless_for is not None and all(self.node in isr for isr in now.isr.values()):
                self.back_in_isr_after = at
                return
            await asyncio.sleep(0.2)


async def test_el_banco_cuadra_con_un_broker_matado(banco: Banco) -> None:
    assert brokers.broker_count() == 3, "needs KAFKA_BROKERS=3: run `make test-cluster`"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        before = await partitions(admin)
        assert all(len(isr) == 3 for isr in before.isr.values()), before.isr
        # The broker leading most partitions: the kill that moves the most leaders.
        node = max((1, 2, 3), key=lambda n: sum(leader == n for leader in before.leaders.values()))
        watch = BrokerWatch(node, led=sum(leader == node for leader in before.leaders.values()))
        cliente_id = await banco.nuevo_cliente()

        async def cuenta(saldo: str, moneda: str = "PEN") -> int:
            return await banco.abrir_cuenta(cliente_id, saldo, moneda)  # the run opens a few USD accounts for FX

        async def on_kill() -> None:
            # The nemesis records the kill's time; start the watch as soon as it happened.
            while not run_task.done():
                if nemesis.kills:
                    watch.killed_at = nemesis.kills[0].at
                    await watch.watch(admin)
                    return
                await asyncio.sleep(0.05)

        nemesis = jepsen.Nemesis([(KILL_AT, f"infra:{program_of(node)}")])
        run_task = asyncio.create_task(
            jepsen.run_bank(
                banco,
                cuenta,
                nemesis=nemesis,
                load_seconds=LOAD_SECONDS,
                settle_seconds=180.0,
            )
        )
        watcher = asyncio.create_task(on_kill())
        run = await run_task
        await watcher
    finally:
        await admin.close()

    print(jepsen.report(run, f"3-broker Kafka: broker {node} ({program_of(node)}) killed -9 at +{KILL_AT:.0f}s"))
    print(
        f"broker {node} led {watch.led} partitions: without a live leader for {jepsen.secs(watch.leaderless_for)} "
        f"after the kill; back in every ISR after {jepsen.secs(watch.back_in_isr_after)}"
    )
    assert [k.program for k in run.nemesis.kills] == [f"infra:{program_of(node)}"], run.nemesis.kills
    saldos = await jepsen.check_books(banco, run)
    print(jepsen.report_extras(run, await jepsen.check_retenciones(banco, run), jepsen.check_reversiones(run)))
    events = await jepsen.check_events(run)
    print(
        f"acked {len(run.clients.ids)} requests, {len(run.finales)} transactions final, none lost (each has its "
        f"final event), none applied twice; Kafka {events.records} records for {events.distinct} distinct event "
        f"ids, lake {events.lake_rows} rows (each id once)"
    )
    await jepsen.check_perfil(cliente_id, saldos)
    jepsen.check_audit(run)
    assert watch.leaderless_for is not None, "the killed broker's partitions never got another leader"
    assert watch.back_in_isr_after is not None, "the restarted broker never caught up with every partition"

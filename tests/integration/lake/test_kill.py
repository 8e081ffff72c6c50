"""A sink instance of the running stack killed (-9) mid-stream: the other one and the restarted one share its
partitions again, and the lake still holds every event of the run exactly once (lake ids == Kafka's distinct ids).
The failover window is measured and printed."""

import asyncio
import time
from collections import Counter

import httpx
from aiokafka import TopicPartition

from tests.integration import stack
from tests.integration.auth import Bearer
from tests.integration.lake.test_outbox_copies import STACK_LAKE, all_committed, lake_ids, report
from tests.integration.scaling import (
    Load,
    committed,
    end_offsets,
    held_partitions,
    kafka_ids,
    open_accounts,
    running,
    wait_until,
)

GROUP = "lake.sink"
METRICS = {"lake-1": "http://127.0.0.1:9464/metrics", "lake-2": "http://127.0.0.1:9465/metrics"}


async def held() -> dict[str, set[TopicPartition]]:
    out: dict[str, set[TopicPartition]] = {}
    for name, url in METRICS.items():
        try:
            out[name] = await held_partitions(url, GROUP)
        except httpx.TransportError:
            out[name] = set()  # not serving (killed, or starting)
    return out


async def test_kill_9_de_un_sumidero_bajo_carga_no_pierde_ni_duplica_eventos() -> None:
    everything = set(await end_offsets())
    before = await held()
    assert before["lake-1"], f"both sinks hold partitions: {before}"
    assert before["lake-2"], f"both sinks hold partitions: {before}"
    assert before["lake-1"] | before["lake-2"] == everything
    assert not before["lake-1"] & before["lake-2"], "no partition held twice"

    cuentas = await open_accounts(3)
    starts = await end_offsets()
    async with httpx.AsyncClient(auth=Bearer(), timeout=60) as http:
        load = Load(http, cuentas)
        async with running(load):
            await asyncio.sleep(8)
            at_kill = await end_offsets()
            stack.kill9("lake-1")
            killed = time.monotonic()
            await asyncio.sleep(0.5)  # the dead one's /metrics is gone

            async def reassigned() -> bool:
                now = await held()
                return now["lake-1"] | now["lake-2"] == everything

            async def caught_up() -> bool:
                have = await committed(GROUP)
                return all(have.get(tp, 0) >= end for tp, end in at_kill.items() if tp in before["lake-1"])

            assert await wait_until(reassigned, timeout=180) is not None, await held()
            reassigned_after = time.monotonic() - killed
            assert await wait_until(caught_up, timeout=180) is not None, "the killed sink's partitions caught up"
            caught_up_after = time.monotonic() - killed
        await load.wait_final()
    print(
        f"\n[lake-1 kill -9] every partition held by a live sink again after {reassigned_after:.1f} s; "
        f"everything published before the kill on its partitions committed to the lake after {caught_up_after:.1f} s"
    )

    stops = await end_offsets()
    await all_committed(GROUP, stops, timeout=240)
    kafka = await kafka_ids(starts, stops)
    lake: Counter[str] = lake_ids(STACK_LAKE, set(kafka.ids))
    report("lake-1 killed", kafka.records, len(kafka.ids), sum(lake.values()))
    assert kafka.records > 100, "the load reached Kafka"
    assert set(lake) == set(kafka.ids), f"missing from the lake: {sorted(set(kafka.ids) - set(lake))[:10]}"
    assert [i for i, n in lake.items() if n > 1] == [], "an event twice in the lake"

"""Rebuild the view from offset 0 into a fresh schema while the live copy keeps serving, then switch.

0. take the rebuild lock (a second rebuild waits: each would drop the other's half-built copy);
1. create perfil_v<n+1> (no search index yet: bulk folding is faster without it);
2. fold every partition from its beginning up to the end offsets taken when the rebuild started
   (when comparing, capped at the live copy's offsets, so the two can be compared at equal offsets);
3. catch up to newer end offsets (a few rounds, same cap) and build the search index;
4. lock the pointer row: the live projection blocks before its next fold, so the live copy stops at
   known offsets. If the new copy is not past them, fold exactly up to them and compare the two
   copies document by document (they must be equal); then fold up to the current end, move the
   pointer and commit. The live projection sees the new pointer and continues from the new copy's
   offsets. The previous copy is kept (for comparison and roll-back); older ones are dropped.
A failed rebuild drops its copy; the live one never stops serving.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import TopicPartition

from consumers.reader import end_offsets, make_reader, topic_partitions
from services.perfil.runner import fold_until
from services.perfil.store import ViewStore

log = logging.getLogger(__name__)

Say = Callable[[str], None]


@dataclass
class RebuildReport:
    schema: str
    previous: str
    events: int = 0
    documents: int = 0
    seconds: float = 0.0
    fold_seconds: float = 0.0
    switched: bool = False
    compared: bool = False
    differences: int = 0
    different_ids: list[int] = field(default_factory=list)
    compared_at: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        return self.events / self.fold_seconds if self.fold_seconds > 0 else 0.0


def _number(schema: str) -> int:
    return int(schema.removeprefix("perfil_v"))


async def rebuild(
    store: ViewStore,
    bootstrap: str,
    topics: list[str],
    *,
    switch: bool = True,
    compare: bool = True,
    keep_previous: int = 1,
    catch_up_rounds: int = 3,
    say: Say = print,
    older_than: int | None = None,
) -> RebuildReport:
    """`older_than`: rebuild only if the active copy, once this rebuild holds the lock, was built by a format older
    than that (several perfil instances upgrading at once: the first rebuilds, the others find it done)."""
    started = time.monotonic()
    async with store.rebuild_lock(lambda: say("another rebuild is running: waiting for it to finish")):
        previous = await store.active_schema()
        if older_than is not None and await store.upgrade_view(previous) >= older_than:
            say(f"the active view {previous} is of format {older_than} already: nothing to rebuild")
            return RebuildReport(schema=previous, previous=previous)
        schema = await store.create_view(search_index=False)
        report = RebuildReport(schema=schema, previous=previous)
        try:
            await _build(
                store,
                bootstrap,
                topics,
                report,
                switch=switch,
                compare=compare,
                catch_up_rounds=catch_up_rounds,
                say=say,
            )
        except BaseException:
            try:
                await store.drop_view(schema)  # a half-built copy is of no use to anyone
            except Exception as exc:
                log.warning("could not drop %s: %r", schema, exc)
            raise
        if switch:
            say(f"switched the active view {previous} -> {schema}")
            # Only copies older than the one just replaced: keep_previous - 1 of them survive besides it.
            old = [s for s in await store.view_schemas() if _number(s) < _number(previous)]
            for s in old[: max(0, len(old) - (keep_previous - 1))]:
                await store.drop_view(s)
                say(f"dropped old view {s}")
    report.seconds = time.monotonic() - started
    return report


async def _build(
    store: ViewStore,
    bootstrap: str,
    topics: list[str],
    report: RebuildReport,
    *,
    switch: bool,
    compare: bool,
    catch_up_rounds: int,
    say: Say,
) -> None:
    schema, previous = report.schema, report.previous
    consumer = make_reader(bootstrap, client_id="perfil-rebuild", max_poll_records=5000)
    await consumer.start()
    try:
        tps = await topic_partitions(consumer, *topics)
        consumer.assign(tps)
        ends = await end_offsets(consumer, tps)
        total = sum(ends.values())
        say(f"rebuilding {schema} from offset 0 up to {total} records (live view {previous} keeps serving)")
        last_said = [time.monotonic()]

        def progress(done: int) -> None:
            if time.monotonic() - last_said[0] >= 5:
                last_said[0] = time.monotonic()
                say(f"  {done}/{total} records folded")

        async def targets() -> dict[TopicPartition, int]:
            """Up to the end, but (when comparing) never past the live copy, which only moves forward:
            then, once the live copy is frozen, the new one can be brought to exactly its offsets."""
            if not compare:
                return ends
            live = await store.offsets(previous)
            return {tp: min(end, live.get(tp, 0)) for tp, end in ends.items()}

        fold_started = time.monotonic()
        report.events += await fold_until(consumer, store, schema, await targets(), on_progress=progress)
        report.fold_seconds = time.monotonic() - fold_started
        for _ in range(catch_up_rounds):
            ends = await end_offsets(consumer, tps)
            caught = await fold_until(consumer, store, schema, await targets())
            report.events += caught
            if caught < 1000:
                break
        await store.build_search_index(schema)

        async with store.pool.acquire() as conn, conn.transaction():
            # Held until commit: the live projection waits at its next fold, readers are not blocked.
            active = await conn.fetchval("SELECT schema_name FROM view_pointer WHERE id = 1 FOR UPDATE")
            if active != previous:
                raise RuntimeError(f"another rebuild switched the view to {active} meanwhile; {schema} abandoned")
            live = await store.offsets(previous)
            mine = await store.offsets(schema)
            if compare and all(mine.get(tp, 0) <= live.get(tp, 0) for tp in tps):
                report.events += await fold_until(consumer, store, schema, {tp: live.get(tp, 0) for tp in tps})
                report.differences, report.different_ids = await store.differences(previous, schema)
                report.compared = True
                report.compared_at = {f"{tp.topic}:{tp.partition}": live.get(tp, 0) for tp in tps}
                if report.differences:
                    say(f"WARNING: {report.differences} clientes differ from {previous}, e.g. {report.different_ids}")
                else:
                    say(f"rebuilt view equals live view {previous} at the same offsets")
            elif compare:
                say(f"not compared: the live view {previous} went backwards (was it rebuilt meanwhile?)")
            if switch:
                report.events += await fold_until(consumer, store, schema, await end_offsets(consumer, tps))
                await conn.execute("UPDATE view_pointer SET schema_name = $1, switched_at = now() WHERE id = 1", schema)
                report.switched = True
        report.documents = await store.count_documents(schema)
    finally:
        await consumer.stop()

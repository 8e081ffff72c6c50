"""Exactly-once in the lake against the real Kafka: the sink is killed with SIGKILL mid-flush (a crash
drill inside the flush, then an external kill -9), restarted with different batch sizes each time, and
in the end every record of the topics is in the lake exactly once (count, positions and event ids)."""

import signal
import subprocess
from collections import Counter
from pathlib import Path

from tests.conftest import eventually
from tests.integration.lake.kafka_helpers import (
    lake_contents,
    produce,
    sink_env,
    start_sink,
)

EVENTS = 6000
GARBAGE = 4


def wait_exit(process: subprocess.Popen[bytes], timeout: float = 120) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


async def test_kill_9_a_mitad_de_flush_y_reinicios_dejan_cada_evento_una_vez(
    tmp_path: Path, topics: list[str], unique: str
) -> None:
    positions, ids = await produce(topics, EVENTS, garbage=GARBAGE)
    root = tmp_path / "lake"
    env = sink_env(topics, root, f"lake.sink.test.{unique}")
    log_path = tmp_path / "sink.log"

    with log_path.open("ab") as log:
        # Life 1: batches of 100; the crash drill SIGKILLs the process after its 14th file, inside a flush
        # (files of the batch partly written, offsets not committed).
        first = start_sink(env | {"LAKE_FLUSH_RECORDS": "100", "LAKE_DEBUG_KILL_AFTER_FILES": "14"}, log)
        assert wait_exit(first) == -signal.SIGKILL, log_path.read_text()[-3000:]
        after_first, _ = lake_contents(root)
        assert 0 < len(after_first) < EVENTS + GARBAGE

        # Life 2: SMALLER batches (37), so the lost batch is redone as a subset of itself; killed -9 from
        # outside as soon as it made progress.
        second = start_sink(env | {"LAKE_FLUSH_RECORDS": "37"}, log)

        async def progressed() -> bool:
            return len(lake_contents(root)[0]) > len(after_first) + 200

        await eventually(progressed, timeout=90, interval=0.05, what="the restarted sink to write more")
        second.send_signal(signal.SIGKILL)
        assert wait_exit(second) == -signal.SIGKILL

        # Life 3: yet another batch size, runs to the end and stops gracefully.
        third = start_sink(env | {"LAKE_FLUSH_RECORDS": "61"}, log)

        async def started() -> bool:
            lives = log_path.read_text().split("lake sink: [")
            return len(lives) == 4 and "partitions assigned" in lives[3]

        await eventually(started, timeout=90, what="the third sink to join the group")

        async def complete() -> bool:
            return len(lake_contents(root)[0]) >= EVENTS + GARBAGE

        await eventually(complete, timeout=150, interval=0.2, what="every record in the lake")
        third.send_signal(signal.SIGTERM)
        assert wait_exit(third) == 0, log_path.read_text()[-3000:]

    found, found_ids = lake_contents(root)
    duplicated = [p for p, n in Counter(found).items() if n > 1]
    assert not duplicated, f"{len(duplicated)} records in two files, e.g. {duplicated[:3]}"
    assert set(found) == positions
    assert len(found) == EVENTS + GARBAGE
    assert sorted(found_ids) == sorted(ids)
    assert "removing" in log_path.read_text()  # the restart really cleaned an uncommitted batch

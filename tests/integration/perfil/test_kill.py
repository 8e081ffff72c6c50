"""A perfil process killed (SIGKILL) mid-stream resumes from the view's own offsets: nothing lost, nothing twice."""

import asyncio
import json
import os
import signal
import socket
import uuid
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from services.perfil.store import ViewStore
from tests.conftest import eventually
from tests.integration.conftest import KAFKA
from tests.integration.perfil.conftest import Publish, Topics
from tests.integration.perfil.test_projection import applied, expected_documents, stored_documents
from tests.unit.perfil import events as ev

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def start_perfil(view_db: str, topics: Topics) -> AsyncIterator[Callable[[], Awaitable[Process]]]:
    procs: list[Process] = []
    env = {
        **os.environ,
        "PERFIL_DATABASE_URL": view_db,
        "PERFIL_KAFKA_BOOTSTRAP": KAFKA,
        "PERFIL_TOPICS": json.dumps(topics.all()),
        "PERFIL_GROUP_ID": f"perfil.test.{uuid.uuid4().hex[:8]}",  # not the stack's group: its own topics
        "PERFIL_BATCH_MAX_RECORDS": "300",  # many small transactions: a kill lands between or inside one
    }

    async def start() -> Process:
        proc = await asyncio.create_subprocess_exec(
            str(ROOT / ".venv/bin/bank"),
            "serve",
            "perfil",
            "--port",
            str(free_port()),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.returncode is None:
            proc.kill()


async def test_a_projection_killed_mid_stream_resumes_without_loss_or_double_folding(
    store: ViewStore, publish: Publish, start_perfil
) -> None:
    messages = ev.workload(400, seed=3, first_id=1000)
    await publish(*messages)

    first = await start_perfil()

    async def some_folded() -> bool:
        return await applied(store) > 0

    await eventually(some_folded, timeout=60, interval=0.02, what="the projection to start folding")
    os.kill(first.pid, signal.SIGKILL)
    await first.wait()
    at_kill = await applied(store)
    assert 0 < at_kill < len(messages), "the kill should land mid-stream"

    await start_perfil()

    async def all_folded() -> bool:
        return await applied(store) >= len(messages)

    await eventually(all_folded, timeout=90, what=f"all {len(messages)} events folded after the restart")
    assert await applied(store) == len(messages)  # every event folded exactly once
    assert await stored_documents(store, await store.active_schema()) == expected_documents(messages)

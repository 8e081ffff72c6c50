"""The metric helpers: requests counted by route template (never the raw path), /metrics public, replays counted,
lag and backlog sampled at scrape time and forgotten when their owner goes, a failing sampler never failing the
scrape, and the lake's listener."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from aiokafka import TopicPartition
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import REGISTRY

from consumers.dlq import dead_letter
from services.platform import metrics
from services.platform.policy import ServicePolicy
from services.platform.service_app import ServiceState, create_service_app, service_lifespan
from services.platform.settings import ServiceSettings
from tests.asgi import in_process
from tests.signing import TEST_POLICY, admin_headers, authorized


class CosasSettings(ServiceSettings):
    model_config = {**ServiceSettings.model_config, "env_prefix": "COSAS_"}


def _app(policy: ServicePolicy = TEST_POLICY) -> FastAPI:
    router = APIRouter()

    @router.get("/cosas/{cosa_id}")
    async def cosa(cosa_id: int) -> dict[str, int]:
        return {"id": cosa_id}

    @router.post("/cosas")
    async def repetida() -> JSONResponse:
        return JSONResponse({"ok": True}, headers={"Idempotent-Replayed": "true"})

    @asynccontextmanager
    async def running() -> AsyncIterator[ServiceState]:
        yield ServiceState(probes={})

    app = create_service_app(
        CosasSettings(),
        title="t",
        description="",
        lifespan=service_lifespan(lambda s: s, None, running),
        routers=[router],
        policy=policy,
    )
    return authorized(app)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def http(route: str, status: str, method: str = "GET") -> float:
    service, instance = metrics.ids()
    labels = {"service": service, "instance": instance, "method": method, "route": route, "status": status}
    return value("cloudbank_http_requests_total", **labels)


async def test_cuenta_por_plantilla_de_ruta_y_estado_incluidas_las_respuestas_del_guard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COSAS_INSTANCE", "cosas-7")
    app = _app()
    assert metrics.ids() == ("cosas", "cosas-7")
    before = (http("/cosas/{cosa_id}", "200"), http("/cosas/{cosa_id}", "401"), http(metrics.UNMATCHED, "401"))
    async with in_process(app) as client:
        for n in (1, 2, 3):
            assert (await client.get(f"/cosas/{n}", headers=admin_headers())).status_code == 200
        assert (await client.get("/cosas/9")).status_code == 401  # the guard answers before any route runs
        assert (await client.get("/nada/que/ver")).status_code == 401
    after = (http("/cosas/{cosa_id}", "200"), http("/cosas/{cosa_id}", "401"), http(metrics.UNMATCHED, "401"))
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 1, 1]
    assert value("cloudbank_http_requests_total", route="/cosas/1") == 0.0  # never a raw path


async def test_metrics_es_publico_y_cuenta_las_respuestas_repetidas() -> None:
    app = _app()
    service, instance = metrics.ids()
    labels = {"service": service, "instance": instance, "route": "/cosas"}
    before = value("cloudbank_idempotency_replays_total", **labels)
    async with in_process(app) as client:
        assert (await client.post("/cosas", headers=admin_headers())).status_code == 200
        r = await client.get("/metrics")  # no token
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert value("cloudbank_idempotency_replays_total", **labels) == before + 1
    assert f'cloudbank_idempotency_replays_total{{instance="{instance}",route="/cosas",service="cosas"}}' in r.text
    assert "/metrics" not in {route for route in app.openapi()["paths"]}


async def test_el_backlog_del_outbox_se_muestrea_al_leer_y_se_olvida_al_salir() -> None:
    metrics.identify("cosas")
    backlog = [4, 12.5]

    async def sample() -> tuple[int, float]:
        return int(backlog[0]), backlog[1]

    labels = {"service": "cosas", "instance": "cosas", "outbox": "cosas"}
    with metrics.watch_outbox("cosas", sample):
        await metrics.exposition()
        assert value("cloudbank_outbox_backlog", **labels) == 4
        assert value("cloudbank_outbox_oldest_age_seconds", **labels) == 12.5
        backlog[:] = [0, 0.0]
        await metrics.exposition()
        assert value("cloudbank_outbox_backlog", **labels) == 0
    assert REGISTRY.get_sample_value("cloudbank_outbox_backlog", labels) is None


@dataclass
class FakeConsumer:
    ends: dict[TopicPartition, int]
    positions: dict[TopicPartition, int]
    calls: list[str] = field(default_factory=list)

    def assignment(self) -> set[TopicPartition]:
        return set(self.positions)

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        self.calls.append("end_offsets")
        return {tp: self.ends[tp] for tp in tps}

    async def position(self, tp: TopicPartition) -> int:
        if tp not in self.positions:
            raise RuntimeError("not assigned")
        return self.positions[tp]


def lag(group: str, topic: str, partition: int) -> float | None:
    labels = {"service": "cosas", "instance": "cosas", "group": group, "topic": topic, "partition": str(partition)}
    return REGISTRY.get_sample_value("cloudbank_consumer_lag", labels)


async def test_el_lag_es_fin_menos_posicion_y_una_particion_revocada_deja_de_informarse() -> None:
    metrics.identify("cosas")
    a, b = TopicPartition("t", 0), TopicPartition("t", 1)
    consumer = FakeConsumer(ends={a: 50, b: 7}, positions={a: 20, b: 7})
    with metrics.watch_consumer("g", consumer):  # type: ignore[arg-type]
        await metrics.exposition()
        assert (lag("g", "t", 0), lag("g", "t", 1)) == (30, 0)
        assert consumer.calls == ["end_offsets"]  # one round trip for every partition
        del consumer.positions[b]  # rebalanced to another instance
        consumer.positions[a] = 50
        await metrics.exposition()
        assert (lag("g", "t", 0), lag("g", "t", 1)) == (0, None)
    assert lag("g", "t", 0) is None


async def test_un_muestreo_que_falla_o_tarda_no_tumba_la_lectura(monkeypatch: pytest.MonkeyPatch) -> None:
    metrics.identify("cosas")
    monkeypatch.setattr(metrics, "SAMPLE_TIMEOUT", 0.05)

    async def broken() -> tuple[int, float]:
        raise ConnectionError("database away")

    async def slow() -> tuple[int, float]:
        await asyncio.sleep(5)
        return 0, 0.0

    errors = {"service": "cosas", "instance": "cosas", "sampler": "outbox:roto"}
    before = value("cloudbank_metrics_sample_errors_total", **errors)
    with metrics.watch_outbox("roto", broken), metrics.watch_outbox("lento", slow):
        text = (await asyncio.wait_for(metrics.exposition(), 2)).decode()
    assert "cloudbank_http_requests_total" in text or "cloudbank_outbox_backlog" in text
    assert value("cloudbank_metrics_sample_errors_total", **errors) == before + 1


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class FakeProducer:
    async def send_and_wait(self, *args: object, **kwargs: object) -> None:
        return None


async def test_cada_carta_muerta_se_cuenta_por_grupo_y_tema() -> None:
    metrics.identify("cosas")
    labels = {"service": "cosas", "instance": "cosas", "group": "g", "topic": "bank.t"}
    before = value("cloudbank_dead_lettered_total", **labels)
    record = Record(topic="bank.t", partition=0, offset=3, timestamp=0, key=b"k", value=b"x", headers=[])
    await dead_letter(FakeProducer(), record, ValueError("bad"), group="g")  # type: ignore[arg-type]
    assert value("cloudbank_dead_lettered_total", **labels) == before + 1


@dataclass
class FakeSink:
    files_written: int = 0
    rows_written: int = 0


async def test_el_lago_cuenta_lo_escrito_aunque_el_sumidero_se_reinicie() -> None:
    metrics.identify("lake")
    labels = {"service": "lake", "instance": "lake"}
    files0, rows0 = (
        value("cloudbank_lake_files_written_total", **labels),
        value("cloudbank_lake_rows_written_total", **labels),
    )
    first = FakeSink()
    with metrics.watch_lake(first):
        first.files_written, first.rows_written = 2, 300
        await metrics.exposition()
        first.files_written, first.rows_written = 3, 400  # written, then the sink restarts before a scrape
    with metrics.watch_lake(FakeSink()):
        await metrics.exposition()
    assert value("cloudbank_lake_files_written_total", **labels) - files0 == 3
    assert value("cloudbank_lake_rows_written_total", **labels) - rows0 == 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_el_listener_del_sumidero_sirve_metrics_y_nada_mas() -> None:
    port, stop = _free_port(), asyncio.Event()
    server = asyncio.create_task(metrics.serve("127.0.0.1", port, stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(50):
                try:
                    r = await client.get("/metrics")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            assert (r.status_code, r.headers["content-type"].split(";")[0]) == (200, "text/plain")
            assert "cloudbank_lake_files_written_total" in r.text
            assert (await client.get("/otra")).status_code == 404
    finally:
        stop.set()
        await asyncio.wait_for(server, 2)

"""Pushes the demo data through the services' batch endpoints (POST /<recurso>/lote: the same use cases, checks
and events as the single-record POSTs, hundreds of records per round trip) with progress bars.

Re-runs are safe: each stage first asks the service how many records it holds (X-Total-Count) and only tops up
what is missing. The generators are deterministic and prefix-stable, so a top-up continues where the last run
stopped; a record an interrupted run already wrote comes back 409 and the stage simply takes the next one.
Transacciones carry an Idempotency-Key each, and the stage keeps the number of running (PENDIENTE) sagas bounded,
then waits until every saga has ended.
"""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_incrementing,
)
from tqdm import tqdm

from bank.auth import bearer_auth
from bank.seed import data
from bank.seed.targets import Targets, Urls

log = logging.getLogger(__name__)

RETRYABLE = {429, 500, 502, 503, 504}
FINAL = ("COMPLETADA", "FALLIDA", "CANCELADA")


@dataclass
class StageResult:
    name: str
    existing: int = 0
    created: int = 0
    already: int = 0
    failed: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    settled_seconds: float | None = None  # transacciones: until no saga was running any more

    @property
    def rate(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0

    def refused(self, item: dict[str, Any]) -> None:
        self.failed += 1
        if len(self.errors) < 5:
            self.errors.append(f"{item['status']} {item.get('campo') or ''} {item.get('detail')}".strip())


class Seeder:
    def __init__(
        self,
        urls: Urls,
        *,
        batch: int = 500,
        concurrency: int = 2,
        seed: int = 2024,
        progress: bool = True,
        sagas_in_flight: int = 1000,
        settle_timeout: float = 1800.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self.urls = urls
        self.batch = batch
        self.concurrency = concurrency
        self.seed = seed
        self.progress = progress
        self.sagas_in_flight = sagas_in_flight
        self.settle_timeout = settle_timeout
        self.poll_seconds = poll_seconds

    async def run(
        self, targets: Targets, after_stage: Callable[[StageResult], None] = lambda _: None
    ) -> list[StageResult]:
        """The three stages in order; `after_stage` sees each one's result as it ends (bench/bench_seed.py reads
        the stack's CPU counters there)."""
        results: list[StageResult] = []
        # Every call carries the CLI's service-account token (client credentials, role admin), renewed before expiry.
        async with httpx.AsyncClient(timeout=httpx.Timeout(300.0), auth=bearer_auth()) as http:
            for stage, target in (
                (self._clientes, targets.clientes),
                (self._cuentas, targets.cuentas),
                (self._transacciones, targets.transacciones),
            ):
                results.append(await stage(http, target))
                after_stage(results[-1])
        return results

    # -- stages ----------------------------------------------------------------------------------------------
    async def _clientes(self, http: httpx.AsyncClient, target: int) -> StageResult:
        url = f"{self.urls.clientes}/clientes"
        result = StageResult("clientes", existing=await self._count(http, url))
        have, start = result.existing, result.existing
        bar = self._bar(result, target - have)
        started = time.perf_counter()
        # Each round asks for exactly what is missing, from the next unused index of the deterministic sequence
        # (a few rounds at most: only records an interrupted run wrote out of order come back 409).
        for _ in range(10):
            if have >= target or result.failed:
                break
            bodies = data.clientes(start + target - have, self.seed)[start:]
            for status, _, item in await self._send(http, f"{url}/lote", "clientes", bodies, bar):
                if status == 201:
                    result.created += 1
                elif status == 409:
                    result.already += 1
                else:
                    result.refused(item)
            start += len(bodies)
            have = result.existing + result.created
        result.seconds = time.perf_counter() - started
        bar.close()
        return result

    async def _cuentas(self, http: httpx.AsyncClient, target: int) -> StageResult:
        url = f"{self.urls.cuentas}/cuentas"
        result = StageResult("cuentas", existing=await self._count(http, url))
        need = target - result.existing
        if need <= 0:
            return result
        tipos = (await self._get(http, f"{self.urls.cuentas}/tipos-cuenta", {})).json()
        activos = await self._all(http, f"{self.urls.clientes}/clientes", {"estado": "activo"})
        pending = data.cuentas(
            need, [c["cliente_id"] for c in activos], [t["tipo_cuenta_id"] for t in tipos], self.seed + result.existing
        )
        # Oldest clientes first: cuentas' replica of clientes folds them in about that order, so the batches sent
        # while it still catches up with the clientes stage name clientes it already has. One cliente it has not
        # (404) turns its whole batch into 500 one-item transactions (services/platform/lote.py) and a re-send.
        # Once the clientes stage took 5 s instead of 10, the cuentas stage took 26.8 s in one run against 19.6 s
        # before; sorted, 22.5 and 22.9 s (bench/bench_seed.py; the machine drifts by a fifth between runs).
        pending.sort(key=lambda body: int(body["cliente_id"]))
        bar = self._bar(result, len(pending))
        started = time.perf_counter()
        for attempt in range(1, 61):
            retry: list[dict[str, Any]] = []
            for status, body, item in await self._send(http, f"{url}/lote", "cuentas", pending, bar):
                if status == 201:
                    result.created += 1
                # cuentas checks cliente_id against its replica, fed by Kafka: a cliente created a moment ago may
                # not be there yet (404) or not yet activo there (409). Ask again shortly.
                elif status in (404, 409) and attempt < 60:
                    retry.append(body)
                else:
                    result.refused(item)
            if not retry:
                break
            bar.update(-len(retry))
            pending = retry
            await asyncio.sleep(min(5.0, 0.5 * attempt))
        result.seconds = time.perf_counter() - started
        bar.close()
        return result

    async def _transacciones(self, http: httpx.AsyncClient, target: int) -> StageResult:
        url = f"{self.urls.transacciones}/transacciones"
        result = StageResult("transacciones", existing=await self._count(http, url))
        need = target - result.existing
        if need <= 0:
            return result
        cuentas = await self._all(http, f"{self.urls.cuentas}/cuentas", {"estado": "activa"})
        vistas = sorted(
            (data.CuentaVista(c["cuenta_id"], c["moneda"], Decimal(str(c["saldo"]))) for c in cuentas),
            key=lambda v: v.cuenta_id,
        )
        bodies = data.transacciones(need, vistas, self.seed + result.existing)
        for i, body in enumerate(bodies):
            body["idempotency_key"] = f"seed-{self.seed}-{result.existing + i}"
        bar = self._bar(result, len(bodies))
        started = time.perf_counter()
        for start in range(0, len(bodies), self.batch * self.concurrency):
            # Backpressure: a saga older than the sweeper's patience is re-sent, so never queue more than the
            # services finish in a few seconds.
            await self._until(http, lambda running: running <= self.sagas_in_flight)
            chunk = bodies[start : start + self.batch * self.concurrency]
            for status, _, item in await self._send(http, f"{url}/lote", "transacciones", chunk, bar):
                if status in (201, 202):
                    result.created += 1
                elif status == 409:
                    result.already += 1  # the same key with another body: an earlier run's request
                else:
                    result.refused(item)
        result.seconds = time.perf_counter() - started
        bar.close()
        settle = tqdm(desc=f"{'sagas':>13}", unit="saga", disable=not self.progress)
        await self._until(http, lambda running: running == 0, settle, timeout=self.settle_timeout)
        settle.close()
        result.settled_seconds = time.perf_counter() - started
        for estado in FINAL:
            response = await self._get(http, f"{url}/estado/{estado}", {"limit": 1})
            result.outcomes[estado] = int(response.headers.get("X-Total-Count", 0))
        return result

    # -- plumbing --------------------------------------------------------------------------------------------
    def _bar(self, result: StageResult, total: int) -> tqdm:  # type: ignore[type-arg]
        return tqdm(total=max(total, 0), desc=f"{result.name:>13}", unit="rec", disable=not self.progress)

    async def _send(
        self,
        http: httpx.AsyncClient,
        url: str,
        key: str,
        bodies: Sequence[dict[str, Any]],
        bar: tqdm,  # type: ignore[type-arg]
    ) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
        """POST the bodies in batches, `concurrency` batches at a time: (status, body, result item) per body."""
        slots = asyncio.Semaphore(self.concurrency)

        async def one(chunk: Sequence[dict[str, Any]]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
            async with slots:
                response = await self._post(http, url, {key: list(chunk)})
            items: list[dict[str, Any]] = response.json()["resultados"]
            bar.update(len(chunk))
            return [(int(item["status"]), chunk[item["indice"]], item) for item in items]

        chunks = [bodies[i : i + self.batch] for i in range(0, len(bodies), self.batch)]
        return [row for rows in await asyncio.gather(*(one(c) for c in chunks)) for row in rows]

    async def _post(self, http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> httpx.Response:
        """A repeated batch is harmless (duplicates come back 409, transacciones carry idempotency keys), so a
        batch POST waits out a restarting service for a few minutes."""
        return await self._request(http, "POST", url, json=body, attempts=60)

    async def _get(self, http: httpx.AsyncClient, url: str, params: dict[str, Any]) -> httpx.Response:
        return await self._request(http, "GET", url, params=params, attempts=16)  # about a minute

    async def _request(
        self, http: httpx.AsyncClient, method: str, url: str, *, attempts: int, **kwargs: Any
    ) -> httpx.Response:
        """Retry while the service restarts (connection refused, 5xx), backing off up to 5 s; any other error
        status raises (a whole batch refused with 422 is a bug in the generator)."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait_incrementing(start=0.5, increment=0.5, max=5.0),
            retry=retry_if_exception_type(httpx.TransportError) | retry_if_result(_retryable),
            retry_error_callback=_last_outcome,  # out of attempts: raise its error, or answer its response
        )
        response: httpx.Response = await retrying(http.request, method, url, **kwargs)
        response.raise_for_status()
        return response

    async def _count(self, http: httpx.AsyncClient, url: str) -> int:
        response = await self._get(http, url, {"limit": 1})
        header = response.headers.get("X-Total-Count")
        return int(header) if header is not None else len(response.json())

    async def _running(self, http: httpx.AsyncClient) -> int:
        return await self._count(http, f"{self.urls.transacciones}/transacciones/estado/PENDIENTE")

    async def _until(
        self,
        http: httpx.AsyncClient,
        ok: Callable[[int], bool],
        bar: tqdm | None = None,  # type: ignore[type-arg]
        timeout: float = 600.0,
    ) -> None:
        """Poll the number of running sagas until `ok(running)`; a bar, if given, counts them down."""
        deadline = time.monotonic() + timeout
        first: int | None = None
        while True:
            running = await self._running(http)
            if bar is not None:
                first = running if first is None else first
                bar.total = first
                bar.n = first - running
                bar.refresh()
            if ok(running):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{running} sagas still running after {timeout:.0f} s")
            await asyncio.sleep(self.poll_seconds)

    async def _all(self, http: httpx.AsyncClient, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row of a paginated list (limit 500), pages fetched concurrently."""
        first = await self._get(http, url, params | {"limit": 500, "skip": 0})
        total = int(first.headers.get("X-Total-Count", len(first.json())))
        rows: list[dict[str, Any]] = list(first.json())
        slots = asyncio.Semaphore(8)

        async def page(skip: int) -> list[dict[str, Any]]:
            async with slots:
                response = await self._get(http, url, params | {"limit": 500, "skip": skip})
                page_rows: list[dict[str, Any]] = response.json()
                return page_rows

        for chunk in await asyncio.gather(*(page(skip) for skip in range(500, total, 500))):
            rows += chunk
        return rows


def _retryable(response: httpx.Response) -> bool:
    return response.status_code in RETRYABLE


def _last_outcome(state: RetryCallState) -> httpx.Response:
    assert state.outcome is not None
    response: httpx.Response = state.outcome.result()
    return response

"""Pushes the demo data through the services' REST APIs with bounded concurrency and progress bars.

Re-runs are safe: each stage first asks the service how many records it holds (X-Total-Count) and only
tops up what is missing; clientes are deterministic, so a repeated one is a 409 that counts as existing;
transacciones carry an Idempotency-Key.
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
from tqdm import tqdm

from bank.seed import data
from bank.seed.targets import Targets, Urls

log = logging.getLogger(__name__)

RETRYABLE = {429, 500, 502, 503, 504}


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

    @property
    def rate(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0


Outcome = str  # "created" | "already" | "retry" | "failed"


class Seeder:
    def __init__(self, urls: Urls, *, concurrency: int = 32, seed: int = 2024, progress: bool = True) -> None:
        self.urls = urls
        self.concurrency = concurrency
        self.seed = seed
        self.progress = progress

    async def run(self, targets: Targets) -> list[StageResult]:
        limits = httpx.Limits(max_connections=self.concurrency * 2, max_keepalive_connections=self.concurrency * 2)
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0), limits=limits) as http:
            return [
                await self._clientes(http, targets.clientes),
                await self._cuentas(http, targets.cuentas),
                await self._transacciones(http, targets.transacciones),
            ]

    # -- stages ----------------------------------------------------------------------------------
    async def _clientes(self, http: httpx.AsyncClient, target: int) -> StageResult:
        result = StageResult("clientes", existing=await self._count(http, f"{self.urls.clientes}/clientes"))
        if result.existing >= target:
            return result
        bodies = data.clientes(target, self.seed)

        def judge(response: httpx.Response) -> Outcome:
            return {201: "created", 409: "already"}.get(response.status_code, _default(response))

        await self._post_all(http, result, f"{self.urls.clientes}/clientes", bodies, judge)
        return result

    async def _cuentas(self, http: httpx.AsyncClient, target: int) -> StageResult:
        result = StageResult("cuentas", existing=await self._count(http, f"{self.urls.cuentas}/cuentas"))
        need = target - result.existing
        if need <= 0:
            return result
        tipos = (await self._get(http, f"{self.urls.cuentas}/tipos-cuenta", {})).json()
        activos = await self._all(http, f"{self.urls.clientes}/clientes", {"estado": "activo"})
        bodies = data.cuentas(
            need, [c["cliente_id"] for c in activos], [t["tipo_cuenta_id"] for t in tipos], self.seed + result.existing
        )

        def judge(response: httpx.Response) -> Outcome:
            if response.status_code == 201:
                return "created"
            # cuentas validates cliente_id against its replica, fed by Kafka: a cliente created a moment
            # ago may not be there yet (404) or not yet activo there (409). Wait and ask again.
            if response.status_code in (404, 409):
                return "retry"
            return _default(response)

        await self._post_all(http, result, f"{self.urls.cuentas}/cuentas", bodies, judge, attempts=30)
        return result

    async def _transacciones(self, http: httpx.AsyncClient, target: int) -> StageResult:
        url = f"{self.urls.transacciones}/transacciones"
        result = StageResult("transacciones", existing=await self._count(http, url))
        need = target - result.existing
        if need <= 0:
            return result
        cuentas = await self._all(http, f"{self.urls.cuentas}/cuentas", {"estado": "activa"})
        vistas = [data.CuentaVista(c["cuenta_id"], c["moneda"], Decimal(str(c["saldo"]))) for c in cuentas]
        vistas.sort(key=lambda v: v.cuenta_id)
        bodies = data.transacciones(need, vistas, self.seed + result.existing)

        def judge(response: httpx.Response) -> Outcome:
            if response.status_code in (200, 201, 202):
                result.outcomes[str(response.json().get("estado", "?"))] += 1
                return "created"
            if response.status_code == 409:
                return "already"  # same Idempotency-Key with another body: an earlier run's request
            return _default(response)

        keys = [f"seed-{self.seed}-{result.existing + i}" for i in range(len(bodies))]
        await self._post_all(http, result, url, bodies, judge, headers=[{"Idempotency-Key": k} for k in keys])
        return result

    # -- plumbing --------------------------------------------------------------------------------
    async def _get(self, http: httpx.AsyncClient, url: str, params: dict[str, Any]) -> httpx.Response:
        """A GET that waits out a restarting service (connection refused, 5xx) for up to a minute."""
        for attempt in range(1, 31):
            try:
                response = await http.get(url, params=params)
                if response.status_code not in RETRYABLE:
                    response.raise_for_status()
                    return response
            except httpx.TransportError:
                if attempt == 30:
                    raise
            await asyncio.sleep(2.0)
        response.raise_for_status()
        return response

    async def _count(self, http: httpx.AsyncClient, url: str) -> int:
        response = await self._get(http, url, {"limit": 1})
        header = response.headers.get("X-Total-Count")
        return int(header) if header is not None else len(response.json())

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

    async def _post_all(
        self,
        http: httpx.AsyncClient,
        result: StageResult,
        url: str,
        bodies: Sequence[dict[str, Any]],
        judge: Callable[[httpx.Response], Outcome],
        *,
        headers: Sequence[dict[str, str]] | None = None,
        attempts: int = 8,
    ) -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(len(bodies)):
            queue.put_nowait(i)
        bar = tqdm(total=len(bodies), desc=f"{result.name:>13}", unit="req", disable=not self.progress)
        started = time.perf_counter()

        async def one(i: int) -> None:
            response: httpx.Response | None = None
            detail = ""
            for attempt in range(1, attempts + 1):
                try:
                    response = await http.post(url, json=bodies[i], headers=headers[i] if headers else None)
                    outcome = judge(response)
                except httpx.TransportError as exc:
                    outcome, response = "retry", None
                    detail = repr(exc)
                if outcome != "retry":
                    break
                await asyncio.sleep(min(5.0, 0.2 * attempt))
            else:
                outcome = "failed"
            if outcome == "failed" and len(result.errors) < 5:
                result.errors.append(f"{response.status_code} {response.text[:200]}" if response else detail)
            setattr(result, outcome, getattr(result, outcome) + 1)
            bar.update()

        async def worker() -> None:
            while not queue.empty():
                await one(queue.get_nowait())

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        result.seconds = time.perf_counter() - started
        bar.close()


def _default(response: httpx.Response) -> Outcome:
    return "retry" if response.status_code in RETRYABLE else "failed"

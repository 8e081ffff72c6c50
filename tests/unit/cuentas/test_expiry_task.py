"""The expiry task's schedule (main.expirar_retenciones) over a stand-in for CuentasService: it looks again when the
next hold falls due, not a whole interval later, and when this process creates a hold. The real service and
MariaDB: tests/integration/cuentas/test_retenciones.py (a hold's money is available again right at its vence)."""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import cast

from services.cuentas.main import expirar_retenciones
from services.cuentas.service import CuentasService

INTERVAL = 5.0  # far longer than any wait below: a look that comes sooner was scheduled by the next vence or a wake


class Holds:
    """Answers the two calls the task makes; `proximo` is the next vence it reports."""

    def __init__(self) -> None:
        self.proximo: datetime | None = None
        self.looks: list[float] = []

    async def expirar_vencidas(self) -> int:
        self.looks.append(time.monotonic())
        if self.proximo is not None and self.proximo <= datetime.now(UTC):
            self.proximo = None  # expired now
        return 0

    async def proximo_vencimiento(self) -> datetime | None:
        return self.proximo


async def _run(holds: Holds, created: asyncio.Event) -> tuple[asyncio.Event, "asyncio.Future[None]"]:
    stop = asyncio.Event()
    loop = expirar_retenciones(cast(CuentasService, holds), INTERVAL, created)
    task: asyncio.Future[None] = asyncio.ensure_future(loop(stop))
    await asyncio.sleep(0.05)
    return stop, task


async def _stop(stop: asyncio.Event, task: "asyncio.Future[None]") -> None:
    stop.set()
    await asyncio.wait_for(task, 1)


async def test_mira_de_nuevo_al_vencer_la_proxima_retencion() -> None:
    holds = Holds()
    holds.proximo = datetime.now(UTC) + timedelta(milliseconds=200)
    due = time.monotonic() + 0.2
    stop, task = await _run(holds, asyncio.Event())
    await asyncio.sleep(0.5)
    await _stop(stop, task)
    after_due = [t for t in holds.looks if t >= due]
    assert after_due, "no look at the hold's vence"
    assert after_due[0] - due < 0.1


async def test_una_retencion_nueva_despierta_la_tarea() -> None:
    holds, created = Holds(), asyncio.Event()
    stop, task = await _run(holds, created)
    assert len(holds.looks) == 1  # the first look, then a sleep of INTERVAL (nothing active)
    holds.proximo = datetime.now(UTC) + timedelta(milliseconds=100)
    created.set()
    await asyncio.sleep(0.3)
    await _stop(stop, task)
    assert len(holds.looks) >= 3  # woken by the new hold, then at its vence
    assert holds.proximo is None


async def test_para_sin_esperar_el_intervalo() -> None:
    stop, task = await _run(Holds(), asyncio.Event())
    started = time.monotonic()
    await _stop(stop, task)
    assert time.monotonic() - started < 0.5

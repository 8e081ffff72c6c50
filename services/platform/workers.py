"""Background loops (outbox relays, consumers) run beside an API: restarted after a crash, stopped with the app."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

log = logging.getLogger(__name__)

Loop = Callable[[asyncio.Event], Awaitable[None]]


class Workers:
    """Owns a set of long-running loops sharing one stop event; `async with Workers() as workers` stops them on exit."""

    def __init__(self, restart_delay: float = 1.0) -> None:
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._restart_delay = restart_delay

    def spawn(self, name: str, loop: Loop) -> None:
        self._tasks.append(asyncio.create_task(self._supervise(name, loop), name=name))

    async def _supervise(self, name: str, loop: Loop) -> None:
        while not self.stop.is_set():
            try:
                await loop(self.stop)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A loop that dies would silently stop publishing or consuming: log and start it again.
                log.exception("worker %s crashed; restarting", name)
                await asyncio.sleep(self._restart_delay)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self, grace: float = 5.0) -> None:
        self.stop.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

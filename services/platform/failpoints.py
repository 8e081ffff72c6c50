"""Fault injection for crash tests: a request names a failpoint in a header and the process dies there, but only
when its settings enable it (`<SERVICE>_FAULT_INJECTION=1`, refused in production); otherwise a no-op."""

import logging
import os
import signal
from typing import Final

from fastapi import Request

HEADER: Final = "X-Failpoint"
# After a keyed write has committed and before its answer leaves: the case Idempotency-Key exists for.
CRASH_AFTER_COMMIT: Final = "crash-after-commit"

log = logging.getLogger(__name__)


def enabled(request: Request) -> bool:
    return bool(getattr(request.app.state, "fault_injection", False))


def hit(request: Request, name: str) -> None:
    """Die like a kill -9 (no cleanup, no answer) if fault injection is on and this request asks for `name`."""
    if request.headers.get(HEADER) == name and enabled(request):
        log.warning("failpoint %s: killing this process", name)
        os.kill(os.getpid(), signal.SIGKILL)

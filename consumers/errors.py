"""How a handler failure is classified, which decides between retrying and dead-lettering.

Exception
├── PermanentError        the message can never succeed -> DLQ at once
│   (also: EnvelopeError, UnknownMessageType, pydantic.ValidationError)
├── infrastructure errors (OSError, DB/broker connection errors) -> retry until it works,
│   since every other message of the partition would fail the same way
└── anything else (a bug, a constraint we did not expect) -> a few retries, then DLQ
"""

import asyncio

import pydantic

from contracts.envelope import EnvelopeError
from contracts.registry import UnknownMessageType


class PermanentError(Exception):
    """Raised by a handler for a message that no retry can fix."""


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, PermanentError | EnvelopeError | UnknownMessageType | pydantic.ValidationError)


def is_infrastructure(exc: BaseException) -> bool:
    """A dependency is away (database restarting, network): worth waiting for, not a bad message."""
    if isinstance(exc, OSError | ConnectionError | asyncio.TimeoutError | TimeoutError):
        return True
    module = type(exc).__module__
    name = type(exc).__name__
    if module.startswith("asyncpg") and ("Connection" in name or "CannotConnectNow" in name):
        return True
    if module.startswith("pymysql") and name in {"OperationalError", "InterfaceError"}:
        # 1213 deadlock and 1205 lock wait timeout are also OperationalError: retrying is right for them.
        return True
    return module.startswith("pymongo") and name in {
        "AutoReconnect",
        "ConnectionFailure",
        "ServerSelectionTimeoutError",
        "NetworkTimeout",
    }

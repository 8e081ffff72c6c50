"""Which driver exceptions mean "a dependency is away" (503, retry) rather than "a bug" (500): the one place that
knows the failure classes of asyncpg, aiomysql (pymysql), pymongo, aiokafka and DuckDB."""

import socket
import sys
from collections.abc import Iterator
from types import ModuleType

from services.platform.errors import Unavailable

DATABASE = "La base de datos"
BROKER = "El bus de eventos (Kafka)"
LAKE = "El lago de datos"
NETWORK = "Un servicio del que depende esta petición"

_TRANSIENT_LABELS = ("RetryableWriteError", "TransientTransactionError")

# The drivers are looked up, not imported: a process that never loaded a driver cannot raise its errors, and
# importing all five here cost every service ~1.5 s of CPU at start-up (pymongo alone 0.6 s) for nothing.


def _loaded(name: str) -> ModuleType | None:
    return sys.modules.get(name)


def _postgres() -> tuple[type[BaseException], ...]:
    # Classes 08 (connection), 40 (deadlock, serialization), 53 (resources), 57 (shutdown, cancel) and asyncpg's
    # own "connection closed" / "pool closing" errors: the server went away or gave up; nothing else is wrong
    # with the request.
    asyncpg = _loaded("asyncpg")
    if asyncpg is None:
        return ()
    return (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.TransactionRollbackError,
        asyncpg.exceptions.InsufficientResourcesError,
        asyncpg.exceptions.OperatorInterventionError,
        asyncpg.exceptions.ReadOnlySQLTransactionError,
    )


def _mariadb() -> tuple[type[BaseException], ...]:
    # pymysql files lost connections, lock wait timeouts and deadlocks under OperationalError, a closed connection
    # under InterfaceError; constraint violations (IntegrityError) and bad SQL (ProgrammingError) stay bugs or 4xx.
    err = _loaded("pymysql.err")
    return () if err is None else (err.OperationalError, err.InterfaceError)


def _mongo(exc: BaseException) -> bool:
    errors = _loaded("pymongo.errors")
    if errors is None:
        return False
    down = (
        errors.ConnectionFailure,  # AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError, NotPrimaryError
        errors.ExecutionTimeout,
        errors.WaitQueueTimeoutError,
        errors.WTimeoutError,
    )
    if isinstance(exc, down):
        return True
    return isinstance(exc, errors.PyMongoError) and any(exc.has_error_label(x) for x in _TRANSIENT_LABELS)


def _kafka() -> tuple[type[BaseException], ...]:
    errors = _loaded("aiokafka.errors")
    return () if errors is None else (errors.KafkaError,)


def _duckdb_io() -> tuple[type[BaseException], ...]:
    duckdb = _loaded("duckdb")
    return () if duckdb is None else (duckdb.IOException, duckdb.HTTPException, duckdb.ConnectionException)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes/contexts and the members of exception groups, each once."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _one(exc: BaseException) -> str | None:
    if isinstance(exc, Unavailable):
        return NETWORK
    if isinstance(exc, _postgres() + _mariadb()) or _mongo(exc):
        return DATABASE
    if isinstance(exc, _kafka()):
        return BROKER
    if isinstance(exc, _duckdb_io()):
        return LAKE
    # Refused/reset connections and timeouts of any client; asyncio's "Multiple exceptions: Connect call failed"
    # is a bare OSError. FileNotFoundError, PermissionError and the like stay bugs.
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror) or type(exc) is OSError:
        return NETWORK
    return None


def dependency_down(exc: BaseException) -> str | None:
    """What is away ("La base de datos", ...) when `exc` (or what caused it) is a dependency failure, else None."""
    for candidate in _chain(exc):
        what = _one(candidate)
        if what is not None:
            return what
    return None

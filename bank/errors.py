"""One line with the fix and an exit code, instead of a traceback, for what an operator meets: a component down or
unreachable, a password refused. Anything else is a bug and keeps its traceback.

    Exception
     └── Failure              printed as "error: <message>" on stderr, the process exits with .exit_code
          ├── Unreachable     EXIT_UNAVAILABLE: Kafka, a database, Keycloak or a service does not answer
          └── Refused         EXIT_NOPERM: credentials refused (a database password, the CLI's client secret)
"""

import errno
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import typer
import typer.core

# sysexits.h, so scripts can tell "try again when it is up" from "fix the configuration".
EXIT_UNAVAILABLE = 69
EXIT_NOPERM = 77

STACK_HINT = "is the stack up? `make status`"
# Only for naming what did not answer when the error itself does not say (asyncpg, pymysql name just an address).
DEFAULT_PORTS = {9092: "Kafka", 5432: "PostgreSQL", 3306: "MariaDB", 27017: "FerretDB", 8180: "Keycloak"}


class Failure(Exception):
    """A failure with a known cause: the message says what and how to fix it."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class Unreachable(Failure):
    def __init__(self, what: str, where: str, hint: str = STACK_HINT) -> None:
        super().__init__(f"{what} at {where} not reachable — {hint}", EXIT_UNAVAILABLE)


class Refused(Failure):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_NOPERM)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, what caused it, and the members of exception groups (a TaskGroup's, tenacity's last attempt)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            todo += list(current.exceptions)
        last_attempt = getattr(current, "last_attempt", None)  # tenacity.RetryError
        if last_attempt is not None and last_attempt.failed:
            todo.append(last_attempt.exception())
        if current.__cause__ is not None:
            todo.append(current.__cause__)
        elif current.__context__ is not None and not current.__suppress_context__:
            todo.append(current.__context__)


def _address(exc: BaseException) -> tuple[str, int] | None:
    """host and port of a refused connection, from the error's text ("('127.0.0.1', 9092"...)."""
    found = re.search(r"\('([^']+)', (\d+)", str(exc))
    return (found.group(1), int(found.group(2))) if found else None


def _kafka(exc: BaseException) -> Failure | None:
    from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError

    if isinstance(exc, KafkaConnectionError):
        address = _address(exc)
        return Unreachable("Kafka", f"{address[0]}:{address[1]}" if address else "the bootstrap address")
    if isinstance(exc, KafkaTimeoutError):
        return Failure(f"Kafka did not answer in time — {STACK_HINT}", EXIT_UNAVAILABLE)
    return None


def _auth(exc: BaseException) -> Failure | None:
    from bank.auth import CredentialsRefused, KeycloakUnreachable

    if isinstance(exc, KeycloakUnreachable):
        return Unreachable("Keycloak", exc.url, f"{STACK_HINT} (or set AUTH_ISSUER / AUTH_TOKEN_URL)")
    if isinstance(exc, CredentialsRefused):
        return Refused(str(exc))
    return None


def _http(exc: BaseException) -> Failure | None:
    import httpx

    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        try:
            url = exc.request.url
        except RuntimeError:  # an error raised without its request: no address to name
            return Failure(f"a service is not reachable — {STACK_HINT}", EXIT_UNAVAILABLE)
        return Unreachable("the service", f"{url.scheme}://{url.netloc.decode()}")
    return None


def _databases(exc: BaseException) -> Failure | None:
    import asyncpg
    import pymongo.errors
    import pymysql

    if isinstance(exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
        return Refused(f"PostgreSQL refused the login: {exc} — check the database URL (user and password)")
    if isinstance(exc, pymysql.err.OperationalError) and exc.args and exc.args[0] == 1045:
        return Refused(f"MariaDB refused the login: {exc.args[1]} — check the database URL (user and password)")
    if isinstance(exc, pymongo.errors.ServerSelectionTimeoutError):
        return Unreachable("FerretDB", "the configured MongoDB URL")
    if isinstance(exc, ConnectionRefusedError | TimeoutError) or (
        isinstance(exc, OSError) and exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH)
    ):
        address = _address(exc)
        if address is None:
            return None
        return Unreachable(DEFAULT_PORTS.get(address[1], "the server"), f"{address[0]}:{address[1]}")
    return None


EXPLAINERS: tuple[Callable[[BaseException], Failure | None], ...] = (_auth, _kafka, _http, _databases)


def explain(exc: BaseException) -> Failure | None:
    """The one-line failure for `exc` (looking through its causes), or None when it is not an operator's problem."""
    for link in _chain(exc):
        if isinstance(link, Failure):
            return link
        if isinstance(link, typer.Exit | typer.Abort | typer.TyperException):
            return None  # the command already chose its answer
        for explainer in EXPLAINERS:
            failure = explainer(link)
            if failure is not None:
                return failure
    return None


class FriendlyGroup(typer.core.TyperGroup):
    """The root command group: every sub-command's known failures become a one-line error and an exit code."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # typer.Context is the vendored click one
        _no_library_noise_without_logging()
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            failure = explain(exc)
            if failure is None:
                raise
            _quiet_unclosed_clients()
            typer.echo(f"error: {failure.message}", err=True)
            raise typer.Exit(failure.exit_code) from None


def _quiet_unclosed_clients() -> None:
    """A client that failed to start is not closed (aiokafka logs 'Unclosed AIOKafkaConsumer' when it is collected):
    the process is exiting with the reason already given, so that noise would only bury it."""
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)


def _no_library_noise_without_logging() -> None:
    """A command that sets up no logging would print aiokafka's own connection errors (Python's last-resort handler)
    before the one-line answer; commands that configure logging (serve, lake sink) keep them."""
    if logging.lastResort is not None:
        logging.lastResort.addFilter(lambda record: not record.name.startswith("aiokafka"))

"""JSON-lines logs for every process: timestamp, level, service instance, logger, message, and in a request its
request id (X-Request-ID, accepted or made, echoed back), correlation id, trace id and actor; one access line per
request (method, route, status, duration) from RequestLog, the outermost middleware."""

import contextvars
import logging
import re
import sys
import time
import uuid
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.platform.log_writer import BatchedStreamHandler

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_OK = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")  # a caller's id kept as is only when it is a plain token
# The scope of the request being served, read when a line is written (its principal is set later, by the auth).
_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("log_scope", default=None)
_access = logging.getLogger("cloudbank.access")
# Probed every few seconds by HAProxy and supervisors: an access line for each would bury the requests (failures
# are still written).
_QUIET = frozenset({"/health", "/metrics"})

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


def _actor(scope: Scope) -> str | None:
    principal = (scope.get("state") or {}).get("principal")
    return getattr(principal, "username", None) if principal is not None else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the request's ids and the current trace come from context, not from callers."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        scope = _scope.get()
        if scope is not None:
            line["request_id"] = scope.get("request_id")
            line["correlation_id"] = scope.get("correlation_id")
            line["actor"] = _actor(scope)
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            line["trace_id"] = f"{ctx.trace_id:032x}"
            line["span_id"] = f"{ctx.span_id:016x}"
        for key, value in record.__dict__.items():  # `extra=` fields (the access line's)
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def setup(service: str, level: int = logging.INFO) -> None:
    """Route every logger (uvicorn's and the libraries' too) to stdout as JSON lines, written off the event loop
    (log_writer.py)."""
    handler = BatchedStreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # RequestLog writes the access lines, with the ids


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestLog:
    """Gives each request its id (the caller's X-Request-ID when it is a plain token, else a new one), echoes it in
    the response, and writes one access line when the response is done."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID_OK.fullmatch(given) else uuid.uuid4().hex
        scope["request_id"] = request_id
        scope["correlation_id"] = _header(scope, b"x-correlation-id")
        token = _scope.set(scope)
        started = time.perf_counter()
        status = 500  # what the client sees if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers: MutableMapping[str, Any] = message.setdefault("headers", [])
                headers.append((b"x-request-id", request_id.encode()))  # type: ignore[attr-defined]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if status >= 400 or scope["path"] not in _QUIET:
                self._access(scope, status, started)
            _scope.reset(token)

    @staticmethod
    def _access(scope: Scope, status: int, started: float) -> None:
        route = scope.get("route")
        _access.info(
            "%s %s %d",
            scope["method"],
            scope["path"],
            status,
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "route": getattr(route, "path", None),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )

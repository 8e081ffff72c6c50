"""create_base_app: the FastAPI app every service starts from (CORS, the bearer-token guard with the service's role
policy, and the one error path: every 4xx/5xx as problem+json, 503 + Retry-After when a dependency is away, a
logged problem+json 500 for anything unexpected)."""

import logging
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Lifespan, Message, Receive, Scope, Send

from services.platform import mensajes, problems
from services.platform.auth import AuthSettings, JwksKeys, TokenValidator
from services.platform.errors import RETRY_AFTER_SECONDS, DomainError, Invalid
from services.platform.guard import PUBLIC, Guard
from services.platform.openapi import declare_headers, declare_problems, declare_security
from services.platform.outages import dependency_down
from services.platform.policy import ServicePolicy

log = logging.getLogger(__name__)

ErrorBody = Callable[[dict[str, Any]], dict[str, Any]]
"""A service's own members around the problem body (analytics' {success, data, ...} envelope)."""

_UNSAFE_NOTE = (
    " Si la petición modificaba datos, pudo haberse aplicado o no: reintente con la misma Idempotency-Key o "
    "compruebe el resultado."
)


def _answer(request: Request, content: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    shape: ErrorBody | None = getattr(request.app.state, "error_body", None)
    if shape is not None:
        content = shape(content)
    return JSONResponse(content, status_code=content["status"], headers=headers, media_type=problems.PROBLEM_JSON)


def unavailable_response(request: Request, what: str, retry_after: int = RETRY_AFTER_SECONDS) -> JSONResponse:
    """503 for a dependency that is away. A write cut off mid-COMMIT has an unknown outcome: say so, never 'refused'."""
    detail = f"{what} no está disponible en este momento; reintente en unos segundos"
    message = mensajes.as_sentence(detail)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        message += _UNSAFE_NOTE
    content = problems.body(
        status=503, kind="dependencia-no-disponible", instance=request.url.path, message=message, detail=detail
    )
    return _answer(request, content, {"Retry-After": str(retry_after)})


def failure_response(request: Request, exc: BaseException) -> JSONResponse:
    """Any exception no handler knew: 503 when a dependency failed (classified in one place), else a logged 500."""
    what = dependency_down(exc)
    if what is not None:
        log.warning("%s %s: dependency unavailable: %r", request.method, request.url.path, exc)
        return unavailable_response(request, what)
    log.error("%s %s: unexpected error", request.method, request.url.path, exc_info=exc)
    content = problems.body(
        status=500,
        kind="error-interno",
        instance=request.url.path,
        message="Error interno del servicio; el incidente quedó registrado.",
        detail="Error interno del servicio",
    )
    return _answer(request, content)


class _CatchAll:
    """Inside CORS (so browsers can read the answer), outside the routes: what no exception handler took ends here
    as problem+json instead of Starlette's plain-text 'Internal Server Error'."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception as exc:
            if started:  # too late for another answer: the connection is cut, as before
                raise
            await failure_response(Request(scope), exc)(scope, receive, send)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, Invalid):
        raw = [{"loc": ["body", exc.field], "msg": exc.detail, "type": "value_error"}]
        found = problems.field_problems(raw)
        content = problems.body(
            status=exc.status_code,
            kind=problems.kind_of(type(exc).__name__),
            instance=request.url.path,
            message=problems.summary(found),
            detail=problems.validation_items(raw),
            error=exc.error,
            errors=found,
        )
        return _answer(request, content)
    field: str | None = getattr(exc, "field", None)
    message = mensajes.as_sentence(exc.sentence or exc.detail)
    if field and field not in exc.detail:
        message = f"«{field}»: {message}"
    content = problems.body(
        status=exc.status_code,
        kind=problems.kind_of(type(exc).__name__),
        instance=request.url.path,
        message=message,
        detail=exc.detail,
        error=exc.error,
        errors=[problems.FieldProblem(field=field, message=message)] if field else (),
    )
    content |= {k: v for k, v in exc.extensions().items() if k not in content}
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return _answer(request, content, headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    found = problems.field_problems(raw)
    content = problems.body(
        status=422,
        kind="validacion",
        instance=request.url.path,
        message=problems.summary(found),
        detail=problems.validation_items(raw),
        errors=found,
    )
    return _answer(request, content)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    """Unknown routes (404), wrong methods (405) and any HTTPException raised by a route or a dependency."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    default = status in (404, 405) and exc.detail in ("Not Found", "Method Not Allowed")
    if status == 404 and default:
        kind, message = "ruta-inexistente", f"La ruta {request.url.path} no existe."
    elif status == 405 and default:
        kind, message = "metodo-no-permitido", f"La ruta {request.url.path} no admite el método {request.method}."
    else:
        kind, message = f"http-{status}", mensajes.as_sentence(str(exc.detail)) or problems.error_phrase(status)
    # Starlette's own English "Not Found" says less than the sentence; a route's own detail is kept as it is.
    detail = message.rstrip(".") if default else str(exc.detail)
    content = problems.body(status=status, kind=kind, instance=request.url.path, message=message, detail=detail)
    return _answer(request, content, dict(exc.headers) if exc.headers else None)


def create_base_app(
    *,
    title: str,
    version: str,
    cors_origins: Sequence[str],
    policy: ServicePolicy,
    lifespan: Lifespan[Any] | None = None,
    description: str = "",
    error_body: ErrorBody | None = None,
    auth: AuthSettings | None = None,
) -> FastAPI:
    """`policy`: who may call each route (services.platform.policy). The token validator is on
    `app.state.token_validator` (tests put one that knows their own signing key there)."""
    auth = auth or AuthSettings()
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,
        # FastAPI's own /docs and /redoc load their scripts from a CDN: services.platform.docs serves them instead.
        docs_url=None,
        redoc_url=None,
        swagger_ui_init_oauth={"clientId": auth.swagger_client_id, "usePkceWithAuthorizationCodeGrant": True},
        # FastAPI's native OpenTelemetry (0.16x) stands aside when it finds the OTel ASGI middleware, but still
        # looks for it on every request: the platform owns the spans and metrics (telemetry.py, metrics.py).
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.error_body = error_body
    app.state.token_validator = TokenValidator(JwksKeys(auth), auth)
    app.add_middleware(Guard, policy=policy)  # innermost: its answers pass _CatchAll and CORS like any other
    app.add_middleware(_CatchAll)  # CORS wraps its answers too
    # The original SPA calls every port directly; credentials are never allowed with "*".
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(cors_origins),
        allow_credentials=False,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[
            "X-Total-Count",
            "Location",
            "X-View-Lag",
            "X-View-Offsets",
            "Retry-After",
            "Idempotent-Replayed",
            "Preference-Applied",  # whether POST /transacciones waited for the final state (Prefer: wait=N)
        ],
    )
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            documented = declare_headers(declare_problems(generate()), app.routes)
            app.openapi_schema = declare_security(documented, auth, PUBLIC)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app

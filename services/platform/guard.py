"""The guard every service runs before its routes: the bearer token validated into a Principal (401 without or with
a bad one), then the route's Rule of the service's policy applied (403 naming the roles needed; 404 for a customer
asking for another cliente). Public: /health, /metrics (scraped on the internal port, see services.platform.metrics), the docs and the OpenAPI document (CORS preflights are answered by
the CORS middleware outside this one)."""

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from services.platform import mensajes, problems
from services.platform.auth import IDENTITY_PROVIDER, InvalidToken, TokenValidator
from services.platform.docs import DOCS_PATHS
from services.platform.errors import RETRY_AFTER_SECONDS, Unavailable
from services.platform.policy import ServicePolicy, Verdict

log = logging.getLogger(__name__)

PUBLIC = frozenset({"/health", "/metrics", "/openapi.json"}) | DOCS_PATHS


class Guard:
    """Pure ASGI (not a route dependency) so it answers before the body is even read: an anonymous caller learns
    nothing from validation errors, and an unknown path is 401 too."""

    def __init__(self, app: ASGIApp, policy: ServicePolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        answer = await self._judge(request)
        if answer is not None:
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _judge(self, request: Request) -> JSONResponse | None:
        validator: TokenValidator = request.app.state.token_validator
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthenticated(request, "Se necesita un token de acceso (Authorization: Bearer …).", None)
        try:
            principal = await validator.principal(token.strip())
        except InvalidToken as exc:
            log.info("%s %s: token refused: %s", request.method, request.url.path, exc)
            return _unauthenticated(request, "El token de acceso no es válido o ha expirado.", "invalid_token")
        except Unavailable:
            return _unavailable(request)
        request.state.principal = principal
        found = _route(request.app, request.scope)
        if found is None:
            return None  # unknown path or method: the router answers 404/405 to an authenticated caller
        path, params = found
        rule = self.policy.rule(request.method, path)
        verdict = rule.judge(principal, request.method, params)
        if verdict is Verdict.FORBIDDEN:
            roles = ", ".join(rule.needed())
            message = f"Se necesita uno de los roles {roles} para {request.method} {path}."
            return _problem(request, 403, "acceso-denegado", message, None)
        if verdict is Verdict.NOT_FOUND:
            message = f"El cliente {params.get('cliente_id')} no existe."
            return _problem(request, 404, "no-encontrado", message, None)
        return None


def _route(app: FastAPI, scope: Scope) -> tuple[str, dict[str, str]] | None:
    """The path template and raw path parameters of the route that will answer."""
    return _match(app.router.routes, scope, "")


def _match(routes: Iterable[BaseRoute], scope: Scope, prefix: str) -> tuple[str, dict[str, str]] | None:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI >= 0.16x keeps included routers nested
        if included is not None:
            inner = str(getattr(getattr(route, "include_context", None), "prefix", "") or "")
            if scope["path"].startswith(inner):
                sub = {**scope, "path": scope["path"][len(inner) :]} if inner else scope
                found = _match(included.routes, sub, prefix + inner)
                if found is not None:
                    return found
            continue
        match, child = route.matches(scope)
        if match is Match.FULL:
            params = child.get("path_params", {})
            return prefix + str(getattr(route, "path", "")), {k: str(v) for k, v in params.items()}
    return None


def route_templates(app: FastAPI) -> set[tuple[str, str]]:
    """Every (METHOD, path template) the app answers, the docs and /health aside (the role table's keys)."""
    return _templates(app.router.routes, "") - {("GET", p) for p in PUBLIC} - {("HEAD", p) for p in PUBLIC}


def _templates(routes: Iterable[BaseRoute], prefix: str) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            inner = str(getattr(getattr(route, "include_context", None), "prefix", "") or "")
            out |= _templates(included.routes, prefix + inner)
        elif isinstance(route, Route | APIRoute):
            out |= {(m, prefix + route.path) for m in route.methods or () if m != "HEAD"}
    return out


def _unauthenticated(request: Request, message: str, error: str | None) -> JSONResponse:
    # RFC 6750 §3: the scheme, and error="invalid_token" when a token was sent but refused.
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return _problem(request, 401, "no-autenticado", message, {"WWW-Authenticate": challenge})


def _unavailable(request: Request) -> JSONResponse:
    detail = f"{IDENTITY_PROVIDER} no está disponible en este momento; reintente en unos segundos"
    return _problem(
        request,
        503,
        "dependencia-no-disponible",
        mensajes.as_sentence(detail),
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _problem(request: Request, status: int, kind: str, message: str, headers: dict[str, str] | None) -> JSONResponse:
    content: dict[str, Any] = problems.body(
        status=status, kind=kind, instance=request.url.path, message=message, detail=message.rstrip(".")
    )
    shape = getattr(request.app.state, "error_body", None)  # analytics' envelope, as the platform's error path
    if shape is not None:
        content = shape(content)
    return JSONResponse(content, status_code=status, headers=headers, media_type=problems.PROBLEM_JSON)

"""The OpenAPI documents say what the error path answers (one shared `Problem` schema for every 4xx/5xx), how to
authenticate (Keycloak OAuth2 / bearer) and the response headers the platform sends (X-Total-Count, Idempotent-Replayed;
Location and the view's freshness are declared by their routes with the constants here). Only statuses a route really
answers: no blanket 4XX/5XX (tests/integration/errors/test_openapi_behaviour.py compares the document with the stack)."""

import json
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, get_args

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from services.platform.problems import PROBLEM_JSON, Problem

if TYPE_CHECKING:
    from services.platform.auth import AuthSettings

_REF = {"$ref": "#/components/schemas/Problem"}
# Schemas that stood for error bodies before the one error path: FastAPI's default 422, a service's own.
_REPLACED = ("HTTPValidationError", "ErrorDetail")
_HEALTH = "/health"  # its 503 is the health report itself, not a problem


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {PROBLEM_JSON: {"schema": _REF}}}
    if headers:
        answer["headers"] = headers
    return answer


_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}
# Every protected route can answer 503: the guard needs the identity provider's keys before the route runs.
_DEFAULTS = {
    "503": _problem(
        "a dependency (database, broker, lake, identity provider) is away: retry after Retry-After seconds",
        _RETRY_AFTER,
    ),
}


def _header(description: str, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


TOTAL_COUNT = {"X-Total-Count": _header("how many items match the filters (all pages)", "integer")}
REPLAYED = {
    "Idempotent-Replayed": _header(
        "`true` when this is the recorded answer to an earlier request with the same Idempotency-Key"
    )
}
LOCATION = {"Location": _header("the path of the created resource (or of the transaction to poll)")}
VIEW_FRESHNESS = {
    "X-View-Offsets": _header("the last Kafka offsets the view applied, `partition=offset,...`"),
    "X-View-Lag": _header("seconds the view is behind the events (0 when caught up)", "number"),
}


def headers(names: dict[str, Any], *codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route that sends these headers with these statuses."""
    return {code: {"headers": names} for code in codes}


def declare_headers(schema: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """What the platform's dependencies add, read from each route: X-Total-Count where it pages (PageDep), and where
    it takes an Idempotency-Key, Idempotent-Replayed on its answers plus the 409 of a key reused with another body."""
    from services.platform.idempotency import HEADER
    from services.platform.pagination import PageDep

    page = get_args(PageDep)[1].dependency  # the Depends(...) of the Annotated alias
    for path, route in _api_routes(routes, ""):
        calls, header_names = _dependencies(route.dependant)
        for method in route.methods or ():
            operation = schema.get("paths", {}).get(path, {}).get(method.lower())
            if operation is None:
                continue
            responses: dict[str, Any] = operation["responses"]
            success = [answer for code, answer in responses.items() if code.startswith("2")]
            if page in calls:
                for answer in success:
                    answer.setdefault("headers", {}).update(TOTAL_COUNT)
            if HEADER in header_names:
                for answer in success:
                    answer.setdefault("headers", {}).update(REPLAYED)
                responses.setdefault("409", _problem("the Idempotency-Key was already used for another request"))
    return schema


def _api_routes(routes: Iterable[BaseRoute], prefix: str) -> Iterable[tuple[str, APIRoute]]:
    """(path template, route), routers included by FastAPI lazily included (as services.platform.guard reads them)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            inner = str(getattr(getattr(route, "include_context", None), "prefix", "") or "")
            yield from _api_routes(included.routes, prefix + inner)
        elif isinstance(route, APIRoute):
            yield prefix + route.path_format, route


def _dependencies(dependant: Dependant) -> tuple[set[Any], set[str]]:
    calls: set[Any] = set()
    # Exact alias: the platform's IdempotencyKey (services.platform.idempotency records and replays, saying so with
    # Idempotent-Replayed); transacciones' saga keeps its own key (header idempotency-key) and replays without it.
    header_names = {p.alias for p in dependant.header_params if p.alias}
    for sub in dependant.dependencies:
        calls.add(sub.call)
        more, names = _dependencies(sub)
        calls |= more
        header_names |= names
    return calls, header_names


def _is_old_error_shape(answer: dict[str, Any]) -> bool:
    content = answer.get("content")
    if not content:
        return True
    text = json.dumps(content)
    return any(f'#/components/schemas/{name}"' in text for name in _REPLACED)


def _drop_unreferenced(schema: dict[str, Any], names: tuple[str, ...]) -> None:
    components = schema.get("components", {}).get("schemas", {})
    for _ in names:  # dropping one may leave another unreferenced (HTTPValidationError -> ValidationError)
        text = json.dumps(schema)
        for name in [n for n in components if n in names]:
            if f'#/components/schemas/{name}"' not in text:
                del components[name]


def declare_problems(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for code, answer in responses.items():
                if code[0] in "45" and _is_old_error_shape(answer):
                    responses[code] = _problem(answer.get("description", "error"))
            if path != _HEALTH:
                for code, answer in _DEFAULTS.items():
                    responses.setdefault(code, answer)
    _drop_unreferenced(schema, ("HTTPValidationError", "ValidationError", "ErrorDetail"))
    return schema


def declare_security(schema: dict[str, Any], auth: "AuthSettings", public: Collection[str]) -> dict[str, Any]:
    """Every operation but the public ones needs a Keycloak token: OAuth2 authorization code (+ PKCE, Swagger UI's
    Authorize) or a bearer token obtained elsewhere; 401/403 are documented as problems."""
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["keycloak"] = {
        "type": "oauth2",
        "description": "Keycloak realm login (authorization code with PKCE; Swagger UI uses client "
        f"`{auth.swagger_client_id}`)",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": auth.endpoint("auth"),
                "tokenUrl": auth.endpoint("token"),
                "scopes": {},
            }
        },
    }
    schemes["bearer"] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for path, operations in schema.get("paths", {}).items():
        if path in public:
            continue
        for operation in operations.values():
            operation["security"] = [{"keycloak": []}, {"bearer": []}]
            responses: dict[str, Any] = operation.setdefault("responses", {})
            responses.setdefault("401", _problem("no token, or an invalid or expired one", _CHALLENGE))
            responses.setdefault(
                "403", _problem("the caller's roles do not allow this operation (the body names them)")
            )
    return schema


_CHALLENGE = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}

"""The OpenAPI documents say what the error path answers (one shared `Problem` schema for every 4xx/5xx) and how
to authenticate (Keycloak OAuth2 / bearer)."""

import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

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
_DEFAULTS = {
    "4XX": _problem("the request was refused (the body names the field and the problem)"),
    "503": _problem("a dependency (database, broker, lake) is away: retry after Retry-After seconds", _RETRY_AFTER),
    "5XX": _problem("unexpected error (logged)"),
}


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

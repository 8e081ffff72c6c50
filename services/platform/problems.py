"""RFC 9457 problem details: the body of every 4xx/5xx of every service, carrying as extension members what the
original clients read (`detail` MS1, `error` MS2, `message` MS4) and `errors[]`, one entry per field at fault."""

import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.platform import mensajes

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:cloudbank:problema:"

# `error` (and `title`) of an answer that no DomainError describes, by status.
_ERROR_POR_ESTADO = {
    400: "Solicitud inválida",
    401: "No autenticado",
    403: "Acceso denegado",
    404: "No encontrado",
    405: "Método no permitido",
    406: "Formato no aceptable",
    409: "Conflicto",
    413: "Cuerpo demasiado grande",
    415: "Tipo de contenido no admitido",
    422: "Datos inválidos",
    429: "Demasiadas solicitudes",
    500: "Error interno",
    502: "Dependencia no disponible",
    503: "Servicio no disponible",
    504: "Tiempo de espera agotado",
}


class ValidationItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class FieldProblem(BaseModel):
    field: str = Field(description="the field at fault, dotted (`documento.numero_documento`, `clientes[1].email`)")
    message: str = Field(description="what is wrong with it, one Spanish sentence")


class Problem(BaseModel):
    """The body of every 4xx/5xx (media type application/problem+json). A 503 also sends `Retry-After`."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description=f"the kind of problem, a URI ({TYPE_PREFIX}<kind>)")
    title: str = Field(description="short summary of the kind (same as `error`)")
    status: int = Field(description="the HTTP status code")
    detail: str | list[ValidationItem] = Field(description="the specific text; FastAPI's list of errors for a 422")
    instance: str = Field(description="the path that was requested")
    error: str = Field(description="short phrase (what MS2's clients read)")
    message: str = Field(description="one Spanish sentence naming the field and the problem (MS4's clients)")
    errors: list[FieldProblem] = Field(default_factory=list, description="one entry per field at fault")


def error_phrase(status: int) -> str:
    if status in _ERROR_POR_ESTADO:
        return _ERROR_POR_ESTADO[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def kind_of(name: str) -> str:
    """`SaldoInsuficiente` -> `saldo-insuficiente`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def body(
    *,
    status: int,
    kind: str,
    instance: str,
    message: str,
    detail: str | list[dict[str, Any]],
    error: str | None = None,
    errors: Iterable[FieldProblem] = (),
) -> dict[str, Any]:
    phrase = error or error_phrase(status)
    return {
        "type": TYPE_PREFIX + kind,
        "title": phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "error": phrase,
        "message": message,
        "errors": [e.model_dump() for e in errors],
    }


def validation_items(raw: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """FastAPI's 422 list minus the raw input (may be huge or binary) and ctx (not always JSON-serializable)."""
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))} for e in raw]


def field_problems(raw: Iterable[Mapping[str, Any]]) -> list[FieldProblem]:
    """One Spanish sentence per validation error, naming its field."""
    out = []
    for e in raw:
        ctx = e.get("ctx")
        field = mensajes.field_name(list(e.get("loc", ())))
        problem = mensajes.predicado(str(e.get("type", "")), str(e.get("msg", "")), _plain(ctx))
        out.append(FieldProblem(field=field, message=mensajes.sentence(field, problem)))
    return out


def summary(problems: list[FieldProblem]) -> str:
    if not problems:
        return "La petición no es válida."
    first = problems[0].message
    rest = len(problems) - 1
    return first if rest == 0 else f"{first[:-1]} (y {rest} error{'es' if rest > 1 else ''} más)."


def _plain(ctx: object) -> dict[str, Any] | None:
    """ctx values as text (a Decimal or an exception inside would not format as the reader expects)."""
    if not isinstance(ctx, Mapping):
        return None
    return {str(k): v if isinstance(v, str | int) else json.dumps(v, default=str).strip('"') for k, v in ctx.items()}

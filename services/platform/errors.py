"""The shared error tree that api layers translate into HTTP answers (services.platform.app, one error path).

DomainError                 `error` is the short phrase of the answer's body, `detail` the specific text
├── NotFound     -> 404
├── Conflict     -> 409
├── Invalid      -> 422     a rule on a named field that the schema cannot express
└── Unavailable  -> 503     a database, the broker or the lake cannot serve now: retry after `retry_after` s

An error may say more in the answer's `message` than in `detail` (`sentence`, e.g. the amounts of a refusal, while
`detail` keeps the phrase older clients compare), and add RFC 9457 extension members (`extensions()`).
"""

from typing import Any

RETRY_AFTER_SECONDS = 2
"""What a 503 asks clients to wait: a restarted database or broker is usually back within seconds."""


class DomainError(Exception):
    status_code = 400
    error = "Solicitud rechazada"
    retry_after: int | None = None  # seconds; when set, the answer carries Retry-After (503s, 429s)
    sentence: str | None = None  # the answer's `message` when it says more than `detail`

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def extensions(self) -> dict[str, Any]:
        """Extra members of the problem+json body (never one of its standard members)."""
        return {}


class NotFound(DomainError):
    status_code = 404
    error = "No encontrado"


class Conflict(DomainError):
    status_code = 409
    error = "Conflicto"


class Invalid(DomainError):
    status_code = 422
    error = "Datos inválidos"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


class Unavailable(DomainError):
    status_code = 503
    error = "Servicio no disponible"

    def __init__(
        self,
        detail: str = "El servicio no está disponible en este momento; reintente en unos segundos",
        *,
        retry_after: int = RETRY_AFTER_SECONDS,
    ) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

"""The shared error tree that api layers translate into HTTP answers.

DomainError
├── NotFound   -> 404
├── Conflict   -> 409
└── Invalid    -> 422 (a rule on a named field that the schema cannot express)
"""


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    status_code = 422

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field

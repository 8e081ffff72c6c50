"""Spanish sentences for the `message` member of error bodies: one per validation error, naming the field."""

import re
from collections.abc import Mapping, Sequence
from typing import Any

# Pydantic's error types -> the predicate of a sentence about the field; {names} come from the error's ctx.
_POR_TIPO: dict[str, str] = {
    "missing": "es obligatorio",
    "string_too_long": "admite como máximo {max_length} caracteres",
    "string_too_short": "necesita al menos {min_length} caracteres",
    "too_long": "admite como máximo {max_length} elementos",
    "too_short": "necesita al menos {min_length} elementos",
    "greater_than": "debe ser mayor que {gt}",
    "greater_than_equal": "debe ser mayor o igual que {ge}",
    "less_than": "debe ser menor que {lt}",
    "less_than_equal": "debe ser menor o igual que {le}",
    "multiple_of": "debe ser múltiplo de {multiple_of}",
    "int_parsing": "debe ser un número entero",
    "int_type": "debe ser un número entero",
    "int_from_float": "debe ser un número entero",
    "float_parsing": "debe ser un número",
    "float_type": "debe ser un número",
    "decimal_parsing": "debe ser un número",
    "decimal_type": "debe ser un número",
    "finite_number": "debe ser un número finito",
    "decimal_max_places": "admite como máximo {decimal_places} decimales",
    "decimal_max_digits": "admite como máximo {max_digits} dígitos",
    "decimal_whole_digits": "admite como máximo {whole_digits} dígitos enteros",
    "bool_parsing": "debe ser verdadero o falso",
    "bool_type": "debe ser verdadero o falso",
    "string_type": "debe ser un texto",
    "string_pattern_mismatch": "no tiene el formato esperado",
    "literal_error": "debe ser uno de: {expected}",
    "enum": "debe ser uno de: {expected}",
    "date_parsing": "debe ser una fecha (AAAA-MM-DD)",
    "date_type": "debe ser una fecha (AAAA-MM-DD)",
    "date_from_datetime_parsing": "debe ser una fecha (AAAA-MM-DD)",
    "datetime_parsing": "debe ser una fecha y hora ISO 8601",
    "datetime_type": "debe ser una fecha y hora ISO 8601",
    "datetime_from_date_parsing": "debe ser una fecha y hora ISO 8601",
    "timezone_aware": "debe indicar la zona horaria",
    "dict_type": "debe ser un objeto JSON",
    "model_type": "debe ser un objeto JSON",
    "model_attributes_type": "debe ser un objeto JSON",
    "list_type": "debe ser una lista",
    "extra_forbidden": "no está permitido",
    "uuid_parsing": "no tiene el formato esperado",
    "url_parsing": "no tiene el formato esperado",
    "json_invalid": "no es JSON válido",
    "json_type": "no es JSON válido",
}

# The custom rules' own (English) texts -> Spanish predicates. Unknown texts are quoted as they are.
_FRASES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.IGNORECASE), es)
    for p, es in [
        (r"must be greater than or equal to (\S+)$", r"debe ser mayor o igual que \1"),
        (r"must be greater than (\S+)$", r"debe ser mayor que \1"),
        (r"must be a finite number$", "debe ser un número finito"),
        (r"must have at most (\d+) integer digits$", r"admite como máximo \1 dígitos enteros"),
        (r"must have at most (\d+) decimals$", r"admite como máximo \1 decimales"),
        (r"must have at most (\d+) characters$", r"admite como máximo \1 caracteres"),
        (r"must be a plain amount$", "debe ser un importe numérico"),
        (
            r"must be a plain amount: .*",
            "debe ser un importe en dígitos ASCII, con '.' y como máximo 2 decimales (sin signo, espacios ni exponente)",
        ),
        (
            r"must be at most (\S+) \(the largest balance an account may hold\)$",
            r"no puede superar \1 (el saldo máximo de una cuenta)",
        ),
        (r"must be an amount, not a boolean$", "debe ser un importe, no un booleano"),
        (r"must be an amount: a decimal string or a number$", "debe ser un importe: un texto decimal o un número"),
        (
            r"must be a positive integer written with ASCII digits only$",
            "debe ser un número entero escrito solo con dígitos ASCII",
        ),
        (r"must be valid UTF-8 text$", "debe ser texto UTF-8 válido"),
        (r"must not contain control characters$", "no debe contener caracteres de control"),
        (r"must not contain NUL characters$", "no debe contener caracteres NUL"),
        (r"value is not a valid email address.*", "no es una dirección de email válida"),
        (r"must not be empty$", "no debe estar vacío"),
        (r"(\S+) must be exactly (\d+) digits$", r"debe tener exactamente \2 dígitos (\1)"),
        (r"(.+) must contain only letters and digits$", r"solo admite letras y dígitos (\1)"),
        (r"(\S+) must be after (\S+)$", r"debe ser posterior a \2"),
        (r"must not be earlier than (\S+)$", r"no debe ser anterior a \1"),
        (r"must be plain JSON \(no NaN or Infinity\)$", "debe ser JSON simple (sin NaN ni Infinity)"),
        (r"must serialize to at most (\d+) bytes$", r"no debe ocupar más de \1 bytes"),
        (r"date out of range$", "está fuera del rango de fechas admitido"),
    ]
]

_SOURCES = ("body", "query", "path", "header", "cookie")


def field_name(loc: Sequence[str | int]) -> str:
    """`["body", "clientes", 1, "email"]` -> `"clientes[1].email"` (where the value came from is not the field)."""
    parts = list(loc[1:] if loc and loc[0] in _SOURCES else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def predicado(kind: str, msg: str, ctx: Mapping[str, Any] | None = None) -> str:
    """What is wrong with the field, in Spanish, from pydantic's error type (or the custom rule's text)."""
    text = re.sub(r"^(Value|Assertion) error,\s*", "", msg)
    if kind in _POR_TIPO:
        try:
            return _POR_TIPO[kind].format(**(ctx or {})).replace("' or '", "' o '")
        except (KeyError, IndexError):
            pass
    for pattern, es in _FRASES:
        if pattern.match(text):
            return pattern.sub(es, text)
    return f"no es válido: {text}"


def sentence(field: str, problem: str) -> str:
    """One sentence naming the field: «El campo «email» es obligatorio.»"""
    subject = f"El campo «{field}»" if field else "El cuerpo de la petición"
    return f"{subject} {problem.rstrip('.')}."


def as_sentence(text: str) -> str:
    """A free text (a domain error's detail) as a sentence: capital first letter, final period."""
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")

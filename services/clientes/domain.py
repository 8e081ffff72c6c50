"""Pure rules of the clientes aggregate: field validations, the update merge, and the records the service works on."""

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Final, get_args

from email_validator import EmailNotValidError, validate_email

from contracts.clientes import EstadoCliente, TipoDocumento
from contracts.envelope import AuthContext

ESTADOS: Final[tuple[str, ...]] = get_args(EstadoCliente)
TIPOS_DOCUMENTO: Final[tuple[str, ...]] = get_args(TipoDocumento)

NOMBRE_MAX = 100
EMAIL_MAX = 150
TELEFONO_MAX = 20
NUMERO_MAX = 20
# Ids are BIGINT identities; anything outside this range cannot name a row (and would overflow the driver).
ID_MAX: Final = 2**63 - 1

_DIGITS = {"DNI": 8, "RUC": 11}
# Passports and foreigners' cards are alphanumeric; stored upper-case so "ab123" and "AB123" are one document.
_ALNUM = re.compile(r"^[A-Z0-9]+$")


@dataclass(frozen=True)
class Documento:
    documento_id: int
    cliente_id: int
    tipo_documento: TipoDocumento
    numero_documento: str
    fecha_emision: date | None = None
    fecha_vencimiento: date | None = None


@dataclass(frozen=True)
class Cliente:
    cliente_id: int
    nombre: str
    apellido: str
    email: str
    telefono: str | None
    estado: EstadoCliente
    fecha_registro: datetime
    documentos: tuple[Documento, ...] = field(default=())
    # Who registered it and who changed it last (None on records older than the columns).
    creado_por: AuthContext | None = None
    actualizado_por: AuthContext | None = None


@dataclass(frozen=True)
class NuevoDocumento:
    tipo_documento: TipoDocumento
    numero_documento: str
    fecha_emision: date | None = None
    fecha_vencimiento: date | None = None


@dataclass(frozen=True)
class NuevoCliente:
    """A validated registration request; the store assigns ids and fecha_registro."""

    nombre: str
    apellido: str
    email: str
    telefono: str | None
    estado: EstadoCliente
    documento: NuevoDocumento


@dataclass(frozen=True)
class Cambios:
    """What a PUT asked to change; None means "keep" (telefono_set tells an explicit null from absence)."""

    nombre: str | None = None
    apellido: str | None = None
    email: str | None = None
    telefono: str | None = None
    telefono_set: bool = False
    estado: EstadoCliente | None = None


def check_text(value: str) -> str:
    """Text a database column can hold and a person would type: valid UTF-8, no control characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 text") from None
    # NUL cannot be stored by PostgreSQL at all; other control characters are never part of a name or number.
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def normalize_email(value: str) -> str:
    """A deliverable-looking address in its normalized form (domain lower-cased); uniqueness ignores case."""
    check_text(value)
    try:
        # No DNS lookup: registration must not depend on the network, and tests use example domains.
        normalized = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"value is not a valid email address: {exc}") from None
    if len(normalized) > EMAIL_MAX:
        raise ValueError(f"must have at most {EMAIL_MAX} characters")
    return normalized


def normalize_numero_documento(tipo: str, numero: str) -> str:
    """The canonical form of a document number for its type, or ValueError saying what is wrong."""
    check_text(numero)
    numero = numero.strip().upper()
    if not numero:
        raise ValueError("must not be empty")
    if len(numero) > NUMERO_MAX:
        raise ValueError(f"must have at most {NUMERO_MAX} characters")
    digits = _DIGITS.get(tipo)
    if digits is not None:
        if len(numero) != digits or not numero.isascii() or not numero.isdigit():
            raise ValueError(f"{tipo} must be exactly {digits} digits")
    elif not _ALNUM.match(numero):
        raise ValueError(f"{tipo} must contain only letters and digits")
    return numero


def check_vigencia(fecha_emision: date | None, fecha_vencimiento: date | None) -> None:
    """A document expires after it is issued (when both dates are known)."""
    if fecha_emision is not None and fecha_vencimiento is not None and fecha_vencimiento <= fecha_emision:
        raise ValueError("fecha_vencimiento must be after fecha_emision")


def valid_id(value: int) -> bool:
    """Whether `value` can be the id of a stored row at all (anything else is simply not found)."""
    return 1 <= value <= ID_MAX


def apply_cambios(cliente: Cliente, cambios: Cambios) -> Cliente:
    """The cliente after a PUT: fields not given keep their value, so estado is never reset by omission."""
    updates: dict[str, Any] = {
        name: getattr(cambios, name)
        for name in ("nombre", "apellido", "email", "estado")
        if getattr(cambios, name) is not None
    }
    if cambios.telefono_set:
        updates["telefono"] = cambios.telefono
    return replace(cliente, **updates)


def changed(before: Cliente, after: Cliente) -> bool:
    """Whether a PUT changed anything the cliente's events carry (an unchanged PUT emits nothing)."""
    return (before.nombre, before.apellido, before.email, before.telefono, before.estado) != (
        after.nombre,
        after.apellido,
        after.email,
        after.telefono,
        after.estado,
    )

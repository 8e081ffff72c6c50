"""Type name -> model lookup, with upcasters that lift old payload versions to the current model."""

from collections.abc import Callable
from typing import Any

from contracts import clientes, comandos, cuentas, transacciones
from contracts.base import Message

MESSAGE_TYPES: tuple[type[Message], ...] = (
    clientes.ClienteCreado,
    clientes.ClienteActualizado,
    clientes.ClienteEliminado,
    cuentas.CuentaAbierta,
    cuentas.SaldoActualizado,
    cuentas.EstadoCuentaCambiado,
    cuentas.CuentaEliminada,
    cuentas.LimitesCuentaCambiados,
    cuentas.MovimientoRechazado,
    cuentas.RetencionCreada,
    cuentas.RetencionCapturada,
    cuentas.RetencionLiberada,
    cuentas.RetencionExpirada,
    comandos.DebitarCuenta,
    comandos.AcreditarCuenta,
    comandos.RevertirDebito,
    transacciones.TransaccionSolicitada,
    transacciones.TransaccionRegistrada,
    transacciones.TransaccionFallida,
    transacciones.TiposCambioActualizados,
)

BY_TYPE: dict[str, type[Message]] = {m.type: m for m in MESSAGE_TYPES}

# Where a type's JSON Schema is published: the schema's `$id` and the CloudEvents `dataschema` of its events, so a
# reader with any SDK finds the schema of an event from the event alone. An identifier, not a download address.
SCHEMA_BASE_URI = "https://schemas.cloudbank.example/events/"


def schema_uri(type_name: str) -> str:
    """The `$id` of `type_name`'s checked-in JSON Schema (contracts/schemas/<type>.json)."""
    return f"{SCHEMA_BASE_URI}{type_name}.json"


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# old type name -> (new type name, payload transform). Chains are followed until a current
# type is reached, e.g. ...Foo.v1 -> ...Foo.v2 -> ...Foo.v3. Empty while every type is at v1.
UPCASTERS: dict[str, tuple[str, Upcaster]] = {}


class UnknownMessageType(LookupError):
    """A type name no model or upcaster knows: the message cannot be decoded by this version."""


def model_for(type_name: str, data: dict[str, Any]) -> tuple[type[Message], dict[str, Any]]:
    """The current model for `type_name` and the payload upcast to it."""
    seen = set()
    while type_name not in BY_TYPE:
        if type_name not in UPCASTERS or type_name in seen:
            raise UnknownMessageType(type_name)
        seen.add(type_name)
        type_name, upcast = UPCASTERS[type_name]
        data = upcast(data)
    return BY_TYPE[type_name], data

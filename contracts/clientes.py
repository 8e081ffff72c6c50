"""Events of the clientes aggregate (topic bank.clientes.v1)."""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from contracts import topics
from contracts.base import DomainEvent

EstadoCliente = Literal["activo", "inactivo", "bloqueado"]
TipoDocumento = Literal["DNI", "Pasaporte", "RUC", "Carnet Extranjeria"]


class Documento(BaseModel):
    model_config = ConfigDict(frozen=True)

    documento_id: int
    tipo_documento: TipoDocumento
    numero_documento: str
    fecha_emision: date | None = None
    fecha_vencimiento: date | None = None


class _ClienteEvent(DomainEvent):
    topic: ClassVar[str] = topics.CLIENTES
    key_field: ClassVar[str] = "cliente_id"

    cliente_id: int


class ClienteCreado(_ClienteEvent):
    type: ClassVar[str] = "bank.clientes.ClienteCreado.v1"

    nombre: str
    apellido: str
    email: str
    telefono: str | None = None
    estado: EstadoCliente
    fecha_registro: datetime
    documentos: tuple[Documento, ...] = ()


class ClienteActualizado(_ClienteEvent):
    """The cliente's full state after the change, so a consumer needs no earlier event to apply it."""

    type: ClassVar[str] = "bank.clientes.ClienteActualizado.v1"

    nombre: str
    apellido: str
    email: str
    telefono: str | None = None
    estado: EstadoCliente


class ClienteEliminado(_ClienteEvent):
    type: ClassVar[str] = "bank.clientes.ClienteEliminado.v1"

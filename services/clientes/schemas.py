"""The REST contract of MS1 (API.md): request models that refuse bad input naming the field, and the public shapes."""

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from contracts.clientes import EstadoCliente, TipoDocumento
from services.clientes import domain
from services.platform.actor import ActorPublic
from services.platform.lote import LOTE_MAX

Nombre = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=domain.NOMBRE_MAX),
    AfterValidator(domain.check_text),
]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=domain.EMAIL_MAX),
    AfterValidator(domain.normalize_email),
    Field(json_schema_extra={"format": "email"}, examples=["ana.perez@example.com"]),
]


def _blank_is_none(value: str) -> str | None:
    # Forms send "" for an empty optional field; store that as "no telefono" rather than an empty string.
    return value or None


Telefono = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=domain.TELEFONO_MAX),
    AfterValidator(domain.check_text),
    AfterValidator(_blank_is_none),
]
NumeroDocumento = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=domain.NUMERO_MAX)]


class DocumentoCreate(BaseModel):
    """The identity document a cliente registers with; any documento_id sent is ignored (the server assigns it)."""

    # Field order matters: the validators below read the fields declared before them.
    tipo_documento: TipoDocumento
    numero_documento: NumeroDocumento = Field(examples=["45678912"])
    fecha_emision: date | None = None
    fecha_vencimiento: date | None = None

    @field_validator("numero_documento")
    @classmethod
    def _numero_para_su_tipo(cls, value: str, info: ValidationInfo) -> str:
        tipo = info.data.get("tipo_documento")
        if tipo is None:  # tipo_documento itself was invalid and is reported on its own
            return domain.check_text(value)
        return domain.normalize_numero_documento(tipo, value)

    @field_validator("fecha_vencimiento")
    @classmethod
    def _vence_despues_de_emitirse(cls, value: date | None, info: ValidationInfo) -> date | None:
        domain.check_vigencia(info.data.get("fecha_emision"), value)
        return value

    def to_domain(self) -> domain.NuevoDocumento:
        return domain.NuevoDocumento(
            tipo_documento=self.tipo_documento,
            numero_documento=self.numero_documento,
            fecha_emision=self.fecha_emision,
            fecha_vencimiento=self.fecha_vencimiento,
        )


class ClienteCreate(BaseModel):
    """POST /clientes. Ids, fecha_registro and any unknown field in the body are ignored: the server sets them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "nombre": "Ana",
                    "apellido": "Pérez",
                    "email": "ana.perez@example.com",
                    "telefono": "987654321",
                    "estado": "activo",
                    "documento": {
                        "tipo_documento": "DNI",
                        "numero_documento": "45678912",
                        "fecha_emision": "2020-01-15",
                        "fecha_vencimiento": "2030-01-15",
                    },
                }
            ]
        }
    )

    nombre: Nombre
    apellido: Nombre
    email: Email
    telefono: Telefono | None = None
    # null is taken as "not given" (the default), as the original clients may send it.
    estado: EstadoCliente | None = "activo"
    documento: DocumentoCreate

    def to_domain(self) -> domain.NuevoCliente:
        return domain.NuevoCliente(
            nombre=self.nombre,
            apellido=self.apellido,
            email=self.email,
            telefono=self.telefono,
            estado=self.estado or "activo",
            documento=self.documento.to_domain(),
        )


class ClientesLote(BaseModel):
    """POST /clientes/lote: up to LOTE_MAX clientes, each validated as POST /clientes validates its body (a bad
    one is a 422 naming `clientes.<index>.<field>`, and nothing of the batch is written)."""

    clientes: list[ClienteCreate] = Field(min_length=1, max_length=LOTE_MAX)


class ClienteUpdate(BaseModel):
    """PUT /clientes/{id}. A field left out (or null, for the non-nullable ones) keeps its value; estado is
    never reset by omission. telefono: null clears it."""

    nombre: Nombre | None = None
    apellido: Nombre | None = None
    email: Email | None = None
    telefono: Telefono | None = None
    estado: EstadoCliente | None = None

    def to_domain(self) -> domain.Cambios:
        return domain.Cambios(
            nombre=self.nombre,
            apellido=self.apellido,
            email=self.email,
            telefono=self.telefono,
            telefono_set="telefono" in self.model_fields_set,
            estado=self.estado,
        )


class DocumentoPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    documento_id: int
    cliente_id: int
    tipo_documento: TipoDocumento
    numero_documento: str
    fecha_emision: date | None
    fecha_vencimiento: date | None


class ClientePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    cliente_id: int
    nombre: str
    apellido: str
    email: str
    telefono: str | None
    estado: EstadoCliente
    fecha_registro: datetime = Field(description="server time of registration, UTC, ISO 8601 with timezone")
    documentos: list[DocumentoPublic]
    creado_por: ActorPublic | None = Field(None, description="who registered the cliente (null on older records)")
    actualizado_por: ActorPublic | None = Field(None, description="who changed it last (at registration: the same)")


class Mensaje(BaseModel):
    mensaje: str


class ErrorDetail(BaseModel):
    detail: str

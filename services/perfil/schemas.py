"""The REST contract of MS3 (API.md §MS3): response models; money as decimal strings, dates ISO 8601."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from services.platform.actor import ActorPublic


class DocumentoPublic(BaseModel):
    documento_id: int
    cliente_id: int
    tipo_documento: str
    numero_documento: str
    fecha_emision: date | None = None
    fecha_vencimiento: date | None = None


class ClientePublic(BaseModel):
    cliente_id: int
    nombre: str
    apellido: str
    email: str
    telefono: str | None = None
    estado: str
    fecha_registro: datetime | None = None
    documentos: list[DocumentoPublic] = []
    creado_por: ActorPublic | None = Field(None, description="who registered the cliente (null on older events)")
    actualizado_por: ActorPublic | None = Field(None, description="who changed it last")


class RetencionPerfil(BaseModel):
    retencion_id: int
    monto: str = Field(examples=["100.00"])
    moneda: str
    vence: datetime
    referencia: str | None = None
    fecha: datetime
    estado: str = Field(description="ACTIVA (ended holds are not listed)")


class CuentaPerfil(BaseModel):
    cuenta_id: int
    cliente_id: int
    tipo_cuenta_id: int | None = None
    numero_cuenta: str | None = None
    saldo: str | None = Field(None, examples=["1500.00"])
    moneda: str | None = None
    fecha_apertura: datetime | None = None
    estado: str | None = None
    tipo_cuenta_nombre: str | None = None
    retenido: str = Field("0.00", description="the sum of the account's active holds", examples=["100.00"])
    saldo_disponible: str | None = Field(None, description="saldo minus retenido", examples=["1400.00"])
    retenciones: list[RetencionPerfil] = Field([], description="the active holds, oldest first")


class TransaccionPerfil(BaseModel):
    id: str
    transaccionId: str
    tipo: str
    cuentaOrigenId: int | None = None
    cuentaDestinoId: int | None = None
    monto: str = Field(examples=["250.00"])
    moneda: str
    descripcion: str | None = None
    fecha: datetime
    estado: str
    motivo: str | None = None
    numero_cuenta: str | None = Field(None, description="the cliente's account in this transaction")
    cuenta_id: int | None = None
    numero_cuenta_origen: str | None = None
    numero_cuenta_destino: str | None = None
    actor: ActorPublic | None = Field(
        None, description="who asked for it (a cancelled one: who cancelled it); null on older events"
    )
    reversionDe: str | None = Field(None, description="a reversal: the id of the transaction it gives back")
    revertidaPor: str | None = Field(None, description="the id of the completed reversal that gave this one back")
    montoDestino: str | None = Field(None, description="FX transfer: what the destination received")
    monedaDestino: str | None = Field(None, description="FX transfer: the destination's currency")


class ResumenFinanciero(BaseModel):
    patrimonio_total: str = Field(
        description="the PEN total of the cliente's accounts (the original's single number; other monedas are in "
        "patrimonio_por_moneda, never converted or added)",
        examples=["1500.00"],
    )
    patrimonio_por_moneda: dict[str, str] = Field(
        description="per currency, never summed across monedas", examples=[{"PEN": "1500.00", "USD": "20.00"}]
    )
    total_cuentas: int
    cuentas_activas: int
    total_transacciones: int
    ultima_actividad: datetime | None = Field(None, description="the newest transaction's fecha; null without any")


class PerfilCompleto(BaseModel):
    cliente: ClientePublic
    cuentas: list[CuentaPerfil]
    transacciones_recientes: list[TransaccionPerfil] = Field(description="at most 50, newest first")
    resumen_financiero: ResumenFinanciero


class BusquedaClientes(BaseModel):
    query: str
    total_resultados: int
    resultados: list[ClientePublic]


class TransaccionesCliente(BaseModel):
    cliente_id: int
    total_transacciones: int
    transacciones_mostradas: int
    transacciones: list[TransaccionPerfil]

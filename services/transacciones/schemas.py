"""The REST contract of MS4 (field names as the original system's clients send and read them)."""

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from contracts.money import Moneda, Money, PositiveMoneyIn
from contracts.transacciones import EstadoTransaccion, TipoTransaccion
from services.platform.actor import ActorPublic
from services.platform.ids import IdIn
from services.platform.lote import LOTE_MAX
from services.transacciones.domain import Transaccion

MAX_METADATA_BYTES = 8192
MAX_CUENTA_ID = 2**63 - 1
# The problem type of a refused transaction (the platform's urn:cloudbank:problema: family): a client tells it
# from other 409s.
TRANSACCION_FALLIDA = "urn:cloudbank:problema:transaccion-fallida"


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


Tipo = Annotated[TipoTransaccion, BeforeValidator(_upper)]
Estado = Annotated[EstadoTransaccion, BeforeValidator(_upper)]
MonedaIn = Annotated[Moneda, BeforeValidator(_upper)]
CuentaId = Annotated[IdIn, Field(gt=0, le=MAX_CUENTA_ID)]


def _sin_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class TransaccionCreate(BaseModel):
    """POST /transacciones. `id`, `transaccionId`, `estado` and `fecha` are server-assigned: if a client sends
    them they are ignored (as any unknown field is), never stored."""

    model_config = ConfigDict(extra="ignore")

    tipo: Tipo
    monto: PositiveMoneyIn = Field(description='> 0, at most 2 decimals and 13 integer digits; number or "1500.00"')
    moneda: MonedaIn
    cuentaOrigenId: CuentaId | None = None
    cuentaDestinoId: CuentaId | None = None
    descripcion: Annotated[str | None, Field(max_length=500)] = None
    metadata: dict[str, Any] | None = Field(None, description=f"free JSON object, at most {MAX_METADATA_BYTES} bytes")
    cotizacionId: Annotated[str | None, Field(min_length=1, max_length=64)] = Field(
        None,
        description="an FX TRANSFERENCIA: the quote (POST /cotizaciones) it is made at; monto, moneda and the "
        "accounts must be the quote's origin side, the quote unexpired and not used by another transaction",
    )

    _no_nul = field_validator("descripcion")(_sin_nul)

    @field_validator("metadata")
    @classmethod
    def _metadata_json(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            text = metadata_json(value)
        except ValueError:
            raise ValueError("must be plain JSON (no NaN or Infinity)") from None
        if len(text.encode()) > MAX_METADATA_BYTES:
            raise ValueError(f"must serialize to at most {MAX_METADATA_BYTES} bytes")
        return value

    def fingerprint_body(self) -> dict[str, Any]:
        """The request as parsed: what makes two requests with one Idempotency-Key "the same"."""
        return _sin_cotizacion_nula(self.model_dump(mode="json"))


class TransaccionLoteItem(TransaccionCreate):
    """One item of POST /transacciones/lote: the body of POST /transacciones plus its Idempotency-Key."""

    idempotency_key: Annotated[str | None, Field(min_length=1, max_length=200)] = None

    def fingerprint_body(self) -> dict[str, Any]:
        # The key is not part of the request it names: the same body sent alone or in a batch is "the same".
        return _sin_cotizacion_nula(self.model_dump(mode="json", exclude={"idempotency_key"}))


def _sin_cotizacion_nula(body: dict[str, Any]) -> dict[str, Any]:
    # Without a quote the fingerprint stays what it was before the field existed (keys already stored still match).
    if body.get("cotizacionId") is None:
        body.pop("cotizacionId", None)
    return body


class TransaccionesLote(BaseModel):
    """POST /transacciones/lote: up to LOTE_MAX transactions, each validated as POST /transacciones validates its
    body (a bad one is a 422 naming `transacciones.<index>.<field>`, and none of the batch is recorded)."""

    transacciones: list[TransaccionLoteItem] = Field(min_length=1, max_length=LOTE_MAX)


def metadata_json(value: dict[str, Any] | None) -> str:
    # Stored as JSON text: any JSON the client sends round-trips, whatever the document store's own rules on
    # keys ("." and "$"), nested arrays (FerretDB 1.x refuses them) or number ranges.
    return json.dumps(value or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class EstadoUpdate(BaseModel):
    """PATCH /transacciones/{id}/estado: only CANCELADA can be asked for."""

    estado: Estado


class TransaccionPublic(BaseModel):
    id: str
    transaccionId: str
    tipo: TipoTransaccion
    cuentaOrigenId: int | None = None
    cuentaDestinoId: int | None = None
    monto: Money
    moneda: Moneda
    descripcion: str | None = None
    fecha: datetime
    estado: EstadoTransaccion
    motivo: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    actor: ActorPublic | None = Field(None, description="who asked for the transaction (null on older ones)")
    canceladaPor: ActorPublic | None = Field(None, description="who cancelled it, when it was cancelled")
    reversionDe: str | None = Field(None, description="a reversal: the id of the transaction it gives back")
    revertidaPor: str | None = Field(None, description="the id of the COMPLETADA reversal that gave this one back")
    cotizacionId: str | None = Field(None, description="an FX transfer: the quote it was made at (else null)")
    montoDestino: Money | None = Field(None, description="an FX transfer: what the destination account is credited")
    monedaDestino: Moneda | None = Field(None, description="an FX transfer: the destination account's currency")

    @classmethod
    def of(cls, t: Transaccion, revertida_por: str | None = None) -> "TransaccionPublic":
        return cls(
            id=str(t.id),
            transaccionId=t.transaccion_id,
            tipo=t.tipo,
            cuentaOrigenId=t.cuenta_origen_id,
            cuentaDestinoId=t.cuenta_destino_id,
            monto=t.monto,
            moneda=t.moneda,
            descripcion=t.descripcion,
            fecha=t.fecha,
            estado=t.estado,
            motivo=t.motivo,
            metadata=t.metadata(),
            actor=ActorPublic.of(t.actor),
            canceladaPor=ActorPublic.of(t.cancelada_por),
            reversionDe=t.reversion_de,
            revertidaPor=revertida_por,
            cotizacionId=t.cotizacion_id,
            montoDestino=t.monto_destino,
            monedaDestino=t.moneda_destino,
        )


class TransaccionRechazada(TransaccionPublic):
    """409 of POST /transacciones when the saga ended FALLIDA within the wait: the transaction as recorded (a
    resource, as GET /transacciones/{id} answers it) plus the members every error body carries (RFC 9457 names,
    and `error`/`message` that the original clients read), all saying the motivo."""

    type: str = Field(examples=[TRANSACCION_FALLIDA])
    title: str = Field(examples=["Transacción rechazada"])
    status: int = Field(examples=[409])
    detail: str = Field(examples=["SALDO_INSUFICIENTE: saldo 10.00, se pidió 10.01"])
    instance: str = Field(examples=["/transacciones/6650c0ffee0123456789abcd"])
    error: str
    message: str

    @classmethod
    def of_fallida(cls, t: Transaccion) -> "TransaccionRechazada":
        motivo = t.motivo or "Transacción rechazada"
        return cls(
            **TransaccionPublic.of(t).model_dump(),
            type=TRANSACCION_FALLIDA,
            title="Transacción rechazada",
            status=409,
            detail=motivo,
            instance=f"/transacciones/{t.id}",
            error=motivo,
            message=motivo,
        )

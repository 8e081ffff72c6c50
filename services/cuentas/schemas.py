"""Request and response models of the cuentas REST API (API.md §MS2): field names are the contract."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from contracts.cuentas import Causa, CuentaInterna, EstadoCuenta, Operacion
from contracts.money import Moneda, Money, NonNegativeMoneyIn, PositiveMoneyIn, format_money
from services.cuentas.asientos import BalanceMoneda
from services.cuentas.domain import ID_MAX, TIPO_ID_MAX, EstadoCupo, LimitesCuenta, LimitesDiarios
from services.cuentas.retenciones import EstadoRetencion
from services.platform.actor import ActorPublic
from services.platform.ids import IdIn
from services.platform.lote import LOTE_MAX


def _lower(value: Any) -> Any:
    # Older clients sent "Deposito"/"ACTIVA": the words are the contract, their case is not.
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


ClienteId = Annotated[IdIn, Field(ge=1, le=ID_MAX)]
TipoCuentaId = Annotated[IdIn, Field(ge=1, le=TIPO_ID_MAX)]
MonedaIn = Annotated[Moneda, BeforeValidator(_upper)]
EstadoIn = Annotated[EstadoCuenta, BeforeValidator(_lower)]


class TipoCuentaPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tipo_cuenta_id: int
    nombre: str
    descripcion: str | None
    costo_mantenimiento: Money
    tasa_interes: Money = Field(description='annual rate in percent, e.g. "1.50"')
    estado: str
    limite_retiro_diario: Money | None = Field(
        None, description="daily withdrawal limit (teller retiro, RETIRO, PAGO_SERVICIO), America/Lima day; null: none"
    )
    limite_transferencia_diario: Money | None = Field(
        None, description="daily transfer-out limit (TRANSFERENCIA debits), America/Lima day; null: none"
    )


class CuentaCreate(BaseModel):
    """Ids, numero_cuenta, estado and fecha_apertura are never taken from the client (extra fields are ignored)."""

    cliente_id: ClienteId
    tipo_cuenta_id: TipoCuentaId
    saldo: NonNegativeMoneyIn = Decimal("0.00")
    moneda: MonedaIn = "PEN"


class CuentasLote(BaseModel):
    """POST /cuentas/lote: up to LOTE_MAX accounts, each validated as POST /cuentas validates its body (a bad one
    is a 422 naming `cuentas.<index>.<field>`, and nothing of the batch is written)."""

    cuentas: list[CuentaCreate] = Field(min_length=1, max_length=LOTE_MAX)


class CuentaPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    cuenta_id: int
    cliente_id: int
    tipo_cuenta_id: int
    numero_cuenta: str
    saldo: Money
    retenido: Money = Field(description="Σ of the account's active holds (retenciones)")
    saldo_disponible: Money = Field(description="saldo minus the active holds (retenciones): what may be debited")
    moneda: Moneda
    fecha_apertura: datetime
    estado: EstadoCuenta
    tipo_cuenta_nombre: str
    tipo_cuenta_descripcion: str | None
    limite_retiro_diario: Money | None = Field(
        None, description="daily withdrawal limit in force (the account's override, else its tipo's); null: none"
    )
    limite_transferencia_diario: Money | None = Field(
        None, description="daily transfer-out limit in force (the account's override, else its tipo's); null: none"
    )


class CuentaDetalle(CuentaPublic):
    costo_mantenimiento: Money
    tasa_interes: Money


class SaldoUpdate(BaseModel):
    monto: PositiveMoneyIn
    operacion: Annotated[Literal["deposito", "retiro"], BeforeValidator(_lower)]


class EstadoUpdate(BaseModel):
    estado: EstadoIn


class MovimientoPublic(BaseModel):
    """One statement line: `saldo_resultante` is the balance right after it (the running balance)."""

    model_config = ConfigDict(from_attributes=True)

    movimiento_id: int
    cuenta_id: int
    operacion: Operacion
    causa: Causa
    monto: Money
    saldo_resultante: Money
    fecha: datetime
    transaccion_id: str | None
    comando_id: str | None
    actor: ActorPublic | None = Field(
        None, description="who made it (a saga movement: who asked for the transaction); null on older rows"
    )


# A bank-wide total: many accounts' balances together exceed the one-account ceiling that Money enforces.
Total = Annotated[
    Decimal,
    PlainSerializer(format_money, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["-1500.00"]}, mode="serialization"),
]


class CuentasInternasPublic(BaseModel):
    """GET /cuentas-internas, one currency: the bank's own accounts (double entry), the customers' total and their
    sum, which is 0 while every movement has its other side."""

    moneda: Moneda
    cuentas: dict[CuentaInterna, Total] = Field(description="balance of each internal account: Σ of its legs")
    informativas: dict[Literal["RETENCIONES"], Total] = Field(
        description="RETENCIONES: Σ of the customers' active holds, reserved inside their saldo; not booked money"
    )
    totalClientes: Total = Field(description="Σ saldo of the customers' accounts")
    totalInternas: Total = Field(description="Σ of the internal accounts")
    total: Total = Field(description="totalClientes + totalInternas: always 0")

    @classmethod
    def de(cls, b: BalanceMoneda) -> "CuentasInternasPublic":
        return cls(
            moneda=b.moneda,
            cuentas=dict(b.cuentas),
            informativas={"RETENCIONES": b.retenciones},
            totalClientes=b.total_clientes,
            totalInternas=b.total_internas,
            total=b.total,
        )


class LimitesUpdate(BaseModel):
    """PUT /cuentas/{id}/limites: the account's own daily limits; null drops the override (its tipo's applies).
    Both fields are required, so a misspelt or forgotten one is a 422 instead of a limit silently dropped."""

    model_config = ConfigDict(extra="forbid")

    retiroDiario: NonNegativeMoneyIn | None
    transferenciaDiaria: NonNegativeMoneyIn | None

    def limites(self) -> LimitesDiarios:
        return LimitesDiarios(self.retiroDiario, self.transferenciaDiaria)


class CupoPublic(BaseModel):
    limite: Money | None = Field(description="in force; null: no limit")
    origen: Literal["cuenta", "tipo"] | None = Field(description="the account's override or its tipo's; null: none")
    usadoHoy: Money = Field(description="debits counted against it today (Lima), minus reversals")
    disponibleHoy: Money | None = Field(description="what today still allows; null: no limit")

    @classmethod
    def of(cls, estado: EstadoCupo) -> "CupoPublic":
        return cls(limite=estado.limite, origen=estado.origen, usadoHoy=estado.usado, disponibleHoy=estado.disponible)


class LimitesPublic(BaseModel):
    cuentaId: int
    dia: date = Field(description="the ledger day (America/Lima) the amounts used are of")
    zonaHoraria: Literal["America/Lima"] = "America/Lima"
    retiroDiario: CupoPublic
    transferenciaDiaria: CupoPublic

    @classmethod
    def of(cls, limites: LimitesCuenta) -> "LimitesPublic":
        return cls(
            cuentaId=limites.cuenta_id,
            dia=limites.dia,
            retiroDiario=CupoPublic.of(limites.retiro),
            transferenciaDiaria=CupoPublic.of(limites.transferencia),
        )


class Mensaje(BaseModel):
    mensaje: str


# --- holds (retenciones) --------------------------------------------------------------------------------------

EstadoRetencionIn = Annotated[EstadoRetencion, BeforeValidator(_upper)]


class RetencionCreate(BaseModel):
    """POST /cuentas/{id}/retenciones: reserve `monto` until `vence` (ISO 8601; UTC if it has no offset)."""

    monto: PositiveMoneyIn
    vence: datetime
    referencia: Annotated[str | None, Field(max_length=100)] = None


class CapturaIn(BaseModel):
    """POST .../captura: `monto` ≤ the hold (default: all of it); the rest of the hold is released."""

    monto: PositiveMoneyIn | None = None


class RetencionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    retencion_id: int
    cuenta_id: int
    monto: Money
    moneda: Moneda
    estado: EstadoRetencion
    referencia: str | None
    vence: datetime
    creada_en: datetime
    resuelta_en: datetime | None = Field(None, description="when it was captured, voided or expired")
    monto_capturado: Money | None = Field(None, description="CAPTURADA: the amount debited (ledger movimiento_id)")
    monto_liberado: Money | None = Field(None, description="what became available again when it ended")
    movimiento_id: int | None = None
    actor: ActorPublic | None = Field(None, description="who created it")

"""A small known bank history, written as a lake by the sink's own writer (to_row -> plan_files -> store).

`CLIENTES`, `CUENTAS`, `TRANSACCIONES` describe the final state in plain Python; the events are derived
from them, and the tests compute every expected figure from these dicts, never from SQL.
"""

import zlib
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from contracts import topics
from contracts.base import DomainEvent
from contracts.clientes import ClienteActualizado, ClienteCreado, ClienteEliminado, Documento
from contracts.cuentas import CuentaAbierta, CuentaEliminada, EstadoCuentaCambiado, SaldoActualizado
from contracts.envelope import envelope_for
from contracts.transacciones import TransaccionFallida, TransaccionRegistrada, TransaccionSolicitada
from services.analytics.main import create_app
from services.analytics.settings import AnalyticsSettings
from streams.lake.batch import PartitionBuffer, plan_files
from streams.lake.records import to_row
from streams.lake.storage import LocalStore, parquet_bytes
from tests.asgi import in_process
from tests.integration.auth import Bearer

NOW = datetime.now(UTC).replace(microsecond=0)
D = Decimal

# cliente_id -> final state (estado after updates; eliminado = soft-deleted)
CLIENTES: dict[int, dict[str, Any]] = {
    1: {"nombre": "Ana", "apellido": "Quispe", "estado": "activo", "eliminado": False, "doc": ("DNI", "40000001")},
    2: {"nombre": "Luis", "apellido": "Rojas", "estado": "inactivo", "eliminado": False, "doc": ("RUC", "20000000002")},
    3: {"nombre": "Eva", "apellido": "Soto", "estado": "bloqueado", "eliminado": False, "doc": ("Pasaporte", "P3")},
    4: {"nombre": "Juan", "apellido": "Paz", "estado": "activo", "eliminado": True, "doc": ("DNI", "40000004")},
    5: {"nombre": "Rosa", "apellido": "Vega", "estado": "activo", "eliminado": False, "doc": ("DNI", "40000005")},
    6: {"nombre": "Pedro", "apellido": "Luna", "estado": "activo", "eliminado": False, "doc": ("DNI", "40000006")},
}
TIPOS = {1: "Cuenta Sueldo", 2: "Cuenta Free", 3: "Cuenta Premium", 4: "Cuenta Ahorro"}
# cuenta_id -> opening and final state; movimientos are (monto, CREDITO|DEBITO)
CUENTAS: dict[int, dict[str, Any]] = {
    10: {"cliente": 1, "tipo": 1, "moneda": "PEN", "apertura": D("1000.00"), "movs": [(D("500.25"), "CREDITO")]},
    11: {"cliente": 1, "tipo": 3, "moneda": "USD", "apertura": D("20000.00"), "movs": []},
    12: {"cliente": 2, "tipo": 2, "moneda": "PEN", "apertura": D("50.00"), "movs": [(D("20.00"), "DEBITO")]},
    13: {"cliente": 3, "tipo": 4, "moneda": "EUR", "apertura": D("12000.00"), "movs": [], "estado": "bloqueada"},
    14: {"cliente": 5, "tipo": 1, "moneda": "PEN", "apertura": D("15000.50"), "movs": []},
    15: {"cliente": 6, "tipo": 2, "moneda": "USD", "apertura": D("0.00"), "movs": [], "estado": "cerrada"},
    16: {"cliente": 4, "tipo": 1, "moneda": "PEN", "apertura": D("0.00"), "movs": [], "eliminada": True},
    17: {"cliente": 6, "tipo": 3, "moneda": "EUR", "apertura": D("0.00"), "movs": [(D("300.00"), "CREDITO")]},
}
# transaccion_id -> the transaction; `dias` = how many days ago
TRANSACCIONES: dict[str, dict[str, Any]] = {
    "TRX1": {
        "tipo": "DEPOSITO",
        "monto": D("500.25"),
        "moneda": "PEN",
        "destino": 10,
        "estado": "COMPLETADA",
        "dias": 0,
    },
    "TRX2": {"tipo": "RETIRO", "monto": D("20.00"), "moneda": "PEN", "origen": 12, "estado": "COMPLETADA", "dias": 0},
    "TRX3": {
        "tipo": "TRANSFERENCIA",
        "monto": D("100.00"),
        "moneda": "USD",
        "origen": 11,
        "destino": 15,
        "estado": "FALLIDA",
        "dias": 1,
    },
    "TRX4": {
        "tipo": "PAGO_SERVICIO",
        "monto": D("75.00"),
        "moneda": "PEN",
        "origen": 14,
        "estado": "PENDIENTE",
        "dias": 0,
    },
    "TRX5": {
        "tipo": "DEPOSITO",
        "monto": D("300.00"),
        "moneda": "EUR",
        "destino": 17,
        "estado": "COMPLETADA",
        "dias": 40,
    },
}

# The original dashboard's metrics, each once and in its order (its query file), for every one-currency answer.
ORIGINAL_METRICS = [
    "Total Clientes",
    "Total Cuentas",
    "Saldo Total Banco",
    "Total Transacciones",
    "Volumen Transaccional",
    "Clientes Activos",
    "Saldo Promedio",
    "Transacción Promedio",
]


def saldo_final(cuenta: dict[str, Any]) -> Decimal:
    saldo: Decimal = cuenta["apertura"]
    for monto, operacion in cuenta["movs"]:
        saldo += monto if operacion == "CREDITO" else -monto
    return saldo


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    key: bytes | None = None
    timestamp: int = 0


class History:
    """Assigns partitions (by key, as Kafka would) and offsets to events, then writes them as the sink does."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, int], list[Record]] = defaultdict(list)
        self.count = 0

    def add(self, event: DomainEvent, when: datetime) -> None:
        partition = zlib.crc32(event.key.encode()) % topics.PARTITIONS[event.topic]
        records = self.records[(event.topic, partition)]
        env = envelope_for(event, source="/dataset", time=when)
        records.append(Record(event.topic, partition, len(records), env.value(), tuple(env.headers())))
        self.count += 1

    def write(self, root: Path, batch: int = 3) -> None:
        """Several batches per partition, so views must combine many files."""
        store = LocalStore(root)
        for (topic, partition), records in self.records.items():
            for start in range(0, len(records), batch):
                buffer = PartitionBuffer(topic, partition)
                buffer.add([to_row(r) for r in records[start : start + batch]], 0.0)
                for planned in plan_files(buffer):
                    store.put(planned.path, parquet_bytes(planned.data))


def build(root: Path) -> int:
    """Writes the lake; returns how many events it holds."""
    h = History()
    start = NOW - timedelta(days=60)
    for cid, c in CLIENTES.items():
        tipo, numero = c["doc"]
        first_estado = "activo" if cid == 2 else c["estado"]
        h.add(
            ClienteCreado(
                cliente_id=cid,
                nombre=c["nombre"],
                apellido=c["apellido"],
                email=f"c{cid}@banco.pe",
                estado=first_estado,
                fecha_registro=start + timedelta(hours=cid),
                documentos=(Documento(documento_id=cid, tipo_documento=tipo, numero_documento=numero),),
            ),
            start + timedelta(hours=cid),
        )
    h.add(
        ClienteActualizado(cliente_id=2, nombre="Luis", apellido="Rojas", email="luis@banco.pe", estado="inactivo"),
        start + timedelta(days=1),
    )
    for kid, k in CUENTAS.items():
        opened = start + timedelta(days=2, hours=kid)
        h.add(
            CuentaAbierta(
                cuenta_id=kid,
                cliente_id=k["cliente"],
                tipo_cuenta_id=k["tipo"],
                tipo_cuenta_nombre=TIPOS[k["tipo"]],
                numero_cuenta=f"{kid:013d}",
                saldo=k["apertura"],
                moneda=k["moneda"],
                estado="activa",
                fecha_apertura=opened,
            ),
            opened,
        )
        saldo = k["apertura"]
        for n, (monto, operacion) in enumerate(k["movs"]):
            saldo += monto if operacion == "CREDITO" else -monto
            h.add(
                SaldoActualizado(
                    cuenta_id=kid,
                    cliente_id=k["cliente"],
                    numero_cuenta=f"{kid:013d}",
                    movimiento_id=kid * 100 + n,
                    operacion=operacion,
                    causa="SAGA",
                    monto=monto,
                    saldo=saldo,
                    moneda=k["moneda"],
                    fecha=opened + timedelta(hours=1),
                ),
                opened + timedelta(hours=1),
            )
        if "estado" in k:
            h.add(
                EstadoCuentaCambiado(
                    cuenta_id=kid, cliente_id=k["cliente"], estado_anterior="activa", estado=k["estado"], fecha=opened
                ),
                opened + timedelta(hours=2),
            )
        if k.get("eliminada"):
            h.add(CuentaEliminada(cuenta_id=kid, cliente_id=k["cliente"], fecha=opened), opened + timedelta(hours=3))
    h.add(ClienteEliminado(cliente_id=4), start + timedelta(days=3))
    for tid, t in TRANSACCIONES.items():
        when = NOW - timedelta(days=t["dias"], minutes=int(tid[3:]))
        common = {
            "transaccion_id": tid,
            "id": f"id-{tid}",
            "tipo": t["tipo"],
            "monto": t["monto"],
            "moneda": t["moneda"],
            "cuenta_origen_id": t.get("origen"),
            "cuenta_destino_id": t.get("destino"),
            "descripcion": f"demo {tid}",
            "fecha": when,
        }
        h.add(TransaccionSolicitada(**common), when)
        if t["estado"] == "COMPLETADA":
            h.add(TransaccionRegistrada(**common), when + timedelta(seconds=1))
        elif t["estado"] == "FALLIDA":
            h.add(TransaccionFallida(**common, motivo="CUENTA_CERRADA"), when + timedelta(seconds=1))
    h.write(root)
    return h.count


@asynccontextmanager
async def analytics_sobre(root: Path) -> AsyncIterator[httpx.AsyncClient]:
    """analytics in process over the lake folder `root`, called with an admin token."""
    async with in_process(create_app(AnalyticsSettings(lake_root=str(root))), auth=Bearer()) as client:
        yield client

"""The listing feed indexes the other instances' transaction events from the records as consumed: their type and
payload only, skipping records that are not ours and event types the lists do not need."""

from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from bson import ObjectId

from contracts import topics
from contracts.base import Message
from contracts.envelope import envelope_for
from contracts.transacciones import TasaCambio, TiposCambioActualizados, TransaccionRegistrada
from services.transacciones.listing import Listado
from services.transacciones.listing_feed import ListingFeed
from services.transacciones.repository import Filtro
from tests.transaccion_eventos import transferencia

FECHA = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _record(offset: int, value: bytes | None, headers: list[tuple[str, bytes]]) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(topics.TRANSACCIONES, 0, offset, 0, 0, None, value, None, 0, 0, tuple(headers))


def _event(offset: int, message: Message) -> ConsumerRecord[Any, Any]:
    env = envelope_for(message, source="/transacciones")
    return _record(offset, env.value(), env.headers())


def test_indexa_los_eventos_de_transaccion_y_salta_lo_demas() -> None:
    listado = Listado()
    feed = ListingFeed(listado)
    done, pending = ObjectId(), ObjectId()
    tasa = TasaCambio(par="USD/PEN", compra="3.70", venta="3.80")
    tasas = TiposCambioActualizados(version=1, tasas=[tasa], cambiadas=["USD/PEN"], actualizado=FECHA)
    feed.apply(
        [
            _event(0, transferencia(done, FECHA)),
            _record(1, b"{not json", [("ce_type", b"bank.transacciones.TransaccionRegistrada.v1")]),
            _record(2, b"{}", []),
            _event(3, tasas),
            _event(4, transferencia(pending, FECHA)),
            _event(5, transferencia(done, FECHA, TransaccionRegistrada)),
        ]
    )
    assert feed.applied == 3
    assert listado.page(Filtro(estado="COMPLETADA"), 0, 10) == ([done], 1)
    assert listado.page(Filtro(estado="PENDIENTE"), 0, 10) == ([pending], 1)

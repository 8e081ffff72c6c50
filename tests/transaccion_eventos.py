"""A transaction event as the listing feed reads it, for the unit and the real-Kafka tests of the list index."""

from datetime import datetime
from decimal import Decimal

from bson import ObjectId

from contracts.transacciones import TransaccionRegistrada, TransaccionSolicitada


def transferencia(
    oid: ObjectId, fecha: datetime, kind: type[TransaccionSolicitada | TransaccionRegistrada] = TransaccionSolicitada
) -> TransaccionSolicitada | TransaccionRegistrada:
    """A transfer of 5.00 PEN from cuenta 1 to cuenta 2, `kind` (requested or recorded)."""
    return kind(
        transaccion_id=f"TRX{oid}",
        id=str(oid),
        tipo="TRANSFERENCIA",
        monto=Decimal("5.00"),
        moneda="PEN",
        cuenta_origen_id=1,
        cuenta_destino_id=2,
        fecha=fecha,
    )

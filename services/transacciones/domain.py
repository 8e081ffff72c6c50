"""The transaction aggregate and its pure rules: which accounts each tipo needs, ids, request fingerprints."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from contracts.envelope import AuthContext
from contracts.transacciones import EstadoTransaccion, TipoTransaccion
from services.transacciones.errors import Invalid
from services.transacciones.saga import ESTADOS_FINALES, Orden, SagaState

PREFIJO_ID = "TRX"
# Which account fields each tipo needs (True) or must not have (False).
CUENTAS_POR_TIPO: dict[TipoTransaccion, dict[str, bool]] = {
    "DEPOSITO": {"cuentaOrigenId": False, "cuentaDestinoId": True},
    "RETIRO": {"cuentaOrigenId": True, "cuentaDestinoId": False},
    "PAGO_SERVICIO": {"cuentaOrigenId": True, "cuentaDestinoId": False},
    "TRANSFERENCIA": {"cuentaOrigenId": True, "cuentaDestinoId": True},
}


class Transaccion(Orden):
    """One transaction: what was asked (saga.Orden's facts), where it stands, and its not-yet-published events;
    the unit written atomically."""

    estado: EstadoTransaccion
    motivo: str | None = None
    metadata_json: str = "{}"
    # "k:<Idempotency-Key>" or, without a key, "t:<transaccionId>"; the key's uniqueness is kept by its claim
    # (repository.MongoRepository.claim), which is written before the document.
    idem: str
    body_hash: str | None = None
    # The process instance that created the document (see outbox.DocumentOutbox.withdraw).
    epoch: str
    # The epoch of the saga's partition it was last written under (ownership.py): who owned it then.
    generacion: int = 0
    saga: SagaState
    outbox: tuple[dict[str, Any], ...] = ()
    actualizada: datetime
    # Who asked for it (the request's authcontext): every event and saga command of the transaction carries it,
    # however late the saga sends them. None on documents older than the field.
    actor: AuthContext | None = None
    cancelada_por: AuthContext | None = None  # who cancelled it (PATCH .../estado), when someone did
    # The W3C trace context of the request that created it: a step decided with no trace in hand (a re-sent
    # overdue step, recovery after a restart) continues the transaction's trace instead of starting none.
    traza: tuple[str, str | None] | None = None
    # Where the store keeps this state, not stored with it: True once the archive holds this final state
    # (repository.py), so the document's next write only removes its in-progress copy. Set by the repository on
    # what it reads from the archive and by the writer on the final states it wrote.
    archivada: bool = False

    @property
    def final(self) -> bool:
        return self.estado in ESTADOS_FINALES

    def metadata(self) -> dict[str, Any]:
        value = json.loads(self.metadata_json)
        return value if isinstance(value, dict) else {}


def archivable(doc: Transaccion) -> bool:
    """Finished and nothing left to publish: it will never be written again."""
    return doc.final and not doc.outbox


def validar_cuentas(tipo: TipoTransaccion, origen: int | None, destino: int | None) -> None:
    """Each tipo names exactly the accounts it moves money between; raises Invalid naming the field."""
    dadas = {"cuentaOrigenId": origen, "cuentaDestinoId": destino}
    for campo, requerida in CUENTAS_POR_TIPO[tipo].items():
        if requerida and dadas[campo] is None:
            raise Invalid(campo, f"{tipo} requiere {campo}")
        if not requerida and dadas[campo] is not None:
            raise Invalid(campo, f"{tipo} no admite {campo}")
    if origen is not None and origen == destino:
        raise Invalid("cuentaDestinoId", "la cuenta destino debe ser distinta de la cuenta origen")


def nuevo_id() -> tuple[ObjectId, str]:
    """A document id and its transaccionId ("TRX" + the same 24 hex digits): collision-free, since the
    database's primary key guarantees the ObjectId unique, and the saga's replies find the document by key."""
    oid = ObjectId()
    return oid, transaccion_id_de(oid)


def transaccion_id_de(oid: ObjectId) -> str:
    return f"{PREFIJO_ID}{oid}"


def object_id_de(transaccion_id: str) -> ObjectId | None:
    """The document id inside a transaccionId; None when it is not one of ours."""
    if not transaccion_id.startswith(PREFIJO_ID):
        return None
    return parse_object_id(transaccion_id[len(PREFIJO_ID) :])


def parse_object_id(text: str) -> ObjectId | None:
    return ObjectId(text) if ObjectId.is_valid(text) and len(text) == 24 else None


def ahora() -> datetime:
    """Now in UTC, at the millisecond precision BSON dates keep (so cached and stored values are equal)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def huella(body: dict[str, Any]) -> str:
    """A fingerprint of a request body as parsed (so 100 and "100.00" are the same body)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idem_de(idempotency_key: str | None, transaccion_id: str) -> str:
    return f"k:{idempotency_key}" if idempotency_key is not None else f"t:{transaccion_id}"

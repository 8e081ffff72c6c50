"""The pure fold of domain events into one profile document per cliente (no I/O).

A document is plain JSON (money as decimal strings) so the store keeps it as-is. The fold is
written to give the same document whatever the interleaving of the three topics, which is what
lets a rebuild from offset 0 equal the live view:
- cliente fields come only from bank.clientes.v1 (ordered per cliente by Kafka);
- an account's saldo is last-writer-wins on `movimiento_id`, its estado on the event `fecha`;
- an event that arrives before its parent (a SaldoActualizado before its CuentaAbierta, anything
  before ClienteCreado) creates a partial entry under the same key, and the parent merges into it;
- recent transactions are the 50 newest by (fecha, transaccion_id) of a set, so order-free;
- ultima_actividad is a max (of any event's time; kept as stored, but what perfil answers as ultima_actividad is
  the newest transaction's fecha, derived when reading: see resumen).
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from contracts.base import Message
from contracts.clientes import ClienteActualizado, ClienteCreado, ClienteEliminado
from contracts.cuentas import (
    CuentaAbierta,
    CuentaEliminada,
    EstadoCuentaCambiado,
    RetencionCapturada,
    RetencionCreada,
    RetencionExpirada,
    RetencionLiberada,
    SaldoActualizado,
)
from contracts.envelope import AuthContext
from contracts.money import format_money
from contracts.transacciones import TransaccionFallida, TransaccionRegistrada

Doc = dict[str, Any]
RECIENTES = 50

FOLDED = (
    ClienteCreado,
    ClienteActualizado,
    ClienteEliminado,
    CuentaAbierta,
    SaldoActualizado,
    EstadoCuentaCambiado,
    CuentaEliminada,
    RetencionCreada,
    RetencionCapturada,
    RetencionLiberada,
    RetencionExpirada,
    TransaccionRegistrada,
    TransaccionFallida,
)
Transaccion = TransaccionRegistrada | TransaccionFallida
Retencion = RetencionCreada | RetencionCapturada | RetencionLiberada | RetencionExpirada
# What ends a hold, as the estado the profile shows for it.
_FIN_RETENCION: dict[type, str] = {
    RetencionCapturada: "CAPTURADA",
    RetencionLiberada: "LIBERADA",
    RetencionExpirada: "EXPIRADA",
}
_CUENTA_EVENTS = (
    CuentaAbierta,
    SaldoActualizado,
    EstadoCuentaCambiado,
    CuentaEliminada,
    RetencionCreada,
    RetencionCapturada,
    RetencionLiberada,
    RetencionExpirada,
)


def new_document(cliente_id: int) -> Doc:
    return {
        "cliente_id": cliente_id,
        "cliente": None,
        "cliente_creado": False,
        "cliente_actualizado": False,
        "eliminado": False,
        "cuentas": {},
        "transacciones_recientes": [],
        "total_transacciones": 0,
        "ultima_actividad": None,
    }


def clientes_of(message: Message) -> list[int]:
    """The profiles an event touches (a transfer between two clientes touches both)."""
    if isinstance(message, ClienteCreado | ClienteActualizado | ClienteEliminado):
        return [message.cliente_id]
    if isinstance(message, _CUENTA_EVENTS):
        return [message.cliente_id]
    if isinstance(message, TransaccionRegistrada | TransaccionFallida):
        ids = [c for c in (message.cliente_origen_id, message.cliente_destino_id) if c is not None]
        return list(dict.fromkeys(ids))
    return []


def owner(message: Message) -> tuple[int, int] | None:
    """(cuenta_id, cliente_id) when the event tells who owns an account."""
    if isinstance(message, _CUENTA_EVENTS):
        return message.cuenta_id, message.cliente_id
    return None


def attribute(message: Transaccion, owners: Mapping[int, int]) -> tuple[Transaccion, list[int]]:
    """Fill a side's owner that the event leaves unknown (a transfer whose debit was refused never learns
    who owns the destination) from `owners` (cuenta_id -> cliente_id, learnt from the cuentas topic).
    Returns the event and the accounts whose owner is still unknown: the store keeps the event for them
    and folds it when their account arrives, so the result does not depend on which topic came first."""
    update: dict[str, int] = {}
    missing: list[int] = []
    for side in ("origen", "destino"):
        cuenta_id = getattr(message, f"cuenta_{side}_id")
        if getattr(message, f"cliente_{side}_id") is None and cuenta_id is not None:
            if cuenta_id in owners:
                update[f"cliente_{side}_id"] = owners[cuenta_id]
            else:
                missing.append(cuenta_id)
    return (message.model_copy(update=update) if update else message), missing


def apply(doc: Doc, message: Message, actor: AuthContext | None = None) -> Doc:
    """A new document with `message` folded in; `doc` is left untouched (a failing fold changes nothing).
    `actor`: who caused the event (its authcontext), shown on the cliente and on transactions.

    Copy-on-write: only the path that changes is copied (the document, then the cliente, the cuentas map
    and the one account, or the transaction list); the rest is shared, so nothing here may mutate a
    value in place that it did not copy first."""
    out = dict(doc)
    if isinstance(message, ClienteCreado):
        _cliente_creado(out, message, actor)
    elif isinstance(message, ClienteActualizado):
        _cliente_actualizado(out, message, actor)
    elif isinstance(message, ClienteEliminado):
        out["eliminado"] = True
    elif isinstance(message, CuentaAbierta):
        _cuenta_abierta(out, message)
    elif isinstance(message, SaldoActualizado):
        _saldo_actualizado(out, message)
    elif isinstance(message, EstadoCuentaCambiado):
        _estado_cambiado(out, message)
    elif isinstance(message, CuentaEliminada):
        cuenta = _own_cuenta(out, message.cuenta_id, message.cliente_id)
        cuenta["_eliminada"] = True
        _actividad(out, message.fecha)
    elif isinstance(message, Retencion):
        _retencion(out, message)
    elif isinstance(message, TransaccionRegistrada | TransaccionFallida):
        _transaccion(out, message, actor)
    return out


def fold(doc: Doc, messages: Iterable[Message]) -> Doc:
    for message in messages:
        doc = apply(doc, message)
    return doc


# --- clientes -------------------------------------------------------------------------------


def _actor(actor: AuthContext | None) -> dict[str, str | None] | None:
    return actor.to_data() if actor is not None else None


def _cliente_creado(doc: Doc, event: ClienteCreado, actor: AuthContext | None = None) -> None:
    data = event.model_dump(mode="json")
    documentos = [{**d, "cliente_id": event.cliente_id} for d in data["documentos"]]
    if doc["cliente_actualizado"] and doc["cliente"] is not None:
        # An update already gave the newer mutable fields: only the creation-time ones are missing.
        doc["cliente"] = {
            **doc["cliente"],
            "fecha_registro": data["fecha_registro"],
            "documentos": documentos,
            "creado_por": _actor(actor),
        }
    else:
        doc["cliente"] = {
            "cliente_id": event.cliente_id,
            "nombre": data["nombre"],
            "apellido": data["apellido"],
            "email": data["email"],
            "telefono": data["telefono"],
            "estado": data["estado"],
            "fecha_registro": data["fecha_registro"],
            "documentos": documentos,
            # As in clientes: a registration is also the record's latest change until an update comes.
            "creado_por": _actor(actor),
            "actualizado_por": _actor(actor),
        }
    doc["cliente_creado"] = True
    _actividad(doc, event.fecha_registro)


def _cliente_actualizado(doc: Doc, event: ClienteActualizado, actor: AuthContext | None = None) -> None:
    base = doc["cliente"] or {
        "cliente_id": event.cliente_id,
        "fecha_registro": None,
        "documentos": [],
    }
    doc["cliente"] = {
        **base,
        "nombre": event.nombre,
        "apellido": event.apellido,
        "email": event.email,
        "telefono": event.telefono,
        "estado": event.estado,
        "actualizado_por": _actor(actor),
    }
    doc["cliente_actualizado"] = True


# --- cuentas --------------------------------------------------------------------------------


def _own_cuenta(doc: Doc, cuenta_id: int, cliente_id: int) -> Doc:
    """A private copy of the account entry (and of the cuentas map) that the caller may change; created
    partial when a child event comes before CuentaAbierta."""
    cuentas: dict[str, Doc] = dict(doc["cuentas"])
    doc["cuentas"] = cuentas
    key = str(cuenta_id)
    if key in cuentas:
        cuentas[key] = dict(cuentas[key])
    else:
        cuentas[key] = {
            "cuenta_id": cuenta_id,
            "cliente_id": cliente_id,
            "tipo_cuenta_id": None,
            "numero_cuenta": None,
            "saldo": None,
            "moneda": None,
            "fecha_apertura": None,
            "estado": None,
            "tipo_cuenta_nombre": None,
            "_movimiento_id": None,
            "_estado_fecha": None,
            "_abierta": False,
            "_eliminada": False,
        }
    return cuentas[key]


def _cuenta_abierta(doc: Doc, event: CuentaAbierta) -> None:
    cuenta = _own_cuenta(doc, event.cuenta_id, event.cliente_id)
    data = event.model_dump(mode="json")
    for name in ("tipo_cuenta_id", "tipo_cuenta_nombre", "numero_cuenta", "moneda", "fecha_apertura"):
        cuenta[name] = data[name]
    if cuenta["_movimiento_id"] is None:  # a movement already seen is newer than the opening balance
        cuenta["saldo"] = data["saldo"]
    _set_estado(cuenta, event.estado, event.fecha_apertura)
    cuenta["_abierta"] = True
    _actividad(doc, event.fecha_apertura)


def _saldo_actualizado(doc: Doc, event: SaldoActualizado) -> None:
    cuenta = _own_cuenta(doc, event.cuenta_id, event.cliente_id)
    cuenta["numero_cuenta"] = cuenta["numero_cuenta"] or event.numero_cuenta
    cuenta["moneda"] = cuenta["moneda"] or event.moneda
    last = cuenta["_movimiento_id"]
    if last is None or event.movimiento_id > last:
        cuenta["saldo"] = format_money(event.saldo)
        cuenta["_movimiento_id"] = event.movimiento_id
    _actividad(doc, event.fecha)


def _estado_cambiado(doc: Doc, event: EstadoCuentaCambiado) -> None:
    cuenta = _own_cuenta(doc, event.cuenta_id, event.cliente_id)
    _set_estado(cuenta, event.estado, event.fecha)
    _actividad(doc, event.fecha)


def _set_estado(cuenta: Doc, estado: str, fecha: datetime) -> None:
    # Last writer wins on the event's own time; a tie keeps Kafka's order (the later event wins).
    current = cuenta["_estado_fecha"]
    if current is None or fecha >= datetime.fromisoformat(current):
        cuenta["estado"] = estado
        cuenta["_estado_fecha"] = fecha.isoformat()


def _retencion(doc: Doc, event: Retencion) -> None:
    """Holds per account, keyed by retencion_id. An end (captured, voided, expired) wins over the creation
    whatever their order, so a hold's estado does not depend on which event was folded first; an ended hold keeps
    only its estado (the profile shows active holds, and a document must not grow with every hold ever made)."""
    cuenta = _own_cuenta(doc, event.cuenta_id, event.cliente_id)
    cuenta["moneda"] = cuenta["moneda"] or event.moneda
    holds: dict[str, Doc] = dict(cuenta.get("_retenciones") or {})
    cuenta["_retenciones"] = holds
    key = str(event.retencion_id)
    if isinstance(event, RetencionCreada):
        if key not in holds:
            holds[key] = {
                "retencion_id": event.retencion_id,
                "monto": format_money(event.monto),
                "moneda": event.moneda,
                "vence": event.vence.isoformat(),
                "referencia": event.referencia,
                "fecha": event.fecha.isoformat(),
                "estado": "ACTIVA",
            }
    else:
        holds[key] = {"retencion_id": event.retencion_id, "estado": _FIN_RETENCION[type(event)]}
    _actividad(doc, event.fecha)


def retenciones_activas(cuenta: Doc) -> list[Doc]:
    """The account's active holds, oldest first."""
    holds = [h for h in (cuenta.get("_retenciones") or {}).values() if h["estado"] == "ACTIVA"]
    return sorted(holds, key=lambda h: h["retencion_id"])


# --- transacciones --------------------------------------------------------------------------


def transaction_item(event: Transaccion, cliente_id: int, actor: AuthContext | None = None) -> Doc:
    """The transaction as this cliente's profile lists it: the MS4 shape plus the cliente's numero_cuenta, and
    `actor`, who caused its final state (who asked for it; for a cancelled one, who cancelled it)."""
    data = event.model_dump(mode="json")
    origen = event.cliente_origen_id == cliente_id
    return {
        "id": data["id"],
        "transaccionId": data["transaccion_id"],
        "tipo": data["tipo"],
        "cuentaOrigenId": data["cuenta_origen_id"],
        "cuentaDestinoId": data["cuenta_destino_id"],
        "monto": data["monto"],
        "moneda": data["moneda"],
        "descripcion": data["descripcion"],
        "fecha": data["fecha"],
        "estado": data["estado"],
        "motivo": data.get("motivo"),
        "numero_cuenta": data["numero_cuenta_origen"] if origen else data["numero_cuenta_destino"],
        "cuenta_id": data["cuenta_origen_id"] if origen else data["cuenta_destino_id"],
        "numero_cuenta_origen": data["numero_cuenta_origen"],
        "numero_cuenta_destino": data["numero_cuenta_destino"],
        "actor": _actor(actor),
        # Reversals and FX (additive): the reversed transaction's id, and what the destination received in its
        # own currency (absent from events written before these features: None).
        "reversionDe": data.get("reversion_de"),
        "montoDestino": data.get("monto_destino"),
        "monedaDestino": data.get("moneda_destino"),
    }


def _sort_key(item: Doc) -> tuple[datetime, str]:
    return datetime.fromisoformat(item["fecha"]), item["transaccionId"]


def _transaccion(doc: Doc, event: Transaccion, actor: AuthContext | None = None) -> None:
    if isinstance(event, TransaccionRegistrada) and event.reversion_de is not None:
        # A completed reversal: the original shows `revertidaPor` when read (it may be folded before or after
        # its reversal, or be out of the recent window), so the link is kept aside, not written into the item.
        doc["_revertidas"] = {**(doc.get("_revertidas") or {}), event.reversion_de: event.id}
    if any(t["transaccionId"] == event.transaccion_id for t in doc["transacciones_recientes"]):
        return  # a duplicate; the store also screens the ones already out of this window
    recientes: list[Doc] = [*doc["transacciones_recientes"], transaction_item(event, doc["cliente_id"], actor)]
    doc["transacciones_recientes"] = recientes
    recientes.sort(key=_sort_key, reverse=True)
    del recientes[RECIENTES:]
    doc["total_transacciones"] += 1
    _actividad(doc, event.fecha)


def _actividad(doc: Doc, when: datetime) -> None:
    current = doc["ultima_actividad"]
    if current is None or when > datetime.fromisoformat(current):
        doc["ultima_actividad"] = when.isoformat()


# --- reading --------------------------------------------------------------------------------


def visible(doc: Doc) -> bool:
    """A profile is served once the cliente is known and until it is deleted."""
    return doc["cliente"] is not None and not doc["eliminado"]


def public_cuentas(doc: Doc) -> list[Doc]:
    """Existing accounts (closed ones included, deleted ones not), oldest first, without fold metadata."""
    cuentas = [c for c in doc["cuentas"].values() if not c["_eliminada"]]
    cuentas.sort(key=lambda c: c["cuenta_id"])
    return [_public_cuenta(c) for c in cuentas]


def _public_cuenta(cuenta: Doc) -> Doc:
    """The account as served, plus its holds (additive fields): `retenido` (sum of active holds), `saldo_disponible`
    (saldo − retenido, as cuentas computes it) and `retenciones` (the active ones)."""
    out = {k: v for k, v in cuenta.items() if not k.startswith("_")}
    activas = retenciones_activas(cuenta)
    retenido = sum((Decimal(h["monto"]) for h in activas), Decimal("0"))
    out["retenido"] = format_money(retenido)
    out["saldo_disponible"] = None if cuenta["saldo"] is None else format_money(Decimal(cuenta["saldo"]) - retenido)
    out["retenciones"] = activas
    return out


def resumen(doc: Doc) -> Doc:
    """The financial summary, derived when reading (so every stored document, however old, and every rebuilt one
    answers the same): balances of every existing account whatever its estado (a blocked account's money is still
    the cliente's), per currency and never added across monedas; `patrimonio_total` is the PEN one, as the
    original's single number was; `ultima_actividad` is the newest transaction's fecha, None without any."""
    cuentas = public_cuentas(doc)
    patrimonio: dict[str, Decimal] = {}
    for cuenta in cuentas:
        if cuenta["moneda"] is None or cuenta["saldo"] is None:
            continue
        patrimonio[cuenta["moneda"]] = patrimonio.get(cuenta["moneda"], Decimal("0")) + Decimal(cuenta["saldo"])
    recientes = doc["transacciones_recientes"]  # newest first
    return {
        "patrimonio_total": format_money(patrimonio.get("PEN", Decimal("0"))),
        "patrimonio_por_moneda": {m: format_money(v) for m, v in sorted(patrimonio.items())},
        "total_cuentas": len(cuentas),
        "cuentas_activas": sum(1 for c in cuentas if c["estado"] == "activa"),
        "total_transacciones": doc["total_transacciones"],
        "ultima_actividad": datetime.fromisoformat(recientes[0]["fecha"]).isoformat() if recientes else None,
    }


def with_numero_cuenta(doc: Doc, items: list[Doc]) -> list[Doc]:
    """Fill an item's missing numero_cuenta (a refused debit reports none) from the cliente's own accounts.
    Done when reading, not when folding, so the document does not depend on which topic came first."""
    revertidas: dict[str, str] = doc.get("_revertidas") or {}
    out = []
    for item in items:
        cuenta = doc["cuentas"].get(str(item["cuenta_id"])) if item["numero_cuenta"] is None else None
        item = {**item, "numero_cuenta": cuenta["numero_cuenta"]} if cuenta else item
        # Reversal links (additive): items stored before this feature lack reversionDe; revertidaPor is derived.
        extra = {"reversionDe": item.get("reversionDe"), "revertidaPor": revertidas.get(item["id"])}
        out.append({**item, **extra})
    return out


def perfil_completo(doc: Doc) -> Doc:
    return {
        "cliente": doc["cliente"],
        "cuentas": public_cuentas(doc),
        "transacciones_recientes": with_numero_cuenta(doc, doc["transacciones_recientes"]),
        "resumen_financiero": resumen(doc),
    }


def search_text(doc: Doc) -> str:
    """What /buscar matches: nombre, apellido, email, document numbers and account numbers, lower-cased."""
    cliente = doc["cliente"] or {}
    parts = [cliente.get("nombre"), cliente.get("apellido"), cliente.get("email")]
    parts += [d["numero_documento"] for d in cliente.get("documentos") or []]
    parts += [c["numero_cuenta"] for c in doc["cuentas"].values() if not c["_eliminada"]]
    return " ".join(p for p in parts if p).lower()

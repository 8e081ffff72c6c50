"""The pure fold of perfil: order, duplicates, out-of-order parents, per-currency totals."""

import copy
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.base import Message
from contracts.envelope import AuthContext
from services.perfil import projector
from services.perfil.projector import Doc
from tests.unit.perfil import events as ev


def fold(cliente_id: int, *messages: Message) -> Doc:
    return projector.fold(projector.new_document(cliente_id), messages)


def test_cliente_creado_gives_a_visible_profile_with_its_documents():
    doc = fold(1, ev.cliente_creado(1))
    perfil = projector.perfil_completo(doc)
    assert projector.visible(doc)
    assert perfil["cliente"]["nombre"] == "Ana"
    assert perfil["cliente"]["documentos"][0] == {
        "documento_id": 10,
        "cliente_id": 1,
        "tipo_documento": "DNI",
        "numero_documento": "00000001",
        "fecha_emision": None,
        "fecha_vencimiento": None,
    }
    assert perfil["cuentas"] == []
    resumen = perfil["resumen_financiero"]
    assert (resumen["patrimonio_total"], resumen["patrimonio_por_moneda"]) == ("0.00", {})
    assert resumen["ultima_actividad"] is None  # registered, but no transaction yet


def test_a_profile_is_not_served_before_the_cliente_is_known():
    assert not projector.visible(fold(1, ev.cuenta_abierta(5, 1)))


def test_actualizado_changes_the_data_but_keeps_registration_and_documents():
    doc = fold(1, ev.cliente_creado(1), ev.cliente_actualizado(1, nombre="Rosa", estado="bloqueado"))
    cliente = doc["cliente"]
    assert (cliente["nombre"], cliente["estado"], cliente["telefono"]) == ("Rosa", "bloqueado", None)
    assert cliente["fecha_registro"] is not None
    assert len(cliente["documentos"]) == 1


def test_a_late_creado_does_not_override_a_newer_update():
    doc = fold(1, ev.cliente_actualizado(1, nombre="Rosa"), ev.cliente_creado(1))
    assert doc["cliente"]["nombre"] == "Rosa"
    assert doc["cliente"]["fecha_registro"] is not None
    assert doc["cliente"]["documentos"][0]["numero_documento"] == "00000001"


def test_a_deleted_cliente_stays_hidden_even_if_an_update_arrives_later():
    doc = fold(1, ev.cliente_creado(1), ev.cliente_eliminado(1), ev.cliente_actualizado(1))
    assert not projector.visible(doc)


def test_account_events_before_the_cliente_are_kept_and_merge_when_it_arrives():
    doc = fold(
        1,
        ev.cuenta_abierta(5, 1, saldo="100.00"),
        ev.saldo(5, 1, movimiento_id=1, saldo="100.00", monto="100.00", causa="APERTURA"),
        ev.cliente_creado(1),
    )
    perfil = projector.perfil_completo(doc)
    assert perfil["cliente"]["cliente_id"] == 1
    assert [c["saldo"] for c in perfil["cuentas"]] == ["100.00"]


def test_a_movement_before_its_cuenta_abierta_is_not_lost():
    doc = fold(1, ev.cliente_creado(1), ev.saldo(5, 1, movimiento_id=7, saldo="70.00"), ev.cuenta_abierta(5, 1))
    [cuenta] = projector.public_cuentas(doc)
    assert cuenta["saldo"] == "70.00"  # the opening balance (0.00) is older than movement 7
    assert cuenta["tipo_cuenta_nombre"] == "Cuenta Free"
    assert cuenta["estado"] == "activa"


def test_an_older_or_repeated_movement_never_overrides_a_newer_saldo():
    doc = fold(
        1,
        ev.cuenta_abierta(5, 1),
        ev.saldo(5, 1, movimiento_id=2, saldo="20.00"),
        ev.saldo(5, 1, movimiento_id=3, saldo="30.00"),
        ev.saldo(5, 1, movimiento_id=2, saldo="20.00"),
        ev.saldo(5, 1, movimiento_id=3, saldo="30.00"),
    )
    assert doc["cuentas"]["5"]["saldo"] == "30.00"


def test_account_state_is_the_latest_by_event_time_whatever_the_arrival_order():
    cambios = [ev.estado(5, 1, "activa", "bloqueada", 5), ev.estado(5, 1, "bloqueada", "activa", 6)]
    in_order = fold(1, ev.cuenta_abierta(5, 1), *cambios)
    reversed_ = fold(1, *reversed(cambios), ev.cuenta_abierta(5, 1))
    assert in_order["cuentas"]["5"]["estado"] == reversed_["cuentas"]["5"]["estado"] == "activa"


def test_a_deleted_account_leaves_the_list_and_the_totals():
    doc = fold(
        1,
        ev.cliente_creado(1),
        ev.cuenta_abierta(5, 1),
        ev.cuenta_abierta(6, 1, saldo="10.00"),
        ev.saldo(6, 1, movimiento_id=1, saldo="10.00"),
        ev.cuenta_eliminada(5, 1),
        ev.saldo(5, 1, movimiento_id=9, saldo="0.00", monto="1.00", operacion="DEBITO"),
    )
    resumen = projector.resumen(doc)
    assert [c["cuenta_id"] for c in projector.public_cuentas(doc)] == [6]
    assert resumen["total_cuentas"] == 1
    assert (resumen["patrimonio_total"], resumen["patrimonio_por_moneda"]) == ("10.00", {"PEN": "10.00"})
    assert "0000000000005" not in projector.search_text(doc)


def test_totals_are_per_currency_and_never_mixed():
    doc = fold(
        1,
        ev.cliente_creado(1),
        ev.cuenta_abierta(5, 1, moneda="PEN"),
        ev.saldo(5, 1, movimiento_id=1, saldo="1500.50"),
        ev.cuenta_abierta(6, 1, moneda="PEN"),
        ev.saldo(6, 1, movimiento_id=2, saldo="0.25"),
        ev.cuenta_abierta(7, 1, moneda="USD"),
        ev.saldo(7, 1, movimiento_id=3, saldo="99.99", moneda="USD"),
        ev.cuenta_abierta(8, 1, moneda="EUR"),
        ev.estado(8, 1, "activa", "bloqueada", 50),
    )
    resumen = projector.resumen(doc)
    assert resumen["patrimonio_por_moneda"] == {"EUR": "0.00", "PEN": "1500.75", "USD": "99.99"}
    assert resumen["patrimonio_total"] == "1500.75"  # the PEN one: other monedas are never converted or added
    assert (resumen["total_cuentas"], resumen["cuentas_activas"]) == (4, 3)


def test_without_transactions_ultima_actividad_is_none_whatever_else_happened():
    doc = fold(1, ev.cliente_creado(1), ev.cuenta_abierta(5, 1), ev.saldo(5, 1, movimiento_id=1, saldo="3.00"))
    assert projector.resumen(doc)["ultima_actividad"] is None
    doc = projector.apply(doc, ev.registrada(destino=(1, 5), minute=7))
    assert projector.resumen(doc)["ultima_actividad"] == ev.at(7).isoformat()


def test_a_document_stored_before_the_pen_total_answers_the_new_fields():
    # As an older perfil stored it: the fold's own fields only, ultima_actividad = the registration time.
    stored = {
        "cliente_id": 1,
        "cliente": {"cliente_id": 1, "nombre": "Ana", "apellido": "Q", "email": "a@x.pe", "telefono": None,
                    "estado": "activo", "fecha_registro": "2025-01-01T12:00:00Z", "documentos": []},
        "cliente_creado": True, "cliente_actualizado": False, "eliminado": False,
        "cuentas": {
            "5": {"cuenta_id": 5, "cliente_id": 1, "tipo_cuenta_id": 2, "numero_cuenta": "1", "saldo": "7.50",
                  "moneda": "PEN", "fecha_apertura": "2025-01-01T12:01:00+00:00", "estado": "bloqueada",
                  "tipo_cuenta_nombre": "Cuenta Free", "_movimiento_id": 3, "_estado_fecha": None,
                  "_abierta": True, "_eliminada": False},
            "6": {"cuenta_id": 6, "cliente_id": 1, "tipo_cuenta_id": 2, "numero_cuenta": "2", "saldo": "2.00",
                  "moneda": "USD", "fecha_apertura": "2025-01-01T12:01:00+00:00", "estado": "activa",
                  "tipo_cuenta_nombre": "Cuenta Free", "_movimiento_id": 4, "_estado_fecha": None,
                  "_abierta": True, "_eliminada": False},
        },
        "transacciones_recientes": [],
        "total_transacciones": 0,
        "ultima_actividad": "2025-01-01T12:01:00+00:00",
    }  # fmt: skip
    resumen = projector.resumen(stored)
    assert resumen["patrimonio_total"] == "7.50"  # a blocked account's money still counts, as it always did
    assert resumen["patrimonio_por_moneda"] == {"PEN": "7.50", "USD": "2.00"}
    assert resumen["ultima_actividad"] is None


def test_a_repeated_transaction_is_listed_and_counted_once():
    trx = ev.registrada(destino=(1, 5), minute=20)
    doc = fold(1, ev.cliente_creado(1), trx, trx)
    assert doc["total_transacciones"] == 1
    assert len(doc["transacciones_recientes"]) == 1


def test_recent_transactions_are_the_fifty_newest_newest_first():
    trxs = [ev.registrada(destino=(1, 5), minute=m) for m in range(60)]
    random.Random(7).shuffle(trxs)
    doc = fold(1, ev.cliente_creado(1), *trxs)
    fechas = [t["fecha"] for t in doc["transacciones_recientes"]]
    assert len(fechas) == 50
    assert fechas == sorted(fechas, reverse=True)
    assert doc["total_transacciones"] == 60
    assert projector.resumen(doc)["ultima_actividad"] == ev.at(59).isoformat()


def test_a_transfer_appears_in_both_profiles_with_each_ones_account_number():
    trx = ev.registrada(origen=(1, 5), destino=(2, 6), minute=30)
    assert projector.clientes_of(trx) == [1, 2]
    mine = fold(1, trx)["transacciones_recientes"][0]
    theirs = fold(2, trx)["transacciones_recientes"][0]
    assert (mine["numero_cuenta"], theirs["numero_cuenta"]) == ("0000000000005", "0000000000006")
    assert mine["transaccionId"] == theirs["transaccionId"]


def test_a_failed_transaction_is_listed_with_its_reason():
    doc = fold(1, ev.fallida(origen=(1, 5)))
    item = doc["transacciones_recientes"][0]
    assert (item["estado"], item["motivo"]) == ("FALLIDA", "SALDO_INSUFICIENTE")


def test_a_transaction_between_accounts_of_one_cliente_touches_one_profile_once():
    trx = ev.registrada(origen=(1, 5), destino=(1, 6))
    assert projector.clientes_of(trx) == [1]


def test_apply_never_changes_the_document_it_was_given():
    docs: dict[int, Doc] = {}
    for message in ev.workload(40, seed=9):
        for c in projector.clientes_of(message):
            before = docs.get(c) or projector.new_document(c)
            snapshot = copy.deepcopy(before)
            docs[c] = projector.apply(before, message)
            assert before == snapshot, message


def test_search_text_has_names_email_documents_and_account_numbers_lower_cased():
    text = projector.search_text(fold(1, ev.cliente_creado(1, email="Ana@X.com"), ev.cuenta_abierta(5, 1)))
    for part in ("ana", "quispe", "ana@x.com", "00000001", "0000000000005"):
        assert part in text


def _workload() -> tuple[list[Message], list[Message], list[Message]]:
    clientes: list[Message] = [ev.cliente_creado(1), ev.cliente_actualizado(1, nombre="Rosa")]
    cuentas: list[Message] = [
        ev.cuenta_abierta(5, 1, saldo="50.00"),
        ev.saldo(5, 1, movimiento_id=1, saldo="50.00", monto="50.00", causa="APERTURA"),
        ev.saldo(5, 1, movimiento_id=4, saldo="40.00", monto="10.00", operacion="DEBITO"),
        ev.estado(5, 1, "activa", "bloqueada", 30),
        ev.cuenta_abierta(6, 1, moneda="USD"),
        ev.saldo(6, 1, movimiento_id=5, saldo="7.00", monto="7.00", moneda="USD"),
    ]
    transacciones: list[Message] = [
        ev.registrada(origen=(1, 5), minute=12, trx="TRXA"),
        ev.fallida(origen=(1, 5), minute=13),
        ev.registrada(destino=(1, 6), minute=14, trx="TRXB"),
    ]
    return clientes, cuentas, transacciones


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False), st.booleans())
def test_the_document_does_not_depend_on_how_the_topics_interleave(rnd: random.Random, duplicate: bool):
    streams = [list(s) for s in _workload()]
    expected = fold(1, *[m for s in streams for m in s])
    merged: list[Message] = []
    while any(streams):
        stream = rnd.choice([s for s in streams if s])
        message = stream.pop(0)
        merged.append(message)
        if duplicate and rnd.random() < 0.3:
            merged.append(message)  # redelivered right away, as a relay retry would
    assert fold(1, *merged) == expected


def test_a_side_the_event_leaves_without_owner_is_attributed_from_known_accounts():
    trx = ev.fallida(origen=(1, 5), destino=(2, 6))
    trx = trx.model_copy(update={"cliente_destino_id": None})  # a refused debit never learns the destination owner
    attributed, missing = projector.attribute(trx, {6: 2})
    assert (missing, projector.clientes_of(attributed)) == ([], [1, 2])
    kept, missing = projector.attribute(trx, {})
    assert (missing, projector.clientes_of(kept)) == ([6], [1])
    assert projector.owner(ev.saldo(6, 2, 1, "1.00")) == (6, 2)


CAJERO = AuthContext(authtype="user", authid="cajero")
OPERACIONES = AuthContext(authtype="user", authid="operaciones")


def test_the_cliente_shows_who_registered_it_and_who_changed_it_last():
    doc = projector.apply(projector.new_document(1), ev.cliente_creado(1), CAJERO)
    cliente = projector.perfil_completo(doc)["cliente"]
    assert cliente["creado_por"] == cliente["actualizado_por"] == {"authtype": "user", "authid": "cajero"}
    doc = projector.apply(doc, ev.cliente_actualizado(1), OPERACIONES)
    cliente = projector.perfil_completo(doc)["cliente"]
    assert cliente["creado_por"] == {"authtype": "user", "authid": "cajero"}
    assert cliente["actualizado_por"] == {"authtype": "user", "authid": "operaciones"}


def test_an_update_folded_before_its_creation_keeps_its_actor():
    early = projector.apply(projector.new_document(1), ev.cliente_actualizado(1), OPERACIONES)
    doc = projector.apply(early, ev.cliente_creado(1), CAJERO)
    cliente = projector.perfil_completo(doc)["cliente"]
    assert cliente["creado_por"] == {"authtype": "user", "authid": "cajero"}
    assert cliente["actualizado_por"] == {"authtype": "user", "authid": "operaciones"}


def test_a_recent_transaction_shows_its_actor():
    trx = ev.registrada(origen=(1, 5))
    doc = projector.apply(fold(1, ev.cliente_creado(1)), trx, CAJERO)
    [item] = projector.perfil_completo(doc)["transacciones_recientes"]
    assert item["actor"] == {"authtype": "user", "authid": "cajero"}
    assert {**projector.transaction_item(trx, 1, CAJERO), "revertidaPor": None} == item
    assert projector.transaction_item(trx, 1)["actor"] is None  # an event older than the extension


# --- holds, reversals, FX ---------------------------------------------------------------------


def _cuenta(doc: Doc, cuenta_id: int = 5) -> Doc:
    return next(c for c in projector.perfil_completo(doc)["cuentas"] if c["cuenta_id"] == cuenta_id)


def test_an_active_hold_shows_on_its_account_with_retenido_and_saldo_disponible():
    doc = fold(1, ev.cliente_creado(1), ev.cuenta_abierta(5, 1, saldo="100.00"), ev.retencion("creada", 5, 1, 7))
    cuenta = _cuenta(doc)
    assert (cuenta["saldo"], cuenta["retenido"], cuenta["saldo_disponible"]) == ("100.00", "30.00", "70.00")
    assert [(h["retencion_id"], h["monto"], h["estado"]) for h in cuenta["retenciones"]] == [(7, "30.00", "ACTIVA")]
    assert cuenta["retenciones"][0]["vence"] == ev.at(80).isoformat()


def test_a_captured_voided_or_expired_hold_leaves_the_account():
    for kind in ("capturada", "liberada", "expirada"):
        doc = fold(
            1,
            ev.cliente_creado(1),
            ev.cuenta_abierta(5, 1, saldo="100.00"),
            ev.retencion("creada", 5, 1, 7),
            ev.retencion("creada", 5, 1, 8, monto="5.00"),
            ev.retencion(kind, 5, 1, 7, minute=30),
        )
        cuenta = _cuenta(doc)
        assert [h["retencion_id"] for h in cuenta["retenciones"]] == [8], kind
        assert (cuenta["retenido"], cuenta["saldo_disponible"]) == ("5.00", "95.00"), kind


def test_a_hold_ended_before_its_creation_is_folded_stays_ended():
    doc = fold(
        1,
        ev.cliente_creado(1),
        ev.cuenta_abierta(5, 1, saldo="100.00"),
        ev.retencion("liberada", 5, 1, 7, minute=30),
        ev.retencion("creada", 5, 1, 7),
        ev.retencion("creada", 5, 1, 7),  # a duplicate changes nothing either
    )
    assert _cuenta(doc)["retenciones"] == []
    assert _cuenta(doc)["saldo_disponible"] == "100.00"


def test_a_hold_before_its_cuenta_abierta_is_kept_and_the_event_touches_its_owner():
    hold = ev.retencion("creada", 5, 1, 7)
    assert projector.clientes_of(hold) == [1]
    assert projector.owner(hold) == (5, 1)
    doc = fold(1, hold, ev.cliente_creado(1), ev.cuenta_abierta(5, 1, saldo="50.00"))
    assert (_cuenta(doc)["retenido"], _cuenta(doc)["saldo_disponible"]) == ("30.00", "20.00")


def test_an_account_without_holds_answers_zero_retenido_even_from_an_old_document():
    doc = fold(1, ev.cliente_creado(1), ev.cuenta_abierta(5, 1, saldo="12.00"))
    for c in doc["cuentas"].values():
        c.pop("_retenciones", None)  # stored before holds existed
    assert (_cuenta(doc)["retenido"], _cuenta(doc)["saldo_disponible"], _cuenta(doc)["retenciones"]) == (
        "0.00",
        "12.00",
        [],
    )


def test_a_reversal_links_both_ways_whatever_the_order():
    original = ev.registrada(origen=(1, 5), destino=(2, 6), minute=10)
    reversal = ev.registrada(origen=(2, 6), destino=(1, 5), minute=20, reversion_de=original.id)
    for order in ((original, reversal), (reversal, original)):
        doc = fold(1, ev.cliente_creado(1), *order)
        items = {t["id"]: t for t in projector.perfil_completo(doc)["transacciones_recientes"]}
        assert items[original.id]["revertidaPor"] == reversal.id
        assert items[original.id]["reversionDe"] is None
        assert items[reversal.id]["reversionDe"] == original.id
        assert items[reversal.id]["revertidaPor"] is None
        assert doc["total_transacciones"] == 2  # a reversal is its own transaction


def test_a_failed_reversal_does_not_mark_the_original_reverted():
    original = ev.registrada(destino=(1, 5), minute=10)
    failed = ev.fallida(origen=(1, 5), minute=20).model_copy(update={"reversion_de": original.id})
    doc = fold(1, ev.cliente_creado(1), original, failed)
    items = {t["id"]: t for t in projector.perfil_completo(doc)["transacciones_recientes"]}
    assert items[original.id]["revertidaPor"] is None
    assert items[failed.id]["reversionDe"] == original.id


def test_fx_fields_are_none_when_the_event_has_none():
    item = projector.perfil_completo(fold(1, ev.cliente_creado(1), ev.registrada(destino=(1, 5))))[
        "transacciones_recientes"
    ][0]
    assert (item["montoDestino"], item["monedaDestino"]) == (None, None)

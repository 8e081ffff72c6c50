"""The perfil projection against the real Kafka and PostgreSQL, on fresh topics and a fresh view database."""

import asyncio
import json
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaProducer

from contracts.base import Message
from contracts.topics import dlq
from contracts.transacciones import TransaccionFallida, TransaccionRegistrada
from services.perfil import projector, service
from services.perfil.rebuild import rebuild
from services.perfil.runner import LiveProjection
from services.perfil.store import ViewStore
from tests.conftest import eventually
from tests.integration.conftest import KAFKA
from tests.integration.foundation.conftest import drain
from tests.integration.perfil.conftest import Publish, RunningProjection, Topics
from tests.unit.perfil import events as ev


async def applied(store: ViewStore) -> int:
    return (await store.freshness(await store.active_schema())).events_applied


async def wait_applied(store: ViewStore, n: int, timeout: float = 30) -> None:
    async def probe() -> bool:
        return await applied(store) >= n

    await eventually(probe, timeout=timeout, what=f"{n} events folded")


async def perfil(store: ViewStore, cliente_id: int) -> dict[str, Any]:
    return await service.perfil_completo(store, await store.active_schema(), cliente_id)


def expected_documents(messages: list[Message]) -> dict[int, projector.Doc]:
    """What the view must hold: the pure fold of each cliente's events in publication order, transactions
    attributed to every account owner the history reveals."""
    owners = dict(o for o in map(projector.owner, messages) if o is not None)
    docs: dict[int, projector.Doc] = {}
    for m in messages:
        if isinstance(m, TransaccionRegistrada | TransaccionFallida):
            m, _ = projector.attribute(m, owners)
        for c in projector.clientes_of(m):
            docs[c] = projector.apply(docs.get(c) or projector.new_document(c), m)
    return docs


async def stored_documents(store: ViewStore, schema: str) -> dict[int, projector.Doc]:
    rows = await store.pool.fetch(f'SELECT cliente_id, doc::text AS doc FROM "{schema}".perfiles')
    return {r["cliente_id"]: json.loads(r["doc"]) for r in rows}


async def test_children_published_before_their_cliente_are_folded_when_it_arrives(
    store: ViewStore, projection: RunningProjection, publish: Publish
) -> None:
    await publish(
        ev.cuenta_abierta(15, 1, saldo="100.00"),
        ev.saldo(15, 1, 1, "100.00", monto="100.00", causa="APERTURA"),
        ev.registrada(destino=(1, 15), monto="100.00"),
    )
    await wait_applied(store, 3)
    assert not projector.visible((await store.document(await store.active_schema(), 1)) or projector.new_document(1))

    await publish(ev.cliente_creado(1))

    async def visible() -> dict[str, Any] | None:
        try:
            return await perfil(store, 1)
        except Exception:
            return None

    shown = await eventually(visible, what="the profile of cliente 1")
    assert shown["cuentas"][0]["saldo"] == "100.00"
    assert shown["resumen_financiero"]["total_transacciones"] == 1
    assert shown["transacciones_recientes"][0]["numero_cuenta"] == "0000000000015"


async def test_events_delivered_twice_are_applied_once(
    store: ViewStore, projection: RunningProjection, publish: Publish
) -> None:
    first = await publish(
        ev.cliente_creado(2),
        ev.cuenta_abierta(25, 2),
        ev.saldo(25, 2, 1, "10.00"),
        ev.saldo(25, 2, 2, "30.00", monto="20.00"),
        ev.registrada(destino=(2, 25), monto="10.00", trx="TRXDUP1"),
        ev.registrada(destino=(2, 25), monto="20.00", trx="TRXDUP2"),
    )
    await wait_applied(store, len(first))
    # The same CloudEvents again (an outbox relay that crashed before marking them), plus the same
    # transaction re-announced under a new event id.
    again = await publish(ev.registrada(destino=(2, 25), monto="10.00", trx="TRXDUP1"), envelopes=first)

    async def offsets_reached() -> bool:
        fresh = await store.freshness(await store.active_schema())
        return sum(fresh.offsets.values()) >= len(first) + len(again)

    await eventually(offsets_reached, what="the duplicates consumed")
    shown = await perfil(store, 2)
    assert shown["resumen_financiero"]["total_transacciones"] == 2
    assert [t["transaccionId"] for t in shown["transacciones_recientes"]] == ["TRXDUP2", "TRXDUP1"]
    assert shown["cuentas"][0]["saldo"] == "30.00"
    assert await applied(store) == len(first) + 1  # the new-id duplicate got through the inbox, not the list


async def test_a_record_that_is_not_a_cloudevent_is_dead_lettered_and_the_view_moves_on(
    store: ViewStore, projection: RunningProjection, publish: Publish, producer, topics: Topics
) -> None:
    await producer.send_and_wait(topics.clientes, b"{not json", key=b"3", headers=[("ce_type", b"?")])
    await publish(ev.cliente_creado(3))

    async def shown() -> bool:
        return (
            projection.projection.status.dead_lettered == 1
            and await store.document(await store.active_schema(), 3) is not None
        )

    await eventually(shown, what="cliente 3 folded past the poison record")
    dead = await drain(dlq(topics.clientes), 1, timeout=10)
    assert dead[0][1]["dlq_error_type"] == b"EnvelopeError"


async def test_search_finds_by_any_field_over_all_clientes_and_pages(
    store: ViewStore, projection: RunningProjection, publish: Publish
) -> None:
    messages: list[Message] = [
        ev.cliente_creado(c, apellido="Vargas" if c % 2 else "Llosa", email=f"c{c}@mail.pe") for c in range(40, 60)
    ]
    messages += [ev.cuenta_abierta(455, 45), ev.cliente_creado(61, nombre="100%_real", apellido="X")]
    await publish(*messages)
    await wait_applied(store, len(messages))
    schema = await store.active_schema()

    async def buscar(q: str, skip: int = 0, limit: int = 100) -> dict[str, Any]:
        return await service.buscar(store, schema, q, skip=skip, limit=limit)

    assert (await buscar("VARGAS"))["total_resultados"] == 10
    assert [c["cliente_id"] for c in (await buscar("c45@mail"))["resultados"]] == [45]
    assert [c["cliente_id"] for c in (await buscar("0000000000455"))["resultados"]] == [45]
    assert [c["cliente_id"] for c in (await buscar(f"{47:08d}"))["resultados"]] == [47]
    assert (await buscar("ana llosa"))["total_resultados"] == 10
    page = await buscar("mail.pe", skip=5, limit=3)
    assert page["total_resultados"] == 20
    assert [c["cliente_id"] for c in page["resultados"]] == [45, 46, 47]
    assert [c["cliente_id"] for c in (await buscar("100%_"))["resultados"]] == [61]
    assert (await buscar("0%x"))["total_resultados"] == 0  # % is a character, not a wildcard


async def test_rebuild_equals_the_live_view_and_the_live_projection_follows_the_switch(
    store: ViewStore, projection: RunningProjection, publish: Publish, topics: Topics
) -> None:
    messages = ev.workload(60, seed=11, first_id=100)
    await publish(*messages)
    await wait_applied(store, len(messages), timeout=60)
    live = await store.active_schema()

    report = await rebuild(store, KAFKA, topics.all(), say=lambda _: None)

    assert report.compared
    assert report.switched
    assert report.differences == 0, report.different_ids
    assert await store.active_schema() == report.schema != live
    assert await stored_documents(store, report.schema) == expected_documents(messages)

    # The live projection now folds into the new copy, from where the rebuild stopped.
    await publish(ev.cliente_actualizado(100, nombre="Después del cambio"))

    async def followed() -> bool:
        doc = await store.document(report.schema, 100)
        return doc is not None and doc["cliente"]["nombre"] == "Después del cambio"

    await eventually(followed, what="an event after the switch folded into the new view")
    assert projection.projection.status.switches == 1
    assert (await store.document(live, 100) or {})["cliente"]["nombre"] != "Después del cambio"


async def test_same_history_in_any_partition_interleaving_gives_the_pure_fold(
    store: ViewStore, projection: RunningProjection, publish: Publish
) -> None:
    messages = ev.workload(30, seed=5, first_id=300)
    by_topic: dict[str, list[Message]] = defaultdict(list)
    for m in messages:
        by_topic[m.topic].append(m)
    # Transactions first, then cuentas, then clientes: every parent arrives last.
    ordered = by_topic["bank.transacciones.v1"] + by_topic["bank.cuentas.v1"] + by_topic["bank.clientes.v1"]
    await publish(*ordered)
    await wait_applied(store, len(messages))
    assert await stored_documents(store, await store.active_schema()) == expected_documents(messages)


async def test_a_transaction_without_an_owner_is_attributed_by_its_account_in_either_order(
    store: ViewStore, projection: RunningProjection, publish: Publish
) -> None:
    def refused(trx: str) -> Message:
        event = ev.fallida(origen=(70, 700), destino=(71, 710))
        return event.model_copy(update={"transaccion_id": trx, "cliente_destino_id": None})

    # The account is known first, then the transaction; and a transaction before its account.
    await publish(ev.cliente_creado(71), ev.cuenta_abierta(710, 71), refused("TRXKNOWN"))
    await publish(ev.cliente_creado(72), refused("TRXLATE").model_copy(update={"cuenta_destino_id": 720}))
    await wait_applied(store, 5)
    await publish(ev.cuenta_abierta(720, 72))

    async def both() -> bool:
        schema = await store.active_schema()
        docs = [await store.document(schema, c) for c in (71, 72)]
        return all(d is not None and d["total_transacciones"] == 1 for d in docs)

    await eventually(both, what="both refused transfers in their destination's profile")
    assert (await perfil(store, 71))["transacciones_recientes"][0]["numero_cuenta"] == "0000000000710"
    assert (await perfil(store, 72))["transacciones_recientes"][0]["transaccionId"] == "TRXLATE"


async def test_two_rebuilds_at_once_take_turns_and_both_succeed(
    store: ViewStore, projection: RunningProjection, publish: Publish, topics: Topics
) -> None:
    messages = ev.workload(20, seed=8, first_id=500)
    await publish(*messages)
    await wait_applied(store, len(messages))
    said: tuple[list[str], list[str]] = ([], [])

    first, second = await asyncio.gather(
        rebuild(store, KAFKA, topics.all(), say=said[0].append), rebuild(store, KAFKA, topics.all(), say=said[1].append)
    )

    waited = [any("another rebuild is running" in line for line in lines) for lines in said]
    assert sorted(waited) == [False, True]
    assert first.differences == second.differences == 0
    assert {first.compared, second.compared} == {True}
    assert await store.active_schema() == max(first.schema, second.schema, key=lambda s: int(s[8:]))
    assert set(await store.view_schemas()) == {first.schema, second.schema}
    assert await stored_documents(store, await store.active_schema()) == expected_documents(messages)


async def test_un_plegado_fallido_se_repite_sin_plegar_antes_el_lote_leido_mientras_tanto(
    store: ViewStore, topics: Topics, producer: AIOKafkaProducer, publish: Publish
) -> None:
    """The projection fetches and decodes the next batch while one folds. When that fold fails (nothing
    committed), the view goes back to its stored offsets; the batch fetched meanwhile follows the failed one and
    must not be folded (its partitions were re-sought): folded, it would move the offsets past the lost records."""
    messages = ev.workload(150, seed=11, first_id=7000)
    await publish(*messages)
    fold = store.apply
    failed: list[int] = []

    async def failing_once(*args: Any, **kwargs: Any) -> Any:
        if not failed:
            failed.append(len(args[1]))
            await asyncio.sleep(0.5)  # long enough for the next batch to be fetched and decoded meanwhile
            raise ConnectionResetError("the view's database went away mid-fold")
        return await fold(*args, **kwargs)

    store.apply = failing_once  # type: ignore[method-assign]
    running = RunningProjection(store, topics, producer)
    running.projection = LiveProjection(store, running.reader, producer, topics.all(), max_records=50)
    await running.start()
    try:
        await wait_applied(store, len(messages), timeout=60)
    finally:
        await running.close()
    assert failed
    assert running.projection.status.errors == 1
    assert await applied(store) == len(messages)
    assert await stored_documents(store, await store.active_schema()) == expected_documents(messages)

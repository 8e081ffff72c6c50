"""The writer, relay, sweeper and use cases together over in-memory fakes (no database, no broker)."""

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from bson import ObjectId
from opentelemetry import trace

from contracts.envelope import AuthContext
from services.transacciones import saga
from services.transacciones.domain import Transaccion, huella
from services.transacciones.errors import IdempotencyKeyReused, Invalid, NoCancelable, TransaccionNoEncontrada
from services.transacciones.ownership import COLLECTION, Ownership
from services.transacciones.repository import Claim
from services.transacciones.schemas import TransaccionCreate, TransaccionPublic
from services.transacciones.service import EnOtraInstancia
from tests.conftest import eventually
from tests.unit.observability.spans import recording
from tests.unit.transacciones.fakes import Env, FakeRepository, Particiones, environment


def pedido(**overrides: Any) -> TransaccionCreate:
    body: dict[str, Any] = {
        "tipo": "TRANSFERENCIA",
        "monto": "10.00",
        "moneda": "PEN",
        "cuentaOrigenId": 1,
        "cuentaDestinoId": 2,
    }
    return TransaccionCreate.model_validate(body | overrides)


async def crear_en_fondo(env: Env, req: TransaccionCreate, key: str | None = None) -> "asyncio.Task[Transaccion]":
    task = asyncio.create_task(env.service.crear(req, key))
    await eventually(lambda: _any(env.repo.docs), timeout=2, what="document inserted")
    return task


async def _any(docs: dict[Any, Any]) -> bool:
    return bool(docs)


def only(env: Env) -> Transaccion:
    (doc,) = env.repo.docs.values()
    return doc


async def test_una_transferencia_recorre_la_saga_y_la_peticion_recibe_el_estado_final() -> None:
    async with environment() as env:
        task = await crear_en_fondo(env, pedido())
        doc = only(env)
        assert doc.estado == "PENDIENTE"
        assert [e["event_id"] for e in doc.outbox]  # Solicitada + DebitarCuenta, in the same document
        assert await env.relay_once() == 2
        assert env.broker.types() == ["TransaccionSolicitada", "DebitarCuenta"]
        await env.reply(doc.id, saga.Aplicado(f"{doc.transaccion_id}-DEB", 5, "111"))
        assert await env.relay_once() == 1
        await env.reply(doc.id, saga.Aplicado(f"{doc.transaccion_id}-CRE", 6, "222"))
        assert await env.relay_once() == 1
        final = await task
        assert final.estado == "COMPLETADA"
        assert env.broker.types()[-2:] == ["AcreditarCuenta", "TransaccionRegistrada"]
        registrada = json.loads(env.broker.rows[-1].payload)
        assert (registrada["cliente_origen_id"], registrada["numero_cuenta_destino"]) == (5, "222")
        # published events leave the document (with its next write, or on their own after the fold delay)
        await eventually(lambda: _empty_outbox(env, doc), timeout=2, what="outbox emptied")
        # The decision's write archived the final state; the write for its published events only removed the
        # in-progress copy (repository.replace_many): one archive write in the document's life.
        assert env.repo.archive_inserts == [doc.id]


async def _empty_outbox(env: Env, doc: Transaccion) -> bool:
    return env.repo.docs[doc.id].outbox == ()


async def test_un_paso_en_curso_no_se_escribe_solo_para_quitar_eventos_publicados() -> None:
    async with environment(wait_seconds=0.01, fold_seconds=0.01) as env:
        doc = await env.service.crear(pedido(tipo="RETIRO", cuentaDestinoId=None), None)
        assert await env.relay_once() == 2  # TransaccionSolicitada + DebitarCuenta, acknowledged
        await asyncio.sleep(0.1)  # ten fold delays: no write of its own while the debit is in flight
        assert env.repo.replaced == []
        await env.reply(doc.id, saga.Aplicado(f"{doc.transaccion_id}-DEB", 5, "111"))
        written = env.repo.docs[doc.id]
        assert written.estado == "COMPLETADA"
        assert [json.loads(r["payload"])["transaccion_id"] for r in written.outbox] == [doc.transaccion_id]
        assert len(written.outbox) == 1  # the reply's write took the two published events out


async def test_sin_respuesta_a_tiempo_la_peticion_recibe_pendiente() -> None:
    async with environment(wait_seconds=0.05) as env:
        t = await env.service.crear(pedido(), None)
        assert t.estado == "PENDIENTE"


async def test_reglas_de_cuentas_por_tipo() -> None:
    async with environment() as env:
        casos: list[tuple[dict[str, Any], str]] = [
            ({"tipo": "DEPOSITO", "cuentaOrigenId": 1, "cuentaDestinoId": 2}, "cuentaOrigenId"),
            ({"tipo": "DEPOSITO", "cuentaOrigenId": None, "cuentaDestinoId": None}, "cuentaDestinoId"),
            ({"tipo": "RETIRO", "cuentaOrigenId": 1, "cuentaDestinoId": 2}, "cuentaDestinoId"),
            ({"tipo": "PAGO_SERVICIO", "cuentaOrigenId": None, "cuentaDestinoId": None}, "cuentaOrigenId"),
            ({"tipo": "TRANSFERENCIA", "cuentaOrigenId": 1, "cuentaDestinoId": None}, "cuentaDestinoId"),
            ({"tipo": "TRANSFERENCIA", "cuentaOrigenId": 3, "cuentaDestinoId": 3}, "cuentaDestinoId"),
        ]
        for body, campo in casos:
            with pytest.raises(Invalid) as err:
                await env.service.crear(pedido(**body), None)
            assert err.value.field == campo
        assert env.repo.docs == {}


async def test_misma_clave_y_cuerpo_devuelve_la_original_y_otro_cuerpo_es_conflicto() -> None:
    async with environment(wait_seconds=0.01) as env:
        first = await env.service.crear(pedido(), "k1")
        again = await env.service.crear(pedido(monto=10), "k1")  # 10 == "10.00": the same body
        assert again.id == first.id
        with pytest.raises(IdempotencyKeyReused):
            await env.service.crear(pedido(monto="11.00"), "k1")
        assert len(env.repo.docs) == 1


async def test_clave_reclamada_por_una_peticion_que_murio_antes_de_registrar() -> None:
    async with environment(wait_seconds=0.01) as env:
        oid = ObjectId()
        req = pedido()
        await env.repo.claim_many([Claim("k:k2", oid, huella(req.fingerprint_body()))])  # ...and then the process died
        t = await env.service.crear(req, "k2")
        assert t.id == oid
        assert (await env.service.crear(req, "k2")).id == oid
        assert len(env.repo.docs) == 1


async def test_el_reintento_de_una_clave_de_otra_instancia_muerta_espera_a_heredar_su_particion() -> None:
    """The key's first request died at the other instance after claiming it: the retry here is answered (not a
    503) once the group has moved that saga's partition to this instance, which then records it itself."""
    async with environment(wait_seconds=0.01) as env:
        ownership = Ownership(None, instance="t-2", partitions=6)
        env.service.ownership = ownership
        oid = ObjectId()
        ajena = ownership.partition(oid)
        ownership.epochs = {(ajena + 1) % 6: 1}  # this instance holds another partition only
        req = pedido()
        await env.repo.claim_many([Claim("k:k3", oid, huella(req.fingerprint_body()))])
        retry = asyncio.create_task(env.service.crear(req, "k3"))
        await asyncio.sleep(0.3)
        assert not retry.done(), "answered before anyone could record the claimed transaction"
        ownership.epochs = {**ownership.epochs, ajena: 2}  # the dead instance's partition, given to this one
        t = await asyncio.wait_for(retry, 5)
        assert t.id == oid
        assert list(env.repo.docs) == [oid]


def _en_otra_instancia(env: Env, oid: ObjectId, **fila: Any) -> tuple[Particiones, int]:
    """This instance (t-2) holds one partition, not `oid`'s: t-1 holds that one (epoch 5, plus `fila`). Returns the
    stored rows and that partition."""
    particiones = Particiones()
    ownership = Ownership({COLLECTION: particiones}, instance="t-2", partitions=6)  # type: ignore[arg-type]
    env.service.ownership = ownership
    ajena = ownership.partition(oid)
    ownership.epochs = {(ajena + 1) % 6: 1}
    particiones.rows[ajena] = {"_id": ajena, "generacion": 5, "owner": "t-1", "url": "http://t-1:8014"} | fila
    return particiones, ajena


async def test_si_la_particion_pasa_a_otra_instancia_viva_el_reintento_se_le_reenvia() -> None:
    """The claimer died, and on its restart the group gave it back the saga's partition (a newer epoch, another
    instance): only that one may record the transaction, so the retry is handed to it (api.py forwards it)."""
    async with environment(wait_seconds=0.01) as env:
        oid = ObjectId()
        particiones, ajena = _en_otra_instancia(env, oid)
        req = pedido()
        await env.repo.claim_many([Claim("k:k4", oid, huella(req.fingerprint_body()))])
        retry = asyncio.create_task(env.service.crear(req, "k4", reenviable=True))
        await asyncio.sleep(0.7)
        assert not retry.done(), "the same epoch: its claimer may still record it"
        particiones.rows[ajena] = {"_id": ajena, "generacion": 6, "owner": "t-1", "url": "http://t-1:8014"}
        with pytest.raises(EnOtraInstancia) as otra:
            await asyncio.wait_for(retry, 3)
        assert otra.value.url == "http://t-1:8014"
        assert env.repo.docs == {}


@pytest.mark.parametrize(("tomada_hace", "reenviada"), [(timedelta(0), True), (timedelta(hours=1), False)])
async def test_el_reintento_va_a_la_instancia_que_tomo_la_particion_despues_de_reclamar_la_clave(
    tomada_hace: timedelta, reenviada: bool
) -> None:
    """The claimer lost the saga's partition to another live instance (a rebalance) before recording, and the retry
    arrives after that: the claimer can no longer record it, so the retry goes to the new holder at once, not a 503
    after TAKEOVER_WAIT. A holder that took it before the id was minted is the claimer itself: it may still record."""
    async with environment(wait_seconds=0.01) as env:
        _en_otra_instancia(env, oid := ObjectId(), desde=datetime.now(UTC) - tomada_hace)
        req = pedido()
        await env.repo.claim_many([Claim("k:k5", oid, huella(req.fingerprint_body()))])
        retry = asyncio.create_task(env.service.crear(req, "k5", reenviable=True))
        done, _ = await asyncio.wait([retry], timeout=1.5)
        assert bool(done) is reenviada
        if reenviada:
            with pytest.raises(EnOtraInstancia) as otra:
                retry.result()
            assert otra.value.url == "http://t-1:8014"
        else:
            retry.cancel()
        assert env.repo.docs == {}


def _rebalanceo_tras_el_primer_id(env: Env, particiones: Particiones | None = None) -> list[ObjectId]:
    """This instance (t-2) holds every partition and writes through its fence; the partition of the first id it
    mints is then taken by t-1 at once (a rebalance between minting an id and writing it). Returns the ids minted."""
    ownership = Ownership({COLLECTION: particiones} if particiones else None, instance="t-2", partitions=6)  # type: ignore[arg-type]
    ownership.epochs = dict.fromkeys(range(6), 1)
    env.service.ownership = ownership
    env.writer.fence = ownership
    minted: list[ObjectId] = []
    mint = ownership.new_id

    def new_id() -> ObjectId | None:
        oid = mint()
        assert oid is not None
        if not minted:
            perdida = ownership.partition(oid)
            ownership.epochs = {p: e for p, e in ownership.epochs.items() if p != perdida}
        minted.append(oid)
        return oid

    ownership.new_id = new_id  # type: ignore[method-assign]
    return minted


async def test_sin_clave_una_particion_perdida_antes_de_escribir_se_registra_con_otro_id() -> None:
    """CI saw a 503 here: a POST minted its id, a rebalance moved that id's partition away, the fence refused the
    insert. Nothing was written, so the request is recorded under an id of a partition still held: one document,
    no error for the client."""
    async with environment(wait_seconds=0.01) as env:
        minted = _rebalanceo_tras_el_primer_id(env)
        t = await asyncio.wait_for(env.service.crear(pedido(), None), 2)
        assert len(minted) == 2
        assert t.id == minted[1]
        assert list(env.repo.docs) == [minted[1]]


async def test_con_clave_una_particion_perdida_antes_de_escribir_va_a_su_nuevo_duenio() -> None:
    """The same race with an Idempotency-Key: the key is claimed for the first id, so only that partition's new
    holder may record it; the request is handed there (api.py forwards it), which records it under the claimed id
    (test_clave_reclamada_por_una_peticion_que_murio_antes_de_registrar); nothing is written here, and a request already forwarded gets the 503 to retry."""
    async with environment(wait_seconds=0.01) as env:
        particiones = Particiones()
        minted = _rebalanceo_tras_el_primer_id(env, particiones)
        ownership = env.service.ownership
        assert ownership is not None
        for p in range(6):
            particiones.rows[p] = {"_id": p, "generacion": 1, "owner": "t-2", "url": "http://t-2:8014"}
        req = pedido()

        def t1_la_toma() -> None:
            p = ownership.partition(minted[0])
            particiones.rows[p] = {"_id": p, "generacion": 2, "owner": "t-1", "url": "http://t-1:8014"}

        holder_update = asyncio.get_running_loop().call_later(0.05, t1_la_toma)
        with pytest.raises(EnOtraInstancia) as otra:
            await asyncio.wait_for(env.service.crear(req, "k9", reenviable=True), 3)
        holder_update.cancel()
        assert otra.value.url == "http://t-1:8014"
        assert env.repo.docs == {}
        assert [c.doc_id for c in env.repo.claims.values()] == [minted[0]]


async def test_el_reintento_de_una_transaccion_en_curso_en_otra_instancia_se_le_reenvia() -> None:
    """A long-polling client's retry (after a 202) that the balancer sends to the instance not running the saga:
    handed to the one that does (where the saga's end wakes it), not answered by reading the document every 50 ms
    here; the document travels along, as the answer should that instance not respond."""
    async with environment(wait_seconds=5) as env:
        req = pedido()
        t = await env.service.crear(req, "k6", wait=False)
        particiones = Particiones()
        ownership = Ownership({COLLECTION: particiones}, instance="t-2", partitions=6)  # type: ignore[arg-type]
        ajena = ownership.partition(t.id)
        ownership.epochs = {p: 1 for p in range(6) if p != ajena}
        particiones.rows[ajena] = {"_id": ajena, "generacion": 2, "owner": "t-1", "url": "http://t-1:8014"}
        env.service.ownership = ownership
        with pytest.raises(EnOtraInstancia) as otra:
            await asyncio.wait_for(env.service.crear(req, "k6", reenviable=True), 1)
        assert otra.value.url == "http://t-1:8014"
        assert otra.value.doc is not None
        assert (otra.value.doc.id, otra.value.doc.estado) == (t.id, "PENDIENTE")
        env.service.wait_seconds = 0.2  # already forwarded once: read here until the wait is over
        again = await asyncio.wait_for(env.service.crear(req, "k6"), 2)
        assert (again.id, again.estado) == (t.id, "PENDIENTE")


async def test_peticiones_simultaneas_con_la_misma_clave_crean_una_transaccion() -> None:
    async with environment(wait_seconds=0.01) as env:
        results = await asyncio.gather(*(env.service.crear(pedido(), "same") for _ in range(10)))
        assert len({r.id for r in results}) == 1
        assert len(env.repo.docs) == 1


async def test_las_claves_de_peticiones_simultaneas_se_reclaman_en_una_escritura() -> None:
    async with environment(wait_seconds=0.01) as env:
        keys = [f"lote-{i}" for i in range(200)] + ["lote-7", "lote-7"]  # two retries inside the same write
        results = await asyncio.gather(*(env.service.crear(pedido(), k, wait=False) for k in keys))
        assert env.repo.claim_writes == 1
        assert len(env.repo.docs) == 200
        assert results[-1].id == results[-2].id == results[7].id


async def test_el_reintento_de_una_clave_conocida_no_vuelve_a_la_base() -> None:
    """A re-POST after a 202 is answered from the claims this process wrote or read (claims are never deleted)."""
    async with environment(wait_seconds=0.01) as env:
        first = await env.service.crear(pedido(), "k-retry")
        writes = env.repo.claim_writes
        for _ in range(3):
            assert (await env.service.crear(pedido(), "k-retry")).id == first.id
        with pytest.raises(IdempotencyKeyReused):
            await env.service.crear(pedido(monto="11.00"), "k-retry")
        assert env.repo.claim_writes == writes
        otro = ObjectId()
        await env.repo.claim_many([Claim("k:ajena", otro, huella(pedido().fingerprint_body()))])  # another instance
        writes = env.repo.claim_writes
        assert (await env.service.crear(pedido(), "ajena")).id == otro
        assert (await env.service.crear(pedido(), "ajena")).id == otro
        assert env.repo.claim_writes == writes + 1  # read once, then known


async def test_respuestas_duplicadas_no_emiten_nada_mas() -> None:
    async with environment(wait_seconds=0.01) as env:
        t = await env.service.crear(pedido(tipo="RETIRO", cuentaDestinoId=None), None)
        await env.relay_once()
        reply = saga.Aplicado(f"{t.transaccion_id}-DEB", 5, "111")
        await asyncio.gather(*(env.reply(t.id, reply) for _ in range(5)))
        await env.relay_once()
        assert env.broker.types() == ["TransaccionSolicitada", "DebitarCuenta", "TransaccionRegistrada"]
        assert env.repo.docs[t.id].estado == "COMPLETADA"


async def test_una_ronda_del_escritor_agrupa_muchos_cambios_en_una_escritura() -> None:
    async with environment(wait_seconds=0.01) as env:
        docs = await asyncio.gather(
            *(env.service.crear(pedido(tipo="RETIRO", cuentaDestinoId=None), None) for _ in range(50))
        )
        await env.relay_once()
        before = env.repo.round_trips
        await asyncio.gather(*(env.reply(d.id, saga.Aplicado(f"{d.transaccion_id}-DEB", 1, "n")) for d in docs))
        assert env.repo.round_trips - before <= 2


async def test_cancelar_antes_de_publicar_y_no_despues() -> None:
    async with environment(wait_seconds=0.01) as env:
        t = await env.service.crear(pedido(), None)
        cancelada = await env.service.cancelar(str(t.id))
        assert (cancelada.estado, cancelada.motivo) == ("CANCELADA", saga.MOTIVO_CANCELADA)
        await env.relay_once()
        # the command never leaves; the client learns of the cancellation
        assert env.broker.types() == ["TransaccionSolicitada", "TransaccionFallida"]
        assert json.loads(env.broker.rows[-1].payload)["estado"] == "CANCELADA"
        with pytest.raises(NoCancelable):
            await env.service.cancelar(str(t.id))

        otra = await env.service.crear(pedido(), None)
        await env.relay_once()  # the debit is on its way: money may move
        with pytest.raises(NoCancelable):
            await env.service.cancelar(str(otra.id))
        assert env.repo.docs[otra.id].estado == "PENDIENTE"


async def test_no_se_cancela_lo_que_escribio_otro_proceso() -> None:
    repo = FakeRepository()
    async with environment(wait_seconds=0.01, repo=repo, epoch="before-crash") as env:
        t = await env.service.crear(pedido(), None)
    async with environment(wait_seconds=0.01, repo=repo, epoch="after-restart") as env:
        with pytest.raises(NoCancelable):  # the killed process may have sent the debit just before dying
            await env.service.cancelar(str(t.id))


async def test_cancelar_ids_desconocidos_es_404() -> None:
    async with environment() as env:
        for ref in ("nope", "0123456789abcdef01234567"):
            with pytest.raises(TransaccionNoEncontrada):
                await env.service.cancelar(ref)


async def test_el_barrido_reenvia_un_paso_atascado_como_nueva_emision() -> None:
    async with environment(wait_seconds=0.01, stuck_after=0.0) as env:  # every step is overdue at once
        t = await env.service.crear(pedido(), None)
        await env.relay_once()
        assert await env.sweeper.sweep_once() == 1
        await env.relay_once()
        debits = [c for c in env.broker.commands() if c["comando_id"] == f"{t.transaccion_id}-DEB"]
        assert len(debits) == 2
        event_ids = [r.event_id for r in env.broker.rows if r.topic == "bank.cuentas.comandos.v1"]
        assert len(set(event_ids)) == 2  # a new emission of the same command
        assert env.repo.docs[t.id].saga.intentos == 1


async def test_un_paso_reenviado_sin_span_sigue_la_traza_de_la_peticion() -> None:
    recording()
    async with environment(wait_seconds=0.01, stuck_after=0.0) as env:
        with trace.get_tracer("test").start_as_current_span("POST /transacciones") as request:
            t = await env.service.crear(pedido(), None)
        await env.relay_once()
        assert await env.sweeper.sweep_once() == 1  # the sweeper runs under no span
        await env.relay_once()
        debits = [r for r in env.broker.rows if f"{t.transaccion_id}-DEB" in r.payload]
        assert len(debits) == 2
        trace_ids = {dict(r.headers)["ce_traceparent"].split("-")[1] for r in debits}
        assert trace_ids == {f"{request.get_span_context().trace_id:032x}"}


async def test_con_el_escritor_saturado_el_barrido_espera_en_vez_de_reenviar(monkeypatch: pytest.MonkeyPatch) -> None:
    async with environment(wait_seconds=0.01, stuck_after=0.0) as env:
        await env.service.crear(pedido(), None)
        await env.relay_once()
        monkeypatch.setattr(env.writer, "busy_seconds", lambda: 60.0)  # rounds back to back for a minute
        assert await env.sweeper.sweep_once() == 0
        monkeypatch.setattr(env.writer, "busy_seconds", lambda: 0.0)  # caught up: the late step goes again
        assert await env.sweeper.sweep_once() == 1


async def test_reenvio_de_un_comando_aun_no_publicado_solo_reinicia_el_reloj() -> None:
    async with environment(wait_seconds=0.01, stuck_after=0.0) as env:
        t = await env.service.crear(pedido(), None)
        await env.sweeper.sweep_once()
        doc = env.repo.docs[t.id]
        assert len(doc.outbox) == 2  # no second copy of the command
        assert doc.saga.intentos == 1


async def test_si_el_broker_falla_los_eventos_se_reintentan() -> None:
    async with environment(wait_seconds=0.01) as env:
        await env.service.crear(pedido(), None)
        env.broker.down = True
        with pytest.raises(ConnectionError):
            await env.relay_once()
        env.broker.down = False
        assert await env.relay_once() == 2


async def test_un_fallo_de_escritura_se_informa_y_el_documento_se_relee() -> None:
    async with environment(wait_seconds=0.01) as env:
        t = await env.service.crear(pedido(tipo="RETIRO", cuentaDestinoId=None), None)
        await env.relay_once()
        env.repo.fail_next_write = OSError("disk")
        with pytest.raises(OSError):
            await env.reply(t.id, saga.Aplicado(f"{t.transaccion_id}-DEB", 1, "n"))
        assert env.writer.cache.latest(t.id) is None
        await env.service.aplicar_respuesta(t.transaccion_id, saga.Aplicado(f"{t.transaccion_id}-DEB", 1, "n"), "c")
        assert env.repo.docs[t.id].estado == "COMPLETADA"


def en_memoria(env: Env, t: Transaccion) -> Transaccion:
    """The writer's newest state of `t` (kept in memory or durable)."""
    latest = env.writer.latest(t.id)
    assert latest is not None
    return latest


async def en_credito(env: Env) -> Transaccion:
    """A transfer whose debit was answered: its saga at the credit step, kept in memory."""
    t = await env.service.crear(pedido(), None)
    await env.relay_once()
    await env.reply(t.id, _debito(t))
    return t


def _debito(t: Transaccion) -> saga.Aplicado:
    return saga.Aplicado(f"{t.transaccion_id}-DEB", 1, "n")


def _credito(t: Transaccion) -> saga.Aplicado:
    return saga.Aplicado(f"{t.transaccion_id}-CRE", 2, "m")


async def test_el_paso_al_credito_se_guarda_en_memoria_y_su_comando_sale_sin_escribir() -> None:
    async with environment(wait_seconds=0.01) as env:
        t = await en_credito(env)
        assert env.repo.replaced == []  # stored as inserted: debit in flight
        assert env.repo.docs[t.id].saga.paso == "DEBITO"
        assert en_memoria(env, t).saga.paso == "CREDITO"
        assert await env.relay_once() == 1
        assert env.broker.types()[-1] == "AcreditarCuenta"
        await env.reply(t.id, _credito(t))
        assert env.repo.replaced == [t.id]  # the final state is the document's one write after its insert
        assert env.repo.docs[t.id].estado == "COMPLETADA"
        assert env.writer.kept == 1


async def test_el_rechazo_del_credito_guarda_la_devolucion_en_memoria_y_el_final_se_escribe() -> None:
    async with environment(wait_seconds=0.01) as env:
        t = await en_credito(env)
        await env.reply(t.id, saga.Rechazado(f"{t.transaccion_id}-CRE", "CUENTA_INACTIVA", "bloqueada", 2))
        assert env.repo.replaced == []
        assert en_memoria(env, t).saga.paso == "REVERSION"
        await env.relay_once()
        assert env.broker.types()[-2:] == ["AcreditarCuenta", "RevertirDebito"]
        await env.reply(t.id, saga.Aplicado(f"{t.transaccion_id}-REV", 1, "n"))
        assert env.repo.docs[t.id].estado == "FALLIDA"
        assert env.repo.replaced == [t.id]


@pytest.mark.parametrize("fallo", ["fail_next_write", "lose_next_ack"])
async def test_tras_una_escritura_fallida_decide_la_copia_guardada(fallo: str) -> None:
    """The failed write did not land (the step kept in memory still stands on the stored copy, and the consumer's
    retry ends the saga) or it did (the stored final state is read back, and the retry is a duplicate)."""
    async with environment(wait_seconds=0.01) as env:
        t = await en_credito(env)
        setattr(env.repo, fallo, OSError("disk"))
        with pytest.raises(OSError):
            await env.reply(t.id, _credito(t))
        assert env.writer.cache.latest(t.id) is None  # its stored state is unknown: read again next time
        await env.reply(t.id, _credito(t))
        assert en_memoria(env, t).estado == "COMPLETADA"
        assert env.repo.docs[t.id].estado == "COMPLETADA"
        assert env.repo.replaced == [t.id]  # written once


async def test_tras_un_reinicio_el_paso_en_memoria_se_deriva_otra_vez_de_las_respuestas() -> None:
    repo = FakeRepository()
    async with environment(wait_seconds=0.01, repo=repo, epoch="a") as env:
        t = await en_credito(env)
        await env.relay_once()
        primera = [r.event_id for r in env.broker.rows if "AcreditarCuenta" in dict(r.headers)["ce_type"]]
    # "killed" with the credit sent and its reply not yet read: only the insert is stored
    async with environment(wait_seconds=0.01, repo=repo, epoch="b") as env:
        assert await env.sweeper.recover() == 1
        assert repo.docs[t.id].saga.paso == "DEBITO"
        await env.reply(t.id, _debito(t))  # replay.py reads the replies again from before the saga began
        await env.reply(t.id, _credito(t))
        await env.relay_once()
        assert repo.docs[t.id].estado == "COMPLETADA"
        again = [r.event_id for r in env.broker.rows if "AcreditarCuenta" in dict(r.headers)["ce_type"]]
        assert again in ([], primera)  # the same emission if it goes out again: cuentas applies it once


async def test_un_nuevo_duenio_que_lee_el_credito_antes_que_el_debito_completa_igual() -> None:
    repo = FakeRepository()
    async with environment(wait_seconds=0.01, repo=repo, epoch="a") as env:
        t = await en_credito(env)
        await env.relay_once()  # the credit goes out; the process dies before its reply
    async with environment(wait_seconds=0.01, repo=repo, epoch="b") as env:
        await env.sweeper.recover()
        # The replies come again from two partitions (origin and destination accounts), in either order.
        await env.reply(t.id, _credito(t))
        assert repo.docs[t.id].saga.paso == "DEBITO"  # not its step yet: kept for later
        await env.reply(t.id, _debito(t))
        final = repo.docs[t.id]
        assert final.estado == "COMPLETADA"
        assert final.saga.destino is not None
        assert final.saga.destino.numero_cuenta == "m"  # from the credit's reply
        assert repo.replaced == [t.id]


async def test_la_respuesta_adelantada_sigue_valiendo_si_falla_la_escritura_que_la_aplico() -> None:
    async with environment(wait_seconds=0.01) as env:
        t = await env.service.crear(pedido(), None)
        await env.relay_once()
        await env.reply(t.id, _credito(t))
        env.repo.fail_next_write = OSError("disk")
        with pytest.raises(OSError):
            await env.reply(t.id, _debito(t))
        await env.service.aplicar_respuesta(t.transaccion_id, _debito(t), "c")  # the consumer's retry
        assert env.repo.docs[t.id].estado == "COMPLETADA"


async def test_una_respuesta_vieja_no_se_guarda_para_despues() -> None:
    async with environment(wait_seconds=0.01) as env:
        t = await en_credito(env)
        await env.reply(t.id, _debito(t))  # a duplicate of the step already passed
        assert len(env.service.adelantadas) == 0


async def test_el_barrido_reenvia_el_paso_guardado_en_memoria() -> None:
    async with environment(wait_seconds=0.01, stuck_after=0.0) as env:  # every step is overdue at once
        t = await en_credito(env)
        await env.relay_once()
        assert await env.sweeper.sweep_once() == 1
        await env.relay_once()
        sufijos = [c["comando_id"].rsplit("-", 1)[1] for c in env.broker.commands()]
        assert sufijos == ["DEB", "CRE", "CRE"]  # the credit again, not the debit the stored copy still shows
        assert env.repo.docs[t.id].saga.paso == "CREDITO"  # a re-send is written


async def test_un_paso_de_una_particion_perdida_mientras_la_ronda_escribe_no_se_guarda() -> None:
    async with environment(wait_seconds=0.01) as env:
        t = await env.service.crear(pedido(), None)
        otra = await env.service.crear(pedido(tipo="RETIRO", cuentaDestinoId=None), None)
        await env.relay_once()
        write = env.repo.replace_many

        async def lost_meanwhile(docs: Sequence[Transaccion]) -> None:
            env.writer.drop({0})  # the group takes the partition away while the round's write is in flight
            await write(docs)

        env.repo.replace_many = lost_meanwhile  # type: ignore[method-assign]
        # One round: t's debit reply (its credit step kept) and the other's (final, written).
        await asyncio.gather(env.reply(t.id, _debito(t)), env.reply(otra.id, _debito(otra)))
        assert env.writer.latest(t.id) is None  # not brought back by the round: its new owner derives it


async def test_perder_la_particion_olvida_el_paso_en_memoria() -> None:
    async with environment(wait_seconds=0.01) as env:
        t = await en_credito(env)
        assert env.writer.drop({0}) == {t.id}
        assert env.writer.latest(t.id) is None
        # Read from storage again, it waits for the debit's reply (the new owner's replay brings it): the credit's
        # reply decides nothing here.
        await env.service.aplicar_respuesta(t.transaccion_id, _credito(t), "c")
        assert en_memoria(env, t).saga.paso == "DEBITO"
        assert env.repo.replaced == []


async def test_tras_un_reinicio_se_recupera_el_trabajo_pendiente() -> None:
    repo = FakeRepository()
    async with environment(wait_seconds=0.01, repo=repo, epoch="a") as env:
        t = await env.service.crear(pedido(), None)  # never relayed: "killed" here
    async with environment(wait_seconds=0.01, repo=repo, epoch="b") as env:
        assert await env.sweeper.recover() == 1
        assert env.sweeper.in_progress == 1
        assert await env.relay_once() == 2
        await env.reply(t.id, saga.Aplicado(f"{t.transaccion_id}-DEB", 1, "n"))
        assert en_memoria(env, t).saga.paso == "CREDITO"


async def test_un_final_archivado_con_eventos_sin_publicar_se_recupera_del_archivo() -> None:
    repo = FakeRepository()
    async with environment(wait_seconds=0.01, repo=repo, epoch="a") as env:
        t = await env.service.crear(pedido(tipo="RETIRO", cuentaDestinoId=None), None)
        assert await env.relay_once() == 2
        await env.reply(t.id, saga.Aplicado(f"{t.transaccion_id}-DEB", 5, "111"))
        # "killed" here: the decision is archived with its event, which never went out
    assert repo.archive_inserts == [t.id]
    async with environment(wait_seconds=0.01, repo=repo, epoch="b") as env:
        assert await env.sweeper.recover() == 1
        assert env.writer.cache.latest(t.id) == repo.archive[t.id].model_copy(update={"archivada": True})
        assert await env.relay_once() == 1
        assert env.broker.types() == ["TransaccionRegistrada"]

        async def settled() -> bool:
            return t.id in repo.settled

        await eventually(settled, timeout=2, what="the in-progress copy removed once the event is out")
        assert repo.archive_inserts == [t.id]  # archived once
        assert await repo.pending() == []


async def test_respuesta_de_transaccion_desconocida_se_ignora() -> None:
    async with environment() as env:
        await env.service.aplicar_respuesta("TRX0123456789abcdef01234567", saga.Aplicado("x", 1, "n"), "c")
        await env.service.aplicar_respuesta("not-ours", saga.Aplicado("x", 1, "n"), "c")
        assert env.repo.docs == {}


async def test_el_documento_guarda_el_dinero_exacto() -> None:
    async with environment(wait_seconds=0.01) as env:
        t = await env.service.crear(pedido(monto="0.10"), None)
        assert env.repo.docs[t.id].monto == Decimal("0.10")
        assert t.fecha.microsecond % 1000 == 0
        assert t.actualizada - t.fecha < timedelta(seconds=5)


async def test_un_final_recuperado_se_escribe_otra_vez_para_terminar_de_archivarlo() -> None:
    repo = FakeRepository()
    async with environment(wait_seconds=0.01, repo=repo, epoch="a") as env:
        t = await env.service.crear(pedido(tipo="RETIRO", cuentaDestinoId=None), None)
    # killed after archiving it but before removing the live copy: final, nothing pending, still "live"
    repo.docs[t.id] = repo.docs[t.id].model_copy(update={"estado": "COMPLETADA", "outbox": ()})
    async with environment(wait_seconds=0.01, repo=repo, epoch="b") as env:
        await env.sweeper.recover()

        async def rewritten() -> bool:
            return t.id in repo.replaced

        await eventually(rewritten, timeout=2, what="the recovered final document written again")


def _authcontexts(env: Env) -> list[tuple[str, str | None, str | None]]:
    """(type, ce_authtype, ce_authid) of every published row, in order."""
    out = []
    for row in env.broker.rows:
        h = dict(row.headers)
        out.append((h["ce_type"].split(".")[2], h.get("ce_authtype"), h.get("ce_authid")))
    return out


async def test_los_eventos_y_comandos_de_la_saga_llevan_al_actor_original() -> None:
    cajero = AuthContext(authtype="user", authid="cajero")
    async with environment(wait_seconds=0.01, stuck_after=0.0) as env:
        t = await env.service.crear(pedido(), None, actor=cajero)
        assert env.repo.docs[t.id].actor == cajero
        await env.relay_once()
        assert await env.sweeper.sweep_once() == 1  # a re-sent step is still on the original actor's behalf
        await env.relay_once()
        await env.reply(t.id, saga.Aplicado(f"{t.transaccion_id}-DEB", 5, "111"))
        await env.relay_once()
        await env.reply(t.id, saga.Aplicado(f"{t.transaccion_id}-CRE", 6, "222"))
        await env.relay_once()
        published = _authcontexts(env)
        assert [p[0] for p in published] == [
            "TransaccionSolicitada",
            "DebitarCuenta",
            "DebitarCuenta",
            "AcreditarCuenta",
            "TransaccionRegistrada",
        ]
        assert {p[1:] for p in published} == {("user", "cajero")}
        assert TransaccionPublic.of(env.repo.docs[t.id]).model_dump(mode="json")["actor"] == {
            "authtype": "user",
            "authid": "cajero",
        }


async def test_la_cancelacion_la_firma_quien_cancela() -> None:
    cajero = AuthContext(authtype="user", authid="cajero")
    operaciones = AuthContext(authtype="user", authid="operaciones")
    async with environment(wait_seconds=0.01) as env:
        t = await env.service.crear(pedido(), None, actor=cajero)
        cancelada = await env.service.cancelar(str(t.id), operaciones)
        assert (cancelada.actor, cancelada.cancelada_por) == (cajero, operaciones)
        await env.relay_once()
        assert _authcontexts(env) == [
            ("TransaccionSolicitada", "user", "cajero"),
            ("TransaccionFallida", "user", "operaciones"),
        ]

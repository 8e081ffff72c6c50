"""The storage ports of transacciones as contracts: each abstract class here is subclassed once with the fake the
unit tests use (tests/unit/transacciones/test_contracts.py) and once with the real backend
(tests/integration/transacciones/test_contracts.py), as pyeventsourcing tests every recorder; a fake that passes
behaves, for what the service relies on, like the real thing."""

import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiokafka.errors import KafkaError
from bson import ObjectId

from contracts.comandos import DebitarCuenta
from contracts.envelope import envelope_for
from contracts.transacciones import EstadoTransaccion, TipoTransaccion
from producers.outbox import Publish
from producers.outbox_row import OutboxRow
from services.transacciones.domain import Transaccion, ahora, transaccion_id_de
from services.transacciones.listing import LIST_FIELDS
from services.transacciones.repository import Claim, DuplicateIdem, Filtro, Repository
from services.transacciones.saga import SagaState

# What producers.outbox.OutboxRelay.run treats as "broker away, retry the batch later".
RETRIED_BY_THE_RELAY = (KafkaError, OSError, ConnectionError)


def documento(
    fecha: datetime,
    *,
    tipo: TipoTransaccion = "TRANSFERENCIA",
    estado: EstadoTransaccion = "PENDIENTE",
    origen: int | None = 1,
    destino: int | None = 2,
    eventos: int = 0,
    idem: str | None = None,
) -> Transaccion:
    oid = ObjectId()
    trx = transaccion_id_de(oid)
    rows = tuple(
        OutboxRow.of(envelope_for(comando(trx, i), source="/contract", correlation_id=trx)).to_document()
        for i in range(eventos)
    )
    return Transaccion(
        id=oid,
        transaccion_id=trx,
        tipo=tipo,
        monto=Decimal("0.10"),
        moneda="PEN",
        cuenta_origen_id=origen,
        cuenta_destino_id=destino,
        descripcion="contrato ñ",
        fecha=fecha,
        estado=estado,
        motivo=None if estado != "FALLIDA" else "SALDO_INSUFICIENTE: x",
        metadata_json='{"a":[1,2]}',
        idem=idem or f"t:{trx}",
        epoch="e",
        saga=SagaState(paso="DEBITO" if estado == "PENDIENTE" else "FIN", desde=fecha),
        outbox=rows,
        actualizada=fecha,
    )


def comando(transaccion_id: str, i: int) -> DebitarCuenta:
    return DebitarCuenta(
        comando_id=f"{transaccion_id}-{i}",
        transaccion_id=transaccion_id,
        cuenta_id=1,
        monto=Decimal("0.10"),
        moneda="PEN",
    )


def terminada(doc: Transaccion, estado: EstadoTransaccion = "COMPLETADA") -> Transaccion:
    """Final with nothing left to publish: the repository archives it."""
    return doc.model_copy(update={"estado": estado, "outbox": (), "saga": doc.saga.model_copy(update={"paso": "FIN"})})


class RepositoryContract(ABC):
    """repository.Repository: FakeRepository (unit) and MongoRepository on FerretDB (integration)."""

    @abstractmethod
    def repository(self) -> AbstractAsyncContextManager[Repository]:
        """A fresh, empty repository."""

    @pytest.fixture
    async def repo(self) -> AsyncIterator[Repository]:
        async with self.repository() as repo:
            yield repo

    async def test_lo_insertado_se_lee_igual(self, repo: Repository) -> None:
        a, b = documento(ahora(), eventos=2), documento(ahora(), tipo="DEPOSITO", origen=None)
        assert await repo.insert_many([a, b]) == {}
        assert await repo.load([a.id, b.id, ObjectId()]) == {a.id: a, b.id: b}  # exact money, dates, events

    async def test_un_id_repetido_falla_solo_en_su_indice(self, repo: Repository) -> None:
        a, b, c = (documento(ahora()) for _ in range(3))
        await repo.insert_many([a])
        failures = await repo.insert_many([b, a.model_copy(update={"descripcion": "otra"}), c])
        assert list(failures) == [1]
        assert isinstance(failures[1], DuplicateIdem)
        assert await repo.load([a.id, b.id, c.id]) == {a.id: a, b.id: b, c.id: c}

    async def test_la_clave_es_unica_por_su_reclamo_no_por_el_documento(self, repo: Repository) -> None:
        a, b = documento(ahora(), idem="k:misma"), documento(ahora(), idem="k:misma")
        assert await repo.insert_many([a, b]) == {}

    async def test_reemplazar_guarda_el_estado_y_lo_terminado_deja_de_estar_pendiente(self, repo: Repository) -> None:
        a, b, c = documento(ahora(), eventos=1), documento(ahora(), eventos=1), documento(ahora(), eventos=1)
        await repo.insert_many([a, b, c])
        a2 = terminada(a)
        b2 = b.model_copy(update={"saga": b.saga.model_copy(update={"paso": "CREDITO", "intentos": 1})})
        c2 = c.model_copy(update={"estado": "FALLIDA"})  # final, but its event is not published yet
        await repo.replace_many([a2, b2, c2])
        a3, c3 = (d.model_copy(update={"archivada": True}) for d in (a2, c2))  # final states: in the archive
        assert await repo.load([a.id, b.id, c.id]) == {a.id: a3, b.id: b2, c.id: c3}
        assert {d.id: d for d in await repo.pending()} == {b.id: b2, c.id: c3}  # c's events may be unpublished
        await repo.replace_many([terminada(c3, "FALLIDA")])  # the writer's next write of c knows it is archived
        assert {d.id: d for d in await repo.pending()} == {b.id: b2}
        assert await repo.load([c.id]) == {c.id: c3}  # the archive keeps the state as decided (its events too)

    async def test_un_estado_final_con_eventos_se_lee_del_archivo_y_se_lista_una_vez(self, repo: Repository) -> None:
        a, b = documento(ahora(), eventos=1), documento(ahora(), eventos=1)
        await repo.insert_many([a, b])
        a2 = a.model_copy(update={"estado": "COMPLETADA", "saga": a.saga.model_copy(update={"paso": "FIN"})})
        await repo.replace_many([a2])
        await repo.replace_many([a2])  # a retry of a write whose outcome was not known: changes nothing
        assert {d.id: d for d in await repo.pending()} == {a.id: a2.model_copy(update={"archivada": True}), b.id: b}
        assert await repo.page(Filtro(estado="PENDIENTE"), 0, 10) == ([b], 1)  # not a's older in-progress copy
        page, total = await repo.page(Filtro(), 0, 10)
        assert ([d.id for d in page], total) == ([b.id, a.id], 2)
        assert page[1].estado == "COMPLETADA"
        a3 = a2.model_copy(update={"archivada": True, "outbox": (*a2.outbox, *documento(ahora(), eventos=1).outbox)})
        await repo.replace_many([a3])  # more events for an archived state (rare): the archive's copy is replaced
        assert await repo.load([a.id]) == {a.id: a3}

    async def test_una_clave_se_reclama_una_vez(self, repo: Repository) -> None:
        x, y, z, w = ObjectId(), ObjectId(), ObjectId(), ObjectId()
        first = await repo.claim_many([Claim("k:1", x, "h1"), Claim("k:2", y, None), Claim("k:1", z, "h9")])
        assert first == [None, None, Claim("k:1", x, "h1")]  # an earlier claim of the same list holds it
        assert await repo.claim_many([Claim("k:2", w, "h2"), Claim("k:3", w, "h3")]) == [Claim("k:2", y, None), None]

    async def test_los_escaneos_ven_cada_transaccion_con_sus_campos_de_lista(self, repo: Repository) -> None:
        a, b = documento(ahora()), documento(ahora(), tipo="RETIRO", destino=None)
        await repo.insert_many([a, b])
        await repo.replace_many([terminada(a)])
        seen: dict[Any, dict[str, Any]] = {}
        for scan in repo.list_scans(LIST_FIELDS):
            async for row in scan:
                seen.setdefault(row["_id"], row)
        assert set(seen) == {a.id, b.id}
        listed = {
            k: (r["estado"], r["tipo"], r["cuenta_origen_id"], r.get("cuenta_destino_id")) for k, r in seen.items()
        }
        assert listed == {a.id: ("COMPLETADA", "TRANSFERENCIA", 1, 2), b.id: ("PENDIENTE", "RETIRO", 1, None)}
        assert seen[b.id]["fecha"] == b.fecha

    async def test_las_paginas_van_de_la_mas_nueva_filtradas_y_con_total(self, repo: Repository) -> None:
        t0 = ahora() - timedelta(hours=1)
        casos: list[tuple[TipoTransaccion, int | None, int | None]] = [
            ("TRANSFERENCIA", 1, 2),
            ("RETIRO", 3, None),
            ("DEPOSITO", None, 1),
            ("TRANSFERENCIA", 2, 3),
            ("RETIRO", 1, None),
        ]
        docs = [documento(t0 + timedelta(seconds=i), tipo=t, origen=o, destino=d) for i, (t, o, d) in enumerate(casos)]
        await repo.insert_many(docs)
        await repo.replace_many([terminada(docs[0]), terminada(docs[3], "FALLIDA")])  # archived ones list too
        newest = [d.id for d in reversed(docs)]

        async def ids(filtro: Filtro, skip: int = 0, limit: int = 10) -> tuple[list[Any], int]:
            page, total = await repo.page(filtro, skip, limit)
            return [d.id for d in page], total

        assert await ids(Filtro(), 0, 3) == (newest[:3], 5)
        assert await ids(Filtro(), 3, 3) == (newest[3:], 5)
        assert await ids(Filtro(tipo="RETIRO")) == ([docs[4].id, docs[1].id], 2)
        assert await ids(Filtro(estado="FALLIDA")) == ([docs[3].id], 1)
        assert await ids(Filtro(cuenta_id=1)) == ([docs[4].id, docs[2].id, docs[0].id], 3)
        rango = Filtro(desde=docs[1].fecha, hasta=docs[3].fecha)
        assert await ids(rango) == ([docs[3].id, docs[2].id, docs[1].id], 3)
        page, _ = await repo.page(Filtro(estado="FALLIDA"), 0, 1)
        assert page == [terminada(docs[3], "FALLIDA")]

    async def test_responde_al_ping(self, repo: Repository) -> None:
        await repo.ping()


def _comparable(rows: Sequence[OutboxRow]) -> list[tuple[str, str, str, list[tuple[str, str]], str]]:
    return [(r.event_id, r.topic, r.key, sorted(r.headers), r.payload) for r in rows]


class PublishContract(ABC):
    """producers.outbox.Publish, what the outbox hands its rows to: the unit tests' Broker and send_rows on Kafka."""

    @abstractmethod
    def broker(self) -> AbstractAsyncContextManager[tuple[str, Publish]]:
        """A fresh topic and a publish that delivers to it."""

    @abstractmethod
    async def read(self, topic: str, count: int) -> list[OutboxRow]:
        """What the topic holds (waiting for `count` rows), in order."""

    @abstractmethod
    def unavailable(self) -> AbstractAsyncContextManager[Publish]:
        """A publish whose broker cannot take the rows."""

    async def test_lo_publicado_llega_completo_y_en_orden(self) -> None:
        async with self.broker() as (topic, publish):
            trx = f"TRX{uuid.uuid4().hex[:24]}"
            rows = [
                replace(
                    OutboxRow.of(envelope_for(comando(trx, i), source="/contract", correlation_id=trx)), topic=topic
                )
                for i in range(5)
            ]
            await publish(rows[:2])
            await publish(rows[2:])
            assert _comparable(await self.read(topic, len(rows))) == _comparable(rows)

    async def test_sin_broker_publicar_falla_con_un_error_que_el_relay_reintenta(self) -> None:
        trx = f"TRX{uuid.uuid4().hex[:24]}"
        row = OutboxRow.of(envelope_for(comando(trx, 0), source="/contract", correlation_id=trx))
        async with self.unavailable() as publish:
            with pytest.raises(RETRIED_BY_THE_RELAY):
                await publish([replace(row, topic=f"test.missing.{uuid.uuid4().hex[:8]}")])

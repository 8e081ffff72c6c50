"""transacciones as two instances behind HAProxy (:8004 -> transacciones-1 :8014, transacciones-2 :8015): each
answers any request, each runs the sagas of the partitions it holds, and a write under a stale epoch is refused
(ownership.py), proved on the real Mongo-wire store."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from contracts import topics
from producers.outbox_row import OutboxRow
from services.transacciones import recientes
from services.transacciones.domain import Transaccion, nuevo_id
from services.transacciones.errors import Fenced
from services.transacciones.fx import Tasa
from services.transacciones.ownership import COLLECTION, Ownership, partition_of
from services.transacciones.repository import IN_PROGRESS, MongoRepository, detect_money_bson
from services.transacciones.saga import SagaState
from services.transacciones.tipos_cambio import TasaVigente, TiposCambio
from services.transacciones.writer import DocumentWriter
from tests.conftest import eventually
from tests.integration import stack
from tests.integration.auth import Bearer
from tests.integration.transacciones.conftest import FINALES, Banco, CuentaFactory

INSTANCES = {"transacciones-1": "http://127.0.0.1:8014", "transacciones-2": "http://127.0.0.1:8015"}
PARTITIONS = topics.PARTITIONS[topics.TRANSACCIONES]


@pytest.fixture
async def instancias() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {name: httpx.AsyncClient(auth=Bearer(), base_url=url, timeout=30) for name, url in INSTANCES.items()}
    yield clients
    for client in clients.values():
        await client.aclose()


async def dueños(mongo: AsyncMongoClient[dict[str, Any]]) -> dict[int, str]:
    """partition -> the instance that holds it now, as the stack's `particiones` says."""
    return {int(d["_id"]): d["owner"] async for d in mongo["transacciones"][COLLECTION].find({})}


def deposito(cuenta: int, monto: str = "1.00") -> dict[str, Any]:
    return {"tipo": "DEPOSITO", "monto": monto, "moneda": "PEN", "cuentaDestinoId": cuenta}


async def test_el_balanceador_reparte_los_post_entre_las_dos_instancias(
    banco: Banco, cuenta: CuentaFactory, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    owners = await dueños(mongo)
    assert set(owners.values()) == set(INSTANCES), f"both instances hold saga partitions: {owners}"
    destino = await cuenta()
    ids = [(await banco.final(deposito(destino)))["transaccionId"] for _ in range(12)]
    # An instance gives a new transaction an id in a partition it holds: the partition names who answered.
    answered = {owners[partition_of(t, PARTITIONS)] for t in ids}
    assert answered == set(INSTANCES), answered
    assert await banco.saldo(destino) == Decimal("12.00")


def _atendidas_por(request_ids: set[str]) -> dict[str, set[str]]:
    """instance -> which of these request ids its access log has (services.platform.logs writes one per request)."""
    found: dict[str, set[str]] = {}
    for path in Path(".run/logs").glob("transacciones-*.log"):
        text = path.read_text(errors="replace")
        if hits := {r for r in request_ids if r in text}:
            found[path.stem] = hits
    return found


async def test_los_reintentos_de_una_clave_van_a_la_misma_instancia(banco: Banco, cuenta: CuentaFactory) -> None:
    """A long-polling client's retries (same Idempotency-Key) land where the first request waits for its saga, not
    half of them on the other instance (a claim, store reads and a forward each); other keys still spread."""
    destino = await cuenta()
    key = str(uuid.uuid4())
    mismas = {f"sticky-{uuid.uuid4().hex}" for _ in range(8)}
    for request_id in sorted(mismas):
        r = await banco.trx.post(
            "/transacciones", json=deposito(destino), headers={"Idempotency-Key": key, "X-Request-ID": request_id}
        )
        assert r.status_code in (201, 202), r.text
    distintas = {f"spread-{uuid.uuid4().hex}" for _ in range(16)}
    for request_id in sorted(distintas):
        r = await banco.trx.post(
            "/transacciones",
            json=deposito(destino),
            headers={"Idempotency-Key": str(uuid.uuid4()), "X-Request-ID": request_id},
        )
        assert r.status_code in (201, 202), r.text

    async def logged() -> tuple[dict[str, set[str]], dict[str, set[str]]] | None:
        same, spread = _atendidas_por(mismas), _atendidas_por(distintas)
        complete = sum(map(len, same.values())) == len(mismas) and sum(map(len, spread.values())) == len(distintas)
        return (same, spread) if complete else None

    same, spread = await eventually(logged, timeout=10, what="the access lines of the requests")
    assert len(same) == 1, f"one key's requests went to {sorted(same)}"
    assert set(spread) == set(INSTANCES), f"16 keys all hashed to {sorted(spread)}"  # 2 in 65,536 by chance

    async def saldo() -> Decimal | None:  # the retried key is one deposit
        actual = await banco.saldo(destino)
        return actual if actual == Decimal("17.00") else None

    await eventually(saldo, timeout=30, what="17 deposits of 1.00 (one per key)")


@pytest.mark.parametrize(
    ("aqui", "alli"), [("transacciones-1", "transacciones-2"), ("transacciones-2", "transacciones-1")]
)
async def test_post_get_lista_idempotencia_y_cancelacion_por_cada_instancia(
    banco: Banco,
    cuenta: CuentaFactory,
    instancias: dict[str, httpx.AsyncClient],
    mongo: AsyncMongoClient[dict[str, Any]],
    aqui: str,
    alli: str,
) -> None:
    origen, destino = await cuenta("100.00"), await cuenta()
    body = {
        "tipo": "TRANSFERENCIA",
        "monto": "7.50",
        "moneda": "PEN",
        "cuentaOrigenId": origen,
        "cuentaDestinoId": destino,
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    r = await instancias[aqui].post("/transacciones", json=body, headers=key)
    assert r.status_code in (201, 202), r.text
    t = r.json()
    assert (await dueños(mongo))[partition_of(t["transaccionId"], PARTITIONS)] == aqui, "the answering instance runs it"

    # The other instance: the same transaction by id, in its list at once, and the key's original answer.
    got = await instancias[alli].get(f"/transacciones/{t['id']}")
    assert got.status_code == 200
    assert got.json()["transaccionId"] == t["transaccionId"]
    listed = await instancias[alli].get("/transacciones", params={"cuenta_id": origen})
    assert [x["id"] for x in listed.json()] == [t["id"]], listed.text
    again = await instancias[alli].post("/transacciones", json=body, headers=key)
    assert again.status_code in (201, 202), again.text
    assert again.json()["id"] == t["id"]
    other_body = await instancias[alli].post("/transacciones", json=body | {"monto": "7.51"}, headers=key)
    assert other_body.status_code == 409, other_body.text

    final = await banco.esperar_final(t["id"])
    assert final["estado"] == "COMPLETADA"
    # A transaction that moved money is not cancellable, wherever the request lands: 409 with the usual body.
    for client in (instancias[alli], instancias[aqui]):
        c = await client.patch(f"/transacciones/{t['id']}/estado", json={"estado": "CANCELADA"})
        assert c.status_code == 409, c.text
        assert c.json()["error"] == "Transacción no cancelable", c.text
    assert (await banco.saldo(origen), await banco.saldo(destino)) == (Decimal("92.50"), Decimal("7.50"))
    rows = await banco.movimientos(origen)
    assert [m["transaccion_id"] for m in rows if m["transaccion_id"]] == [t["transaccionId"]], "applied once"


async def test_la_lista_pide_a_la_otra_instancia_lo_que_acaba_de_escribir_en_vez_de_escanear(
    cuenta: CuentaFactory, instancias: dict[str, httpx.AsyncClient], mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    """Read-your-writes across instances (recientes.py): a staff list asks the other instance, and scans the store
    only when a partition changed hands within the horizon (so this first waits for that to be past)."""

    async def quietas() -> bool:
        corte = datetime.now(UTC) - timedelta(seconds=recientes.HORIZON)
        filas = [f async for f in mongo["transacciones"][COLLECTION].find({})]
        return bool(filas) and all(f["desde"].replace(tzinfo=UTC) < corte for f in filas)

    await eventually(quietas, timeout=recientes.HORIZON + 30, interval=1, what="no partition moved lately")
    destino = await cuenta()
    # Each way twice: the second ask is for what is new since the first (recientes.Vecinas).
    for aqui, alli in (("transacciones-1", "transacciones-2"), ("transacciones-2", "transacciones-1")) * 2:
        antes = (await instancias[alli].get("/stats")).json()["lists_read_your_writes"]
        r = await instancias[aqui].post(
            "/transacciones", json=deposito(destino), headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert r.status_code in (201, 202), r.text
        listed = await instancias[alli].get(f"/transacciones/cuenta/{destino}")
        assert r.json()["id"] in [x["id"] for x in listed.json()], listed.text
        despues = (await instancias[alli].get("/stats")).json()["lists_read_your_writes"]
        assert despues == {"peers": antes["peers"] + 1, "scan": antes["scan"]}


async def test_la_lista_de_un_cliente_incluye_lo_que_otra_instancia_acaba_de_terminar(
    banco: Banco, instancias: dict[str, httpx.AsyncClient]
) -> None:
    """A customer's list scans the in-progress collection (it cannot ask the other instances). A transaction the
    other instance ended has left that collection once its events were out, and reaches this instance's index only
    as those events: the list waits for its tail of the topic to get there (listing_feed.ListingFeed.caught_up).
    Each round ends a deposit at one instance and lists it at once at the other; the tail's fetch waits up to
    BULK_FETCH_WAIT_MS, so without the wait some rounds miss it."""
    cliente_id = await banco.nuevo_cliente()
    destino = await banco.abrir_cuenta(cliente_id, "0.00", "PEN")
    hechas: list[str] = []
    async with httpx.AsyncClient(auth=Bearer(cliente_id=cliente_id), timeout=30) as suyo:
        for aqui, alli in (("transacciones-1", "transacciones-2"), ("transacciones-2", "transacciones-1")) * 4:
            r = await instancias[aqui].post("/transacciones", json=deposito(destino))
            assert r.status_code in (201, 202), r.text
            hechas.append(r.json()["id"])

            async def final(trx_id: str = r.json()["id"], en: str = aqui) -> bool:
                got = await instancias[en].get(f"/transacciones/{trx_id}")
                return got.json()["estado"] in FINALES

            await eventually(final, timeout=30, interval=0.02, what="deposit final")
            listed = await suyo.get(f"{INSTANCES[alli]}/transacciones/cuenta/{destino}")
            assert listed.status_code == 200, listed.text
            assert [x["id"] for x in listed.json()] == hechas[::-1], f"listed at {alli}"


async def test_la_misma_clave_en_las_dos_instancias_a_la_vez_registra_una_sola(
    banco: Banco, cuenta: CuentaFactory, instancias: dict[str, httpx.AsyncClient]
) -> None:
    destino = await cuenta()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    answers = await asyncio.gather(
        *(
            c.post("/transacciones", json=deposito(destino, "3.00"), headers=key)
            for c in instancias.values()
            for _ in range(3)
        )
    )
    assert all(a.status_code in (201, 202) for a in answers), [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    final = await banco.esperar_final(answers[0].json()["id"])
    assert final["estado"] in FINALES
    assert await banco.saldo(destino) == Decimal("3.00")


@pytest.mark.slow
async def test_una_cancelacion_en_la_otra_instancia_la_decide_la_que_lleva_la_saga(
    banco: Banco, cuenta: CuentaFactory, instancias: dict[str, httpx.AsyncClient]
) -> None:
    """A cancellation asked of the instance that does not run the saga is forwarded to the one that does, which
    alone knows whether the first command was handed to Kafka: with Kafka stopped the transaction stays PENDIENTE,
    its relay has tried to send the command, so the owner's answer is 409 — and the deposit then completes."""
    destino = await cuenta()
    kafka = stack.full_name("kafka")
    try:
        stack.supervisorctl("stop", kafka)
        r = await instancias["transacciones-1"].post("/transacciones", json=deposito(destino, "4.00"))
        assert r.status_code == 202, r.text
        t = r.json()
        assert t["estado"] == "PENDIENTE"
        c = await instancias["transacciones-2"].patch(f"/transacciones/{t['id']}/estado", json={"estado": "CANCELADA"})
        assert c.status_code == 409, c.text
        # The owner's own verdict (the first command may be out), not the other instance's "runs elsewhere".
        assert c.json()["detail"] == "La transacción ya está en curso (su primer movimiento pudo enviarse)", c.text
    finally:
        if not stack.pid(kafka):
            stack.supervisorctl("start", kafka)

    async def connected() -> bool:
        answers = [await client.get("/health") for client in instancias.values()]
        return all(a.json().get("kafka") == "connected" for a in answers)

    await eventually(connected, timeout=120, interval=1, what="both instances connected to Kafka again")
    assert (await banco.esperar_final(t["id"], timeout=120))["estado"] == "COMPLETADA"
    assert await banco.saldo(destino) == Decimal("4.00")


# -- the fence, on the real store ------------------------------------------------------------------------------------


def _transaccion(partition: int) -> Transaccion:
    while True:
        oid, transaccion_id = nuevo_id()
        if partition_of(transaccion_id, PARTITIONS) == partition:
            break
    now = datetime.now(UTC).replace(microsecond=0)
    return Transaccion(
        id=oid,
        transaccion_id=transaccion_id,
        tipo="DEPOSITO",
        monto=Decimal("5.00"),
        moneda="PEN",
        cuenta_destino_id=1,
        fecha=now,
        estado="PENDIENTE",
        idem=f"t:{transaccion_id}",
        epoch="test",
        saga=SagaState(paso="CREDITO", desde=now),
        actualizada=now,
    )


async def test_una_escritura_con_epoca_vieja_es_rechazada_y_no_cambia_nada(db: AsyncDatabase[dict[str, Any]]) -> None:
    repo = MongoRepository(db, await detect_money_bson(db))
    vieja = Ownership(db, instance="vieja", partitions=PARTITIONS, grace=0)
    await vieja.assign(set(range(PARTITIONS)))
    stop = asyncio.Event()
    writer = DocumentWriter(repo, fence=vieja)
    task = asyncio.create_task(writer.run(stop))
    try:
        doc = await writer.insert(_transaccion(partition=3))
        stored = await db[IN_PROGRESS].find_one({"_id": doc.id})
        assert stored is not None
        assert stored["generacion"] == 1

        # A rebalance gives partition 3 to another instance, which bumps its epoch; the old writer does not know.
        nueva = Ownership(db, instance="nueva", partitions=PARTITIONS, grace=0)
        await nueva.assign({3})
        with pytest.raises(Fenced):
            await writer.mutate(doc.id, lambda d: (d.model_copy(update={"motivo": "escrita por la vieja"}), None))
        after = await db[IN_PROGRESS].find_one({"_id": doc.id})
        assert after == stored, "the fenced write changed nothing"
        assert 3 not in vieja.epochs, "the old owner let the partition go"
        assert writer.cache.latest(doc.id) is None, "and forgot its documents"
        # Its other partitions are still its own.
        otra = await writer.insert(_transaccion(partition=4))
        assert (await db[IN_PROGRESS].find_one({"_id": otra.id})) is not None
    finally:
        stop.set()
        await task

    stop = asyncio.Event()
    writer = DocumentWriter(repo, fence=nueva)
    task = asyncio.create_task(writer.run(stop))
    try:
        await writer.mutate(doc.id, lambda d: (d.model_copy(update={"motivo": "escrita por la nueva"}), None))
        stored = await db[IN_PROGRESS].find_one({"_id": doc.id})
        assert stored is not None
        assert (stored["generacion"], stored["motivo"]) == (2, "escrita por la nueva")
    finally:
        stop.set()
        await task


async def test_las_dos_instancias_responden_su_salud(instancias: dict[str, httpx.AsyncClient]) -> None:
    async def healthy() -> bool:
        answers = [await c.get("/health") for c in instancias.values()]
        return all(a.status_code == 200 and a.json()["status"] == "healthy" for a in answers)

    await eventually(healthy, timeout=30, interval=0.5, what="both transacciones instances healthy")


async def test_un_cambio_de_tasas_lo_publica_solo_la_instancia_de_turno(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Every instance reads the same table versions (FerretDB: no atomic claim-by-update); only the one whose turn it
    is (main.py: the holder of saga partition 0) publishes their events, so a change goes out once, not per instance."""
    fuera_de_turno, de_turno = TiposCambio(db), TiposCambio(db)
    fuera_de_turno.turno, de_turno.turno = (lambda: False), (lambda: True)
    tasa = Tasa("USD", "PEN", Decimal("3.70"), Decimal("3.80"))
    await fuera_de_turno.fijar([TasaVigente(tasa, datetime.now(UTC), None)])
    publicados: list[list[OutboxRow]] = []

    async def publish(rows: Sequence[OutboxRow]) -> None:
        publicados.append(list(rows))

    assert await fuera_de_turno.relay_batch(100, publish) == 0
    assert await de_turno.relay_batch(100, publish) == 1
    assert await fuera_de_turno.relay_batch(100, publish) == await de_turno.relay_batch(100, publish) == 0
    assert [[r.event_id for r in rows] for rows in publicados] == [[publicados[0][0].event_id]]

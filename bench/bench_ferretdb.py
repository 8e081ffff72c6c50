"""What the transfers' documents cost the stack's FerretDB: the writer's storage calls for one transfer, in batches.

Each round takes `--batch` new transaction documents through repository.MongoRepository the way a transfer's saga
does: inserted in progress (with a command to publish), replaced at the credit step, archived in their final state
(with their event), removed from in progress once that event is out: four document writes each. On a scratch
database (dropped afterwards) of the stack's FerretDB; prints documents written/s and FerretDB's CPU ms per document
write (from /proc) per run, and saves bench/results/ferretdb.json. The archive has the list indexes the service
would keep there (`--indexes auto`: none on FerretDB 1.x, as TRANSACCIONES_SECONDARY_INDEXES=auto decides).

Run: make bench BENCH=ferretdb [BENCH_ARGS="--transfers 4800 --batch 96 --runs 3 --indexes on"]
"""

import argparse
import asyncio
import time
import uuid
from decimal import Decimal
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient

from bench._cpu import this_stack
from bench._harness import save
from contracts.comandos import AcreditarCuenta, DebitarCuenta
from contracts.envelope import envelope_for
from producers.outbox_row import OutboxRow
from services.transacciones.domain import Transaccion, ahora, transaccion_id_de
from services.transacciones.repository import MongoRepository, TransaccionDocument, detect_money_bson, ensure_indexes
from services.transacciones.saga import SagaState

MONGO_URL = "mongodb://127.0.0.1:27017/"
WRITES_PER_TRANSFER = 4


def _event(transaccion_id: str, step: int) -> dict[str, Any]:
    command_class = DebitarCuenta if step == 0 else AcreditarCuenta
    command = command_class(
        comando_id=f"{transaccion_id}-{step}",
        transaccion_id=transaccion_id,
        cuenta_id=1 + step,
        monto=Decimal("125.50"),
        moneda="PEN",
    )
    return OutboxRow.of(envelope_for(command, source="/bench", correlation_id=transaccion_id)).to_document()


def _running(n: int) -> list[Transaccion]:
    """n transfers as their first write stores them: waiting for the debit, its command to publish."""
    now = ahora()
    docs = []
    for _ in range(n):
        oid = ObjectId()
        trx = transaccion_id_de(oid)
        docs.append(
            Transaccion(
                id=oid,
                transaccion_id=trx,
                tipo="TRANSFERENCIA",
                monto=Decimal("125.50"),
                moneda="PEN",
                cuenta_origen_id=1,
                cuenta_destino_id=2,
                descripcion="bench",
                fecha=now,
                estado="PENDIENTE",
                idem=f"bench:{trx}",
                epoch="bench",
                saga=SagaState(paso="DEBITO", desde=now),
                outbox=(_event(trx, 0),),
                actualizada=now,
            )
        )
    return docs


def _step(doc: Transaccion, paso: str, step: int, **fields: Any) -> Transaccion:
    saga = doc.saga.model_copy(update={"paso": paso})
    return doc.model_copy(update={"saga": saga, "outbox": (_event(doc.transaccion_id, step),), **fields})


async def _round(repo: MongoRepository, batch: int) -> None:
    docs = _running(batch)
    if await repo.insert_many(docs):
        raise RuntimeError("insert refused")
    crediting = [_step(d, "CREDITO", 1) for d in docs]
    await repo.replace_many(crediting)
    final = [_step(d, "FIN", 2, estado="COMPLETADA") for d in crediting]
    await repo.replace_many(final)  # final, not yet archived: into the archive
    published = [d.model_copy(update={"outbox": (), "archivada": True}) for d in final]
    await repo.replace_many(published)  # nothing left to publish: out of the in-progress collection


async def _run(repo: MongoRepository, transfers: int, batch: int) -> dict[str, Any]:
    before = this_stack()
    started = time.perf_counter()
    for _ in range(0, transfers, batch):
        await _round(repo, batch)
    seconds = time.perf_counter() - started
    done = -(-transfers // batch) * batch
    writes = done * WRITES_PER_TRANSFER
    result: dict[str, Any] = {
        "name": f"transfer documents x{batch}",
        "concurrency": 1,
        "requests": writes,
        "seconds": round(seconds, 3),
        "rps": round(writes / seconds, 1),
        "transfers_per_s": round(done / seconds, 1),
    }
    if before is not None:
        cpu = before.again().since(before)
        result["ferretdb_cpu_ms_per_write"] = round(cpu.get("ferretdb", 0.0) / writes, 4)
        result["ferretdb_cpu_ms_per_transfer"] = round(cpu.get("ferretdb", 0.0) / done, 3)
    return result


async def main(transfers: int, batch: int, runs: int, indexes: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL)
    db = client[f"bench_{uuid.uuid4().hex[:8]}"]
    try:
        info = await client.admin.command("buildInfo")
        money = await detect_money_bson(db)
        indexed = indexes == "on" or (indexes == "auto" and money != "string")  # as services/transacciones/main.py
        await db.create_collection(TransaccionDocument.Settings.name)
        await ensure_indexes(db, wanted=indexed)
        repo = MongoRepository(db, money)
        await _round(repo, batch)  # warm-up: the collections exist, connections are open
        results = [await _run(repo, transfers, batch) for _ in range(runs)]
    finally:
        await client.drop_database(db.name)
        await client.close()
    for r in results:
        print(
            f"{r['rps']:>9,.0f} writes/s  {r['transfers_per_s']:>7,.0f} transfers/s  "
            f"FerretDB {r.get('ferretdb_cpu_ms_per_write', float('nan')):.3f} ms CPU per write"
        )
    version = info.get("ferretdbVersion", info.get("version"))
    save("ferretdb", results, {"ferretdb_version": version, "archive_indexes": indexed})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transfers", type=int, default=4800, help="transfers per run")
    parser.add_argument("--batch", type=int, default=96, help="documents per storage call (the writer's round)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--indexes", choices=("auto", "on", "off"), default="auto", help="the archive's list indexes")
    args = parser.parse_args()
    asyncio.run(main(args.transfers, args.batch, args.runs, args.indexes))

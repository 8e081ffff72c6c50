"""The pure side of saga ownership: a saga's partition is the one Kafka's default partitioner gives its key, an
instance mints new ids only in partitions it holds, and a single-instance process holds everything unfenced."""

import asyncio
from datetime import UTC, datetime

from aiokafka.partitioner import DefaultPartitioner
from bson import ObjectId

from contracts import topics
from services.transacciones.domain import nuevo_id, transaccion_id_de
from services.transacciones.listing import Listado
from services.transacciones.ownership import Ownership, partition_of
from services.transacciones.repository import Filtro

PARTITIONS = topics.PARTITIONS[topics.TRANSACCIONES]


def test_la_particion_de_una_saga_es_la_de_kafka_para_su_clave() -> None:
    kafka = DefaultPartitioner()
    everything = list(range(PARTITIONS))
    for _ in range(500):
        transaccion_id = nuevo_id()[1]
        assert partition_of(transaccion_id, PARTITIONS) == kafka(transaccion_id.encode(), everything, everything)


def test_una_instancia_solo_crea_ids_de_sus_particiones() -> None:
    ownership = Ownership(None, instance="t-1", partitions=PARTITIONS)
    assert ownership.new_id() is None, "nothing held yet: no id to give"
    ownership.epochs = {1: 7, 4: 7}
    for _ in range(200):
        oid = ownership.new_id()
        assert oid is not None
        assert partition_of(transaccion_id_de(oid), PARTITIONS) in {1, 4}
        assert ownership.owns(oid)


def test_sin_grupo_la_instancia_tiene_todo_y_nada_la_cerca() -> None:
    ownership = Ownership(None, instance="solo", partitions=PARTITIONS, solo=True)
    assert all(ownership.owns(ObjectId()) for _ in range(50))
    assert asyncio.run(ownership.check(set(range(PARTITIONS)))) == set()


def test_una_particion_sin_dueno_aqui_se_rechaza_sin_leer_la_base() -> None:
    ownership = Ownership(None, instance="t-2", partitions=PARTITIONS)
    ownership.epochs = {0: 3}
    assert asyncio.run(ownership.check({2, 5})) == {2, 5}


def test_el_indice_de_listas_no_retrocede_un_estado_final() -> None:
    listado = Listado()
    oid, _ = nuevo_id()
    evento = {"id": str(oid), "fecha": datetime.now(UTC).isoformat(), "tipo": "DEPOSITO", "cuenta_destino_id": 9}
    listado.on_event(evento | {"estado": "COMPLETADA"})
    listado.on_event(evento)  # TransaccionSolicitada, read after the final event (another source, another order)
    listado.ready = True
    assert listado.page(Filtro(estado="COMPLETADA"), 0, 10) == ([oid], 1)
    assert listado.page(Filtro(estado="PENDIENTE"), 0, 10) == ([], 0)

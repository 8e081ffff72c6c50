"""The remembering partitioner gives every key exactly the partition aiokafka's DefaultPartitioner gives it."""

import random

from aiokafka.partitioner import DefaultPartitioner, murmur2

from producers import partitioner


def test_misma_particion_que_el_particionador_de_aiokafka() -> None:
    rng = random.Random(7)
    keys = [rng.randbytes(rng.randint(0, 40)) for _ in range(2000)] + [b"", b"1", b"65a1f0c2e4b0a1b2c3d4e5f6"]
    for n in (1, 3, 12, 24):
        todas = list(range(n))
        for key in keys + keys:  # the second time from the cache
            assert partitioner.partitioner(key, todas, todas) == DefaultPartitioner()(key, todas, todas)
            assert partitioner.murmur2(key) == murmur2(key)


def test_sin_clave_elige_entre_las_disponibles() -> None:
    assert {partitioner.partitioner(None, [0, 1, 2], [2]) for _ in range(50)} == {2}
    assert {partitioner.partitioner(None, [0, 1], []) for _ in range(200)} == {0, 1}

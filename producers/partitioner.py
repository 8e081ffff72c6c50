"""Kafka's default partitioner (murmur2 of the key bytes, as the Java client does) with the hashes remembered.

Why: aiokafka's murmur2 is pure Python (~5 µs a key), and the same keys come back all the time: a transfer's id
keys its commands, replies and events and names its saga partition (services/transacciones/ownership.py), an
account's id keys every event of that account. Hashing was ~5% of a transacciones instance's CPU during the seed.
The partition a key gets is exactly aiokafka's (DefaultPartitioner), so consumers and replays see no difference."""

import random
from collections.abc import Sequence
from functools import lru_cache

from aiokafka.partitioner import murmur2 as _murmur2

KEYS_REMEMBERED = 1 << 16  # ~100 bytes each: a few MB


@lru_cache(maxsize=KEYS_REMEMBERED)
def murmur2(key: bytes) -> int:
    return int(_murmur2(key))


def partition_for(key: bytes, partitions: int) -> int:
    """The partition of `partitions` the default partitioner gives `key`."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def partitioner(key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]) -> int:
    """aiokafka's DefaultPartitioner, hashing through the cache (the producer's `partitioner`)."""
    if key is None:
        return random.choice(available or all_partitions)
    return all_partitions[partition_for(key, len(all_partitions))]

"""The secondary indexes of the transfers service's collections, kept by name: created where the store reads them,
dropped where it never does (FerretDB 1.x, which answers only a bare `_id` filter by index)."""

from collections.abc import Sequence
from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

INDEX_NOT_FOUND = 27


async def ensure(coll: AsyncCollection[dict[str, Any]], models: Sequence[IndexModel], *, wanted: bool) -> list[str]:
    """Create those of `models` that are missing (`wanted`), or drop those present (not `wanted`); returns the names
    created or dropped. Why drop: an index nobody reads still costs every insert an entry; the transfers archive's
    five doubled FerretDB's CPU per inserted document (0.058 -> 0.120 ms, measured). Why by name and not a blind
    create_indexes: FerretDB 1.x answers a re-created index by dropping the connection."""
    existing = (
        set((await coll.index_information()).keys())
        if coll.name in set(await coll.database.list_collection_names())
        else set()
    )
    if wanted:
        missing = [m for m in models if m.document["name"] not in existing]
        if missing:
            await coll.create_indexes(missing)
        return [m.document["name"] for m in missing]
    present = [m.document["name"] for m in models if m.document["name"] in existing]
    for name in present:
        try:
            await coll.drop_index(name)
        except OperationFailure as exc:
            if exc.code != INDEX_NOT_FOUND:  # another instance starting at the same time dropped it first
                raise
    return present

"""The perfil documents a folder wrote or read last, kept in memory with the row version they were read at.

Why: loading the touched documents was the largest single cost of a fold (PostgreSQL turning ~2,000 JSONB documents
into text per batch, Python parsing them again: a sixth of the projection's CPU). A document is reused only while its
row is the one this process knows: the fold reads each touched row's `xmin` (the transaction that wrote it last),
locked, and fetches the JSON only of the rows whose `xmin` differs. Any writer of a row (another perfil instance,
a rebuild's catch-up, this one after a failed commit) changes its `xmin`, so a stale copy is never folded.

Kept as the JSON text, not as parsed dicts: a few thousand documents of nested dicts are hundreds of thousands of
objects for Python's cyclic GC to walk again and again (measured: the projection ran ~25% slower with dicts kept);
one string per document is not tracked by it. Parsing a kept text (orjson) is still far cheaper than a database
round of it.
"""

from collections import OrderedDict

CACHED_DOCUMENTS = 20_000
"""Bound of the memory kept (documents of a few KB: tens of MB at most); the least recently folded go first."""


class DocumentCache:
    """(schema, cliente_id) -> (xmin as text, the document's JSON text)."""

    def __init__(self, size: int = CACHED_DOCUMENTS) -> None:
        self._size = size
        self._docs: OrderedDict[tuple[str, int], tuple[str, str]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def known(self, schema: str, ids: list[int]) -> dict[int, tuple[str, str]]:
        """The documents kept of these ids, each with the row version it was read or written at."""
        out = {c: kept for c in ids if (kept := self._docs.get((schema, c))) is not None}
        for c in out:
            self._docs.move_to_end((schema, c))
        return out

    def count(self, hits: int, misses: int) -> None:
        self.hits += hits
        self.misses += misses

    def put(self, schema: str, docs: dict[int, tuple[str, str]]) -> None:
        """Keep these documents at these row versions (after the transaction that read or wrote them committed)."""
        for cliente_id, kept in docs.items():
            self._docs[(schema, cliente_id)] = kept
            self._docs.move_to_end((schema, cliente_id))
        while len(self._docs) > self._size:
            self._docs.popitem(last=False)

    def __len__(self) -> int:
        return len(self._docs)

"""Replies that come before the one their saga waits for, kept until the saga reaches their step.

A step kept in memory (writer.py) dies with its process, so a saga's new owner may start one step behind what
cuentas already did: the credit was sent, perhaps answered. The owner reads the replies again (replay.py) and gets
new ones live, in no order across the topic's partitions (a debit's reply is keyed by the origin account, the
credit's by the destination's), so the credit's reply can arrive before the debit's. Kept here, it is applied in
the same change that brings its saga to its step. Entries are never taken out by that change (its write may fail
and be retried): an entry for a step already passed decides nothing, and the oldest leave beyond `LIMIT`.
"""

from collections import OrderedDict

from services.transacciones import saga

LIMIT = 10_000


class Adelantadas:
    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._replies: OrderedDict[str, tuple[saga.Respuesta, str]] = OrderedDict()

    def guardar(self, estado: saga.SagaState, respuesta: saga.Respuesta, causa: str) -> bool:
        """Keep `respuesta` if it answers a later step of this saga than the one in progress; True if kept."""
        if not saga.posterior(estado, respuesta.comando_id):
            return False
        self._replies[respuesta.comando_id] = (respuesta, causa)
        self._replies.move_to_end(respuesta.comando_id)
        while len(self._replies) > self._limit:
            self._replies.popitem(last=False)
        return True

    def de(self, comando_id: str | None) -> tuple[saga.Respuesta, str] | None:
        """The reply kept for this command, with its causation id (None: none came early)."""
        return self._replies.get(comando_id) if comando_id is not None else None

    def __len__(self) -> int:
        return len(self._replies)

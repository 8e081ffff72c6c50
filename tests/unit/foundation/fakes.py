"""In-memory stand-ins for the foundation's ports, proven against the real ones by tests/contract."""

from collections.abc import Sequence

from contracts.envelope import Envelope
from producers.outbox import Publish
from producers.outbox_row import OutboxRow


class InMemoryOutbox:
    """producers.outbox.OutboxStore in a list: rows in the order written, marked only once publish returned, one
    relay at a time (a second one finds the claim held and gets nothing, as with the stores' locks)."""

    def __init__(self, envelopes: Sequence[Envelope] = ()) -> None:
        self.rows: list[OutboxRow] = []
        self.published: list[str] = []
        self.claims = 0  # relay_batch calls
        self._claimed = False
        self.add(envelopes)

    def add(self, envelopes: Sequence[Envelope]) -> None:
        self.rows += [OutboxRow.of(e) for e in envelopes]

    async def write(self, envelopes: Sequence[Envelope]) -> None:
        self.add(envelopes)

    async def relay_batch(self, limit: int, publish: Publish) -> int:
        self.claims += 1
        if self._claimed:
            return 0
        done = set(self.published)
        pending = [r for r in self.rows if r.event_id not in done][:limit]
        if not pending:
            return 0
        self._claimed = True
        try:
            await publish(pending)
        finally:
            self._claimed = False
        self.published += [r.event_id for r in pending]
        return len(pending)

"""Base classes of the published language: immutable, versioned domain events and saga commands."""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """A typed payload that travels on a topic; `type` names it, `topic` says where it goes."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: ClassVar[str]
    topic: ClassVar[str]
    # The payload field holding the aggregate id: it becomes the Kafka key and ce_subject,
    # so all messages of one aggregate land in one partition, in order.
    key_field: ClassVar[str]

    @property
    def key(self) -> str:
        return str(getattr(self, self.key_field))

    def to_data(self) -> dict[str, Any]:
        """The JSON-ready payload (money as decimal strings, dates as ISO 8601)."""
        return self.model_dump(mode="json")


class DomainEvent(Message):
    """A past-tense fact about one aggregate."""


class Command(Message):
    """An imperative request to one aggregate (saga step); handlers must be idempotent on comando_id."""

"""CloudEvents 1.0 envelope in Kafka binary mode: ce_* headers carry the attributes, the value is the JSON payload."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from contracts import tracecontext
from contracts.base import Message
from contracts.registry import model_for, schema_uri

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"

Headers = list[tuple[str, bytes]]


# Correlation and causation are CloudEvents extension attributes (binary mode: ce_<name>), so any SDK reading a
# topic sees them as attributes, with the names `bank events` exports. dataschema names the payload's JSON Schema.
CORRELATION_HEADER = "ce_correlationid"
CAUSATION_HEADER = "ce_causationid"
DATASCHEMA_HEADER = "ce_dataschema"
# Records written before they were attributes carry these plain headers; the log keeps them forever, so read both.
LEGACY_CORRELATION_HEADER = "correlation_id"
LEGACY_CAUSATION_HEADER = "causation_id"

# The CloudEvents authcontext extension (cloudevents/spec extensions/authcontext.md) in binary mode.
AUTHTYPE_HEADER = "ce_authtype"
AUTHID_HEADER = "ce_authid"
# The CloudEvents distributed-tracing extension (W3C trace context) in binary mode.
TRACEPARENT_HEADER = "ce_traceparent"
TRACESTATE_HEADER = "ce_tracestate"


class EnvelopeError(ValueError):
    """A Kafka record that is not a valid CloudEvent of ours (missing or malformed attributes)."""


@dataclass(frozen=True, slots=True)
class AuthContext:
    """Who caused an event: the CloudEvents authcontext extension. `authtype` is one of the extension's values
    ("user", "service_account", "unauthenticated", ...); `authid` names the principal (a username), None when
    there is none."""

    authtype: str
    authid: str | None = None

    def to_data(self) -> dict[str, str | None]:
        """The JSON form stored beside a record and shown by the REST answers."""
        return {"authtype": self.authtype, "authid": self.authid}

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> "AuthContext | None":
        """Back from `to_data` (None, or a value without authtype, stays None: records older than the field)."""
        if not data or not data.get("authtype"):
            return None
        authid = data.get("authid")
        return cls(authtype=str(data["authtype"]), authid=str(authid) if authid is not None else None)


@dataclass(frozen=True)
class Envelope:
    """One CloudEvent: attributes plus the payload as JSON-ready data."""

    id: str
    type: str
    source: str
    subject: str
    topic: str
    time: datetime
    data: dict[str, Any]
    correlation_id: str
    causation_id: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    authcontext: AuthContext | None = None  # who caused it; None for events of no request (or older ones)
    traceparent: str | None = None  # the W3C trace context of the span that caused it; None when not traced
    tracestate: str | None = None

    @property
    def dataschema(self) -> str:
        """The `$id` of the payload's JSON Schema (the checked-in contracts/schemas/<type>.json)."""
        return schema_uri(self.type)

    @property
    def key(self) -> bytes:
        return self.subject.encode()

    def value(self) -> bytes:
        # orjson: the same compact UTF-8 bytes as json.dumps(separators=(",", ":"), ensure_ascii=False), 14x faster
        # (0.55 vs 7.9 µs for a transfer's event); every event is encoded on its way out.
        return orjson.dumps(self.data)

    def headers(self) -> Headers:
        pairs = {
            "ce_specversion": SPECVERSION,
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat(),
            DATASCHEMA_HEADER: self.dataschema,
            "content-type": CONTENT_TYPE,
            CORRELATION_HEADER: self.correlation_id,
            **self.extra_headers,
        }
        if self.causation_id:
            pairs[CAUSATION_HEADER] = self.causation_id
        if self.authcontext is not None:
            pairs[AUTHTYPE_HEADER] = self.authcontext.authtype
            if self.authcontext.authid is not None:
                pairs[AUTHID_HEADER] = self.authcontext.authid
        if self.traceparent:
            pairs[TRACEPARENT_HEADER] = self.traceparent
            if self.tracestate:
                pairs[TRACESTATE_HEADER] = self.tracestate
        return [(k, v.encode()) for k, v in pairs.items()]

    def decode(self) -> Message:
        """The typed message, upcast to the current version of its type."""
        model, data = model_for(self.type, self.data)
        return model.model_validate(data)

    def to_structured(self) -> dict[str, Any]:
        """The CloudEvents JSON (structured mode) form, for exports to auditors."""
        return {
            "specversion": SPECVERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "datacontenttype": CONTENT_TYPE,
            "dataschema": self.dataschema,
            "correlationid": self.correlation_id,
            **({"causationid": self.causation_id} if self.causation_id else {}),
            **(self._structured_authcontext()),
            **({"traceparent": self.traceparent} if self.traceparent else {}),
            **({"tracestate": self.tracestate} if self.tracestate else {}),
            "data": self.data,
        }

    def _structured_authcontext(self) -> dict[str, str]:
        if self.authcontext is None:
            return {}
        out = {"authtype": self.authcontext.authtype}
        if self.authcontext.authid is not None:
            out["authid"] = self.authcontext.authid
        return out


def envelope_for(
    message: Message,
    *,
    source: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    authcontext: AuthContext | None = None,
) -> Envelope:
    """Wrap `message`; a message that starts a flow is its own correlation. `authcontext`: who caused it. The trace
    context is the causing message's span (batch handlers) or the current span (contracts.tracecontext)."""
    event_id = event_id or str(uuid.uuid4())
    traceparent, tracestate = tracecontext.current(causation_id)
    return Envelope(
        id=event_id,
        type=message.type,
        source=source,
        subject=message.key,
        topic=message.topic,
        time=time or datetime.now(UTC),
        data=message.to_data(),
        correlation_id=correlation_id or event_id,
        causation_id=causation_id,
        authcontext=authcontext,
        traceparent=traceparent,
        tracestate=tracestate,
    )


def _text(headers: dict[str, bytes], name: str) -> str:
    raw = headers.get(name)
    if raw is None:
        raise EnvelopeError(f"missing header {name}")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise EnvelopeError(f"header {name} is not UTF-8") from None


# The headers from_record reads; any other travels on as `extra_headers`. Built once: from_record runs for every
# consumed record of every service.
_KNOWN_HEADERS = frozenset(
    {
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_subject",
        "ce_time",
        "content-type",
        DATASCHEMA_HEADER,
        CORRELATION_HEADER,
        CAUSATION_HEADER,
        LEGACY_CORRELATION_HEADER,
        LEGACY_CAUSATION_HEADER,
        AUTHTYPE_HEADER,
        AUTHID_HEADER,
        TRACEPARENT_HEADER,
        TRACESTATE_HEADER,
    }
)


def from_record(topic: str, value: bytes | None, headers: Headers | list[tuple[str, bytes]]) -> Envelope:
    """Parse a consumed Kafka record; raises EnvelopeError when it is not one of our CloudEvents."""
    by_name = {k: v for k, v in headers}
    if _text(by_name, "ce_specversion") != SPECVERSION:
        raise EnvelopeError("unsupported ce_specversion")
    try:
        time = datetime.fromisoformat(_text(by_name, "ce_time"))
        data = orjson.loads(value or b"")  # 1.3 vs 5.9 µs with json.loads: every consumer decodes every record
    except ValueError as exc:
        raise EnvelopeError(f"malformed record: {exc}") from None
    if not isinstance(data, dict):
        raise EnvelopeError("payload is not a JSON object")
    extra = {k: v.decode(errors="replace") for k, v in by_name.items() if k not in _KNOWN_HEADERS}
    event_id = _text(by_name, "ce_id")
    return Envelope(
        id=event_id,
        type=_text(by_name, "ce_type"),
        source=_text(by_name, "ce_source"),
        subject=_text(by_name, "ce_subject"),
        topic=topic,
        time=time,
        data=data,
        correlation_id=_either(by_name, CORRELATION_HEADER, LEGACY_CORRELATION_HEADER) or event_id,
        causation_id=_either(by_name, CAUSATION_HEADER, LEGACY_CAUSATION_HEADER),
        extra_headers=extra,
        authcontext=_authcontext(by_name),
        traceparent=_optional(by_name, TRACEPARENT_HEADER),
        tracestate=_optional(by_name, TRACESTATE_HEADER),
    )


def type_and_data(value: bytes | None, headers: Headers | list[tuple[str, bytes]]) -> tuple[str, dict[str, Any]]:
    """Only a record's ce_type and payload, for a reader that needs nothing else (a list index tailing a whole
    topic): a third of from_record's cost, which parses every attribute. Raises EnvelopeError like from_record."""
    kind = next((v for k, v in headers if k == "ce_type"), None)
    if kind is None:
        raise EnvelopeError("missing header ce_type")
    try:
        data = orjson.loads(value or b"")
    except ValueError as exc:
        raise EnvelopeError(f"malformed record: {exc}") from None
    if not isinstance(data, dict):
        raise EnvelopeError("payload is not a JSON object")
    return kind.decode(errors="replace"), data


def _either(headers: dict[str, bytes], name: str, legacy: str) -> str | None:
    """The attribute `name`, else the plain header an older record carries instead, else None."""
    raw = headers.get(name, headers.get(legacy))
    return raw.decode(errors="replace") if raw is not None else None


def _optional(headers: dict[str, bytes], name: str) -> str | None:
    raw = headers.get(name)
    return raw.decode(errors="replace") if raw is not None else None


def _authcontext(headers: dict[str, bytes]) -> AuthContext | None:
    """The authcontext extension of a record; absent on records of no request (and on older ones)."""
    if AUTHTYPE_HEADER not in headers:
        return None
    authid = _text(headers, AUTHID_HEADER) if AUTHID_HEADER in headers else None
    return AuthContext(authtype=_text(headers, AUTHTYPE_HEADER), authid=authid)

"""Folding a batch of Kafka records into one view copy, in one PostgreSQL transaction with the offsets it reaches.

Exactly once: records below their partition's stored offset are skipped (a re-fetch after a failure),
event ids already applied are skipped (a producer or outbox-relay duplicate), a transaction already listed
for a cliente is not counted again. Order-safe: account owners learnt from the cuentas topic attribute the
transactions whose event leaves an owner unknown, and those that come before their account wait in
transacciones_sin_dueno until it does.
"""

import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg
import orjson
from aiokafka import ConsumerRecord

from contracts.base import Message
from contracts.envelope import AuthContext, Envelope, from_record
from contracts.registry import BY_TYPE
from contracts.transacciones import TransaccionFallida, TransaccionRegistrada
from services.perfil import projector
from services.perfil.documentos import DocumentCache
from services.perfil.projector import Doc

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]


SCHEMA_NAME = re.compile(r"^perfil_v\d+$")


def quoted(schema: str) -> str:
    """Schema names are interpolated into SQL, so only our own pattern is ever accepted."""
    if not SCHEMA_NAME.match(schema):
        raise ValueError(f"not a view schema name: {schema!r}")
    return f'"{schema}"'


class ViewSwitched(Exception):
    """The pointer moved to another schema (a rebuild finished): the folder must re-seek from it."""

    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.schema = schema


@dataclass(frozen=True)
class Rejected:
    """A record no retry can fold (not our CloudEvent, unknown type, invalid payload, fold bug)."""

    record: Record
    error: BaseException


@dataclass
class ApplyResult:
    folded: list[Envelope] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    # (topic, partition) -> the next offset the view now stores for it (what the folder expects next time)
    reached: dict[tuple[str, int], int] = field(default_factory=dict)
    # Partitions refused by the compare-and-set (`expected`): another folder moved them on; their stored offsets.
    stale: dict[tuple[str, int], int | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A record parsed and decoded, possibly ahead of its fold and outside its transaction (runner.py does it for
    the next batch while this one folds). `envelope` None: not one of our CloudEvents; `message` None: a payload
    that does not decode; `error` says why."""

    record: Record
    envelope: Envelope | None
    message: Message | None
    error: Exception | None


def decode(record: Record) -> Decoded:
    try:
        env = from_record(record.topic, record.value, list(record.headers))
    except Exception as exc:
        return Decoded(record, None, None, exc)
    try:
        return Decoded(record, env, env.decode(), None)
    except Exception as exc:
        return Decoded(record, env, None, exc)


DeadLetter = Callable[[Sequence[Rejected]], Awaitable[None]]
# A decoded event to fold with where it came from (None for a transaction kept until its account's owner came)
# and who caused it (its authcontext, kept with it while it waits).
ToFold: TypeAlias = tuple[Record | None, Envelope | None, Message, AuthContext | None]


def _dumps(value: Any) -> str:
    # orjson: documents are (de)serialized on every fold, the stdlib json was a third of the fold's time.
    return orjson.dumps(value).decode()


async def apply(
    conn: asyncpg.Connection,
    schema: str,
    records: Sequence[Record | Decoded],
    *,
    check_active: bool = False,
    dead_letter: DeadLetter | None = None,
    expected: Mapping[tuple[str, int], int | None] | None = None,
    cache: DocumentCache | None = None,
) -> ApplyResult:
    """Fold `records` into `schema` in one transaction with the offsets they reach: exactly once.

    Records below the stored offset of their partition are skipped (a re-fetch after a failure),
    events whose id was already applied are skipped (a producer or relay duplicate), and a
    transaction already listed for a cliente is not counted again. `records` may come decoded already (decode).

    `expected` (the live projection's fence, one entry per partition it owns): a compare-and-set on each
    partition's stored offset, whose row is locked first. A partition whose stored offset is not the one
    the folder expects (None: no row yet) was moved on by another instance since this one was assigned it
    (it is stale: a rebalance it has not seen yet, or a kill that ended its session): its records are not
    folded and it is reported in `stale`, so the folder re-seeks it (or finds it revoked).

    `cache`: the documents of earlier folds, reused while their rows are unchanged (documentos.py); it learns this
    fold's documents once the transaction has committed."""
    s = quoted(schema)
    result = ApplyResult()
    kept: dict[int, tuple[str, str]] = {}
    batch = [r if isinstance(r, Decoded) else decode(r) for r in records]
    async with conn.transaction():
        if check_active:
            active = await conn.fetchval("SELECT schema_name FROM view_pointer WHERE id = 1 FOR SHARE")
            if active != schema:
                raise ViewSwitched(active)
        # One row lock serialises the folders of this schema (the perfil instances and a rebuild's catch-up): an
        # event may touch documents that other partitions' events touch too (a transfer between two clientes, a
        # transaction waiting for its account's owner), and a fold reads, then writes those documents.
        await conn.execute(f"SELECT 1 FROM {s}.view_state WHERE id = 1 FOR UPDATE")
        if expected is not None:
            batch = await _fence(conn, s, batch, expected, result)
        stored = {
            (r["topic"], r["partition"]): r["next_offset"]
            for r in await conn.fetch(f"SELECT topic, partition, next_offset FROM {s}.offsets")
        }
        fresh = [d for d in batch if d.record.offset >= stored.get((d.record.topic, d.record.partition), 0)]
        if not fresh:
            return result
        parsed, to_fold = await _new_events(conn, s, fresh, result)
        to_fold = await _attribute(conn, s, to_fold)
        kept = await _fold(conn, s, to_fold, result, _Documents(schema, cache))
        if result.rejected and dead_letter is not None:
            await dead_letter(result.rejected)  # before commit: a DLQ entry is never lost
        reached: dict[tuple[str, int], int] = {}
        for r in (d.record for d in fresh):
            reached[(r.topic, r.partition)] = max(reached.get((r.topic, r.partition), 0), r.offset + 1)
        result.reached.update(reached)
        await conn.execute(
            f"INSERT INTO {s}.offsets (topic, partition, next_offset) "
            "SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[]) "
            "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset",
            [tp[0] for tp in reached],
            [tp[1] for tp in reached],
            list(reached.values()),
        )
        times = [env.time for env in parsed]
        await conn.execute(
            f"UPDATE {s}.view_state SET applied_at = now(), events_applied = events_applied + $1, "
            "last_event_time = GREATEST(last_event_time, $2) WHERE id = 1",
            len(result.folded),
            max(times) if times else None,
        )
    if cache is not None:
        cache.put(schema, kept)
    return result


async def _fence(
    conn: asyncpg.Connection,
    s: str,
    batch: Sequence[Decoded],
    expected: Mapping[tuple[str, int], int | None],
    result: ApplyResult,
) -> list[Decoded]:
    """The compare-and-set of `apply`: lock the offset row of each partition in `records` and keep the records of
    the partitions whose stored offset is the one expected; the others go to `result.stale`."""
    tps = sorted({(d.record.topic, d.record.partition) for d in batch})
    rows = await conn.fetch(
        f"SELECT topic, partition, next_offset FROM {s}.offsets o "
        "WHERE (o.topic, o.partition) IN (SELECT * FROM unnest($1::text[], $2::int[])) "
        "ORDER BY topic, partition FOR UPDATE",
        [tp[0] for tp in tps],
        [tp[1] for tp in tps],
    )
    stored: dict[tuple[str, int], int | None] = dict.fromkeys(tps)
    stored.update({(r["topic"], r["partition"]): r["next_offset"] for r in rows})
    for tp, offset in stored.items():
        if tp not in expected or expected[tp] != offset:
            result.stale[tp] = offset
    return [d for d in batch if (d.record.topic, d.record.partition) not in result.stale]


async def _new_events(
    conn: asyncpg.Connection, s: str, fresh: Sequence[Decoded], result: ApplyResult
) -> tuple[list[Envelope], list[ToFold]]:
    """The decoded events not applied yet (inbox of event ids); what cannot be parsed, or is new and cannot be
    decoded, is rejected."""
    parsed: list[Decoded] = []
    for d in fresh:
        if d.envelope is None:
            result.rejected.append(Rejected(d.record, d.error or ValueError("not parsed")))
        else:
            parsed.append(d)
    new_ids = {
        row["event_id"]
        for row in await conn.fetch(
            f"INSERT INTO {s}.eventos_aplicados (event_id) SELECT unnest($1::text[]) "
            "ON CONFLICT DO NOTHING RETURNING event_id",
            [d.envelope.id for d in parsed if d.envelope is not None],
        )
    }
    to_fold: list[ToFold] = []
    envelopes: list[Envelope] = []
    for d in parsed:
        env = d.envelope
        assert env is not None
        envelopes.append(env)
        if env.id not in new_ids:
            result.duplicates += 1
            continue
        new_ids.discard(env.id)  # the same id twice in one batch folds once
        if d.message is None:
            result.rejected.append(Rejected(d.record, d.error or ValueError("not decoded")))
        else:
            to_fold.append((d.record, env, d.message, env.authcontext))
    return envelopes, to_fold


async def _attribute(conn: asyncpg.Connection, s: str, items: list[ToFold]) -> list[ToFold]:
    """Learn account owners from cuentas events; give transactions the owners their event lacks, keep
    the ones still unknown aside, and bring back those kept for an account whose owner just arrived."""
    learnt: dict[int, int] = {}
    for _, _, m, _ in items:
        known = projector.owner(m)
        if known is not None:
            learnt.setdefault(*known)
    newly: set[int] = set()
    if learnt:
        rows = await conn.fetch(
            f"INSERT INTO {s}.cuentas_clientes (cuenta_id, cliente_id) "
            "SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING RETURNING cuenta_id",
            list(learnt),
            list(learnt.values()),
        )
        newly = {r["cuenta_id"] for r in rows}
    wanted = {
        getattr(m, f"cuenta_{side}_id")
        for _, _, m, _ in items
        if isinstance(m, TransaccionRegistrada | TransaccionFallida)
        for side in ("origen", "destino")
        if getattr(m, f"cliente_{side}_id") is None and getattr(m, f"cuenta_{side}_id") is not None
    }
    owners: dict[int, int] = {}
    if wanted:
        rows = await conn.fetch(
            f"SELECT cuenta_id, cliente_id FROM {s}.cuentas_clientes WHERE cuenta_id = ANY($1::bigint[])",
            list(wanted),
        )
        owners = {r["cuenta_id"]: r["cliente_id"] for r in rows}
    out: list[ToFold] = []
    waiting: list[tuple[int, str, str, str, str | None]] = []
    for r, env, m, actor in items:
        if isinstance(m, TransaccionRegistrada | TransaccionFallida):
            m, missing = projector.attribute(m, owners)
            quien = _dumps(actor.to_data()) if actor else None
            waiting += [(c, m.transaccion_id, m.type, _dumps(m.to_data()), quien) for c in missing]
        out.append((r, env, m, actor))
    if waiting:
        await conn.execute(
            f"INSERT INTO {s}.transacciones_sin_dueno (cuenta_id, transaccion_id, tipo, data, authcontext) "
            "SELECT c, t, k, d::jsonb, a::jsonb "
            "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(c, t, k, d, a) "
            "ON CONFLICT DO NOTHING",
            *(list(col) for col in zip(*waiting, strict=True)),
        )
    if newly:
        kept = await conn.fetch(
            f"DELETE FROM {s}.transacciones_sin_dueno WHERE cuenta_id = ANY($1::bigint[]) "
            "RETURNING cuenta_id, transaccion_id, tipo, data::text AS data, authcontext::text AS authcontext",
            list(newly),
        )
        for row in sorted(kept, key=lambda k: (k["cuenta_id"], k["transaccion_id"])):
            message = BY_TYPE[row["tipo"]].model_validate(orjson.loads(row["data"]))
            assert isinstance(message, TransaccionRegistrada | TransaccionFallida)
            attributed, _ = projector.attribute(message, {row["cuenta_id"]: learnt[row["cuenta_id"]]})
            kept_actor = AuthContext.from_data(orjson.loads(row["authcontext"])) if row["authcontext"] else None
            out.append((None, None, attributed, kept_actor))
    return out


@dataclass(frozen=True)
class _Documents:
    schema: str
    cache: DocumentCache | None


async def _fold(
    conn: asyncpg.Connection, s: str, items: list[ToFold], result: ApplyResult, documents: _Documents
) -> dict[int, tuple[str, str]]:
    """Load the touched documents, fold the events in order, save the documents that changed. Returns every
    document loaded or written, as its row version and JSON text (for the cache, once committed)."""
    novel = await _record_transactions(conn, s, [(m, actor) for _, _, m, actor in items])
    ids = sorted({c for _, _, m, _ in items for c in projector.clientes_of(m)})
    loaded = await _load_documents(conn, s, ids, documents)
    docs: dict[int, Doc] = {c: orjson.loads(text) for c, (_, text) in loaded.items()}
    changed: set[int] = set()
    for r, env, message, actor in items:
        try:
            for cliente_id in projector.clientes_of(message):
                if _is_transaction(message) and (cliente_id, _trx_id(message)) not in novel:
                    continue
                doc = docs.get(cliente_id) or projector.new_document(cliente_id)
                docs[cliente_id] = projector.apply(doc, message, actor)
                changed.add(cliente_id)
        except Exception as exc:  # a fold bug for one event must not stop the view
            if r is None:
                log.error("cannot fold a kept transaction %r: %r", message, exc)
            else:
                result.rejected.append(Rejected(r, exc))
            continue
        if env is not None:
            result.folded.append(env)
    return loaded | await _save_documents(conn, s, [docs[c] for c in sorted(changed)])


async def _load_documents(
    conn: asyncpg.Connection, s: str, ids: list[int], documents: _Documents
) -> dict[int, tuple[str, str]]:
    """The stored documents of `ids` as their row versions (`xmin`) and JSON text, rows locked. The text travels only
    for the rows whose version is not the one of the cached copy."""
    known = documents.cache.known(documents.schema, ids) if documents.cache is not None else {}
    rows = await conn.fetch(
        f"SELECT p.cliente_id, p.xmin::text AS v, "
        f"CASE WHEN p.xmin::text IS DISTINCT FROM k.v THEN p.doc::text END AS doc "
        f"FROM {s}.perfiles p JOIN unnest($1::bigint[], $2::text[]) AS k(c, v) ON p.cliente_id = k.c "
        "FOR UPDATE OF p",
        ids,
        [known[c][0] if c in known else None for c in ids],
    )
    out: dict[int, tuple[str, str]] = {}
    for row in rows:
        raw = row["doc"]
        out[row["cliente_id"]] = (row["v"], raw if raw is not None else known[row["cliente_id"]][1])
    if documents.cache is not None:
        misses = sum(1 for row in rows if row["doc"] is not None)
        documents.cache.count(len(rows) - misses, misses)
    return out


async def _record_transactions(
    conn: asyncpg.Connection, s: str, messages: list[tuple[Message, AuthContext | None]]
) -> set[tuple[int, str]]:
    """Insert the (cliente, transaction) rows; returns those that were new (the rest are duplicates)."""
    rows: dict[tuple[int, str], tuple[datetime, str]] = {}
    for m, actor in messages:
        if isinstance(m, TransaccionRegistrada | TransaccionFallida):
            for cliente_id in projector.clientes_of(m):
                rows.setdefault(
                    (cliente_id, m.transaccion_id),
                    (m.fecha, _dumps(projector.transaction_item(m, cliente_id, actor))),
                )
    if not rows:
        return set()
    keys = list(rows)
    inserted = await conn.fetch(
        f"INSERT INTO {s}.transacciones (cliente_id, transaccion_id, fecha, item) "
        "SELECT c, t, f, i::jsonb FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[]) "
        "AS x(c, t, f, i) ON CONFLICT DO NOTHING RETURNING cliente_id, transaccion_id",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [rows[k][0] for k in keys],
        [rows[k][1] for k in keys],
    )
    return {(r["cliente_id"], r["transaccion_id"]) for r in inserted}


async def _save_documents(conn: asyncpg.Connection, s: str, docs: list[Doc]) -> dict[int, tuple[str, str]]:
    """Upsert the documents; returns each one's new row version and its JSON text."""
    if not docs:
        return {}
    texts = [_dumps(d) for d in docs]
    rows = await conn.fetch(
        f"INSERT INTO {s}.perfiles (cliente_id, doc, visible, busqueda) "
        "SELECT c, d::json, v, b FROM unnest($1::bigint[], $2::text[], $3::bool[], $4::text[]) AS x(c, d, v, b) "
        "ON CONFLICT (cliente_id) DO UPDATE SET doc = EXCLUDED.doc, visible = EXCLUDED.visible, "
        "busqueda = EXCLUDED.busqueda, updated_at = now() RETURNING cliente_id, xmin::text AS v",
        [d["cliente_id"] for d in docs],
        texts,
        [projector.visible(d) for d in docs],
        [projector.search_text(d) for d in docs],
    )
    text_of = {d["cliente_id"]: text for d, text in zip(docs, texts, strict=True)}
    return {r["cliente_id"]: (r["v"], text_of[r["cliente_id"]]) for r in rows}


def _is_transaction(message: Message) -> bool:
    return isinstance(message, TransaccionRegistrada | TransaccionFallida)


def _trx_id(message: Message) -> str:
    assert isinstance(message, TransaccionRegistrada | TransaccionFallida)
    return message.transaccion_id

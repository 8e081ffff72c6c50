"""The documents a folder keeps in memory between folds (documentos.py), against the real PostgreSQL: reused while
their rows are unchanged, never folded from when another instance wrote the row since."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from contracts.base import Message
from contracts.envelope import envelope_for
from services.perfil.folding import quoted
from services.perfil.main import open_store
from services.perfil.settings import PerfilSettings
from services.perfil.store import ViewStore
from tests.integration.perfil.test_fence import Rec
from tests.unit.perfil import events as ev

_offsets: dict[str, int] = {}


def rec(message: Message) -> Rec:
    """`message` as the next record of partition 0 of its topic."""
    offset = _offsets[message.topic] = _offsets.get(message.topic, -1) + 1
    env = envelope_for(message, source="/test")
    return Rec(message.topic, 0, offset, env.value(), env.headers())


@pytest.fixture
async def otra_instancia(view_db: str, store: ViewStore) -> AsyncIterator[ViewStore]:
    """A second perfil process on the same view database (`store` created it)."""
    _offsets.clear()
    other = await open_store(PerfilSettings(database_url=view_db, db_pool_max=2))
    yield other
    await other.pool.close()


async def total(store: ViewStore, schema: str, cliente_id: int) -> Any:
    doc = await store.document(schema, cliente_id)
    assert doc is not None
    return doc["total_transacciones"]


async def test_una_instancia_no_pliega_sobre_su_copia_si_otra_escribio_el_documento(
    store: ViewStore, otra_instancia: ViewStore
) -> None:
    schema = await store.active_schema()
    await store.apply(schema, [rec(ev.cliente_creado(1)), rec(ev.cuenta_abierta(10, 1))])  # type: ignore[list-item]
    await store.apply(schema, [rec(ev.registrada(destino=(1, 10)))])  # type: ignore[list-item]
    assert (store.documents.hits, store.documents.misses) == (1, 0), "its own last write: reused, not re-read"

    await otra_instancia.apply(schema, [rec(ev.registrada(destino=(1, 10)))])  # type: ignore[list-item]
    await store.apply(schema, [rec(ev.registrada(destino=(1, 10)))])  # type: ignore[list-item]
    assert store.documents.misses == 1, "the row changed under the kept copy: read again"
    assert await total(store, schema, 1) == 3  # from the kept copy it would be 2: the other's fold lost


async def test_un_plegado_que_no_llega_a_confirmarse_no_deja_su_documento_en_memoria(store: ViewStore) -> None:
    schema = await store.active_schema()
    _offsets.clear()
    await store.apply(schema, [rec(ev.cliente_creado(2)), rec(ev.cuenta_abierta(20, 2))])  # type: ignore[list-item]

    async def falla(_: object) -> None:
        raise RuntimeError("dead letter down")

    bad = rec(ev.registrada(destino=(2, 20)))
    broken = Rec(bad.topic, 0, bad.offset + 1, b"not json", bad.headers)
    with pytest.raises(RuntimeError):
        await store.apply(schema, [bad, broken], dead_letter=falla)  # type: ignore[list-item]
    assert await total(store, schema, 2) == 0
    await store.apply(schema, [bad])  # type: ignore[list-item]
    assert await total(store, schema, 2) == 1  # folded once: the rolled-back fold left no trace in memory


async def test_una_copia_con_documentos_jsonb_se_convierte_a_json_al_actualizarla(store: ViewStore) -> None:
    """Copies made before the documents were kept as JSON text (store.DOC_STORAGE_DDL) are converted by the
    upgrade every start runs, once, documents intact."""
    schema = await store.active_schema()
    _offsets.clear()
    await store.apply(schema, [rec(ev.cliente_creado(3)), rec(ev.cuenta_abierta(30, 3))])  # type: ignore[list-item]
    before = await store.document(schema, 3)
    table = f"{quoted(schema)}.perfiles"
    await store.pool.execute(f"ALTER TABLE {table} ALTER COLUMN doc TYPE jsonb USING doc::jsonb")

    async def doc_type() -> str:
        found: str = await store.pool.fetchval(
            "SELECT atttypid::regtype::text FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'doc'",
            table,
        )
        return found

    assert await doc_type() == "jsonb"
    await store.upgrade_view(schema)
    await store.upgrade_view(schema)  # the next start: nothing left to convert
    assert await doc_type() == "json"
    assert await store.document(schema, 3) == before

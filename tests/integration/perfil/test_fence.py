"""Several perfil instances on one view database, on a fresh one: the compare-and-set that fences a stale instance
(a fold is refused for a partition whose stored offset is not the one the folder expects: another instance moved it
on, so an instance that lost a partition without knowing it cannot fold a record twice, nor skip one), and the
upgrade rebuild that only the first instance does."""

from dataclasses import dataclass

from aiokafka import TopicPartition

from contracts.envelope import envelope_for
from services.perfil.rebuild import rebuild
from services.perfil.store import VIEW_FORMAT, ViewStore
from tests.integration.conftest import KAFKA
from tests.integration.perfil.conftest import Topics
from tests.unit.perfil import events as ev

TOPIC = "bank.clientes.v1"


@dataclass(frozen=True)
class Rec:
    topic: str
    partition: int
    offset: int
    value: bytes
    headers: list[tuple[str, bytes]]
    key: bytes | None = None
    timestamp: int = 0


def records(first_offset: int, cliente_ids: list[int]) -> list[Rec]:
    out = []
    for n, cliente_id in enumerate(cliente_ids):
        env = envelope_for(ev.cliente_creado(cliente_id), source="/test")
        out.append(Rec(TOPIC, 0, first_offset + n, env.value(), env.headers()))
    return out


async def test_un_plegado_con_offset_esperado_viejo_es_rechazado_y_no_cambia_nada(store: ViewStore) -> None:
    schema = await store.active_schema()
    tp = (TOPIC, 0)

    first = await store.apply(schema, records(0, [1, 2]), expected={tp: None})  # type: ignore[arg-type]
    assert first.reached == {tp: 2}
    assert not first.stale

    # A stale instance still expects the partition where it was (nothing stored) and folds 0..3 again plus 2, 3.
    stale = await store.apply(schema, records(0, [1, 2, 3, 4]), expected={tp: None})  # type: ignore[arg-type]
    assert stale.stale == {tp: 2}
    assert not stale.folded
    assert await store.offsets(schema) == {TopicPartition(TOPIC, 0): 2}
    assert await store.document(schema, 3) is None

    # A partition the folder does not hold at all is refused the same way.
    foreign = await store.apply(schema, records(2, [3]), expected={})  # type: ignore[arg-type]
    assert foreign.stale == {tp: 2}

    # The owner, expecting what is stored, goes on from there.
    owner = await store.apply(schema, records(2, [3, 4]), expected={tp: 2})  # type: ignore[arg-type]
    assert not owner.stale
    assert len(owner.folded) == 2
    assert await store.offsets(schema) == {TopicPartition(TOPIC, 0): 4}
    assert await store.document(schema, 4) is not None


async def test_la_reconstruccion_de_actualizacion_no_se_repite_si_otra_instancia_ya_la_hizo(
    store: ViewStore, topics: Topics
) -> None:
    active = await store.active_schema()  # a fresh view is of the current format already
    said: list[str] = []
    report = await rebuild(store, KAFKA, topics.all(), compare=False, say=said.append, older_than=VIEW_FORMAT)
    assert not report.switched
    assert await store.active_schema() == active
    assert await store.view_schemas() == [active]
    assert any("nothing to rebuild" in line for line in said)

"""The keyed batch (services/platform/idempotent_lote.py) over an in-memory store that records each item's
sub-key with its write: a retry after the item-by-item path writes nothing twice and answers the same."""

from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from fastapi import Request, Response
from pydantic import BaseModel

from services.platform.app import create_base_app
from services.platform.errors import Conflict
from services.platform.idempotency import IdempotencyKey, Keyed, Recorded
from services.platform.idempotent_lote import KeyedLote
from services.platform.lote import ResultadoLote
from tests.signing import TEST_POLICY, admin_headers, authorized


class Lote(BaseModel):
    nombres: list[str]


class Store:
    """Names are unique (a repeat is a 409); every write records its key, as the SQL stores do in one transaction."""

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.records: dict[str, Recorded] = {}

    async def find(self, keys: Sequence[str]) -> dict[str, Recorded]:
        return {k: self.records[k] for k in keys if k in self.records}

    async def todos(self, nombres: Sequence[str], keys: Sequence[Keyed[int]]) -> list[int]:
        if any(n in self.rows for n in nombres) or len(set(nombres)) < len(nombres):
            raise Conflict("duplicado")  # the whole transaction rolls back
        ids = []
        for i, n in enumerate(nombres):
            self.rows.append(n)
            ids.append(len(self.rows))
            if keys:
                self.records[keys[i].key] = keys[i].record(ids[-1])
        return ids

    async def uno(self, nombre: str, key: Keyed[int] | None) -> int:
        return (await self.todos([nombre], [key] if key else []))[0]


@pytest.fixture
async def setup() -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    app = authorized(create_base_app(title="t", version="0", cors_origins=["*"], policy=TEST_POLICY))
    store = Store()

    @app.post("/lote", response_model=ResultadoLote)
    async def lote(body: Lote, request: Request, idempotency_key: IdempotencyKey = None) -> ResultadoLote | Response:
        runner = KeyedLote(store.todos, store.uno, lambda i: i, store.find)
        return await runner.run(request, idempotency_key, body, body.nombres)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=admin_headers()
    ) as c:
        yield c, store


async def test_sin_clave_el_lote_se_juzga_como_siempre(setup: tuple[httpx.AsyncClient, Store]) -> None:
    c, store = setup
    r = await c.post("/lote", json={"nombres": ["a", "a", "b"]})
    assert [x["status"] for x in r.json()["resultados"]] == [201, 409, 201]
    assert store.records == {}


@pytest.mark.parametrize("nombres", [["a", "b"], ["a", "a", "b"]])
async def test_repetido_con_clave_no_escribe_dos_veces(
    setup: tuple[httpx.AsyncClient, Store], nombres: list[str]
) -> None:
    c, store = setup
    headers = {"Idempotency-Key": "k"}
    first = await c.post("/lote", json={"nombres": nombres}, headers=headers)
    written = list(store.rows)
    again = await c.post("/lote", json={"nombres": nombres}, headers=headers)
    assert again.json() == first.json()
    assert store.rows == written == ["a", "b"]
    # Only written items are recorded: the refused duplicate (index 1 of three) is judged afresh on a retry.
    assert set(store.records) == ({"k#0", "k#1"} if len(nombres) == 2 else {"k#0", "k#2"})


async def test_reintento_tras_un_corte_a_medias_escribe_solo_lo_que_falta(
    setup: tuple[httpx.AsyncClient, Store],
) -> None:
    c, store = setup
    headers = {"Idempotency-Key": "k"}
    await c.post("/lote", json={"nombres": ["a", "a", "b"]}, headers=headers)
    # As if the first run died after item 0: item 2's row and record never happened.
    store.rows.remove("b")
    del store.records["k#2"]
    r = await c.post("/lote", json={"nombres": ["a", "a", "b"]}, headers=headers)
    assert [x["status"] for x in r.json()["resultados"]] == [201, 409, 201]
    assert store.rows == ["a", "b"]
    assert "Idempotent-Replayed" not in r.headers


async def test_todo_registrado_se_marca_como_repetido_y_otro_cuerpo_es_409(
    setup: tuple[httpx.AsyncClient, Store],
) -> None:
    c, _ = setup
    headers = {"Idempotency-Key": "k"}
    await c.post("/lote", json={"nombres": ["a"]}, headers=headers)
    again = await c.post("/lote", json={"nombres": ["a"]}, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await c.post("/lote", json={"nombres": ["z"]}, headers=headers)).status_code == 409

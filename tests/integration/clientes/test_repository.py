"""The repository against a real scratch PostgreSQL: what the database refuses comes back as typed, named errors
(never a raw driver error that would become a 500), even for input that skipped the schema."""

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg
import pytest

from services.clientes.domain import NuevoCliente, NuevoDocumento
from services.clientes.errors import DatoDuplicado, DatoInvalido
from services.clientes.main import MIGRATIONS
from services.clientes.repository import ClientesRepository, migrate


@pytest.fixture
async def repo(scratch_dsn: str) -> AsyncIterator[ClientesRepository]:
    async with asyncpg.create_pool(scratch_dsn, min_size=1, max_size=2) as pool:
        async with pool.acquire() as conn:
            await migrate(conn, MIGRATIONS)
        yield ClientesRepository(pool)


def _nuevo(email: str = "ana@example.com", numero: str = "45678912", **overrides: object) -> NuevoCliente:
    fields: dict[str, object] = {
        "nombre": "Ana",
        "apellido": "Pérez",
        "email": email,
        "telefono": None,
        "estado": "activo",
        "documento": NuevoDocumento("DNI", numero),
    }
    return NuevoCliente(**(fields | overrides))  # type: ignore[arg-type]


async def test_email_repetido_en_otra_capitalizacion_es_dato_duplicado_email(repo: ClientesRepository) -> None:
    async with repo.unit() as unit:
        await unit.insert(_nuevo())
    with pytest.raises(DatoDuplicado) as info:
        async with repo.unit() as unit:
            await unit.insert(_nuevo(email="ANA@EXAMPLE.COM", numero="11111111"))
    assert info.value.field == "email"


async def test_documento_repetido_es_dato_duplicado_numero_documento(repo: ClientesRepository) -> None:
    async with repo.unit() as unit:
        await unit.insert(_nuevo())
    with pytest.raises(DatoDuplicado) as info:
        async with repo.unit() as unit:
            await unit.insert(_nuevo(email="otra@example.com"))
    assert info.value.field == "numero_documento"
    # The refused insert left nothing behind (the cliente row of that transaction was rolled back too).
    assert await repo.by_email("otra@example.com") is None


async def test_un_lote_se_inserta_en_dos_sentencias_y_cada_cliente_lleva_su_documento(repo: ClientesRepository) -> None:
    nuevos = [_nuevo(email=f"c{i}@example.com", numero=f"4000000{i}", nombre=f"Nombre{i}") for i in range(5)]
    async with repo.unit() as unit:
        creados = await unit.insert_many(nuevos)
    assert [c.email for c in creados] == [n.email for n in nuevos]
    assert len({c.cliente_id for c in creados}) == 5
    for nuevo, creado in zip(nuevos, creados, strict=True):
        assert await repo.by_email(nuevo.email) == creado  # what the batch answered is what was stored
        [documento] = creado.documentos
        assert (documento.cliente_id, documento.numero_documento) == (
            creado.cliente_id,
            nuevo.documento.numero_documento,
        )


async def test_un_lote_con_un_email_repetido_no_deja_nada(repo: ClientesRepository) -> None:
    nuevos = [_nuevo(email="ana@example.com", numero="1"), _nuevo(email="ANA@example.com", numero="2")]
    with pytest.raises(DatoDuplicado) as info:
        async with repo.unit() as unit:
            await unit.insert_many(nuevos)
    assert info.value.field == "email"
    assert await repo.by_email("ana@example.com") is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"nombre": "   "}, "nombre"),
        ({"estado": "borrado"}, "estado"),
        ({"documento": NuevoDocumento("DNI", "1", date(2024, 1, 1), date(2023, 1, 1))}, "fecha_vencimiento"),
        ({"documento": NuevoDocumento("Libreta", "1")}, "tipo_documento"),  # type: ignore[arg-type]
        ({"telefono": "9" * 21}, "body"),  # PostgreSQL does not name the column of a too-long value
    ],
)
async def test_valores_que_la_base_rechaza_son_dato_invalido_con_su_campo(
    repo: ClientesRepository, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(DatoInvalido) as info:
        async with repo.unit() as unit:
            await unit.insert(_nuevo(**overrides))
    assert info.value.field == field


async def test_migrate_crea_outbox_e_inbox_desde_su_unico_ddl(repo: ClientesRepository, scratch_dsn: str) -> None:
    conn = await asyncpg.connect(scratch_dsn)
    try:
        columns = {
            (r["table_name"], r["column_name"])
            for r in await conn.fetch(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name IN ('outbox', 'inbox')"
            )
        }
        assert {c for t, c in columns if t == "outbox"} == {
            "id",
            "event_id",
            "topic",
            "msg_key",
            "headers",
            "payload",
            "created_at",
            "published_at",
        }
        assert {c for t, c in columns if t == "inbox"} == {"consumer", "message_id", "processed_at"}
        assert await migrate(conn, MIGRATIONS) == []  # a second start applies nothing and fails on nothing
    finally:
        await conn.close()

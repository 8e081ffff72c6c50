"""The migrations are numbered without gaps and leave the shared outbox and inbox tables to the one DDL that
producers/ and consumers/ own (services.clientes.repository.migrate runs it first)."""

from pathlib import Path

from consumers.inbox import INBOX_DDL_POSTGRES
from producers.outbox_postgres import OUTBOX_DDL
from services.clientes.main import MIGRATIONS
from services.platform.migrate import migration_files


def _squash(sql: str) -> str:
    return " ".join(sql.split())


def _all_sql() -> str:
    return _squash("\n".join(Path(p).read_text() for p in migration_files(MIGRATIONS)))


def test_migraciones_numeradas_sin_huecos() -> None:
    numbers = [p.name[:3] for p in migration_files(MIGRATIONS)]
    assert numbers == [f"{n:03d}" for n in range(1, len(numbers) + 1)]
    assert len(numbers) >= 6  # 006: the index of a cliente's vigentes documentos


def test_outbox_e_inbox_no_se_repiten_en_las_migraciones() -> None:
    sql = _all_sql().lower()
    for ddl in (OUTBOX_DDL, INBOX_DDL_POSTGRES):
        create = _squash(ddl).lower().split(" (")[0]  # "create table if not exists outbox"
        assert create.startswith("create table")
        assert create not in sql
        assert create.replace(" if not exists", "") not in sql

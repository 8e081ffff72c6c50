"""The migrations hold the shared outbox and inbox tables exactly as producers/ and consumers/ define them."""

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
    assert [p.name[:3] for p in migration_files(MIGRATIONS)] == ["001", "002", "003", "004", "005"]


def test_outbox_e_inbox_son_las_compartidas() -> None:
    sql = _all_sql()
    assert _squash(OUTBOX_DDL) in sql
    assert _squash(INBOX_DDL_POSTGRES) in sql

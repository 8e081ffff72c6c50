"""The numbered migrations of cuentas split into the statements MariaDB will run, comments and all."""

from services.cuentas.db import MIGRATIONS
from services.platform.migrate import migration_files, statements


def test_cada_tabla_y_la_semilla_son_una_sentencia() -> None:
    files = migration_files(MIGRATIONS)
    assert [f.name for f in files] == [
        "001_schema.sql",
        "002_seed_tipos_cuenta.sql",
        "003_idempotencia.sql",
        "004_movimientos_actor.sql",
        "005_retenciones.sql",
    ]
    schema = statements(files[0].read_text())
    assert [s.split("(")[0].split()[-1] for s in schema] == [
        "tipos_cuenta",
        "cuentas",
        "movimientos",
        "clientes_replica",
    ]
    assert all(s.startswith("CREATE TABLE IF NOT EXISTS") for s in schema)
    [seed] = statements(files[1].read_text())
    assert seed.startswith("INSERT IGNORE INTO tipos_cuenta")
    assert all(f"'{n}'" in seed for n in ("Cuenta Sueldo", "Cuenta Free", "Cuenta Premium", "Cuenta Ahorro"))
    [idempotencia] = statements(files[2].read_text())
    assert idempotencia.startswith("CREATE TABLE IF NOT EXISTS idempotencia")


def test_saldo_nunca_negativo_lo_garantiza_la_base_de_datos() -> None:
    schema = MIGRATIONS.joinpath("001_schema.sql").read_text()
    assert "CHECK (saldo >= 0)" in schema
    assert "saldo          DECIMAL(15,2) NOT NULL" in schema
    assert "UNIQUE KEY cuentas_numero (numero_cuenta)" in schema


def test_las_columnas_del_actor_se_agregan_solo_si_faltan() -> None:
    """MySQL 8 has no ADD COLUMN IF NOT EXISTS: the ALTER is prepared only while the column is missing, so running
    the file again (a start-up that died before recording it) changes nothing."""
    sets, prepare, execute, deallocate = statements(MIGRATIONS.joinpath("004_movimientos_actor.sql").read_text())
    assert "COLUMN_NAME = 'actor_authtype') = 0" in sets
    assert "ADD COLUMN actor_authtype VARCHAR(32) NULL, ADD COLUMN actor_authid VARCHAR(255) NULL" in sets
    assert "'DO 0'" in sets
    assert (prepare, execute, deallocate) == (
        "PREPARE movimientos_actor FROM @movimientos_actor",
        "EXECUTE movimientos_actor",
        "DEALLOCATE PREPARE movimientos_actor",
    )


def test_retenciones_tabla_columna_retenido_y_causa_captura() -> None:
    """The holds table, the account's reserved total (added only while missing, guarded by a CHECK) and the new
    ledger causa, each statement safe to run again."""
    create, sets, prepare, execute, deallocate, causa = statements(
        MIGRATIONS.joinpath("005_retenciones.sql").read_text()
    )
    assert create.startswith("CREATE TABLE IF NOT EXISTS retenciones")
    assert "monto           DECIMAL(15,2) NOT NULL" in create
    assert "'ACTIVA', 'CAPTURADA', 'LIBERADA', 'EXPIRADA'" in create
    assert "COLUMN_NAME = 'retenido') = 0" in sets
    assert "CHECK (retenido >= 0 AND retenido <= saldo)" in sets
    assert (prepare, execute, deallocate) == (
        "PREPARE cuentas_retenido FROM @cuentas_retenido",
        "EXECUTE cuentas_retenido",
        "DEALLOCATE PREPARE cuentas_retenido",
    )
    assert causa.startswith("ALTER TABLE movimientos DROP CONSTRAINT movimientos_causa")
    assert "'CAPTURA'" in causa

"""The numbered migrations of cuentas split into the statements MariaDB will run, comments and all."""

from pathlib import Path

import pytest

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
        "006_limites.sql",
        "007_asientos.sql",
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


def test_los_limites_se_agregan_solo_si_faltan_y_cuenta_sueldo_queda_sin_limite() -> None:
    """Every ALTER of 006 is prepared only while what it adds is missing (idempotent on MySQL 8 and MariaDB); the
    seeded defaults leave Cuenta Sueldo (what tests, the bench and the bank test use) without limits."""
    sql = statements(MIGRATIONS.joinpath("006_limites.sql").read_text())
    sets = [s for s in sql if s.startswith("SET @")]
    assert len(sets) == 4
    assert all("'DO 0'" in s and ") = 0," in s for s in sets)
    assert any("INDEX movimientos_cupo_dia (cuenta_id, cupo_diario, fecha, operacion, monto)" in s for s in sets)
    updates = [s for s in sql if s.startswith("UPDATE tipos_cuenta")]
    assert [u.split("tipo_cuenta_id = ")[1][0] for u in updates] == ["2", "3", "4"]


def test_numeros_de_migracion_con_huecos_se_aceptan_repetidos_no(tmp_path: Path) -> None:
    for name in ("001_a.sql", "003_c.sql"):
        tmp_path.joinpath(name).write_text("DO 0;\n")
    assert [p.name for p in migration_files(tmp_path)] == ["001_a.sql", "003_c.sql"]
    tmp_path.joinpath("003_d.sql").write_text("DO 0;\n")
    with pytest.raises(RuntimeError, match="own number"):
        migration_files(tmp_path)


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


def test_los_asientos_se_crean_una_vez_y_el_relleno_solo_toca_movimientos_sin_asientos() -> None:
    """007 may run again: the table IF NOT EXISTS, the index only while missing, and the backfill of the movements
    written before double entry only inserts legs for movements that have none."""
    tabla, sets, prepare, execute, deallocate, relleno = statements(MIGRATIONS.joinpath("007_asientos.sql").read_text())
    assert tabla.startswith("CREATE TABLE IF NOT EXISTS asientos")
    assert "INDEX_NAME = 'movimientos_transaccion') = 0" in sets
    assert "'DO 0'" in sets
    assert prepare.startswith("PREPARE")
    assert execute.startswith("EXECUTE")
    assert deallocate.startswith("DEALLOCATE")
    assert relleno.startswith("INSERT INTO asientos")
    assert "WHERE NOT EXISTS (SELECT 1 FROM asientos a WHERE a.movimiento_id = m.movimiento_id)" in relleno
    assert "CASE m.operacion WHEN 'CREDITO' THEN -m.monto ELSE m.monto END" in relleno

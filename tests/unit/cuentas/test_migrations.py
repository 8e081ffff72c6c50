"""The numbered migrations of cuentas split into the statements MariaDB will run, comments and all."""

from services.cuentas.db import MIGRATIONS
from services.platform.migrate import migration_files, statements


def test_cada_tabla_y_la_semilla_son_una_sentencia() -> None:
    files = migration_files(MIGRATIONS)
    assert [f.name for f in files] == ["001_schema.sql", "002_seed_tipos_cuenta.sql", "003_idempotencia.sql"]
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

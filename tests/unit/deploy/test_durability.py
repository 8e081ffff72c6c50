"""Durable unless asked otherwise by name: the mode the launchers apply (infra/lib/common.sh), and compose never
sets the opposite of the durable settings."""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
COMMON = ROOT / "infra/lib/common.sh"


def _bash(script: str, env: dict[str, str], run_dir: Path) -> subprocess.CompletedProcess[str]:
    # common.sh derives CB_RUN from its own location: the script points it (and DURABILITY_FILE) at a scratch dir.
    return subprocess.run(
        [
            "bash",
            "-c",
            f'set -euo pipefail; source "{COMMON}"; CB_RUN="{run_dir}"; DURABILITY_FILE="$CB_RUN/durability"; {script}',
        ],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(run_dir), **env},
        check=False,
    )


@pytest.mark.parametrize(("value", "mode"), [(None, "durable"), ("durable", "durable"), ("relaxed", "relaxed")])
def test_el_modo_pedido_es_durable_salvo_relaxed_por_nombre(tmp_path: Path, value: str | None, mode: str) -> None:
    env = {} if value is None else {"CLOUDBANK_DURABILITY": value}
    out = _bash("durability_wanted", env, tmp_path)
    assert (out.returncode, out.stdout.strip()) == (0, mode), out.stderr


def test_un_modo_desconocido_es_un_error(tmp_path: Path) -> None:
    out = _bash("durability_wanted", {"CLOUDBANK_DURABILITY": "fast"}, tmp_path)
    assert out.returncode != 0
    assert "durable or relaxed" in out.stderr


@pytest.mark.parametrize(
    ("written", "applied"), [(None, "durable"), ("durable", "durable"), ("relaxed", "relaxed"), ("junk", "durable")]
)
def test_el_lanzador_aplica_relaxed_solo_si_se_escribio(tmp_path: Path, written: str | None, applied: str) -> None:
    if written is not None:
        (tmp_path / "durability").write_text(f"{written}\n")
    out = _bash("durability_for postgres", {}, tmp_path)
    assert (out.returncode, out.stdout.strip()) == (0, applied), out.stderr
    assert (tmp_path / "durability.postgres").read_text().strip() == applied  # what `stack.sh status` reports


def test_compose_no_relaja_la_durabilidad() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    mysql = " ".join(services["mysql"].get("command", []))
    assert "--innodb-flush-log-at-trx-commit=1" in mysql
    assert "--sync-binlog=1" in mysql
    assert "synchronous_commit=off" not in str(services["postgres"])
    assert "fsync=off" not in str(services["postgres"])
    assert str(services["kafka"]["environment"]["KAFKA_LOG_FLUSH_INTERVAL_MESSAGES"]) == "1"
    env = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-bank"]["environment"]
    assert "journal=true" in env["TRANSACCIONES_MONGO_URL"]

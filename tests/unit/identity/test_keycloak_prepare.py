"""infra/keycloak/prepare.py: production refuses Keycloak's development secrets and imports no demo users."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "infra/keycloak/prepare.py"
REALM_FILE = ROOT / "infra/keycloak/cloudbank-realm.json"
REAL_SECRETS = {
    "KC_BOOTSTRAP_ADMIN_PASSWORD": "S3cure-admin-pw",
    "BANK_CLIENT_SECRET": "2b7c0b9a-cli",
    "GATEWAY_CLIENT_SECRET": "5d1e7f3c-gateway",
}


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("keycloak_prepare", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


prepare = _load()


def realm() -> dict[str, Any]:
    return dict(json.loads(REALM_FILE.read_text(encoding="utf-8")))


def test_development_needs_no_secret() -> None:
    assert prepare.secret_problems({}) == []
    assert prepare.secret_problems({"CLOUDBANK_ENV": "development"}) == []


def test_production_without_overrides_names_every_missing_secret() -> None:
    problems = prepare.secret_problems({"CLOUDBANK_ENV": "production"})
    assert len(problems) == 3
    for name in REAL_SECRETS:
        assert any(p.startswith(f"{name} is not set") for p in problems), name


@pytest.mark.parametrize("name", sorted(REAL_SECRETS))
def test_production_refuses_a_development_value(name: str) -> None:
    env = {"CLOUDBANK_ENV": "production", **REAL_SECRETS, name: prepare.DEV_SECRETS[name]}
    assert prepare.secret_problems(env) == [f"{name} is a development value; set a real secret in production"]


def test_production_with_real_secrets_starts() -> None:
    assert prepare.secret_problems({"CLOUDBANK_ENV": "Production", **REAL_SECRETS}) == []


def test_dev_secrets_are_the_realm_file_defaults() -> None:
    # The placeholders Keycloak resolves at import must fall back to exactly the values production refuses.
    text = REALM_FILE.read_text(encoding="utf-8")
    assert "${BANK_CLIENT_SECRET:cli-dev-secret}" in text
    assert "${GATEWAY_CLIENT_SECRET:gateway-dev-secret}" in text


def test_production_imports_no_demo_user_but_keeps_the_service_account() -> None:
    imported = prepare.realm_for(realm(), {"CLOUDBANK_ENV": "production", **REAL_SECRETS})
    assert [u["username"] for u in imported["users"]] == ["service-account-cloudbank-cli"]
    assert imported["clients"] == realm()["clients"]


def test_development_imports_the_realm_as_checked_in() -> None:
    users = {u["username"] for u in prepare.realm_for(realm(), {})["users"]}
    assert {"cajero", "operaciones", "analista", "auditor", "admin", "cliente1", "cliente2"} <= users


def run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    dst = tmp_path / "import" / "cloudbank-realm.json"
    return subprocess.run(
        [sys.executable, "-I", "-S", str(SCRIPT), str(REALM_FILE), str(dst)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_launcher_step_fails_in_production_and_writes_nothing(tmp_path: Path) -> None:
    result = run(tmp_path, {"CLOUDBANK_ENV": "production", "BANK_CLIENT_SECRET": "cli-dev-secret"})
    assert result.returncode == 1
    assert "refusing to start with CLOUDBANK_ENV=production: BANK_CLIENT_SECRET is a development value" in result.stderr
    assert not (tmp_path / "import").exists()


def test_the_launcher_step_writes_the_realm_to_import(tmp_path: Path) -> None:
    result = run(tmp_path, {"CLOUDBANK_ENV": "production", **REAL_SECRETS})
    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "import" / "cloudbank-realm.json").read_text(encoding="utf-8"))
    assert written["realm"] == "cloudbank"
    assert len(written["users"]) == 1

"""CLOUDBANK_ENV=production: every service process refuses to start with a development password or secret."""

import pytest
from pydantic import ValidationError

from services.clientes.settings import ClientesSettings
from services.cuentas.settings import CuentasSettings
from services.perfil.settings import PerfilSettings
from services.platform.settings import ServiceSettings, is_dev_secret


@pytest.mark.parametrize("settings", [ClientesSettings, CuentasSettings, PerfilSettings])
def test_produccion_rechaza_las_contrasenas_por_defecto(
    monkeypatch: pytest.MonkeyPatch, settings: type[ServiceSettings]
) -> None:
    monkeypatch.setenv("CLOUDBANK_ENV", "production")
    with pytest.raises(ValidationError, match="development password"):
        settings()


def test_produccion_con_secretos_propios_arranca(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDBANK_ENV", "production")
    monkeypatch.setenv("CLIENTES_DATABASE_URL", "postgresql://bank:Xk2-f9Qz@db:5432/clientes")
    assert ClientesSettings().environment == "production"


def test_desarrollo_admite_los_valores_por_defecto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDBANK_ENV", raising=False)
    assert ClientesSettings().environment == "development"


@pytest.mark.parametrize(
    ("value", "dev"),
    [
        ("bank", True),
        ("admin-dev", True),
        ("cli-dev-secret", True),
        ("gateway-dev-secret", True),
        ("Xk2-f9Qz", False),
        ("developer", False),
    ],
)
def test_que_es_un_secreto_de_desarrollo(value: str, dev: bool) -> None:
    assert is_dev_secret(value) is dev

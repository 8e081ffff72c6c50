"""The request models refuse bad input naming the field (FastAPI turns these errors into 422 with that loc)."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.envelope import AuthContext
from services.clientes.domain import Cliente
from services.clientes.repository import _actor, _actor_json
from services.clientes.schemas import ClienteCreate, ClientePublic, ClienteUpdate


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nombre": "Ana",
        "apellido": "Pérez",
        "email": "ana@example.com",
        "documento": {"tipo_documento": "DNI", "numero_documento": "45678912"},
    }
    return body | overrides


def _error_locs(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as info:
        ClienteCreate.model_validate(body)
    return [tuple(e["loc"]) for e in info.value.errors()]


def test_alta_minima_toma_estado_activo_y_sin_telefono() -> None:
    cliente = ClienteCreate.model_validate(_body()).to_domain()
    assert cliente.estado == "activo"
    assert cliente.telefono is None
    assert cliente.documento.numero_documento == "45678912"


def test_ids_y_campos_del_servidor_en_el_cuerpo_se_ignoran() -> None:
    body = _body(cliente_id=1, fecha_registro="2000-01-01T00:00:00Z")
    body["documento"] |= {"documento_id": 5, "cliente_id": 1}
    cliente = ClienteCreate.model_validate(body)
    assert "cliente_id" not in cliente.model_dump()


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"nombre": ""}, ("nombre",)),
        ({"nombre": "   "}, ("nombre",)),
        ({"nombre": "x" * 101}, ("nombre",)),
        ({"apellido": "x" * 101}, ("apellido",)),
        ({"email": "no-es-email"}, ("email",)),
        ({"email": "a" * 140 + "@example.com"}, ("email",)),
        ({"telefono": "1" * 21}, ("telefono",)),
        ({"estado": "borrado"}, ("estado",)),
        ({"documento": {"tipo_documento": "Libreta", "numero_documento": "1"}}, ("documento", "tipo_documento")),
        ({"documento": {"tipo_documento": "DNI", "numero_documento": "123"}}, ("documento", "numero_documento")),
        ({"documento": {"tipo_documento": "RUC", "numero_documento": "45678912"}}, ("documento", "numero_documento")),
        (
            {"documento": {"tipo_documento": "Pasaporte", "numero_documento": "A" * 21}},
            ("documento", "numero_documento"),
        ),
        (
            {
                "documento": {
                    "tipo_documento": "DNI",
                    "numero_documento": "45678912",
                    "fecha_emision": "2024-01-01",
                    "fecha_vencimiento": "2023-01-01",
                }
            },
            ("documento", "fecha_vencimiento"),
        ),
        ({"nombre": "a\x00b"}, ("nombre",)),
    ],
)
def test_cada_campo_invalido_se_nombra(overrides: dict[str, Any], loc: tuple[str, ...]) -> None:
    assert loc in _error_locs(_body(**overrides))


def test_documento_es_obligatorio() -> None:
    body = _body()
    del body["documento"]
    assert ("documento",) in _error_locs(body)


def test_telefono_vacio_es_sin_telefono() -> None:
    assert ClienteCreate.model_validate(_body(telefono="  ")).telefono is None


def test_texto_se_recorta() -> None:
    assert ClienteCreate.model_validate(_body(nombre="  Ana ")).nombre == "Ana"


def test_update_distingue_telefono_ausente_de_nulo() -> None:
    assert not ClienteUpdate.model_validate({}).to_domain().telefono_set
    cambios = ClienteUpdate.model_validate({"telefono": None}).to_domain()
    assert cambios.telefono_set
    assert cambios.telefono is None


def test_update_sin_estado_no_toca_estado() -> None:
    assert ClienteUpdate.model_validate({"nombre": "Eva"}).to_domain().estado is None


@pytest.mark.parametrize(("field", "value"), [("estado", "eliminado"), ("email", "x"), ("nombre", "")])
def test_update_con_valor_invalido_nombra_el_campo(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as info:
        ClienteUpdate.model_validate({field: value})
    assert (field,) in [tuple(e["loc"]) for e in info.value.errors()]


def test_el_cliente_muestra_quien_lo_creo_y_quien_lo_cambio() -> None:
    cajero = AuthContext(authtype="user", authid="cajero")
    guardado = _actor_json(cajero)
    assert guardado is not None
    assert _actor(guardado) == cajero
    assert _actor(None) is None
    assert _actor_json(None) is None
    cliente = Cliente(
        cliente_id=1, nombre="Ana", apellido="Paz", email="ana@x.pe", telefono=None, estado="activo",
        fecha_registro=datetime(2026, 1, 1, tzinfo=UTC), creado_por=cajero,
        actualizado_por=AuthContext(authtype="unauthenticated"),
    )  # fmt: skip
    shown = ClientePublic.model_validate(cliente).model_dump(mode="json")
    assert shown["creado_por"] == {"authtype": "user", "authid": "cajero"}
    assert shown["actualizado_por"] == {"authtype": "unauthenticated", "authid": None}
    antiguo = ClientePublic.model_validate(replace(cliente, creado_por=None, actualizado_por=None))
    assert (antiguo.creado_por, antiguo.actualizado_por) == (None, None)

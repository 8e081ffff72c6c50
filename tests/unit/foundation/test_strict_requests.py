"""Path ids are plain ASCII integers, and a JSON number in a body keeps the text it was written as."""

from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter, ValidationError

from contracts.money import PositiveMoneyIn
from services.platform.ids import IdIn, PathId, SmallPathId
from services.platform.json_body import ExactNumbersRoute


class Body(BaseModel):
    monto: PositiveMoneyIn
    metadata: dict[str, Any] | None = None


def _client() -> TestClient:
    router = APIRouter(route_class=ExactNumbersRoute)

    @router.get("/cosas/{cosa_id}")
    async def cosa(cosa_id: PathId) -> dict[str, int]:
        return {"cosa_id": cosa_id}

    @router.get("/tipos/{tipo_id}")
    async def tipo(tipo_id: SmallPathId) -> dict[str, int]:
        return {"tipo_id": tipo_id}

    @router.post("/montos")
    async def monto(body: Body) -> dict[str, Any]:
        return {"monto": f"{body.monto:.2f}", "metadata": body.metadata}

    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


client = _client()


@pytest.mark.parametrize("raw", ["1", "42", "0042", str(2**63 - 1)])
def test_un_id_ascii_se_lee(raw: str) -> None:
    assert client.get(f"/cosas/{raw}").json() == {"cosa_id": int(raw)}


@pytest.mark.parametrize("raw", ["%201", "1%20", "+1", "-1", "١", "1_0", "1.0", "0x1", "1e3", "0", str(2**63)])
def test_un_id_que_no_es_un_entero_ascii_es_422_nombrando_el_parametro(raw: str) -> None:
    answer = client.get(f"/cosas/{raw}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["path", "cosa_id"]


def test_un_id_de_columna_int_tiene_su_limite() -> None:
    assert client.get(f"/tipos/{2**31 - 1}").status_code == 200
    assert client.get(f"/tipos/{2**31}").status_code == 422


@pytest.mark.parametrize(("body", "expected"), [('{"monto": 5.10}', "5.10"), ('{"monto": 12}', "12.00")])
def test_un_numero_json_en_la_gramatica_se_acepta(body: str, expected: str) -> None:
    answer = client.post("/montos", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["monto"] == expected


@pytest.mark.parametrize("number", ["1e-400", "5e-2", "1.0E+2", "5.001", "1E2", "-0.0"])
def test_un_numero_json_fuera_de_la_gramatica_es_422_aunque_un_float_lo_perdone(number: str) -> None:
    answer = client.post("/montos", content=f'{{"monto": {number}}}', headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "monto"]


def test_los_demas_numeros_del_cuerpo_siguen_siendo_numeros() -> None:
    answer = client.post("/montos", json={"monto": "1.00", "metadata": {"x": 1.5, "y": [2.25e3]}})
    assert answer.json()["metadata"] == {"x": 1.5, "y": [2250.0]}


@pytest.mark.parametrize("raw", [" 1", "+1", "١", "1_0", "1.0", 1.0, True, None, "1\n"])
def test_un_id_en_el_cuerpo_tambien_es_estricto(raw: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(IdIn).validate_python(raw)


@pytest.mark.parametrize(("raw", "expected"), [(7, 7), ("7", 7), ("007", 7)])
def test_un_id_en_el_cuerpo_puede_ser_entero_o_texto_ascii(raw: object, expected: int) -> None:
    assert TypeAdapter(IdIn).validate_python(raw) == expected

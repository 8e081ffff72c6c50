"""MS1 through HTTP on the running service: every endpoint's success and error answers (API.md §MS1)."""

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.clientes.conftest import nuevo_cliente


def _locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["detail"]]


def _dni() -> str:
    return f"{random.randrange(10**7, 10**8)}"


# --- POST /clientes ---


async def test_alta_devuelve_201_con_la_forma_del_contrato(api: httpx.AsyncClient) -> None:
    body = nuevo_cliente()
    response = await api.post("/clientes", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {
        "cliente_id",
        "nombre",
        "apellido",
        "email",
        "telefono",
        "estado",
        "fecha_registro",
        "documentos",
        "creado_por",
        "actualizado_por",
    }
    assert created["estado"] == "activo"
    assert created["email"] == body["email"]
    assert response.headers["location"] == f"/clientes/{created['cliente_id']}"
    [doc] = created["documentos"]
    assert set(doc) == {
        "documento_id",
        "cliente_id",
        "tipo_documento",
        "numero_documento",
        "fecha_emision",
        "fecha_vencimiento",
    }
    assert doc["cliente_id"] == created["cliente_id"]
    assert (doc["fecha_emision"], doc["fecha_vencimiento"]) == ("2020-01-15", "2030-01-15")
    registered = datetime.fromisoformat(created["fecha_registro"])
    assert registered.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - registered) < timedelta(minutes=5)


async def test_ids_del_cuerpo_nunca_sobrescriben_otro_cliente(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    body = nuevo_cliente(cliente_id=cliente["cliente_id"], fecha_registro="2000-01-01T00:00:00Z")
    body["documento"] |= {"documento_id": cliente["documentos"][0]["documento_id"]}
    response = await api.post("/clientes", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["cliente_id"] != cliente["cliente_id"]
    assert response.json()["documentos"][0]["documento_id"] != cliente["documentos"][0]["documento_id"]
    assert not response.json()["fecha_registro"].startswith("2000")
    assert (await api.get(f"/clientes/{cliente['cliente_id']}")).json() == cliente


async def test_email_duplicado_en_otra_capitalizacion_es_409(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    response = await api.post("/clientes", json=nuevo_cliente(email=cliente["email"].upper()))
    assert response.status_code == 409, response.text
    assert "email" in response.json()["detail"]


async def test_documento_duplicado_es_409(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    body = nuevo_cliente()
    # Passport numbers are compared upper-case, so the lower-case spelling is the same document.
    body["documento"]["numero_documento"] = cliente["documentos"][0]["numero_documento"].lower()
    response = await api.post("/clientes", json=body)
    assert response.status_code == 409, response.text
    assert "numero_documento" in response.json()["detail"]


async def test_dni_y_ruc_validos_se_registran(api: httpx.AsyncClient) -> None:
    for tipo in ("DNI", "RUC"):
        for _ in range(5):  # a random number may already belong to someone (demo data): draw another
            numero = _dni() if tipo == "DNI" else f"20{random.randrange(10**8, 10**9)}"
            body = nuevo_cliente()
            body["documento"] = {"tipo_documento": tipo, "numero_documento": numero}
            response = await api.post("/clientes", json=body)
            if response.status_code != 409:
                break
        assert response.status_code == 201, response.text
        assert response.json()["documentos"][0]["numero_documento"] == numero
        assert response.json()["documentos"][0]["fecha_emision"] is None


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"nombre": ""}, ["body", "nombre"]),
        ({"nombre": "   "}, ["body", "nombre"]),
        ({"nombre": "x" * 101}, ["body", "nombre"]),
        ({"apellido": "x" * 101}, ["body", "apellido"]),
        ({"apellido": None}, ["body", "apellido"]),
        ({"email": "no-es-un-email"}, ["body", "email"]),
        ({"email": "a" * 140 + "@example.com"}, ["body", "email"]),
        ({"telefono": "9" * 21}, ["body", "telefono"]),
        ({"estado": "eliminado"}, ["body", "estado"]),
        ({"nombre": "a\u0000b"}, ["body", "nombre"]),
        (
            {"documento": {"tipo_documento": "Libreta", "numero_documento": "1"}},
            ["body", "documento", "tipo_documento"],
        ),
        (
            {"documento": {"tipo_documento": "DNI", "numero_documento": "1234567"}},
            ["body", "documento", "numero_documento"],
        ),
        (
            {"documento": {"tipo_documento": "DNI", "numero_documento": "1234567X"}},
            ["body", "documento", "numero_documento"],
        ),
        (
            {"documento": {"tipo_documento": "RUC", "numero_documento": "12345678"}},
            ["body", "documento", "numero_documento"],
        ),
        (
            {"documento": {"tipo_documento": "Pasaporte", "numero_documento": "A" * 21}},
            ["body", "documento", "numero_documento"],
        ),
        (
            {"documento": {"tipo_documento": "Pasaporte", "numero_documento": ""}},
            ["body", "documento", "numero_documento"],
        ),
        (
            {
                "documento": {
                    "tipo_documento": "Pasaporte",
                    "numero_documento": "AB123",
                    "fecha_emision": "2025-01-01",
                    "fecha_vencimiento": "2024-01-01",
                }
            },
            ["body", "documento", "fecha_vencimiento"],
        ),
        ({"documento": None}, ["body", "documento"]),
    ],
)
async def test_cada_valor_invalido_es_422_nombrando_el_campo(
    api: httpx.AsyncClient, change: dict[str, Any], loc: list[Any]
) -> None:
    assert loc in _locs(await api.post("/clientes", json=nuevo_cliente(**change)))


async def test_cuerpo_que_no_es_json_es_422(api: httpx.AsyncClient) -> None:
    response = await api.post("/clientes", content=b"{no json", headers={"content-type": "application/json"})
    assert response.status_code == 422


async def test_dos_altas_simultaneas_con_el_mismo_email_una_gana_la_otra_409(api: httpx.AsyncClient) -> None:
    for _ in range(5):  # several rounds: the race has to happen, not just be possible
        email = f"carrera.{uuid.uuid4().hex[:12]}@example.com"
        responses = await asyncio.gather(
            api.post("/clientes", json=nuevo_cliente(email=email)),
            api.post("/clientes", json=nuevo_cliente(email=email.upper())),
        )
        assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]


async def test_dos_altas_simultaneas_con_el_mismo_documento_una_gana_la_otra_409(api: httpx.AsyncClient) -> None:
    for _ in range(5):
        dni = _dni()
        bodies = [nuevo_cliente(), nuevo_cliente()]
        for body in bodies:
            body["documento"] = {"tipo_documento": "DNI", "numero_documento": dni}
        responses = await asyncio.gather(*(api.post("/clientes", json=b) for b in bodies))
        codes = sorted(r.status_code for r in responses)
        # 409 both ways if the random DNI was already taken by someone else: still never a 500.
        assert codes in ([201, 409], [409, 409]), [r.text for r in responses]


# --- GET ---


async def test_get_por_id(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    response = await api.get(f"/clientes/{cliente['cliente_id']}")
    assert response.status_code == 200
    assert response.json() == cliente


@pytest.mark.parametrize("cliente_id", ["0", "999999999999", "99999999999999999999999999"])
async def test_get_de_id_desconocido_es_404(api: httpx.AsyncClient, cliente_id: str) -> None:
    response = await api.get(f"/clientes/{cliente_id}")
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("cliente_id", ["-1", "+1", "%201", "1_0"])
async def test_un_id_que_no_es_un_entero_ascii_es_422(api: httpx.AsyncClient, cliente_id: str) -> None:
    response = await api.get(f"/clientes/{cliente_id}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "cliente_id"]


async def test_get_con_id_no_numerico_es_422(api: httpx.AsyncClient) -> None:
    assert ["path", "cliente_id"] in _locs(await api.get("/clientes/abc"))


async def test_get_por_email_ignora_mayusculas(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    response = await api.get(f"/clientes/email/{cliente['email'].upper()}")
    assert response.status_code == 200
    assert response.json()["cliente_id"] == cliente["cliente_id"]
    assert (await api.get("/clientes/email/nadie.nunca@example.com")).status_code == 404


async def test_get_por_documento(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    numero = cliente["documentos"][0]["numero_documento"]
    for spelled in (numero, numero.lower()):
        response = await api.get(f"/clientes/documento/{spelled}")
        assert response.status_code == 200
        assert response.json()["cliente_id"] == cliente["cliente_id"]
    assert (await api.get("/clientes/documento/NOEXISTE123")).status_code == 404


# --- GET /clientes (list) ---


async def test_lista_paginada_ordenada_por_id_con_total(api: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:10]
    ids = []
    for _ in range(3):
        response = await api.post("/clientes", json=nuevo_cliente(tag))
        ids.append(response.json()["cliente_id"])
    first = await api.get("/clientes", params={"q": tag, "limit": 2})
    assert first.status_code == 200
    assert first.headers["x-total-count"] == "3"
    assert [c["cliente_id"] for c in first.json()] == ids[:2]
    rest = await api.get("/clientes", params={"q": tag, "skip": 2, "limit": 2})
    assert rest.headers["x-total-count"] == "3"
    assert [c["cliente_id"] for c in rest.json()] == ids[2:]


async def test_lista_sin_filtros_ordenada_y_con_total(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    response = await api.get("/clientes", params={"limit": 500})
    ids = [c["cliente_id"] for c in response.json()]
    assert ids == sorted(ids)
    assert int(response.headers["x-total-count"]) >= len(ids) >= 1


async def test_filtro_por_estado(api: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:10]
    await api.post("/clientes", json=nuevo_cliente(tag))
    bloqueado = (await api.post("/clientes", json=nuevo_cliente(tag, estado="bloqueado"))).json()
    response = await api.get("/clientes", params={"q": tag, "estado": "bloqueado"})
    assert [c["cliente_id"] for c in response.json()] == [bloqueado["cliente_id"]]
    assert response.headers["x-total-count"] == "1"


async def test_busqueda_q_en_nombre_email_y_documento_sin_distinguir_mayusculas(
    api: httpx.AsyncClient, cliente: dict[str, Any]
) -> None:
    for q in (
        cliente["email"].upper(),
        cliente["apellido"].lower(),
        cliente["documentos"][0]["numero_documento"].lower(),
        f"{cliente['nombre']} {cliente['apellido']}",
    ):
        response = await api.get("/clientes", params={"q": q})
        assert cliente["cliente_id"] in [c["cliente_id"] for c in response.json()], q


async def test_comodines_de_like_en_q_se_buscan_literalmente(api: httpx.AsyncClient) -> None:
    response = await api.get("/clientes", params={"q": "%_%"})
    assert response.status_code == 200
    assert response.headers["x-total-count"] == "0"


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 501}, ["query", "limit"]),
        ({"skip": -1}, ["query", "skip"]),
        ({"estado": "borrado"}, ["query", "estado"]),
        ({"q": "x" * 101}, ["query", "q"]),
    ],
)
async def test_parametros_de_lista_invalidos_son_422(
    api: httpx.AsyncClient, params: dict[str, Any], loc: list[Any]
) -> None:
    assert loc in _locs(await api.get("/clientes", params=params))


# --- PUT ---


async def test_put_sin_estado_conserva_el_estado(api: httpx.AsyncClient) -> None:
    created = (await api.post("/clientes", json=nuevo_cliente(estado="bloqueado"))).json()
    response = await api.put(
        f"/clientes/{created['cliente_id']}",
        json={"nombre": "Beatriz", "apellido": "Gómez", "email": created["email"]},
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["estado"] == "bloqueado"
    assert (updated["nombre"], updated["apellido"], updated["telefono"]) == ("Beatriz", "Gómez", created["telefono"])
    assert (await api.get(f"/clientes/{created['cliente_id']}")).json() == updated


async def test_put_cambia_solo_lo_que_recibe(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    response = await api.put(f"/clientes/{cliente['cliente_id']}", json={"estado": "inactivo", "cliente_id": 1})
    assert response.status_code == 200, response.text
    assert response.json() == cliente | {"estado": "inactivo"}


async def test_put_de_cliente_desconocido_es_404(api: httpx.AsyncClient) -> None:
    assert (await api.put("/clientes/999999999999", json={"nombre": "X"})).status_code == 404


async def test_put_con_email_de_otro_cliente_es_409(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    other = (await api.post("/clientes", json=nuevo_cliente())).json()
    response = await api.put(f"/clientes/{other['cliente_id']}", json={"email": cliente["email"].upper()})
    assert response.status_code == 409
    assert "email" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"estado": "eliminado"}, ["body", "estado"]),
        ({"email": "x"}, ["body", "email"]),
        ({"nombre": ""}, ["body", "nombre"]),
        ({"telefono": "1" * 21}, ["body", "telefono"]),
    ],
)
async def test_put_con_valor_invalido_es_422(
    api: httpx.AsyncClient, cliente: dict[str, Any], body: dict[str, Any], loc: list[Any]
) -> None:
    assert loc in _locs(await api.put(f"/clientes/{cliente['cliente_id']}", json=body))


# --- DELETE ---


async def test_baja_sin_cuentas_borra_y_luego_404(api: httpx.AsyncClient, cliente: dict[str, Any]) -> None:
    cliente_id = cliente["cliente_id"]
    response = await api.delete(f"/clientes/{cliente_id}")
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["mensaje"], str)
    assert (await api.get(f"/clientes/{cliente_id}")).status_code == 404
    assert (await api.get(f"/clientes/email/{cliente['email']}")).status_code == 404
    assert (await api.get(f"/clientes/documento/{cliente['documentos'][0]['numero_documento']}")).status_code == 404
    assert (await api.put(f"/clientes/{cliente_id}", json={"nombre": "X"})).status_code == 404
    assert (await api.delete(f"/clientes/{cliente_id}")).status_code == 404
    listed = await api.get("/clientes", params={"q": cliente["email"]})
    assert listed.json() == []
    assert listed.headers["x-total-count"] == "0"


async def test_email_y_documento_de_un_cliente_borrado_pueden_registrarse_de_nuevo(
    api: httpx.AsyncClient, cliente: dict[str, Any]
) -> None:
    assert (await api.delete(f"/clientes/{cliente['cliente_id']}")).status_code == 200
    body = nuevo_cliente(email=cliente["email"])
    body["documento"]["numero_documento"] = cliente["documentos"][0]["numero_documento"]
    response = await api.post("/clientes", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["cliente_id"] != cliente["cliente_id"]


async def test_baja_de_cliente_desconocido_es_404(api: httpx.AsyncClient) -> None:
    assert (await api.delete("/clientes/999999999999")).status_code == 404


# --- platform ---


async def test_health_prueba_base_de_datos_y_kafka(api: httpx.AsyncClient) -> None:
    response = await api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["kafka"]) == ("healthy", "connected", "connected")


async def test_cors_preflight_de_otro_origen(api: httpx.AsyncClient) -> None:
    response = await api.options(
        "/clientes",
        headers={"Origin": "http://spa.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "http://spa.example")

"""The REST contract in memory: validation answers 422 naming the field, domain errors map to 404/409, money is a
two-decimal string. The use cases are replaced by a stub (their SQL is covered by the integration tests)."""

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import httpx
import pymysql
import pytest
from fastapi import FastAPI

from services.cuentas.domain import Cuenta
from services.cuentas.errors import CuentaNoEncontrada, SaldoInsuficiente
from services.cuentas.main import Resources, create_app
from services.cuentas.service import Apertura, CuentasService
from services.cuentas.settings import CuentasSettings
from tests.asgi import in_process
from tests.signing import admin_headers, authorized

CUENTA = Cuenta(
    cuenta_id=5,
    cliente_id=9,
    tipo_cuenta_id=3,
    numero_cuenta="1234567890123",
    saldo=Decimal("1500"),
    moneda="PEN",
    fecha_apertura=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    estado="activa",
    tipo_cuenta_nombre="Cuenta Premium",
    tipo_cuenta_descripcion="d",
    costo_mantenimiento=Decimal("15"),
    tasa_interes=Decimal("1.5"),
)


class StubService:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def cuenta(self, cuenta_id: int) -> Cuenta:
        if cuenta_id != 5:
            raise CuentaNoEncontrada(cuenta_id)
        return CUENTA

    async def cuentas(self, **kw: Any) -> tuple[list[Cuenta], int]:
        self.calls.append(("cuentas", kw))
        return [CUENTA], 41

    async def abrir_cuenta(self, apertura: Apertura, idem: Any = None) -> Cuenta:
        self.calls.append(("abrir_cuenta", dataclasses.asdict(apertura)))
        return CUENTA

    async def respuesta_registrada(self, clave: str) -> None:
        return None  # no Idempotency-Key recorded (the replay itself is covered by tests/integration)

    async def mover_saldo(self, cuenta_id: int, **kw: Any) -> Cuenta:
        kw.pop("idem", None)
        self.calls.append(("mover_saldo", kw))
        if kw["monto"] > 1000:
            raise SaldoInsuficiente()
        return CUENTA

    async def movimientos(self, cuenta_id: int, **kw: Any) -> tuple[list[Any], int]:
        self.calls.append(("movimientos", kw))
        return [], 0


async def _connected() -> None:
    return None


def _app(service: object) -> FastAPI:
    """The real cuentas app (its routes, error path and /health) serving from `service` instead of MariaDB."""
    return create_app(CuentasSettings(), Resources(cast(CuentasService, service), {"database": _connected}))


@pytest.fixture
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, StubService]]:
    stub = StubService()
    async with in_process(authorized(_app(stub)), headers=admin_headers()) as c:
        yield c, stub


def _fields(response: httpx.Response) -> list[str]:
    return [str(e["loc"][-1]) for e in response.json()["detail"]]


async def test_cuenta_con_dinero_como_texto_de_dos_decimales(client: tuple[httpx.AsyncClient, StubService]) -> None:
    c, _ = client
    body = (await c.get("/cuentas/5")).json()
    assert body["saldo"] == "1500.00"
    assert body["costo_mantenimiento"] == "15.00"
    assert body["tasa_interes"] == "1.50"
    assert body["numero_cuenta"] == "1234567890123"


async def test_cuenta_desconocida_es_404(client: tuple[httpx.AsyncClient, StubService]) -> None:
    c, _ = client
    r = await c.get("/cuentas/6")
    assert r.status_code == 404
    assert "detail" in r.json()


@pytest.mark.parametrize("monto", [0, -500, "-500", "1.001", "abc", "NaN", "Infinity", "12345678901234.00", None, True])
async def test_monto_invalido_es_422_nombrando_el_campo(
    client: tuple[httpx.AsyncClient, StubService], monto: Any
) -> None:
    c, stub = client
    r = await c.patch("/cuentas/5/saldo", json={"monto": monto, "operacion": "retiro"})
    assert r.status_code == 422, r.text
    assert "monto" in _fields(r)
    assert not stub.calls


async def test_monto_acepta_numero_o_texto(client: tuple[httpx.AsyncClient, StubService]) -> None:
    c, stub = client
    for monto in (12.5, "12.50", 12):
        r = await c.put("/cuentas/5/saldo", json={"monto": monto, "operacion": "Deposito"})
        assert r.status_code == 200, r.text
    assert [kw["monto"] for _, kw in stub.calls] == [Decimal("12.50"), Decimal("12.50"), Decimal("12.00")]
    assert {kw["operacion"] for _, kw in stub.calls} == {"deposito"}


async def test_operacion_desconocida_es_422(client: tuple[httpx.AsyncClient, StubService]) -> None:
    c, _ = client
    r = await c.patch("/cuentas/5/saldo", json={"monto": "1.00", "operacion": "transferir"})
    assert r.status_code == 422
    assert "operacion" in _fields(r)


async def test_saldo_insuficiente_es_409(client: tuple[httpx.AsyncClient, StubService]) -> None:
    c, _ = client
    r = await c.patch("/cuentas/5/saldo", json={"monto": "1000.01", "operacion": "retiro"})
    assert r.status_code == 409
    assert r.json()["detail"] == r.json()["error"] == "Saldo insuficiente"
    assert r.json()["message"] == "Saldo insuficiente."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cliente_id": 1, "tipo_cuenta_id": 1, "saldo": "-1.00"}, "saldo"),
        ({"cliente_id": 1, "tipo_cuenta_id": 1, "saldo": "1.005"}, "saldo"),
        ({"cliente_id": 1, "tipo_cuenta_id": 1, "moneda": "GBP"}, "moneda"),
        ({"cliente_id": 0, "tipo_cuenta_id": 1}, "cliente_id"),
        ({"cliente_id": 2**63, "tipo_cuenta_id": 1}, "cliente_id"),
        ({"tipo_cuenta_id": 1}, "cliente_id"),
        ({"cliente_id": 1, "tipo_cuenta_id": 2**31}, "tipo_cuenta_id"),
    ],
)
async def test_apertura_invalida_es_422(
    client: tuple[httpx.AsyncClient, StubService], body: dict[str, Any], field: str
) -> None:
    c, _ = client
    r = await c.post("/cuentas", json=body)
    assert r.status_code == 422, r.text
    assert field in _fields(r)


async def test_apertura_ignora_ids_y_estado_del_cliente(client: tuple[httpx.AsyncClient, StubService]) -> None:
    c, stub = client
    body = {"cliente_id": 9, "tipo_cuenta_id": 3, "cuenta_id": 1, "numero_cuenta": "1", "estado": "cerrada"}
    r = await c.post("/cuentas", json=body)
    assert r.status_code == 201
    assert stub.calls == [
        (
            "abrir_cuenta",
            {
                "cliente_id": 9,
                "tipo_cuenta_id": 3,
                "saldo": Decimal("0.00"),
                "moneda": "PEN",
                "correlation_id": None,
                # who asks: the principal of the (test-signed) admin token the client sends
                "actor": {"authtype": "user", "authid": "admin"},
            },
        )
    ]


async def test_lista_paginada_con_total(client: tuple[httpx.AsyncClient, StubService]) -> None:
    c, stub = client
    r = await c.get("/cuentas", params={"skip": 40, "limit": 1, "estado": "ACTIVA", "moneda": "pen"})
    assert r.status_code == 200
    assert r.headers["X-Total-Count"] == "41"
    assert stub.calls[-1][1] == {"cliente_id": None, "estado": "activa", "moneda": "PEN", "skip": 40, "limit": 1}
    assert (await c.get("/cuentas", params={"limit": 501})).status_code == 422
    assert (await c.get("/cuentas", params={"estado": "perdida"})).status_code == 422


async def test_rango_de_fechas_invertido_es_422(client: tuple[httpx.AsyncClient, StubService]) -> None:
    c, _ = client
    r = await c.get("/cuentas/5/movimientos", params={"desde": "2024-02-01T00:00:00Z", "hasta": "2024-01-01T00:00:00Z"})
    assert r.status_code == 422
    assert "hasta" in _fields(r)
    r = await c.get("/cuentas/5/movimientos", params={"desde": "0001-01-01T00:00:00+05:00"})
    assert r.status_code == 422


async def test_fecha_sin_zona_se_lee_como_utc(client: tuple[httpx.AsyncClient, StubService]) -> None:
    c, stub = client
    r = await c.get("/cuentas/5/movimientos", params={"desde": "2024-01-01T10:00:00"})
    assert r.status_code == 200
    assert stub.calls[-1][1]["desde"] == datetime(2024, 1, 1, 10, tzinfo=UTC)


async def test_base_de_datos_caida_es_503_no_500() -> None:
    class Down:
        async def cuenta(self, cuenta_id: int) -> Cuenta:
            raise pymysql.err.OperationalError(2003, "Can't connect to MySQL server")

    async with in_process(authorized(_app(Down())), headers=admin_headers()) as c:
        r = await c.get("/cuentas/5")
    assert r.status_code == 503
    assert r.headers["retry-after"]
    assert {"detail", "error", "message"} <= r.json().keys()

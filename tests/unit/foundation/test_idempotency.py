"""The shared Idempotency-Key logic (services/platform/idempotency.py) on a tiny app with an in-memory record
store: replay of the recorded answer, 409 for another request, a key committed meanwhile, key validation, and the
failpoint that stays inert unless the settings enable it."""

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import Path, Request, Response
from pydantic import BaseModel

from services.platform.app import create_base_app
from services.platform.idempotency import (
    IdempotencyKey,
    Keyed,
    KeyTaken,
    Recorded,
    fingerprint,
    run_keyed,
)
from services.platform.settings import ServiceSettings
from tests.signing import TEST_POLICY, admin_headers, authorized


class Saldo(BaseModel):
    saldo: str


class Monto(BaseModel):
    monto: int


class Ledger:
    """A fake account whose writes record their answer with the effect, as the SQL stores do in one transaction."""

    def __init__(self) -> None:
        self.saldo = 0
        self.records: dict[str, Recorded] = {}
        self.taken_meanwhile: Recorded | None = None

    async def find(self, key: str) -> Recorded | None:
        return self.records.get(key)

    async def deposit(self, monto: int, idem: Keyed[int] | None) -> int:
        if idem is not None:
            if self.taken_meanwhile is not None:  # another request committed the key while this one ran
                raise KeyTaken(self.taken_meanwhile)
            self.records[idem.key] = idem.record(self.saldo + monto)
        self.saldo += monto
        return self.saldo


@pytest.fixture
async def setup() -> AsyncIterator[tuple[httpx.AsyncClient, Ledger]]:
    app = authorized(create_base_app(title="t", version="0", cors_origins=["*"], policy=TEST_POLICY))
    ledger = Ledger()

    @app.patch("/cuentas/{cuenta_id}/saldo", response_model=Saldo)
    async def deposit(
        cuenta_id: Annotated[int, Path()], body: Monto, request: Request, idempotency_key: IdempotencyKey = None
    ) -> Saldo | Response:
        return await run_keyed(
            request,
            idempotency_key,
            body,
            find=ledger.find,
            write=lambda idem: ledger.deposit(body.monto, idem),
            render=lambda saldo: Saldo(saldo=f"{saldo}.00"),
            location=lambda _: f"/cuentas/{cuenta_id}",
        )

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=admin_headers()
    ) as c:
        yield c, ledger


async def test_sin_clave_cada_peticion_se_aplica(setup: tuple[httpx.AsyncClient, Ledger]) -> None:
    c, ledger = setup
    for _ in range(2):
        assert (await c.patch("/cuentas/1/saldo", json={"monto": 5})).status_code == 200
    assert ledger.saldo == 10
    assert ledger.records == {}


async def test_misma_clave_y_cuerpo_devuelve_la_respuesta_registrada(setup: tuple[httpx.AsyncClient, Ledger]) -> None:
    c, ledger = setup
    first = await c.patch("/cuentas/1/saldo", json={"monto": 5}, headers={"Idempotency-Key": "k1"})
    again = await c.patch("/cuentas/1/saldo", json={"monto": 5}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"saldo": "5.00"}
    assert first.headers["Location"] == again.headers["Location"] == "/cuentas/1"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ledger.saldo == 5


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [("/cuentas/1/saldo", "PATCH", {"monto": 6}), ("/cuentas/2/saldo", "PATCH", {"monto": 5})],
)
async def test_misma_clave_con_otra_peticion_es_409(
    setup: tuple[httpx.AsyncClient, Ledger], path: str, method: str, body: dict[str, int]
) -> None:
    c, ledger = setup
    await c.patch("/cuentas/1/saldo", json={"monto": 5}, headers={"Idempotency-Key": "k1"})
    r = await c.request(method, path, json=body, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 409
    assert "Idempotency-Key" in r.json()["detail"]
    assert ledger.saldo == 5


async def test_clave_registrada_mientras_tanto_devuelve_esa_respuesta(setup: tuple[httpx.AsyncClient, Ledger]) -> None:
    c, ledger = setup
    ledger.taken_meanwhile = Recorded(fingerprint("PATCH", "/cuentas/1/saldo", {"monto": 5}), 200, '{"saldo":"5.00"}')
    r = await c.patch("/cuentas/1/saldo", json={"monto": 5}, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 200
    assert r.json() == {"saldo": "5.00"}
    assert r.headers["Idempotent-Replayed"] == "true"
    assert ledger.saldo == 0  # this request's own work rolled back


@pytest.mark.parametrize("key", [b"", b"x" * 201, "ñ".encode(), b"a\tb"])
async def test_clave_invalida_es_422(setup: tuple[httpx.AsyncClient, Ledger], key: bytes) -> None:
    c, ledger = setup
    r = await c.patch("/cuentas/1/saldo", json={"monto": 5}, headers=[(b"Idempotency-Key", key)])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert ledger.saldo == 0


async def test_clave_de_200_caracteres_visibles_con_espacios_internos_vale(
    setup: tuple[httpx.AsyncClient, Ledger],
) -> None:
    c, _ = setup
    key = "a b~" + "x" * 196
    r = await c.patch("/cuentas/1/saldo", json={"monto": 5}, headers={"Idempotency-Key": key})
    assert r.status_code == 200


def test_la_huella_es_la_peticion_interpretada() -> None:
    assert fingerprint("patch", "/a", {"x": 1, "y": [1, 2]}) == fingerprint("PATCH", "/a", {"y": [1, 2], "x": 1})
    assert fingerprint("PATCH", "/a", {"x": 1}) != fingerprint("PUT", "/a", {"x": 1})
    assert fingerprint("PATCH", "/a", {"x": 1}) != fingerprint("PATCH", "/b", {"x": 1})
    assert fingerprint("PATCH", "/a", None) != fingerprint("PATCH", "/a", {})


async def test_el_failpoint_no_actua_sin_la_inyeccion_de_fallos_activada(
    setup: tuple[httpx.AsyncClient, Ledger],
) -> None:
    """The test app never set fault_injection: the header is ignored (else this test process would die)."""
    c, ledger = setup
    headers = {"Idempotency-Key": "k1", "X-Failpoint": "crash-after-commit"}
    assert (await c.patch("/cuentas/1/saldo", json={"monto": 5}, headers=headers)).status_code == 200
    assert ledger.saldo == 5


def test_la_inyeccion_de_fallos_se_rechaza_en_produccion() -> None:
    with pytest.raises(ValueError, match="fault injection"):
        ServiceSettings(environment="production", fault_injection=True)
    assert ServiceSettings().fault_injection is False

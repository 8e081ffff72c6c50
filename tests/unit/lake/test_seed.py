"""Demo data: valid, unique, deterministic; the loader tops up only what is missing (fake services)."""

import json
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from bank.seed import data
from bank.seed.loader import Seeder
from bank.seed.targets import Targets, Urls

EMAIL = re.compile(r"^[a-z0-9.]+@[a-z0-9.-]+\.[a-z]{2,}$")


def test_clientes_validos_unicos_y_deterministas():
    clientes = data.clientes(3000)
    assert clientes == data.clientes(3000)
    assert len({c["email"] for c in clientes}) == 3000
    assert len({c["documento"]["numero_documento"] for c in clientes}) == 3000
    assert all(EMAIL.match(c["email"]) and len(c["email"]) <= 150 for c in clientes)
    assert all(len(c["nombre"]) <= 100 and len(c["apellido"]) <= 100 for c in clientes)
    for c in clientes:
        doc = c["documento"]
        if doc["tipo_documento"] == "DNI":
            assert re.fullmatch(r"\d{8}", doc["numero_documento"])
        if doc["tipo_documento"] == "RUC":
            assert re.fullmatch(r"\d{11}", doc["numero_documento"])
        assert len(doc["numero_documento"]) <= 20
        assert doc["fecha_vencimiento"] > doc["fecha_emision"]
    assert set(Counter(c["documento"]["tipo_documento"] for c in clientes)) == {
        "DNI",
        "Pasaporte",
        "RUC",
        "Carnet Extranjeria",
    }


def test_cuentas_reparten_tipos_y_monedas_entre_clientes_activos():
    cuentas = data.cuentas(2000, list(range(1, 1500)), [1, 2, 3, 4])
    assert {c["moneda"] for c in cuentas} == {"PEN", "USD", "EUR"}
    assert {c["tipo_cuenta_id"] for c in cuentas} == {1, 2, 3, 4}
    assert len({c["cliente_id"] for c in cuentas}) == 1499  # everyone before anyone twice
    assert all(Decimal(c["saldo"]) >= 0 for c in cuentas)


def test_transacciones_de_los_cuatro_tipos_con_las_cuentas_que_corresponden():
    vistas = [data.CuentaVista(i, ("PEN", "USD", "EUR")[i % 3], Decimal("1000.00")) for i in range(1, 60)]
    moneda = {v.cuenta_id: v.moneda for v in vistas}
    txs = data.transacciones(2000, vistas)
    assert {t["tipo"] for t in txs} == {"DEPOSITO", "RETIRO", "TRANSFERENCIA", "PAGO_SERVICIO"}
    for t in txs:
        assert Decimal(t["monto"]) > 0
        if t["tipo"] == "DEPOSITO":
            assert "cuentaOrigenId" not in t
            assert moneda[t["cuentaDestinoId"]] == t["moneda"]
        elif t["tipo"] == "TRANSFERENCIA":
            assert t["cuentaOrigenId"] != t["cuentaDestinoId"]
            assert moneda[t["cuentaOrigenId"]] == moneda[t["cuentaDestinoId"]] == t["moneda"]
        else:
            assert "cuentaDestinoId" not in t


class FakeBank:
    """Just enough of the three services' batch endpoints for the loader."""

    def __init__(self, clientes: int = 0, cuentas: int = 0, transacciones: int = 0, replica_lag: int = 0) -> None:
        self.counts = {"clientes": clientes, "cuentas": cuentas, "transacciones": transacciones}
        self.items: Counter[str] = Counter()  # items received per resource
        self.emails: set[str] = set()
        self.keys: set[str] = set()
        self.replica_lag = replica_lag  # how many cuentas are refused (404) before the replica catches up
        self.running = 0  # sagas in progress (PENDIENTE)
        self.peak_running = 0
        self.token_requests = 0
        self.authorizations: set[str | None] = set()  # Authorization headers the services saw

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/protocol/openid-connect/token"):  # Keycloak: the seed's client-credentials token
            self.token_requests += 1
            return httpx.Response(200, json={"access_token": "fake-token", "expires_in": 300})
        self.authorizations.add(request.headers.get("Authorization"))
        if request.method == "GET" and path == "/tipos-cuenta":
            return httpx.Response(200, json=[{"tipo_cuenta_id": i} for i in (1, 2, 3, 4)])
        if request.method == "GET" and path == "/transacciones/estado/PENDIENTE":
            self.running = max(0, self.running - 3)  # a few sagas end between two polls
            return httpx.Response(200, json=[], headers={"X-Total-Count": str(self.running)})
        if request.method == "GET" and path.startswith("/transacciones/estado/"):
            total = self.counts["transacciones"] if path.endswith("COMPLETADA") else 0
            return httpx.Response(200, json=[], headers={"X-Total-Count": str(total)})
        if request.method == "GET":
            name = path.strip("/")
            skip, limit = int(request.url.params.get("skip", 0)), int(request.url.params.get("limit", 100))
            total = self.counts[name]
            rows = [
                {"cliente_id": i + 1, "cuenta_id": i + 1, "moneda": "PEN", "saldo": "100.00"}
                for i in range(skip, min(total, skip + limit))
            ]
            return httpx.Response(200, json=rows, headers={"X-Total-Count": str(total)})
        name = path.strip("/").removesuffix("/lote")
        items: list[dict[str, Any]] = json.loads(request.content)[name]
        self.items[name] += len(items)
        resultados = [{"indice": i, **self._one(name, item)} for i, item in enumerate(items)]
        self.peak_running = max(self.peak_running, self.running)
        creados = sum(1 for r in resultados if r["status"] < 300)
        return httpx.Response(
            200, json={"creados": creados, "rechazados": len(items) - creados, "resultados": resultados}
        )

    def _one(self, name: str, item: dict[str, Any]) -> dict[str, Any]:
        if name == "clientes":
            if item["email"] in self.emails:
                return {"status": 409, "detail": "email ya registrado", "campo": "email"}
            self.emails.add(item["email"])
        if name == "cuentas" and self.replica_lag > 0:
            self.replica_lag -= 1
            return {"status": 404, "detail": "cliente no existe"}
        if name == "transacciones":
            assert item["idempotency_key"] not in self.keys
            self.keys.add(item["idempotency_key"])
            self.running += 1
        self.counts[name] += 1
        return {"status": 202 if name == "transacciones" else 201, "id": self.counts[name]}


async def run(bank: FakeBank, targets: Targets, batch: int = 7) -> list[Any]:
    seeder = Seeder(
        Urls("http://c", "http://k", "http://t"), batch=batch, progress=False, sagas_in_flight=20, poll_seconds=0
    )
    transport = httpx.MockTransport(bank.handler)
    original = httpx.AsyncClient.__init__

    def patched(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **(kwargs | {"transport": transport}))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(httpx.AsyncClient, "__init__", patched)
        return await seeder.run(targets)


async def test_sistema_vacio_se_llena_por_lotes_y_reintenta_mientras_la_replica_se_pone_al_dia(monkeypatch):
    monkeypatch.setattr("bank.seed.loader.asyncio.sleep", _no_sleep)
    bank = FakeBank(replica_lag=5)
    results = await run(bank, Targets(30, 30, 30))
    assert [r.created for r in results] == [30, 30, 30]
    assert bank.items["cuentas"] == 35  # five 404s sent again
    assert results[2].outcomes["COMPLETADA"] == 30
    assert results[2].settled_seconds is not None
    assert bank.authorizations == {"Bearer fake-token"}  # every call, with one token for the whole run
    assert bank.token_requests == 1


async def test_los_lotes_respetan_el_tope_de_sagas_en_curso(monkeypatch):
    monkeypatch.setattr("bank.seed.loader.asyncio.sleep", _no_sleep)
    bank = FakeBank()
    await run(bank, Targets(10, 10, 100), batch=5)
    # 20 may run; one round of batch x concurrency (10) is sent only when at most 20 run.
    assert 20 < bank.peak_running <= 30  # without the cap all 100 would run at once


async def test_sistema_ya_sembrado_no_hace_nada():
    bank = FakeBank(clientes=30, cuentas=30, transacciones=30)
    results = await run(bank, Targets(30, 30, 30))
    assert sum(bank.items.values()) == 0
    assert [r.existing for r in results] == [30, 30, 30]


async def test_siembra_interrumpida_completa_solo_lo_que_falta():
    bank = FakeBank(cuentas=25)
    bank.emails = {c["email"] for c in data.clientes(30)[:10]}
    bank.counts["clientes"] = 10
    results = await run(bank, Targets(30, 30, 30))
    assert (results[0].created, results[0].already) == (20, 0)
    assert results[1].created == 5
    assert results[2].created == 30


async def test_registros_escritos_fuera_de_orden_se_saltan_y_se_completa_el_total():
    # An interrupted run wrote clientes 10..19 but not 0..9: the service counts 10, the top-up starts at index 10,
    # finds those taken (409) and goes on with the next ones until 30 exist.
    bank = FakeBank()
    bank.emails = {c["email"] for c in data.clientes(20)[10:20]}
    bank.counts["clientes"] = 10
    results = await run(bank, Targets(30, 0, 0))
    assert (results[0].created, results[0].already) == (20, 10)
    assert bank.counts["clientes"] == 30


async def _no_sleep(_: float) -> None:
    return None


async def test_una_peticion_espera_al_servicio_que_reinicia_y_luego_se_rinde(monkeypatch):
    monkeypatch.setattr("bank.seed.loader.asyncio.sleep", _no_sleep)
    answers: Iterator[httpx.Response | Exception] = iter(
        [httpx.ConnectError("refused"), httpx.Response(503), httpx.Response(200, json={"ok": True})]
    )

    def handler(_: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    seeder = Seeder(Urls("http://c", "http://q", "http://t"), progress=False)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        response = await seeder._request(http, "GET", "http://c/x", attempts=5)
        assert response.json() == {"ok": True}
    calls: list[httpx.Request] = []

    def unavailable(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503)

    async with httpx.AsyncClient(transport=httpx.MockTransport(unavailable)) as http:
        with pytest.raises(httpx.HTTPStatusError):
            await seeder._request(http, "GET", "http://c/x", attempts=3)
    assert len(calls) == 3
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(422))) as http:
        with pytest.raises(httpx.HTTPStatusError):
            await seeder._request(http, "GET", "http://c/x", attempts=3)

    def down(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as http:
        with pytest.raises(httpx.ConnectError):
            await seeder._request(http, "GET", "http://c/x", attempts=3)

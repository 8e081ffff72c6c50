"""MS4 against the real running services: every saga branch, validation, idempotency, cancel rules, queries."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from services.transacciones.main import create_app
from services.transacciones.settings import TransaccionesSettings
from tests.asgi import in_process
from tests.integration.auth import Bearer
from tests.integration.conftest import MONGO_URL
from tests.integration.transacciones.conftest import Banco, CuentaFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


def transferencia(origen: int, destino: int, monto: str | int = "10.00", **extra: Any) -> dict[str, Any]:
    return {
        "tipo": "TRANSFERENCIA",
        "monto": monto,
        "moneda": "PEN",
        "cuentaOrigenId": origen,
        "cuentaDestinoId": destino,
    } | extra


# --- the saga's branches ----------------------------------------------------------------------------------------


async def test_deposito_retiro_y_pago_de_servicio_mueven_el_saldo(banco: Banco, cuenta: CuentaFactory) -> None:
    c = await cuenta("100.00")
    dep = await banco.final({"tipo": "DEPOSITO", "monto": "50.25", "moneda": "PEN", "cuentaDestinoId": c})
    assert (dep["estado"], dep["monto"], dep["motivo"]) == ("COMPLETADA", "50.25", None)
    ret = await banco.final({"tipo": "RETIRO", "monto": 20, "moneda": "PEN", "cuentaOrigenId": c})
    assert ret["estado"] == "COMPLETADA"
    pago = await banco.final({"tipo": "PAGO_SERVICIO", "monto": "0.25", "moneda": "PEN", "cuentaOrigenId": c})
    assert pago["estado"] == "COMPLETADA"
    assert await banco.saldo(c) == Decimal("130.00")


async def test_transferencia_completa_responde_201_con_el_estado_final(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b = await cuenta("100.00"), await cuenta()
    r = await banco.post(transferencia(a, b, "30.50", descripcion="alquiler", metadata={"ref": [1, {"x": None}]}))
    assert r.status_code == 201, r.text  # the saga ends well within the POST's wait on an idle stack
    body = r.json()
    assert set(body) == {
        "id", "transaccionId", "tipo", "cuentaOrigenId", "cuentaDestinoId", "monto", "moneda", "descripcion",
        "fecha", "estado", "motivo", "metadata", "actor", "canceladaPor", "reversionDe", "revertidaPor",
        "cotizacionId", "montoDestino", "monedaDestino",
    }  # fmt: skip
    assert (body["cotizacionId"], body["montoDestino"], body["monedaDestino"]) == (None, None, None)  # one currency
    assert body["estado"] == "COMPLETADA"
    assert body["transaccionId"] == "TRX" + body["id"]
    assert body["metadata"] == {"ref": [1, {"x": None}]}
    assert (await banco.saldo(a), await banco.saldo(b)) == (Decimal("69.50"), Decimal("30.50"))


async def test_prefer_wait_fija_la_espera_y_se_confirma_con_preference_applied(
    banco: Banco, cuenta: CuentaFactory
) -> None:
    """RFC 7240: the client says how long it can wait for the saga's end (capped), the answer says it was applied;
    a refusal (409) says so too, and a request without the header gets none."""
    a, b = await cuenta("10.00"), await cuenta()
    ok = await banco.trx.post("/transacciones", json=transferencia(a, b, "1.00"), headers={"Prefer": "wait=10"})
    assert (ok.status_code, ok.headers.get("Preference-Applied")) == (201, "wait=10"), ok.text
    capped = await banco.trx.post("/transacciones", json=transferencia(a, b, "1.00"), headers={"Prefer": "wait=999"})
    assert (capped.status_code, capped.headers.get("Preference-Applied")) == (201, "wait=15"), capped.text
    refused = await banco.trx.post("/transacciones", json=transferencia(a, b, "500.00"), headers={"Prefer": "wait=3"})
    assert (refused.status_code, refused.headers.get("Preference-Applied")) == (409, "wait=3"), refused.text
    plain = await banco.post(transferencia(a, b, "1.00"))
    assert plain.status_code == 201
    assert "Preference-Applied" not in plain.headers


@pytest.mark.parametrize("estado_destino", ["bloqueada", "cerrada"])
async def test_transferencia_a_cuenta_no_operativa_se_compensa(
    banco: Banco, cuenta: CuentaFactory, estado_destino: str
) -> None:
    a, b = await cuenta("100.00"), await cuenta()
    await banco.estado_cuenta(b, estado_destino)
    t = await banco.final(transferencia(a, b, "40.00"))
    assert t["estado"] == "FALLIDA"
    assert t["motivo"].startswith(f"CUENTA_{estado_destino.upper()[:-1]}A")
    assert await banco.saldo(a) == Decimal("100.00")  # debited, then given back
    debitos = [m for m in await banco.movimientos(a) if Decimal(m["monto"]) == Decimal("40.00")]
    assert len(debitos) == 2  # the debit and its reversal are both in the ledger


async def test_transferencia_a_cuenta_inexistente_se_compensa(banco: Banco, cuenta: CuentaFactory) -> None:
    a = await cuenta("100.00")
    t = await banco.final(transferencia(a, 2_000_000_000 + uuid.uuid4().int % 1000, "1.00"))
    assert t["estado"] == "FALLIDA"
    assert t["motivo"].startswith("CUENTA_NO_EXISTE")
    assert await banco.saldo(a) == Decimal("100.00")


async def test_saldo_insuficiente_falla_sin_mover_dinero(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b = await cuenta("10.00"), await cuenta()
    t = await banco.final(transferencia(a, b, "10.01"))
    assert (t["estado"], t["motivo"].split(":")[0]) == ("FALLIDA", "SALDO_INSUFICIENTE")
    r = await banco.final({"tipo": "RETIRO", "monto": "10.01", "moneda": "PEN", "cuentaOrigenId": a})
    assert r["motivo"].startswith("SALDO_INSUFICIENTE")
    assert (await banco.saldo(a), await banco.saldo(b)) == (Decimal("10.00"), Decimal("0.00"))
    assert len(await banco.movimientos(a)) == 1  # only the opening balance


async def test_moneda_distinta_falla(banco: Banco, cuenta: CuentaFactory) -> None:
    pen, usd = await cuenta("50.00"), await cuenta("50.00", moneda="USD")
    t = await banco.final(transferencia(pen, usd, "5.00"))
    assert t["motivo"].startswith("MONEDA_DISTINTA")
    assert (await banco.saldo(pen), await banco.saldo(usd)) == (Decimal("50.00"), Decimal("50.00"))
    d = await banco.final({"tipo": "DEPOSITO", "monto": "5.00", "moneda": "EUR", "cuentaDestinoId": usd})
    assert (d["estado"], d["motivo"].split(":")[0]) == ("FALLIDA", "MONEDA_DISTINTA")


async def test_cuenta_desconocida_falla(banco: Banco) -> None:
    t = await banco.final({"tipo": "RETIRO", "monto": "5.00", "moneda": "PEN", "cuentaOrigenId": 2_100_000_000})
    assert (t["estado"], t["motivo"].split(":")[0]) == ("FALLIDA", "CUENTA_NO_EXISTE")


# --- a refusal is an error to the caller (the original SPA reads the status, then error.response.data.message) ------

TRANSACCION = {
    "id", "transaccionId", "tipo", "cuentaOrigenId", "cuentaDestinoId", "monto", "moneda", "descripcion", "fecha",
    "estado", "motivo", "metadata", "actor", "canceladaPor", "reversionDe", "revertidaPor",
    "cotizacionId", "montoDestino", "monedaDestino",
}  # fmt: skip


async def test_un_retiro_sin_saldo_es_409_con_la_transaccion_fallida_y_su_motivo(
    banco: Banco, cuenta: CuentaFactory
) -> None:
    c = await cuenta("10.00")
    r = await banco.trx.post(
        "/transacciones", json={"tipo": "RETIRO", "monto": 10.01, "moneda": "PEN", "cuentaOrigenId": c}
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert (body["estado"], body["motivo"].split(":")[0]) == ("FALLIDA", "SALDO_INSUFICIENTE")
    assert body["message"] == body["error"] == body["detail"] == body["motivo"]
    assert (body["status"], body["instance"]) == (409, f"/transacciones/{body['id']}")
    assert {"type", "title"} <= set(body)
    stored = (await banco.trx.get(f"/transacciones/{body['id']}")).json()
    assert {k: body[k] for k in TRANSACCION} == stored  # the resource as GET answers it, plus the error members
    assert await banco.saldo(c) == Decimal("10.00")


async def test_la_misma_clave_repite_el_mismo_409(banco: Banco, cuenta: CuentaFactory) -> None:
    c = await cuenta("5.00")
    key = f"k-{uuid.uuid4()}"
    body = {"tipo": "PAGO_SERVICIO", "monto": "6.00", "moneda": "PEN", "cuentaOrigenId": c}
    first = await banco.post(body, key)
    again = await banco.post(body | {"monto": 6}, key)
    assert first.status_code == 409, first.text
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    listed = (await banco.trx.get(f"/transacciones/cuenta/{c}")).json()
    assert [t["id"] for t in listed] == [first.json()["id"]]  # recorded once


@pytest.mark.parametrize("caso", ["bloqueada", "cerrada", "moneda_distinta", "inexistente"])
async def test_cada_rechazo_del_saga_es_409(banco: Banco, cuenta: CuentaFactory, caso: str) -> None:
    c = await cuenta("0.00" if caso == "cerrada" else "20.00")
    body: dict[str, Any] = {"tipo": "RETIRO", "monto": "1.00", "moneda": "PEN", "cuentaOrigenId": c}
    if caso in ("bloqueada", "cerrada"):
        await banco.estado_cuenta(c, caso)
        if caso == "cerrada":
            body = {"tipo": "DEPOSITO", "monto": "1.00", "moneda": "PEN", "cuentaDestinoId": c}
    elif caso == "moneda_distinta":
        body["moneda"] = "USD"
    else:
        body["cuentaOrigenId"] = 2_100_000_000 + uuid.uuid4().int % 1000
    r = await banco.post(body)
    assert r.status_code == 409, r.text
    t = r.json()
    assert t["estado"] == "FALLIDA"
    assert (
        t["motivo"].split(":")[0]
        == {
            "bloqueada": "CUENTA_BLOQUEADA",
            "cerrada": "CUENTA_CERRADA",
            "moneda_distinta": "MONEDA_DISTINTA",
            "inexistente": "CUENTA_NO_EXISTE",
        }[caso]
    )
    assert t["message"] == t["motivo"]


async def test_el_openapi_declara_el_409_con_la_transaccion(banco: Banco) -> None:
    spec = (await banco.trx.get("/openapi.json")).json()
    ref = spec["paths"]["/transacciones"]["post"]["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    props = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
    assert TRANSACCION | {"type", "title", "status", "detail", "instance", "error", "message"} <= set(props)


# --- validation ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"monto": 0}, "monto"),
        ({"monto": "-5.00"}, "monto"),
        ({"monto": "1.005"}, "monto"),
        ({"monto": 10.001}, "monto"),
        ({"monto": "12345678901234.00"}, "monto"),
        ({"monto": "NaN"}, "monto"),
        ({"monto": "abc"}, "monto"),
        ({"moneda": "GBP"}, "moneda"),
        ({"tipo": "PRESTAMO"}, "tipo"),
        ({"cuentaOrigenId": None}, "cuentaOrigenId"),
        ({"cuentaDestinoId": 1}, "cuentaDestinoId"),  # same as origen
        ({"cuentaOrigenId": -3}, "cuentaOrigenId"),
        ({"descripcion": "x" * 501}, "descripcion"),
        ({"metadata": "not an object"}, "metadata"),
    ],
)
async def test_entradas_invalidas_son_422_nombrando_el_campo(banco: Banco, change: dict[str, Any], field: str) -> None:
    r = await banco.post(transferencia(1, 2) | change)
    assert r.status_code == 422, r.text
    assert any(field in [str(x) for x in e["loc"]] for e in r.json()["detail"]), r.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tipo": "DEPOSITO", "cuentaOrigenId": 1, "cuentaDestinoId": 2}, "cuentaOrigenId"),
        ({"tipo": "DEPOSITO"}, "cuentaDestinoId"),
        ({"tipo": "RETIRO", "cuentaOrigenId": 1, "cuentaDestinoId": 2}, "cuentaDestinoId"),
        ({"tipo": "PAGO_SERVICIO", "cuentaDestinoId": 2}, "cuentaOrigenId"),
    ],
)
async def test_cada_tipo_exige_sus_cuentas(banco: Banco, body: dict[str, Any], field: str) -> None:
    r = await banco.post({"monto": "1.00", "moneda": "PEN"} | body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-1] == field


async def test_nunca_toma_id_estado_ni_fecha_del_cliente(banco: Banco, cuenta: CuentaFactory) -> None:
    c = await cuenta()
    forged = {
        "id": "000000000000000000000000",
        "transaccionId": "TRXmine",
        "estado": "COMPLETADA",
        "fecha": "2000-01-01T00:00:00Z",
        "motivo": "x",
    }
    t = await banco.final({"tipo": "DEPOSITO", "monto": "1.00", "moneda": "PEN", "cuentaDestinoId": c} | forged)
    assert t["id"] != forged["id"]
    assert t["transaccionId"] == "TRX" + t["id"]
    assert t["estado"] == "COMPLETADA"
    assert t["motivo"] is None
    assert datetime.fromisoformat(t["fecha"]) > datetime.now(UTC) - timedelta(minutes=5)


# --- idempotency --------------------------------------------------------------------------------------------------------


async def test_reintento_con_la_misma_clave_devuelve_la_respuesta_original(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b = await cuenta("100.00"), await cuenta()
    key = f"k-{uuid.uuid4()}"
    first = await banco.post(transferencia(a, b, "25.00"), key)
    again = await banco.post(transferencia(a, b, 25), key)  # 25 and "25.00" are the same amount
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    other = await banco.post(transferencia(a, b, "26.00"), key)
    assert other.status_code == 409, other.text
    assert await banco.saldo(a) == Decimal("75.00")  # moved once


async def test_peticiones_simultaneas_con_la_misma_clave_crean_una_sola(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b = await cuenta("100.00"), await cuenta()
    key = f"k-{uuid.uuid4()}"
    answers = await asyncio.gather(*(banco.post(transferencia(a, b, "10.00"), key) for _ in range(8)))
    assert {r.status_code for r in answers} <= {201, 202}
    assert len({r.json()["id"] for r in answers}) == 1
    await banco.esperar_final(answers[0].json()["id"])
    assert await banco.saldo(a) == Decimal("90.00")


# --- cancel, delete ------------------------------------------------------------------------------------------------------


async def test_reglas_de_cancelacion(banco: Banco, cuenta: CuentaFactory) -> None:
    c = await cuenta("10.00")
    t = await banco.final({"tipo": "RETIRO", "monto": "1.00", "moneda": "PEN", "cuentaOrigenId": c})
    r = await banco.trx.patch(f"/transacciones/{t['id']}/estado", json={"estado": "CANCELADA"})
    assert r.status_code == 409  # COMPLETADA: money moved
    r = await banco.trx.patch(f"/transacciones/{t['id']}/estado", json={"estado": "completada"})
    assert r.status_code == 409  # estados other than CANCELADA are the saga's to decide
    r = await banco.trx.patch(f"/transacciones/{t['id']}/estado", json={"estado": "ANULADA"})
    assert r.status_code == 422
    r = await banco.trx.patch("/transacciones/0123456789abcdef01234567/estado", json={"estado": "CANCELADA"})
    assert r.status_code == 404


@pytest.fixture
async def isolated_app() -> AsyncIterator[httpx.AsyncClient]:
    """A second, in-process transacciones on its own database with no relay running: its transactions stay
    PENDIENTE with the first command unsent, the one case where cancelling is safe."""
    database = f"trx_test_{uuid.uuid4().hex[:10]}"
    app = create_app(TransaccionesSettings(database=database, run_workers=False, wait_seconds=0))
    async with in_process(app, auth=Bearer()) as client:
        yield client
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL)
    await mongo.drop_database(database)
    await mongo.close()


async def test_cancelar_una_pendiente_que_no_movio_dinero(isolated_app: httpx.AsyncClient) -> None:
    r = await isolated_app.post("/transacciones", json=transferencia(1, 2))
    assert r.status_code == 202
    assert r.headers["location"] == f"/transacciones/{r.json()['id']}"
    assert r.json()["estado"] == "PENDIENTE"
    c = await isolated_app.patch(f"/transacciones/{r.json()['id']}/estado", json={"estado": "cancelada"})
    assert c.status_code == 200, c.text
    assert c.json()["estado"] == "CANCELADA"
    again = await isolated_app.patch(f"/transacciones/{r.json()['id']}/estado", json={"estado": "CANCELADA"})
    assert again.status_code == 409


async def test_delete_es_405(banco: Banco) -> None:
    assert (await banco.trx.delete("/transacciones/0123456789abcdef01234567")).status_code == 405
    assert (await banco.trx.delete("/transacciones")).status_code == 405


# --- queries -----------------------------------------------------------------------------------------------------------------


async def test_consultas_por_id_cuenta_tipo_estado_y_fechas(banco: Banco, cuenta: CuentaFactory) -> None:
    a, b = await cuenta("100.00"), await cuenta()
    inicio = datetime.now(UTC) - timedelta(seconds=1)
    t1 = await banco.final(transferencia(a, b, "1.00"))
    t2 = await banco.final({"tipo": "RETIRO", "monto": "500.00", "moneda": "PEN", "cuentaOrigenId": a})
    t3 = await banco.final({"tipo": "DEPOSITO", "monto": "2.00", "moneda": "PEN", "cuentaDestinoId": b})
    fin = datetime.now(UTC) + timedelta(seconds=1)

    assert (await banco.trx.get(f"/transacciones/{t1['id']}")).json() == t1
    assert (await banco.trx.get(f"/transacciones/transaccion-id/{t1['transaccionId']}")).json() == t1
    for missing in (
        "/transacciones/nope",
        "/transacciones/0123456789abcdef01234567",
        "/transacciones/transaccion-id/TRXx",
    ):
        r = await banco.trx.get(missing)
        assert r.status_code == 404
        assert "detail" in r.json()

    r = await banco.trx.get(f"/transacciones/cuenta/{a}")
    assert [t["id"] for t in r.json()] == [t2["id"], t1["id"]]  # origen or destino, newest first
    assert r.headers["x-total-count"] == "2"
    r = await banco.trx.get("/transacciones", params={"cuenta_id": b, "limit": 1})
    assert [t["id"] for t in r.json()] == [t3["id"]]
    assert r.headers["x-total-count"] == "2"
    r = await banco.trx.get("/transacciones", params={"cuenta_id": b, "skip": 1})
    assert [t["id"] for t in r.json()] == [t1["id"]]
    r = await banco.trx.get("/transacciones", params={"cuenta_id": a, "estado": "fallida", "tipo": "retiro"})
    assert [t["id"] for t in r.json()] == [t2["id"]]

    for path, mine in [("/transacciones/tipo/deposito", t3), ("/transacciones/estado/Fallida", t2)]:
        r = await banco.trx.get(path, params={"limit": 500})
        assert r.status_code == 200
        assert mine["id"] in [t["id"] for t in r.json()]
    for bad in ("/transacciones/tipo/PRESTAMO", "/transacciones/estado/RARO", "/transacciones/cuenta/0"):
        assert (await banco.trx.get(bad)).status_code == 422

    r = await banco.trx.get(
        "/transacciones/fecha-rango", params={"inicio": inicio.isoformat(), "fin": fin.isoformat(), "limit": 500}
    )
    assert {t1["id"], t2["id"], t3["id"]} <= {t["id"] for t in r.json()}
    r = await banco.trx.get("/transacciones/fecha-rango", params={"inicio": fin.isoformat(), "fin": inicio.isoformat()})
    assert r.status_code == 422
    hoy = datetime.now(UTC).date().isoformat()
    r = await banco.trx.get("/transacciones", params={"cuenta_id": a, "desde": hoy, "hasta": hoy})
    assert len(r.json()) == 2  # a bare date as `hasta` covers the whole day
    r = await banco.trx.get("/transacciones", params={"limit": 501})
    assert r.status_code == 422


async def test_health(banco: Banco) -> None:
    r = await banco.trx.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "healthy"
    assert (r.json()["database"], r.json()["kafka"]) == ("connected", "connected")

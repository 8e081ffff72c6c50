"""FX transfers through the real stack: the rate table, quotes, a TRANSFERENCIA at a quote moving money in two
currencies, and every refusal (expired quote, used quote, mismatches, roles), duplicates moving money once."""

import asyncio
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from contracts import topics
from contracts.comandos import AcreditarCuenta, Cambio
from contracts.envelope import envelope_for
from producers.kafka import make_producer, publish
from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import KAFKA, URLS
from tests.integration.cuentas.conftest import Tap
from tests.integration.transacciones.conftest import Banco, CuentaFactory

TASAS = {"tasas": [{"par": "USD/PEN", "compra": "3.70", "venta": "3.80"}]}


async def _tasas(trx: httpx.AsyncClient) -> None:
    r = await trx.put("/tipos-cambio", json=TASAS)
    assert r.status_code == 200, r.text


async def _cotizar(trx: httpx.AsyncClient, origen: int, destino: int, monto: str) -> httpx.Response:
    """POST /cotizaciones once transacciones' replica knows both accounts (404 until their openings are folded)."""

    async def attempt() -> httpx.Response | None:
        r = await trx.post("/cotizaciones", json={"cuentaOrigenId": origen, "cuentaDestinoId": destino, "monto": monto})
        return None if r.status_code == 404 else r

    return await eventually(attempt, timeout=60, interval=0.2, what="accounts known to transacciones")


def _transferencia(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "tipo": "TRANSFERENCIA",
        "cuentaOrigenId": c["cuentaOrigenId"],
        "cuentaDestinoId": c["cuentaDestinoId"],
        "monto": c["montoOrigen"],
        "moneda": c["monedaOrigen"],
        "cotizacionId": c["cotizacionId"],
    }


async def test_tipos_cambio_se_fijan_se_leen_y_se_publican(banco: Banco) -> None:
    tap = await Tap(topics.TRANSACCIONES).open()
    try:
        r = await banco.trx.put(
            "/tipos-cambio", json={"tasas": [{"par": "usd/pen", "compra": "3.7000", "venta": "3.8000"}]}
        )
        assert r.status_code == 200, r.text
        usd = next(t for t in r.json() if t["par"] == "USD/PEN")
        assert (usd["compra"], usd["venta"], usd["actor"]["authid"]) == ("3.7000", "3.8000", "admin")
        datetime.fromisoformat(usd["actualizado"])
        leidas = await banco.trx.get("/tipos-cambio")
        assert leidas.status_code == 200
        assert leidas.json() == r.json()
        eventos = await tap.wait_for("bank.transacciones.TiposCambioActualizados.v1", cambiadas=["USD/PEN"])
        evento = eventos[0]
        assert all(e == evento for e in eventos), eventos  # at-least-once: a second copy is the same event
        assert {"par": "USD/PEN", "compra": "3.7000", "venta": "3.8000"} in evento["tasas"]
    finally:
        await tap.close()
    await _tasas(banco.trx)


async def test_tipos_cambio_invalidos_y_roles(banco: Banco) -> None:
    malos = [
        {"tasas": [{"par": "USD/USD", "compra": "1", "venta": "1"}]},
        {"tasas": [{"par": "USD/JPY", "compra": "1", "venta": "2"}]},
        {"tasas": [{"par": "USD/PEN", "compra": "3.9", "venta": "3.8"}]},
        {"tasas": [{"par": "USD/PEN", "compra": "0", "venta": "3.8"}]},
        {"tasas": [{"par": "USD/PEN", "compra": "3.123456789", "venta": "3.8"}]},
        {
            "tasas": [
                {"par": "USD/PEN", "compra": "3.7", "venta": "3.8"},
                {"par": "PEN/USD", "compra": "1", "venta": "1"},
            ]
        },
        {"tasas": []},
    ]
    for body in malos:
        r = await banco.trx.put("/tipos-cambio", json=body)
        assert r.status_code == 422, (body, r.text)
        assert "tasas" in r.text
    async with (
        httpx.AsyncClient(auth=Bearer("cajero"), base_url=URLS["transacciones"], timeout=20) as cajero,
        httpx.AsyncClient(auth=Bearer("operaciones"), base_url=URLS["transacciones"], timeout=20) as operaciones,
        httpx.AsyncClient(base_url=URLS["transacciones"], timeout=20) as anonimo,
    ):
        assert (await cajero.put("/tipos-cambio", json=TASAS)).status_code == 403
        assert (await cajero.get("/tipos-cambio")).status_code == 200
        assert (await operaciones.put("/tipos-cambio", json=TASAS)).status_code == 200
        assert (await anonimo.get("/tipos-cambio")).status_code == 401
        r = await cajero.post("/cotizaciones", json={"cuentaOrigenId": 1, "cuentaDestinoId": 2, "monto": "1.00"})
        assert r.status_code == 403, r.text


async def test_transferencia_fx_mueve_el_dinero_en_dos_monedas(banco: Banco, cuenta: CuentaFactory) -> None:
    await _tasas(banco.trx)
    pen, usd = await cuenta("500.00"), await cuenta("0.00", moneda="USD")
    r = await _cotizar(banco.trx, pen, usd, "100.00")
    assert r.status_code == 201, r.text
    c = r.json()
    assert (c["monedaOrigen"], c["montoOrigen"], c["monedaDestino"], c["montoDestino"]) == (
        "PEN",
        "100.00",
        "USD",
        "26.31",
    )
    assert (c["tasa"], c["ingreso"]) == ("0.26315789", "1.34")
    vigencia = datetime.fromisoformat(c["vence"]) - datetime.fromisoformat(c["creada"])
    assert vigencia.total_seconds() == 60
    t = await banco.final(_transferencia(c), key=str(uuid.uuid4()))
    assert t["estado"] == "COMPLETADA", t
    assert (t["monto"], t["moneda"], t["montoDestino"], t["monedaDestino"], t["cotizacionId"]) == (
        "100.00",
        "PEN",
        "26.31",
        "USD",
        c["cotizacionId"],
    )
    assert (await banco.saldo(pen), await banco.saldo(usd)) == (Decimal("400.00"), Decimal("26.31"))
    leida = (await banco.trx.get(f"/transacciones/{t['id']}")).json()
    assert (leida["montoDestino"], leida["monedaDestino"]) == ("26.31", "USD")
    # A transfer within one currency carries no conversion.
    otra = await cuenta("0.00")
    misma = await banco.final(
        {"tipo": "TRANSFERENCIA", "cuentaOrigenId": pen, "cuentaDestinoId": otra, "monto": "1.00", "moneda": "PEN"}
    )
    assert (misma["estado"], misma["montoDestino"], misma["cotizacionId"]) == ("COMPLETADA", None, None)
    # The other direction: the bank buys the dollars at compra.
    r = await _cotizar(banco.trx, usd, pen, "10.00")
    vuelta = await banco.final(_transferencia(r.json()))
    assert (vuelta["estado"], vuelta["montoDestino"]) == ("COMPLETADA", "37.00")
    assert (await banco.saldo(pen), await banco.saldo(usd)) == (Decimal("436.00"), Decimal("16.31"))


def _fx_del_banco(internas: list[dict[str, Any]]) -> dict[tuple[str, str], Decimal]:
    """The bank's FX position and FX income per currency (GET /cuentas-internas)."""
    return {
        (b["moneda"], nombre): Decimal(b["cuentas"][nombre])
        for b in internas
        for nombre in ("POSICION_FX", "INGRESOS_FX")
    }


async def test_una_transferencia_fx_se_revierte_a_su_tasa_y_devuelve_el_margen(
    banco: Banco, cuenta: CuentaFactory
) -> None:
    await _tasas(banco.trx)
    pen, usd = await cuenta("500.00"), await cuenta("0.00", moneda="USD")
    antes = _fx_del_banco((await banco.cuentas.get("/cuentas-internas")).json())
    c = (await _cotizar(banco.trx, pen, usd, "100.00")).json()
    t = await banco.final(_transferencia(c))
    assert (t["estado"], t["montoDestino"]) == ("COMPLETADA", "26.31"), t
    ida = _fx_del_banco((await banco.cuentas.get("/cuentas-internas")).json())
    assert ida[("PEN", "INGRESOS_FX")] - antes[("PEN", "INGRESOS_FX")] == Decimal("1.34")  # the spread, booked
    # Refused while the destination no longer holds what it was credited (a teller took a cent out)...
    retiro = await banco.cuentas.patch(f"/cuentas/{usd}/saldo", json={"monto": "0.01", "operacion": "retiro"})
    assert retiro.status_code == 200, retiro.text
    r = await banco.trx.post(f"/transacciones/{t['id']}/reversion")
    assert r.status_code == 409, r.text
    assert (r.json()["estado"], r.json()["error"][:18]) == ("FALLIDA", "SALDO_INSUFICIENTE")
    assert (await banco.saldo(pen), await banco.saldo(usd)) == (Decimal("400.00"), Decimal("26.30"))
    # ... and given back at the original's own amounts once it does: 26.31 USD out, 100.00 PEN in.
    deposito = await banco.cuentas.patch(f"/cuentas/{usd}/saldo", json={"monto": "0.01", "operacion": "deposito"})
    assert deposito.status_code == 200, deposito.text
    r = await banco.trx.post(f"/transacciones/{t['id']}/reversion", headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code in (201, 202), r.text
    rev = await banco.esperar_final(r.json()["id"]) if r.status_code == 202 else r.json()
    assert rev["estado"] == "COMPLETADA", rev
    assert (rev["cuentaOrigenId"], rev["cuentaDestinoId"], rev["reversionDe"]) == (usd, pen, t["id"])
    assert (rev["monto"], rev["moneda"], rev["montoDestino"], rev["monedaDestino"]) == ("26.31", "USD", "100.00", "PEN")
    assert (await banco.saldo(pen), await banco.saldo(usd)) == (Decimal("500.00"), Decimal("0.00"))
    assert (await banco.trx.get(f"/transacciones/{t['id']}")).json()["revertidaPor"] == rev["id"]
    # The bank's FX position and income are back where they were: the spread was handed back too.
    despues = _fx_del_banco((await banco.cuentas.get("/cuentas-internas")).json())
    assert despues == antes
    again = await banco.trx.post(f"/transacciones/{t['id']}/reversion")
    assert again.status_code == 409, again.text


async def test_cotizaciones_rechazadas(banco: Banco, cuenta: CuentaFactory) -> None:
    await _tasas(banco.trx)
    pen, otra_pen, usd = await cuenta("50.00"), await cuenta("0.00"), await cuenta("0.00", moneda="USD")
    r = await _cotizar(banco.trx, pen, otra_pen, "10.00")
    assert r.status_code == 422, r.text
    assert "misma moneda" in r.json()["message"], r.text
    await _cotizar(banco.trx, pen, usd, "1.00")  # both known now
    r = await banco.trx.post(
        "/cotizaciones", json={"cuentaOrigenId": pen, "cuentaDestinoId": 999_999_999, "monto": "1"}
    )
    assert r.status_code == 404, r.text
    assert "999999999" in r.json()["message"], r.text
    r = await banco.trx.post("/cotizaciones", json={"cuentaOrigenId": pen, "cuentaDestinoId": usd, "monto": "1.001"})
    assert r.status_code == 422
    assert "monto" in r.text
    r = await banco.trx.post("/cotizaciones", json={"cuentaOrigenId": pen, "cuentaDestinoId": pen, "monto": "1"})
    assert r.status_code == 422
    assert "cuentaDestinoId" in r.text


async def test_transferencias_con_cotizacion_rechazadas(banco: Banco, cuenta: CuentaFactory) -> None:
    await _tasas(banco.trx)
    pen, usd = await cuenta("500.00"), await cuenta("0.00", moneda="USD")
    c = (await _cotizar(banco.trx, pen, usd, "100.00")).json()
    body = _transferencia(c)
    for campo, valor in (("monto", "99.00"), ("moneda", "USD"), ("cuentaDestinoId", pen + usd)):
        r = await banco.post(body | {campo: valor})
        assert r.status_code == 422, r.text
        assert campo in r.text, r.text
    r = await banco.post(body | {"cotizacionId": "COT000000000000000000000000"})
    assert r.status_code == 404, r.text
    # Without a quote, different currencies are refused as before (the saga's MONEDA_DISTINTA).
    sin = {k: v for k, v in body.items() if k != "cotizacionId"}
    r = await banco.post(sin)
    assert r.status_code == 409, r.text
    assert r.json()["estado"] == "FALLIDA", r.text
    assert (await banco.saldo(pen), await banco.saldo(usd)) == (Decimal("500.00"), Decimal("0.00"))

    # Used: a second transaction naming the quote is refused; the Idempotency-Key retry answers the original.
    key = str(uuid.uuid4())
    primera = await banco.final(body, key=key)
    assert primera["estado"] == "COMPLETADA", primera
    otra = await banco.post(body, key=str(uuid.uuid4()))
    assert otra.status_code == 409, otra.text
    assert otra.json()["motivo"] == "COTIZACION_USADA"
    assert primera["id"] in otra.json()["message"]
    assert (await banco.post(body)).status_code == 409
    retry = await banco.post(body, key=key)
    assert retry.status_code == 201, retry.text
    assert retry.json()["id"] == primera["id"], retry.text
    assert (await banco.saldo(pen), await banco.saldo(usd)) == (Decimal("400.00"), Decimal("26.31"))


async def test_cotizacion_vencida_se_rechaza_y_no_mueve_dinero(banco: Banco, cuenta: CuentaFactory) -> None:
    await _tasas(banco.trx)
    pen, usd = await cuenta("100.00"), await cuenta("0.00", moneda="USD")
    c = (await _cotizar(banco.trx, pen, usd, "100.00")).json()
    espera = (datetime.fromisoformat(c["vence"]) - datetime.fromisoformat(c["creada"])).total_seconds()
    await asyncio.sleep(espera + 1)
    r = await banco.post(_transferencia(c), key=str(uuid.uuid4()))
    assert r.status_code == 409, r.text
    assert r.json()["motivo"] == "COTIZACION_VENCIDA"
    assert "vencida" in r.json()["message"]
    assert (await banco.saldo(pen), await banco.saldo(usd)) == (Decimal("100.00"), Decimal("0.00"))


async def test_dos_transferencias_concurrentes_con_una_cotizacion_mueven_el_dinero_una_vez(
    banco: Banco, cuenta: CuentaFactory
) -> None:
    await _tasas(banco.trx)
    pen, usd = await cuenta("500.00"), await cuenta("0.00", moneda="USD")
    c = (await _cotizar(banco.trx, pen, usd, "100.00")).json()
    respuestas = await asyncio.gather(*(banco.post(_transferencia(c), key=str(uuid.uuid4())) for _ in range(4)))
    estados = sorted(r.status_code for r in respuestas)
    assert estados.count(409) == 3, [r.text for r in respuestas]
    assert estados[0] in (201, 202), [r.text for r in respuestas]
    assert all(r.json()["motivo"] == "COTIZACION_USADA" for r in respuestas if r.status_code == 409)
    ok = next(r for r in respuestas if r.status_code != 409)
    assert (await banco.esperar_final(ok.json()["id"]))["estado"] == "COMPLETADA"
    assert (await banco.saldo(pen), await banco.saldo(usd)) == (Decimal("400.00"), Decimal("26.31"))


async def test_el_credito_fx_entregado_dos_veces_acredita_una_vez(banco: Banco, cuenta: CuentaFactory) -> None:
    await _tasas(banco.trx)
    pen, usd = await cuenta("500.00"), await cuenta("0.00", moneda="USD")
    c = (await _cotizar(banco.trx, pen, usd, "100.00")).json()
    t = await banco.final(_transferencia(c))
    assert t["estado"] == "COMPLETADA", t
    credito = AcreditarCuenta(
        comando_id=f"{t['transaccionId']}-CRE",  # the saga's own command id for the credit step
        transaccion_id=t["transaccionId"],
        cuenta_id=usd,
        monto=Decimal(c["montoDestino"]),
        moneda="USD",
        cambio=Cambio(
            cotizacion_id=c["cotizacionId"],
            moneda_origen="PEN",
            monto_origen=Decimal("100.00"),
            tasa=Decimal(c["tasa"]),
            ingreso=Decimal(c["ingreso"]),
        ),
    )
    marca = AcreditarCuenta(
        comando_id=f"TEST-{uuid.uuid4()}",
        transaccion_id=f"TEST-{uuid.uuid4()}",
        cuenta_id=usd,
        monto=Decimal("0.01"),
        moneda="USD",
    )
    producer: AIOKafkaProducer = make_producer(KAFKA, client_id="tests-fx")
    await producer.start()
    try:
        await publish(producer, envelope_for(credito, source="/tests/fx"))  # redelivered: new ce_id, same comando_id
        await publish(producer, envelope_for(marca, source="/tests/fx"))  # same partition, after it
    finally:
        await producer.stop()

    async def marcada() -> bool | None:
        return (await banco.saldo(usd)) == Decimal("26.32") or None  # the marker landed: the duplicate was handled

    await eventually(marcada, timeout=30, interval=0.2, what="the marker credit")
    assert await banco.saldo(pen) == Decimal("400.00")
    movimientos = [m for m in await banco.movimientos(usd) if m.get("transaccion_id") == t["transaccionId"]]
    assert len(movimientos) <= 1  # one ledger row for the transfer's credit (when rows name their transaction)


async def test_una_cuenta_recien_abierta_se_cotiza_sin_reintentar(banco: Banco, cuenta: CuentaFactory) -> None:
    """Staff open two accounts and quote on them at once: no 404 while transacciones' replica folds the openings
    (a miss waits for the fold, replica_lag.py). Five pairs, each quoted the moment cuentas answered the opening."""
    await _tasas(banco.trx)
    for _ in range(5):
        pen, usd = await cuenta("100.00"), await cuenta("0.00", moneda="USD")
        r = await banco.trx.post("/cotizaciones", json={"cuentaOrigenId": pen, "cuentaDestinoId": usd, "monto": "10"})
        assert r.status_code == 201, r.text


async def test_un_cliente_cotiza_solo_desde_sus_cuentas(banco: Banco, cuenta: CuentaFactory) -> None:
    await _tasas(banco.trx)
    pen, usd = await cuenta("100.00"), await cuenta("0.00", moneda="USD")
    cliente_id = int((await banco.cuentas.get(f"/cuentas/{pen}")).json()["cliente_id"])
    ajeno = await banco.abrir_cuenta(await banco.nuevo_cliente(), "100.00")
    await _cotizar(banco.trx, ajeno, usd, "1.00")  # the replica knows all three
    async with httpx.AsyncClient(
        auth=Bearer(cliente_id=cliente_id), base_url=URLS["transacciones"], timeout=20
    ) as cliente:
        r = await cliente.post("/cotizaciones", json={"cuentaOrigenId": ajeno, "cuentaDestinoId": usd, "monto": "1.00"})
        assert r.status_code == 404, r.text
        r = await cliente.post("/cotizaciones", json={"cuentaOrigenId": pen, "cuentaDestinoId": usd, "monto": "10.00"})
        assert r.status_code == 201, r.text
        t = await cliente.post("/transacciones", json=_transferencia(r.json()))
        assert t.status_code in (201, 202), t.text
        assert (await cliente.get("/tipos-cambio")).status_code == 200

"""Double entry through the real stack: every movement (opening balance, teller, saga command, FX credit, captured
hold) is written with its legs on the bank's own accounts, announced in its SaldoActualizado, and GET
/cuentas-internas shows customers + internal accounts = 0 in every currency."""

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiomysql
import httpx
from aiokafka import AIOKafkaProducer

from contracts.comandos import AcreditarCuenta, Cambio, DebitarCuenta
from contracts.envelope import envelope_for
from producers.kafka import publish
from tests.integration.auth import auth_headers
from tests.integration.cuentas.conftest import CUENTAS, Tap

SALDO = "bank.cuentas.SaldoActualizado.v1"
RECHAZO = "bank.cuentas.MovimientoRechazado.v1"
Factory = Callable[..., Any]


def _legs(evento: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(a["cuenta_interna"], a["moneda"], a["monto"]) for a in evento["asientos"]]


async def _legs_en_base(db: aiomysql.Pool, movimiento_id: int) -> list[tuple[str, str, str]]:
    async with db.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT cuenta_interna, moneda, monto FROM asientos WHERE movimiento_id = %s ORDER BY asiento_id",
            (movimiento_id,),
        )
        return [(c, m, f"{Decimal(v):.2f}") for c, m, v in await cur.fetchall()]


async def _send(producer: AIOKafkaProducer, command: Any) -> None:
    await publish(producer, envelope_for(command, source="/tests/cuentas"))


def _comando(cls: Any, cuenta_id: int, monto: str, trx: str, **kw: Any) -> Any:
    return cls(comando_id=str(uuid.uuid4()), transaccion_id=trx, cuenta_id=cuenta_id, monto=monto, **kw)


async def test_apertura_y_ventanilla_van_contra_caja(
    http: httpx.AsyncClient, cuenta_factory: Factory, cuentas_tap: Tap, db: aiomysql.Pool
) -> None:
    cuenta = await cuenta_factory(saldo="100.00", moneda="USD")
    [apertura] = await cuentas_tap.wait_for(SALDO, cuenta_id=cuenta["cuenta_id"], causa="APERTURA")
    assert _legs(apertura) == [("CAJA", "USD", "-100.00")]
    assert await _legs_en_base(db, apertura["movimiento_id"]) == [("CAJA", "USD", "-100.00")]

    r = await http.patch(f"/cuentas/{cuenta['cuenta_id']}/saldo", json={"monto": "30", "operacion": "retiro"})
    assert r.status_code == 200, r.text
    [retiro] = await cuentas_tap.wait_for(SALDO, cuenta_id=cuenta["cuenta_id"], causa="RETIRO")
    assert _legs(retiro) == [("CAJA", "USD", "30.00")]
    assert await _legs_en_base(db, retiro["movimiento_id"]) == [("CAJA", "USD", "30.00")]


async def test_los_comandos_del_saga_van_contra_la_cuenta_de_su_tipo(
    cuenta_factory: Factory, producer: AIOKafkaProducer, cuentas_tap: Tap, db: aiomysql.Pool
) -> None:
    origen = await cuenta_factory(saldo="100.00")
    destino = await cuenta_factory()
    trx = f"TEST-{uuid.uuid4().hex[:12]}"
    pago = _comando(DebitarCuenta, origen["cuenta_id"], "10.00", trx, moneda="PEN", tipo_transaccion="PAGO_SERVICIO")
    deposito = _comando(AcreditarCuenta, destino["cuenta_id"], "5.00", trx, moneda="PEN", tipo_transaccion="DEPOSITO")
    # Commands without a kind (sent before the field, or a reversal's): a transfer's, whose money passes TRANSITO.
    otra = f"TEST-{uuid.uuid4().hex[:12]}"
    sin_tipo_deb = _comando(DebitarCuenta, origen["cuenta_id"], "1.00", otra, moneda="PEN")
    sin_tipo_cred = _comando(AcreditarCuenta, destino["cuenta_id"], "1.00", otra, moneda="PEN")
    for c in (pago, deposito, sin_tipo_deb, sin_tipo_cred):
        await _send(producer, c)
    esperado = {
        pago.comando_id: [("SERVICIOS_POR_PAGAR", "PEN", "10.00")],
        deposito.comando_id: [("CAJA", "PEN", "-5.00")],
        sin_tipo_deb.comando_id: [("TRANSITO", "PEN", "1.00")],
        sin_tipo_cred.comando_id: [("TRANSITO", "PEN", "-1.00")],
    }
    for comando_id, legs in esperado.items():
        [e] = await cuentas_tap.wait_for(SALDO, comando_id=comando_id)
        assert _legs(e) == legs
        assert await _legs_en_base(db, e["movimiento_id"]) == legs


async def test_una_transferencia_con_cambio_cierra_transito_y_paga_desde_la_posicion_fx(
    cuenta_factory: Factory, producer: AIOKafkaProducer, cuentas_tap: Tap, db: aiomysql.Pool
) -> None:
    origen = await cuenta_factory(saldo="500.00", moneda="PEN")
    destino = await cuenta_factory(moneda="USD")
    trx = f"TEST-{uuid.uuid4().hex[:12]}"
    debito = _comando(DebitarCuenta, origen["cuenta_id"], "100.00", trx, moneda="PEN", tipo_transaccion="TRANSFERENCIA")
    cambio = Cambio(
        cotizacion_id="q-test", moneda_origen="PEN", monto_origen="100.00", tasa=Decimal("0.26"), ingreso="1.50"
    )
    credito = _comando(
        AcreditarCuenta,
        destino["cuenta_id"],
        "25.61",
        trx,
        moneda="USD",
        tipo_transaccion="TRANSFERENCIA",
        cambio=cambio,
    )
    await _send(producer, debito)
    [d] = await cuentas_tap.wait_for(SALDO, comando_id=debito.comando_id)
    assert _legs(d) == [("TRANSITO", "PEN", "100.00")]
    await _send(producer, credito)
    [c] = await cuentas_tap.wait_for(SALDO, comando_id=credito.comando_id)
    assert (c["monto"], c["moneda"], c["saldo"]) == ("25.61", "USD", "25.61")
    legs = [
        ("TRANSITO", "PEN", "-100.00"),
        ("POSICION_FX", "PEN", "98.50"),
        ("INGRESOS_FX", "PEN", "1.50"),
        ("POSICION_FX", "USD", "-25.61"),
    ]
    assert _legs(c) == legs
    assert await _legs_en_base(db, c["movimiento_id"]) == legs
    async with db.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT moneda, SUM(monto) FROM asientos WHERE transaccion_id = %s AND cuenta_interna = 'TRANSITO' "
            "GROUP BY moneda",
            (trx,),
        )
        assert [(m, Decimal(s)) for m, s in await cur.fetchall()] == [("PEN", Decimal("0.00"))]


async def test_un_comando_rechazado_no_escribe_asientos(
    cuenta_factory: Factory, producer: AIOKafkaProducer, cuentas_tap: Tap, db: aiomysql.Pool
) -> None:
    cuenta = await cuenta_factory(saldo="5.00")
    trx = f"TEST-{uuid.uuid4().hex[:12]}"
    debito = _comando(DebitarCuenta, cuenta["cuenta_id"], "9.00", trx, moneda="PEN", tipo_transaccion="RETIRO")
    await _send(producer, debito)
    [r] = await cuentas_tap.wait_for(RECHAZO, comando_id=debito.comando_id)
    assert r["motivo"] == "SALDO_INSUFICIENTE"
    async with db.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT COUNT(*) FROM asientos WHERE transaccion_id = %s", (trx,))
        assert (await cur.fetchone())[0] == 0


async def test_cuentas_internas_suman_cero_con_los_clientes_en_cada_moneda(cuenta_factory: Factory) -> None:
    await cuenta_factory(saldo="70.00", moneda="EUR")
    for role in ("operaciones", "auditor", "admin"):
        async with httpx.AsyncClient(base_url=CUENTAS, headers=auth_headers(role), timeout=15) as http:
            r = await http.get("/cuentas-internas")
        assert r.status_code == 200, (role, r.text)
        libros = r.json()
        assert [b["moneda"] for b in libros] == ["PEN", "USD", "EUR"]
        for b in libros:
            assert b["total"] == "0.00", b
            assert Decimal(b["totalClientes"]) + Decimal(b["totalInternas"]) == 0
            assert sum(Decimal(v) for v in b["cuentas"].values()) == Decimal(b["totalInternas"])
            assert set(b["cuentas"]) >= {"CAJA", "TRANSITO", "POSICION_FX", "INGRESOS_COMISIONES", "GASTOS_INTERESES"}
            assert set(b["informativas"]) == {"RETENCIONES"}
        eur = libros[2]
        assert Decimal(eur["totalClientes"]) >= Decimal("70.00")
        assert Decimal(eur["cuentas"]["CAJA"]) <= Decimal("-70.00")


async def test_cuentas_internas_piden_un_rol_de_operaciones_o_auditoria() -> None:
    async with httpx.AsyncClient(base_url=CUENTAS, timeout=15) as http:
        assert (await http.get("/cuentas-internas")).status_code == 401
        for role in ("cajero", "analista", "cliente1"):
            r = await http.get("/cuentas-internas", headers=auth_headers(role))
            assert r.status_code == 403, (role, r.text)
            assert "operaciones" in r.json()["message"]

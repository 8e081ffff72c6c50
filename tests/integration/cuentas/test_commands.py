"""The saga's cuentas side: commands produced to bank.cuentas.comandos.v1 are applied by the running instances and
answered on bank.cuentas.v1 (SaldoActualizado or MovimientoRechazado), at most once per comando_id."""

import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import aiomysql
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import topics
from contracts.comandos import AcreditarCuenta, DebitarCuenta, RevertirDebito
from contracts.envelope import envelope_for
from producers.kafka import publish
from tests.conftest import eventually
from tests.integration.conftest import POISON_MARK
from tests.integration.cuentas.conftest import Tap, saldo_y_ledger

SALDO = "bank.cuentas.SaldoActualizado.v1"
RECHAZO = "bank.cuentas.MovimientoRechazado.v1"
Factory = Callable[..., Any]


def _ids() -> tuple[str, str]:
    return str(uuid.uuid4()), f"TEST-{uuid.uuid4().hex[:12]}"


async def _send(producer: AIOKafkaProducer, command: Any) -> None:
    await publish(producer, envelope_for(command, source="/tests/cuentas"))


def debitar(cuenta_id: int, monto: str, moneda: str = "PEN") -> DebitarCuenta:
    comando_id, trx = _ids()
    return DebitarCuenta(comando_id=comando_id, transaccion_id=trx, cuenta_id=cuenta_id, monto=monto, moneda=moneda)  # type: ignore[arg-type]


def acreditar(cuenta_id: int, monto: str, moneda: str = "PEN") -> AcreditarCuenta:
    comando_id, trx = _ids()
    return AcreditarCuenta(comando_id=comando_id, transaccion_id=trx, cuenta_id=cuenta_id, monto=monto, moneda=moneda)  # type: ignore[arg-type]


@pytest.fixture
async def dlq_tap() -> AsyncIterator[Tap]:
    tap = await Tap(topics.dlq(topics.CUENTAS_COMANDOS)).open()
    yield tap
    await tap.close()


async def _saldo(http: httpx.AsyncClient, cuenta_id: int) -> str:
    saldo: str = (await http.get(f"/cuentas/{cuenta_id}")).json()["saldo"]
    return saldo


async def test_debito_y_credito_responden_con_saldo_actualizado(
    http: httpx.AsyncClient, cuenta_factory: Factory, producer: AIOKafkaProducer, cuentas_tap: Tap, db: aiomysql.Pool
) -> None:
    origen = await cuenta_factory(saldo="100.00")
    destino = await cuenta_factory()
    deb = debitar(origen["cuenta_id"], "40.00")
    cred = acreditar(destino["cuenta_id"], "40.00")
    cred = cred.model_copy(update={"transaccion_id": deb.transaccion_id})
    await _send(producer, deb)
    await _send(producer, cred)

    [d] = await cuentas_tap.wait_for(SALDO, comando_id=deb.comando_id)
    assert (d["operacion"], d["causa"], d["monto"], d["saldo"], d["transaccion_id"]) == (
        "DEBITO",
        "SAGA",
        "40.00",
        "60.00",
        deb.transaccion_id,
    )
    assert (d["cuenta_id"], d["numero_cuenta"], d["cliente_id"]) == (
        origen["cuenta_id"],
        origen["numero_cuenta"],
        origen["cliente_id"],
    )
    [c] = await cuentas_tap.wait_for(SALDO, comando_id=cred.comando_id)
    assert (c["operacion"], c["saldo"]) == ("CREDITO", "40.00")
    assert await _saldo(http, origen["cuenta_id"]) == "60.00"
    assert await _saldo(http, destino["cuenta_id"]) == "40.00"

    movs = (await http.get(f"/cuentas/{origen['cuenta_id']}/movimientos")).json()
    assert (movs[-1]["causa"], movs[-1]["transaccion_id"], movs[-1]["comando_id"], movs[-1]["movimiento_id"]) == (
        "SAGA",
        deb.transaccion_id,
        deb.comando_id,
        d["movimiento_id"],
    )
    for cuenta in (origen, destino):
        saldo, ledger, _ = await saldo_y_ledger(db, cuenta["cuenta_id"])
        assert saldo == ledger


async def test_el_mismo_comando_dos_veces_mueve_el_dinero_una_vez(
    http: httpx.AsyncClient, cuenta_factory: Factory, producer: AIOKafkaProducer, cuentas_tap: Tap, db: aiomysql.Pool
) -> None:
    cuenta = await cuenta_factory(saldo="100.00")
    deb = debitar(cuenta["cuenta_id"], "10.00")
    await _send(producer, deb)
    await _send(producer, deb)  # a redelivery: new ce_id, same comando_id
    marker = acreditar(cuenta["cuenta_id"], "0.01")
    await _send(producer, marker)  # same partition, after both: once answered, both copies were handled
    await cuentas_tap.wait_for(SALDO, comando_id=marker.comando_id)

    assert len(cuentas_tap.events(SALDO, comando_id=deb.comando_id)) == 1
    assert await _saldo(http, cuenta["cuenta_id"]) == "90.01"
    saldo, ledger, rows = await saldo_y_ledger(db, cuenta["cuenta_id"])
    assert (saldo, ledger, rows) == (Decimal("90.01"), Decimal("90.01"), 3)


async def test_cada_motivo_de_rechazo(
    http: httpx.AsyncClient, cuenta_factory: Factory, producer: AIOKafkaProducer, cuentas_tap: Tap
) -> None:
    pobre = await cuenta_factory(saldo="5.00")
    bloqueada = await cuenta_factory(saldo="5.00")
    cerrada = await cuenta_factory()
    dolares = await cuenta_factory(saldo="5.00", moneda="USD")
    await http.patch(f"/cuentas/{bloqueada['cuenta_id']}/estado", json={"estado": "bloqueada"})
    await http.patch(f"/cuentas/{cerrada['cuenta_id']}/estado", json={"estado": "cerrada"})

    cases = {
        "SALDO_INSUFICIENTE": debitar(pobre["cuenta_id"], "5.01"),
        "CUENTA_BLOQUEADA": debitar(bloqueada["cuenta_id"], "1.00"),
        "CUENTA_CERRADA": acreditar(cerrada["cuenta_id"], "1.00"),
        "MONEDA_DISTINTA": acreditar(dolares["cuenta_id"], "1.00", moneda="PEN"),
        "CUENTA_NO_EXISTE": debitar(987_654_321_987, "1.00"),
    }
    for command in cases.values():
        await _send(producer, command)
    for motivo, command in cases.items():
        [r] = await cuentas_tap.wait_for(RECHAZO, comando_id=command.comando_id)
        assert r["motivo"] == motivo
        assert r["detalle"]
        assert (r["transaccion_id"], r["monto"], r["cuenta_id"]) == (
            command.transaccion_id,
            f"{command.monto:.2f}",
            command.cuenta_id,
        )
    assert not [e for c in cases.values() for e in cuentas_tap.events(SALDO, comando_id=c.comando_id)]
    assert await _saldo(http, pobre["cuenta_id"]) == "5.00"
    assert await _saldo(http, bloqueada["cuenta_id"]) == "5.00"
    assert await _saldo(http, dolares["cuenta_id"]) == "5.00"


async def test_revertir_debito_aunque_la_cuenta_se_bloquee_y_nunca_dos_veces(
    http: httpx.AsyncClient,
    cuenta_factory: Factory,
    producer: AIOKafkaProducer,
    cuentas_tap: Tap,
    dlq_tap: Tap,
    db: aiomysql.Pool,
) -> None:
    cuenta = await cuenta_factory(saldo="50.00")
    deb = debitar(cuenta["cuenta_id"], "20.00")
    await _send(producer, deb)
    await cuentas_tap.wait_for(SALDO, comando_id=deb.comando_id)
    await http.patch(f"/cuentas/{cuenta['cuenta_id']}/estado", json={"estado": "bloqueada"})

    rev = RevertirDebito(
        comando_id=str(uuid.uuid4()),
        transaccion_id=deb.transaccion_id,
        cuenta_id=deb.cuenta_id,
        monto=deb.monto,
        moneda=deb.moneda,
        comando_original_id=deb.comando_id,
    )
    await _send(producer, rev)
    await _send(producer, rev)  # redelivered: ignored
    otra = rev.model_copy(update={"comando_id": str(uuid.uuid4())})
    await _send(producer, otra)  # a second reversal of the same debit: never applied, answered as invalid

    [r] = await cuentas_tap.wait_for(SALDO, comando_id=rev.comando_id)
    assert (r["operacion"], r["causa"], r["saldo"]) == ("CREDITO", "REVERSION", "50.00")
    [rechazo] = await cuentas_tap.wait_for(RECHAZO, comando_id=otra.comando_id)
    assert rechazo["motivo"] == "COMANDO_INVALIDO"
    assert "ya fue revertido" in rechazo["detalle"]
    assert len(cuentas_tap.events(SALDO, comando_id=rev.comando_id)) == 1
    assert not cuentas_tap.events(SALDO, comando_id=otra.comando_id)
    assert not dlq_tap.events(comando_id=otra.comando_id)
    saldo, ledger, _ = await saldo_y_ledger(db, cuenta["cuenta_id"])
    assert saldo == ledger == Decimal("50.00")


async def test_comando_venenoso_va_al_dlq_y_la_particion_sigue(
    http: httpx.AsyncClient, cuenta_factory: Factory, producer: AIOKafkaProducer, cuentas_tap: Tap, dlq_tap: Tap
) -> None:
    cuenta = await cuenta_factory(saldo="10.00")
    key = str(cuenta["cuenta_id"]).encode()
    valid = debitar(cuenta["cuenta_id"], "1.00")
    env = envelope_for(valid, source="/tests/cuentas")
    # Same key as the account, so the poison sits in the partition right before a good command.
    poison_id = str(uuid.uuid4())
    # Marked as deliberate junk, so the contract test (every record of the topic parses and validates) skips them.
    poison_headers = [(k, poison_id.encode() if k == "ce_id" else v) for k, v in env.headers()] + [POISON_MARK]
    await producer.send_and_wait(topics.CUENTAS_COMANDOS, b'{"cuenta_id": "no"}', key=key, headers=poison_headers)
    await producer.send_and_wait(
        topics.CUENTAS_COMANDOS, b"not json", key=key, headers=[("ce_type", b"?"), POISON_MARK]
    )
    await publish(producer, env)

    await cuentas_tap.wait_for(SALDO, comando_id=valid.comando_id)
    assert await _saldo(http, cuenta["cuenta_id"]) == "9.00"
    dead: list[dict[str, str]] = []

    async def both_dead() -> bool:
        nonlocal dead
        dead = [h for k, h, _ in dlq_tap.records if k == key.decode()]
        return len(dead) >= 2

    await eventually(both_dead, timeout=30, what="two poison records in the DLQ")
    assert {h["dlq_error_type"] for h in dead} == {"ValidationError", "EnvelopeError"}
    assert all(h["dlq_consumer_group"] == "cuentas.comandos" for h in dead)


async def test_todo_comando_que_nunca_se_aplicara_se_responde_y_nada_va_al_dlq(
    http: httpx.AsyncClient, cuenta_factory: Factory, producer: AIOKafkaProducer, cuentas_tap: Tap, dlq_tap: Tap
) -> None:
    cuenta = await cuenta_factory(saldo="1.00")
    excede = acreditar(cuenta["cuenta_id"], "9999999999999.99")
    largo = debitar(cuenta["cuenta_id"], "0.50").model_copy(update={"comando_id": "C" * 65})
    fantasma = RevertirDebito(
        comando_id=str(uuid.uuid4()),
        transaccion_id=excede.transaccion_id,
        cuenta_id=cuenta["cuenta_id"],
        monto=Decimal("1.00"),
        moneda="PEN",
        comando_original_id=str(uuid.uuid4()),  # no such debit
    )
    for comando in (excede, largo, fantasma):
        await _send(producer, comando)

    [r] = await cuentas_tap.wait_for(RECHAZO, comando_id=excede.comando_id)
    assert (r["motivo"], r["operacion"], r["cliente_id"]) == ("SALDO_EXCEDIDO", "CREDITO", cuenta["cliente_id"])
    assert "excedería el máximo por cuenta (9999999999999.99)" in r["detalle"]
    [r] = await cuentas_tap.wait_for(RECHAZO, comando_id=largo.comando_id)
    assert (r["motivo"], r["operacion"]) == ("COMANDO_INVALIDO", "DEBITO")
    [r] = await cuentas_tap.wait_for(RECHAZO, comando_id=fantasma.comando_id)
    assert r["motivo"] == "COMANDO_INVALIDO"
    assert await _saldo(http, cuenta["cuenta_id"]) == "1.00"
    assert not cuentas_tap.events(SALDO, cuenta_id=cuenta["cuenta_id"], causa="SAGA")
    assert not [d for c in (excede, largo, fantasma) for d in dlq_tap.events(comando_id=c.comando_id)]

"""Every saga ends: a command cuentas can never apply is answered (MovimientoRechazado), never only
dead-lettered; amounts that can never fit a balance are refused at the POST; `bank audit` reports what is left."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bank.auth import bearer_auth
from consumers.reader import make_reader, offsets_at, read_range, topic_partitions
from contracts import topics
from contracts.money import MAX_BALANCE
from streams.replay.audit import AuditReport, audit
from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import KAFKA, MYSQL, URLS
from tests.integration.stack import supervisorctl
from tests.integration.transacciones.conftest import Banco, CuentaFactory

MAXIMO = f"{MAX_BALANCE:.2f}"
CUENTAS_URL = f"mysql://{MYSQL['user']}:{MYSQL['password']}@{MYSQL['host']}:{MYSQL['port']}/cuentas"


async def _final(banco: Banco, body: dict[str, Any]) -> dict[str, Any]:
    """POST, then the transaction once final (a FALLIDA may already be the POST's answer, 201 or 409)."""
    r = await banco.post(body)
    assert r.status_code in (201, 202, 409), r.text
    return await banco.esperar_final(r.json()["id"], timeout=15)


async def _dead_letters_since(start: datetime, needle: str) -> list[bytes]:
    """Records of the commands' DLQ written since `start` that mention `needle`."""
    consumer = make_reader(KAFKA, client_id="test-dlq")
    await consumer.start()
    try:
        tps = await topic_partitions(consumer, topics.dlq(topics.CUENTAS_COMANDOS))
        starts = await offsets_at(consumer, tps, start)
        stops = await consumer.end_offsets(tps)
        return [r.value async for r in read_range(consumer, starts, stops) if needle.encode() in (r.value or b"")]
    finally:
        await consumer.stop()


async def test_un_deposito_que_excederia_el_maximo_termina_fallida_en_segundos_sin_dlq(
    banco: Banco, cuenta: CuentaFactory
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    destino = await cuenta("1.00")
    began = time.monotonic()
    trx = await _final(banco, {"tipo": "DEPOSITO", "monto": MAXIMO, "moneda": "PEN", "cuentaDestinoId": destino})
    assert time.monotonic() - began < 15
    assert trx["estado"] == "FALLIDA"
    assert trx["motivo"].startswith("SALDO_EXCEDIDO: ")
    assert f"excedería el máximo por cuenta ({MAXIMO})" in trx["motivo"]
    assert await banco.saldo(destino) == Decimal("1.00")
    assert await _dead_letters_since(start, trx["transaccionId"]) == []


async def test_una_transferencia_cuyo_credito_excederia_el_maximo_devuelve_el_debito(
    banco: Banco, cuenta: CuentaFactory
) -> None:
    origen, llena = await cuenta("100.00"), await cuenta(MAXIMO)  # an account may open at the ceiling
    trx = await _final(
        banco,
        {"tipo": "TRANSFERENCIA", "monto": "1.00", "moneda": "PEN", "cuentaOrigenId": origen, "cuentaDestinoId": llena},
    )
    assert trx["estado"] == "FALLIDA"
    assert trx["motivo"].startswith("SALDO_EXCEDIDO")
    assert await banco.saldo(origen) == Decimal("100.00")
    movimientos = {(m["operacion"], m["causa"]) for m in await banco.movimientos(origen)}
    assert {("DEBITO", "SAGA"), ("CREDITO", "REVERSION")} <= movimientos
    assert await banco.saldo(llena) == MAX_BALANCE


async def test_un_deposito_de_ventanilla_que_excederia_el_maximo_es_409_nombrando_el_limite(
    banco: Banco, cuenta: CuentaFactory
) -> None:
    cuenta_id = await cuenta("1.00")
    r = await banco.cuentas.patch(f"/cuentas/{cuenta_id}/saldo", json={"monto": MAXIMO, "operacion": "deposito"})
    assert r.status_code == 409, r.text
    assert MAXIMO in r.text
    assert await banco.saldo(cuenta_id) == Decimal("1.00")


@pytest.mark.parametrize("monto", ["10000000000000.00", "99999999999999", 10**13])
async def test_un_monto_que_ninguna_cuenta_puede_contener_es_422_nombrando_el_limite(
    banco: Banco, cuenta: CuentaFactory, monto: object
) -> None:
    cliente_id = await banco.nuevo_cliente()
    apertura = await banco.cuentas.post(
        "/cuentas", json={"cliente_id": cliente_id, "tipo_cuenta_id": 1, "saldo": monto}
    )
    assert apertura.status_code == 422, apertura.text
    assert apertura.json()["detail"][0]["loc"] == ["body", "saldo"]
    assert MAXIMO in apertura.text
    destino = await cuenta()
    r = await banco.post({"tipo": "DEPOSITO", "monto": monto, "moneda": "PEN", "cuentaDestinoId": destino})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "monto"]
    assert MAXIMO in r.text
    r = await banco.cuentas.patch(f"/cuentas/{destino}/saldo", json={"monto": monto, "operacion": "deposito"})
    assert r.status_code == 422, r.text
    assert MAXIMO in r.text


# --- bank audit: stuck sagas and dead letters -----------------------------------------------------------------


@pytest.fixture
async def dlq_de_prueba() -> AsyncIterator[str]:
    """A fresh `<topic>.dlq` (deleted afterwards), so the test does not depend on what other tests dead-lettered."""
    name = f"test.audit.{uuid.uuid4().hex[:8]}.v1.dlq"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
        yield name
    finally:
        await admin.delete_topics([name])
        await admin.close()


async def _cuentas_sanas() -> None:
    async def healthy() -> bool:
        async with httpx.AsyncClient(auth=Bearer(), base_url=URLS["cuentas"], timeout=5) as client:
            try:
                return (await client.get("/health")).status_code == 200
            except httpx.HTTPError:
                return False

    await eventually(healthy, timeout=120, interval=0.5, what="cuentas healthy again")


async def test_audit_reporta_una_saga_atascada_y_los_mensajes_del_dlq(
    banco: Banco, cuenta: CuentaFactory, dlq_de_prueba: str
) -> None:
    triaged = datetime.now(UTC) - timedelta(seconds=1)
    destino = await cuenta("5.00")
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        await producer.send_and_wait(
            dlq_de_prueba,
            b'{"poison": true}',
            key=b"k1",
            headers=[("dlq_error_type", b"ValidationError"), ("dlq_error", b"bad\nthing")],
        )
    finally:
        await producer.stop()

    def audit_now() -> Awaitable[AuditReport]:
        """What `bank audit` reports of this test's window: sagas older than 1 s, dead letters since `triaged`."""
        return audit(
            KAFKA,
            CUENTAS_URL,
            since=triaged,
            transacciones_url=URLS["transacciones"],
            transacciones_auth=bearer_auth(),
            stuck_after=timedelta(seconds=1),
            triaged_until=triaged,
        )

    # Nobody applies commands while cuentas is stopped: the deposit stays PENDIENTE.
    supervisorctl("stop", "cuentas:*")
    try:
        r = await banco.post({"tipo": "DEPOSITO", "monto": "2.00", "moneda": "PEN", "cuentaDestinoId": destino})
        assert r.status_code == 202, r.text
        pendiente = r.json()
        await asyncio.sleep(1.5)  # not a wait for a condition: the saga must be older than stuck_after (1 s)
        report = await audit_now()
    finally:
        supervisorctl("start", "cuentas:*")
        await _cuentas_sanas()

    assert not report.clean
    assert report.sagas is not None
    assert report.sagas.total >= 1
    assert pendiente["transaccionId"] in {t["transaccionId"] for t in report.sagas.muestras}
    [dlq] = [t for t in report.dlq if t.topic == dlq_de_prueba]
    assert dlq.total == 1
    assert (dlq.muestras[0]["key"], dlq.muestras[0]["error"]) == ("k1", "bad thing")
    text = "\n".join(report.lines())
    assert "sagas PENDIENTE for more than 1s:" in text
    assert f"{dlq_de_prueba}: 1 dead letter(s)" in text

    # Once cuentas is back the saga ends, and a stricter threshold no longer counts it.
    final = await banco.esperar_final(pendiente["id"], timeout=60)
    assert final["estado"] == "COMPLETADA"
    after = await audit_now()
    assert after.sagas is not None
    assert pendiente["transaccionId"] not in {t["transaccionId"] for t in after.sagas.muestras}
    assert [t.total for t in after.dlq if t.topic == dlq_de_prueba] == [1]
    # What was triaged (before --triaged-until) is not reported again.
    later = await audit(KAFKA, CUENTAS_URL, since=triaged, triaged_until=datetime.now(UTC))
    assert later.sagas is None
    assert not [t for t in later.dlq if t.topic == dlq_de_prueba]

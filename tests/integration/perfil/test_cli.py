"""`bank replay perfil`, `bank audit` and `bank events` against the real stack and the running services."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiomysql
import pytest

from consumers.times import parse_time
from streams.replay.audit import audit
from streams.replay.export import export_events
from tests.conftest import eventually
from tests.integration.conftest import KAFKA, MYSQL
from tests.integration.perfil.conftest import Bank

ROOT = Path(__file__).resolve().parents[3]
CUENTAS_URL = f"mysql://{MYSQL['user']}:{MYSQL['password']}@{MYSQL['host']}:{MYSQL['port']}/cuentas"


async def bank_cli(*args: str, timeout: float = 150) -> tuple[int, str]:
    """Run the `bank` console command; returns (exit code, stdout + stderr)."""
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv/bin/bank"),
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def visible(bank: Bank, cliente_id: int, cuentas: int = 0) -> dict[str, Any]:
    """The profile once perfil shows the cliente (and at least `cuentas` accounts with a saldo)."""

    async def probe() -> dict[str, Any] | None:
        r = await bank.perfil.get(f"/api/clientes/{cliente_id}/perfil-completo")
        if r.status_code != 200:
            return None
        body: dict[str, Any] = r.json()
        return body if sum(1 for c in body["cuentas"] if c["saldo"] is not None) >= cuentas else None

    return await eventually(probe, timeout=30, what=f"profile of cliente {cliente_id}")


async def test_replay_rebuilds_an_equal_view_and_the_running_service_follows_the_switch(bank: Bank) -> None:
    before = await bank.nuevo_cliente()
    await visible(bank, before["cliente_id"])
    # A cliente with money in two monedas and one transaction: the summary must come back the same from the replay.
    rico = (await bank.nuevo_cliente())["cliente_id"]
    pen = await bank.abrir_cuenta(rico, "30.00", "PEN")
    await bank.abrir_cuenta(rico, "7.00", "EUR")
    await bank.wait_final(
        [
            await bank.transaccion(
                {"tipo": "DEPOSITO", "monto": "2.50", "moneda": "PEN", "cuentaDestinoId": pen["cuenta_id"]}
            )
        ]
    )

    async def folded() -> dict[str, Any] | None:
        # The transaction (bank.transacciones.v1) and the saldo it left (bank.cuentas.v1) come from two topics,
        # folded in whatever order they arrive: wait for both.
        perfil = await visible(bank, rico, cuentas=2)
        resumen = perfil["resumen_financiero"]
        return perfil if (resumen["total_transacciones"], resumen["patrimonio_total"]) == (1, "32.50") else None

    prior = await eventually(folded, timeout=30, what="the transaction in the profile")
    assert prior["resumen_financiero"]["patrimonio_total"] == "32.50"
    assert prior["resumen_financiero"]["patrimonio_por_moneda"] == {"EUR": "7.00", "PEN": "32.50"}
    assert prior["resumen_financiero"]["ultima_actividad"] is not None

    code, out = await bank_cli("replay", "perfil", "--json")

    assert code == 0, out
    report = json.loads(out.strip().splitlines()[-1])
    assert report["compared"], out
    assert report["differences"] == 0, out
    assert report["switched"], out
    assert report["events"] > 0
    shown = await visible(bank, before["cliente_id"])
    assert shown["cliente"]["email"] == before["email"]
    assert shown["resumen_financiero"]["ultima_actividad"] is None
    assert await visible(bank, rico) == prior  # the rebuilt copy answers the same fields, summary included
    after = await bank.nuevo_cliente()
    await visible(bank, after["cliente_id"])  # folded by the live projection into the new copy


@pytest.fixture
async def cuentas_db() -> AsyncIterator[aiomysql.Connection]:
    conn = await aiomysql.connect(**MYSQL, db="cuentas", autocommit=True)
    yield conn
    conn.close()


async def test_audit_passes_on_a_clean_run_and_reports_a_saldo_altered_in_the_database(
    bank: Bank, cuentas_db: aiomysql.Connection
) -> None:
    # Dead letters and stuck sagas other tests left on purpose were looked at: only what follows counts.
    triaged = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    cliente = await bank.nuevo_cliente()
    cuenta = await bank.abrir_cuenta(cliente["cliente_id"], "100.00", "PEN")
    cuenta_id = cuenta["cuenta_id"]
    # Its SaldoActualizado is on Kafka once perfil has folded it.
    shown = await visible(bank, cliente["cliente_id"], cuentas=1)
    assert shown["cuentas"][0]["saldo"] == "100.00"

    code, out = await bank_cli("audit", "--triaged-until", triaged)
    assert code == 0, out
    assert "discrepancies: 0" in out
    assert "dead-letter topics with messages: 0" in out

    async with cuentas_db.cursor() as cur:
        await cur.execute("UPDATE cuentas SET saldo = saldo + 1 WHERE cuenta_id = %s", (cuenta_id,))
    try:
        code, out = await bank_cli("audit", "--triaged-until", triaged)
        assert code == 1, out
        assert f"cuenta {cuenta_id}: SALDO_VS_LEDGER: saldo 101.00 but Σ movimientos 100.00" in out
        assert f"cuenta {cuenta_id}: SALDO_VS_EVENTOS" in out
        recent = await audit(KAFKA, CUENTAS_URL, since=parse_time("-10m"))
        assert [(d.cuenta_id, d.tipo) for d in recent.discrepancies if d.cuenta_id == cuenta_id] == [
            (cuenta_id, "SALDO_VS_EVENTOS"),
            (cuenta_id, "SALDO_VS_LEDGER"),
            (cuenta_id, "SALDO_VS_ULTIMO_MOVIMIENTO"),
        ]
    finally:
        async with cuentas_db.cursor() as cur:
            await cur.execute("UPDATE cuentas SET saldo = %s WHERE cuenta_id = %s", (Decimal("100.00"), cuenta_id))

    restored = await audit(KAFKA, CUENTAS_URL, since=parse_time("-10m"))
    assert restored.discrepancies == []
    assert restored.accounts_audited >= 1


async def test_events_exports_a_time_range_as_cloudevents_json_lines(bank: Bank, tmp_path: Path) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    cliente = await bank.nuevo_cliente()
    cliente_id = cliente["cliente_id"]
    await visible(bank, cliente_id)
    target = tmp_path / "events.jsonl"

    code, out = await bank_cli(
        "events",
        "--topic",
        "bank.clientes.v1",
        "--from",
        start.isoformat(),
        "--key",
        str(cliente_id),
        "-o",
        str(target),
    )

    assert code == 0, out
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    [creado] = [e for e in lines if e["type"] == "bank.clientes.ClienteCreado.v1"]
    assert creado["specversion"] == "1.0"
    assert creado["subject"] == str(cliente_id)
    assert creado["source"] == "/clientes"
    assert creado["data"]["cliente_id"] == cliente_id
    assert creado["data"]["email"] == cliente["email"]
    assert datetime.fromisoformat(creado["time"]) >= start
    assert all(e["subject"] == str(cliente_id) for e in lines)

    before: list[str] = []
    report = await export_events(
        KAFKA, "bank.clientes.v1", before.append, since=start - timedelta(hours=1), until=start, key=str(cliente_id)
    )
    assert before == []  # created after the range
    assert report.exported == 0


async def test_events_refuses_an_unknown_topic(bank: Bank) -> None:
    code, out = await bank_cli("events", "--topic", "no.such.topic", "--from", "-1m")
    assert code == 2, out
    assert "no.such.topic" in out

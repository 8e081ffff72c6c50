"""The bank test against every service that runs as two instances (issue 17): one instance of transacciones,
cuentas, perfil and the lake sink killed (-9) in turn while clients move money through the balancers.

The workload has holds and reversals besides money movements (jepsen.run_bank). Besides the books
(jepsen.check_books), the holds (jepsen.check_retenciones) and the reversals (jepsen.check_reversiones): perfil equal to the owners, the lake holding each event of the run once,
`bank audit` clean, and no request failing as the client sees it — a retried idempotent POST through the balancer
must never reach a dead instance. `make up` runs two instances of each of these services.
"""

import pytest

from tests.integration.transacciones import jepsen
from tests.integration.transacciones.conftest import Banco

# The run, then perfil, the lake (a flush every 30 s) and `bank audit` catching up: longer than the default 300 s.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600), pytest.mark.asyncio(loop_scope="session")]

# The service (its program or group name) and when, in seconds into the run, one of its instances is killed.
KILLS = [(6.0, "transacciones"), (18.0, "cuentas"), (30.0, "perfil"), (42.0, "lake")]
LOAD_SECONDS = 55.0


async def test_el_banco_cuadra_matando_una_instancia_de_cada_servicio(banco: Banco, subtests: pytest.Subtests) -> None:
    states = jepsen.program_states()
    schedule = []
    for at, service in KILLS:
        found = jepsen.instances(service, states)
        assert len(found) >= 2, f"{service} runs as {found or 'nothing'}: no second instance to take over"
        schedule.append((at, found[0]))
    cliente_id = await banco.nuevo_cliente()

    async def cuenta(saldo: str, moneda: str = "PEN") -> int:
        return await banco.abrir_cuenta(cliente_id, saldo, moneda)  # the run opens a few USD accounts for FX

    run = await jepsen.run_bank(
        banco, cuenta, nemesis=jepsen.Nemesis(schedule), load_seconds=LOAD_SECONDS, settle_seconds=180.0
    )
    print(jepsen.report(run, "one instance of each service killed -9"))
    saldos = await jepsen.check_books(banco, run)
    holds = await jepsen.check_retenciones(banco, run)
    reversiones = jepsen.check_reversiones(run)
    print(jepsen.report_extras(run, holds, reversiones))

    for at, service in KILLS:
        with subtests.test(msg=f"kill -9 one {service} instance at +{at:.0f}s"):
            [kill] = [k for k in run.nemesis.kills if k.program in jepsen.instances(service, states)]
            assert kill.healthy_after is not None, f"{kill.program} not back within {run.nemesis.recover_timeout}s"

    with subtests.test(msg="no request failed through the balancers"):
        assert run.failures == [], jepsen.report(run, "failures")
    with subtests.test(msg="perfil equal to the owners"):
        await jepsen.check_perfil(cliente_id, saldos)
    with subtests.test(msg="the lake holds every event once"):
        events = await jepsen.check_events(run)
        print(f"events: Kafka {events.records} records, {events.distinct} distinct ids; lake {events.lake_rows} rows")
    with subtests.test(msg="bank audit clean"):
        jepsen.check_audit(run)
        print("bank audit clean")

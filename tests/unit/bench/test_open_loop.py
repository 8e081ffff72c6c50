"""bench_saga's open loop: every arrival starts on schedule whatever is in flight; failures and the transfers still
running after the drain are counted, never dropped."""

import asyncio

from bench._profile import top_frames
from bench.bench_saga import open_loop


async def test_el_lazo_abierto_cuenta_llegadas_errores_y_pendientes() -> None:
    async def transfer(i: int) -> None:
        if i == 7:
            await asyncio.sleep(3600)  # never finishes: cancelled after the drain
        if i % 5 == 0:
            raise RuntimeError(f"refused {i}")

    result = await open_loop(transfer, rate=200, duration=0.1, drain=0.2)
    assert result["requests"] == 20
    assert result["unfinished"] == 1
    assert result["errors"] == 4 + 1  # i = 0, 5, 10, 15 refused; 7 unfinished
    assert result["max_in_flight"] >= 1
    assert result["error_samples"][0] == "RuntimeError('refused 0')"


async def test_las_llegadas_no_esperan_a_las_anteriores() -> None:
    started: list[int] = []
    gate = asyncio.Event()

    async def transfer(i: int) -> None:
        started.append(i)
        if len(started) == 10:
            gate.set()
        await gate.wait()  # none finishes before the last arrival: a closed loop of any size below 10 would stall

    result = await open_loop(transfer, rate=100, duration=0.1, drain=5)
    assert result["max_in_flight"] == 10
    assert result["errors"] == 0


def test_los_frames_propios_y_los_nuestros_sin_las_esperas() -> None:
    collapsed = "\n".join(
        [
            "<module> (bank:1);serve (bank/serve.py:18);handle (services/transacciones/writer.py:10);"
            "dumps (json/encoder.py:5) 60",
            "<module> (bank:1);serve (bank/serve.py:18);handle (services/transacciones/writer.py:10) 10",
            "<module> (bank:1);serve (bank/serve.py:18);poll (aiokafka/consumer.py:3) 30",
            "_bootstrap (threading.py:988);worker (opentelemetry/x.py:1);wait (threading.py:295) 500",
            "garbage line",
        ]
    )
    top = top_frames(collapsed, n=2)
    assert top["own"] == [("dumps (json/encoder.py:5)", 60.0), ("poll (aiokafka/consumer.py:3)", 30.0)]
    assert top["ours"] == [("handle (services/transacciones/writer.py:10)", 70.0)]
    assert top_frames("") == {"own": [], "ours": []}

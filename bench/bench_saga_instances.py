"""Benchmark of transacciones' scaling: completed transfers per second (POST through the balancer until final)
with both instances, then with transacciones-2 stopped (supervisorctl), then with both again; plus what the fence
costs the writer (its one epoch read per round, against the round's replace time), from each instance's /stats.

Run: .venv/bin/python -m bench.bench_saga_instances [--requests 600] [--concurrency 64] [--accounts 100]
Needs the native stack up (`make apps`); prints the table and saves bench/results/saga_instances.json, with the
machine's load average at the time (other stacks share the CPUs: compare runs of the same moment only).
"""

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bank.auth import bearer_auth
from bench._harness import measure, save
from bench.bench_saga import _accounts, instance_stats, total

ROOT = Path(__file__).resolve().parents[1]
SUPERVISORCTL = [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(ROOT / "infra/supervisord.conf")]
TRANSACCIONES = "http://127.0.0.1:8004"
STOPPED = "transacciones:transacciones-2"
PARTITIONS = 6
FINAL = {"COMPLETADA", "FALLIDA", "CANCELADA"}


def supervisorctl(*args: str) -> str:
    return subprocess.run([*SUPERVISORCTL, *args], check=False, capture_output=True, text=True, timeout=120).stdout


def cpu_seconds() -> float:
    """CPU time (user + system) used so far by the running transacciones instances (children included)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = 0.0
    for program in ("transacciones:transacciones-1", "transacciones:transacciones-2"):
        pid = supervisorctl("pid", program).strip()
        if pid.isdigit() and pid != "0":
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                used += sum(int(x) for x in fields[11:15]) / ticks
    return used


async def _until(http: httpx.AsyncClient, instances: int) -> None:
    """Wait until `instances` instances answer and hold all partitions between them (the group rebalanced)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stats = await instance_stats(http)
        held = [len(s.get("partitions", {})) for s in stats.values()]
        if len(stats) == instances and sum(held) == PARTITIONS and all(held):
            await asyncio.sleep(3)  # HAProxy's health checks see the change too
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"transacciones did not settle on {instances} instance(s)")


async def _run(http: httpx.AsyncClient, label: str, accounts: list[int], requests: int, c: int) -> dict[str, Any]:
    async def transfer(i: int) -> None:
        a, b = random.sample(accounts, 2)
        body = {"tipo": "TRANSFERENCIA", "monto": "1.00", "moneda": "PEN", "cuentaOrigenId": a, "cuentaDestinoId": b}
        key = {"Idempotency-Key": str(uuid.uuid4())}
        while True:
            try:
                r = await http.post("/transacciones", json=body, headers=key)
            except httpx.TransportError:
                continue  # the key makes a resend safe
            if r.status_code not in (201, 202):
                raise RuntimeError(r.text)
            if r.json()["estado"] in FINAL:
                return

    before = await instance_stats(http)
    cpu = cpu_seconds()
    result = await measure(f"saga transfers, {label}", transfer, requests=requests, concurrency=c)
    cpu = cpu_seconds() - cpu
    after = await instance_stats(http)
    result["transacciones_cpu_s_per_transfer"] = round(cpu / max(1, requests), 4)
    rounds = total(after, "writer_rounds") - total(before, "writer_rounds")
    fence = sum(after[n]["store_seconds"]["fence"] - before[n]["store_seconds"]["fence"] for n in after)
    replace = sum(after[n]["store_seconds"]["replace"] - before[n]["store_seconds"]["replace"] for n in after)
    result["writer_rounds"] = rounds
    result["replace_s"] = round(replace, 2)
    result["fence_ms_per_round"] = round(1000 * fence / max(1, rounds), 2)
    result["replace_ms_per_round"] = round(1000 * replace / max(1, rounds), 2)
    result["load_average"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return result


async def main(requests: int, concurrency: int, accounts: int) -> None:
    ids = await _accounts(accounts)
    limits = httpx.Limits(max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8)
    async with httpx.AsyncClient(auth=bearer_auth(), base_url=TRANSACCIONES, timeout=60, limits=limits) as http:
        await _until(http, 2)
        await measure("warm-up", lambda i: http.get("/health"), requests=50, concurrency=8)
        results = [await _run(http, "2 instances", ids, requests, concurrency)]
        supervisorctl("stop", STOPPED)
        try:
            await _until(http, 1)
            results.append(await _run(http, "1 instance", ids, requests, concurrency))
        finally:
            supervisorctl("start", STOPPED)
        await _until(http, 2)
        results.append(await _run(http, "2 instances (again)", ids, requests, concurrency))
    save("saga_instances", results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--accounts", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.accounts))

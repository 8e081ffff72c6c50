"""Benchmark of MS1: GET /clientes/{id} at a few concurrency levels against the running service on 127.0.0.1:8001.

Run: .venv/bin/python -m bench.bench_clientes [--requests N] [--concurrency 1,10,50] [--pid PID]
Creates a small set of clientes first (bounded), then reads them round-robin. Besides rps and latency it reports
the server process's CPU time per request (from /proc), which stays meaningful on a machine busy with other work."""

import argparse
import asyncio
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx

from bank.auth import bearer_auth
from bench._harness import concurrency_levels, measure, save

BASE = "http://127.0.0.1:8001"
ROOT = Path(__file__).resolve().parents[1]


def _supervised_pid() -> int | None:
    ctl = [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(ROOT / "infra/supervisord.conf"), "pid", "clientes"]
    try:
        out = subprocess.run(ctl, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return int(out) if out.isdigit() and out != "0" else None


def _cpu_seconds(pid: int | None) -> float | None:
    """utime + stime of `pid` and its threads (uvicorn runs in one process)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _seed(client: httpx.AsyncClient, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        u = uuid.uuid4().hex[:12]
        response = await client.post(
            "/clientes",
            json={
                "nombre": "Bench",
                "apellido": "Clientes",
                "email": f"bench.{u}@example.com",
                "documento": {"tipo_documento": "Pasaporte", "numero_documento": f"B{u.upper()}"},
            },
        )
        response.raise_for_status()
        ids.append(response.json()["cliente_id"])
    return ids


async def main(requests: int, levels: list[int], seed: int, pid: int | None) -> None:
    pid = pid or _supervised_pid()
    limits = httpx.Limits(max_connections=max(levels), max_keepalive_connections=max(levels))
    async with httpx.AsyncClient(auth=bearer_auth(), base_url=BASE, timeout=30, limits=limits) as client:
        ids = await _seed(client, seed)

        async def get_one(i: int) -> None:
            response = await client.get(f"/clientes/{ids[i % len(ids)]}")
            response.raise_for_status()

        await measure("warm-up", get_one, requests=min(200, requests), concurrency=min(levels))
        results: list[dict[str, Any]] = []
        for level in levels:
            before = _cpu_seconds(pid)
            result = await measure("GET /clientes/{id}", get_one, requests=requests, concurrency=level)
            after = _cpu_seconds(pid)
            if before is not None and after is not None:
                result["server_cpu_ms_per_request"] = round((after - before) * 1000 / requests, 3)
            result["load_average_1m"] = round(os.getloadavg()[0], 1)
            results.append(result)
    save("clientes", results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=concurrency_levels, default="1,10,50", help="comma-separated levels")
    parser.add_argument("--seed", type=int, default=50, help="clientes created to read")
    parser.add_argument("--pid", type=int, default=None, help="server pid (default: supervisor's clientes)")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.seed, args.pid))

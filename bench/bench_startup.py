"""Start-up time of every service: supervisord starts the process, we time until its /health first answers 200.

Measured from the process's own start time (/proc/<pid>/stat, on the boot clock), so supervisorctl's startsecs and
our polling cadence (20 ms) add nothing. Each service is restarted `--rounds` times (one at a time, the rest of the
stack up); the figures are the per-service minimum, median and maximum in seconds.

Run: .venv/bin/python -m bench.bench_startup [--rounds 3] [--services clientes,transacciones]
Needs the whole stack up (`make apps`). Restarts the services it measures, so do not run it beside other tests.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from bench._harness import save

ROOT = Path(__file__).resolve().parents[1]
SUPERVISORCTL = [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(ROOT / "infra/supervisord.conf")]
# supervisor program -> the health URL the balancer or `stack.sh start-apps` waits for (infra/health-urls.txt).
SERVICES = {
    "clientes:clientes": "http://127.0.0.1:8001/health",
    "cuentas:cuentas-1": "http://127.0.0.1:8012/health",
    "perfil:perfil": "http://127.0.0.1:6000/health",
    "transacciones:transacciones": "http://127.0.0.1:8004/health",
    "analytics:analytics": "http://127.0.0.1:8000/health",
}
TICKS = os.sysconf("SC_CLK_TCK")


def _ctl(*args: str) -> str:
    return subprocess.run([*SUPERVISORCTL, *args], capture_output=True, text=True, timeout=120).stdout


def _started_at(pid: int) -> float:
    """The process's start on the boot clock (field 22 of /proc/<pid>/stat, in clock ticks since boot)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": field 3 onwards
    return int(fields[19]) / TICKS


async def _one(program: str, url: str, http: httpx.AsyncClient, timeout: float = 60.0) -> float:
    _ctl("stop", program)
    starter = subprocess.Popen([*SUPERVISORCTL, "start", program], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    pid = 0
    try:
        while time.monotonic() < deadline:
            if not pid:
                text = _ctl("pid", program).strip()
                pid = int(text) if text.isdigit() and text != "0" else 0
            try:
                if (await http.get(url)).status_code == 200 and pid:
                    return time.clock_gettime(time.CLOCK_BOOTTIME) - _started_at(pid)
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.02)
    finally:
        starter.wait(timeout=120)
    raise TimeoutError(f"{program}: no /health 200 within {timeout}s")


async def main(rounds: int, services: list[str]) -> list[dict[str, Any]]:
    results = []
    async with httpx.AsyncClient(timeout=2.0) as http:
        for program in services:
            times = [await _one(program, SERVICES[program], http) for _ in range(rounds)]
            results.append(
                {
                    "name": program.split(":")[-1],
                    "rounds": rounds,
                    "min_s": round(min(times), 2),
                    "median_s": round(statistics.median(times), 2),
                    "max_s": round(max(times), 2),
                }
            )
            print(f"{program}: {', '.join(f'{t:.2f}s' for t in times)}", flush=True)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--services", default=",".join(s.split(":")[-1] for s in SERVICES))
    args = parser.parse_args()
    chosen = [p for p in SERVICES if p.split(":")[-1] in args.services.split(",")]
    results = asyncio.run(main(args.rounds, chosen))
    save("startup", results)

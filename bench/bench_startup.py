"""Start-up time of every service: supervisord starts the process, we time until its /health first answers 200.

Measured from the process's own start time (/proc/<pid>/stat, on the boot clock), so supervisorctl's startsecs and
our polling cadence (20 ms) add nothing. Each service is restarted `--rounds` times (one at a time, the rest of the
stack up); the figures are the per-service minimum, median and maximum in seconds, the median CPU seconds the
process used until then (less sensitive to a busy machine than wall time) and the load average at the time.

Run: .venv/bin/python -m bench.bench_startup [--rounds 3] [--services clientes,transacciones] [--kill]
Needs the whole stack up (`make apps`). Restarts the services it measures, so do not run it beside other tests.
"""

import argparse
import os
import signal
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
    "perfil:perfil-1": "http://127.0.0.1:6010/health",
    "transacciones:transacciones": "http://127.0.0.1:8004/health",
    "analytics:analytics": "http://127.0.0.1:8000/health",
}
TICKS = os.sysconf("SC_CLK_TCK")


def _ctl(*args: str) -> str:
    return subprocess.run([*SUPERVISORCTL, *args], capture_output=True, text=True, timeout=120).stdout


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat from field 3 on (after "pid (comm) "), so list index = field number - 3."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()


def _pid(program: str) -> int:
    text = _ctl("pid", program).strip()
    return int(text) if text.isdigit() else 0


def _one(
    program: str, url: str, http: httpx.Client, *, kill: bool, timeout: float = 60.0
) -> tuple[float, float, float]:
    """(seconds from the process's start to its first /health 200, CPU seconds it used until then, seconds its main
    thread waited for a CPU). kill: SIGKILL
    the running process and time the one supervisord starts instead (a crash: no clean leave from Kafka's groups)."""
    if kill:
        old = _pid(program)
        os.kill(old, signal.SIGKILL)
        starter = None
    else:
        old = 0
        _ctl("stop", program)
        starter = subprocess.Popen([*SUPERVISORCTL, "start", program], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    pid = 0
    try:
        while time.monotonic() < deadline:
            if not pid:
                pid = _pid(program)
                pid = 0 if pid == old else pid
            try:
                if pid and http.get(url).status_code == 200:
                    now = time.clock_gettime(time.CLOCK_BOOTTIME)
                    fields = _stat(pid)
                    # starttime (field 22) is in clock ticks since boot; utime + stime (fields 14, 15) likewise.
                    # The main thread's schedstat: ns on a CPU, ns runnable but waiting for one (a busy machine).
                    _, waited, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
                    wall = now - int(fields[19]) / TICKS
                    return wall, (int(fields[11]) + int(fields[12])) / TICKS, int(waited) / 1e9
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    finally:
        if starter is not None:
            starter.wait(timeout=120)
    raise TimeoutError(f"{program}: no /health 200 within {timeout}s")


def main(rounds: int, services: list[str], *, kill: bool) -> list[dict[str, Any]]:
    results = []
    with httpx.Client(timeout=2.0) as http:
        for program in services:
            runs = [_one(program, SERVICES[program], http, kill=kill) for _ in range(rounds)]
            times, cpu, waited = [r[0] for r in runs], [r[1] for r in runs], [r[2] for r in runs]
            results.append(
                {
                    "name": program.split(":")[-1],
                    "rounds": rounds,
                    "after": "kill -9" if kill else "stop",
                    "min_s": round(min(times), 2),
                    "median_s": round(statistics.median(times), 2),
                    "max_s": round(max(times), 2),
                    "cpu_median_s": round(statistics.median(cpu), 2),
                    # wall - CPU - waiting for a CPU = waiting on something else (a dependency, a sleep).
                    "cpu_wait_median_s": round(statistics.median(waited), 2),
                    "load_1m": round(os.getloadavg()[0], 1),
                }
            )
            print(
                f"{program}: {', '.join(f'{t:.2f}s' for t in times)} (CPU {', '.join(f'{c:.2f}s' for c in cpu)};"
                f" waiting for a CPU {', '.join(f'{w:.2f}s' for w in waited)})"
            )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--services", default=",".join(s.split(":")[-1] for s in SERVICES))
    parser.add_argument("--kill", action="store_true", help="kill -9 instead of a clean stop (crash recovery)")
    args = parser.parse_args()
    chosen = [p for p in SERVICES if p.split(":")[-1] in args.services.split(",")]
    save("startup-kill" if args.kill else "startup", main(args.rounds, chosen, kill=args.kill))

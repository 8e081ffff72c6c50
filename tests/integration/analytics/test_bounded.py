"""On the running stack: hostile custom queries are refused, interrupted or turned away (never a 5xx), the
analytics process stays small, and the dashboard keeps answering quickly meanwhile (issue 18.5)."""

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.auth import Bearer
from tests.integration.conftest import URLS
from tests.integration.stack import pid

ANALYTICS = URLS["analytics"]
TIME_LIMIT = 15.0  # ANALYTICS_QUERY_TIMEOUT_SECONDS of the stack
RSS_BOUND = 2 * 1024**3
DASHBOARD_BOUND = 1.0

_HUNDRED = "(VALUES " + ", ".join(f"({i})" for i in range(100)) + ") AS t(x)"
# Hours of CPU if nothing stopped it (10^12 rows), and ~10 GB of string if nothing bounded memory.
CROSS_JOIN = f"WITH v AS (SELECT * FROM {_HUNDRED}) SELECT count(*) AS n FROM v a, v b, v c, v d, v e, v f"
HUGE_STRING = (
    f"WITH v AS (SELECT * FROM {_HUNDRED}) SELECT length(string_agg(repeat('x', 10000), '')) AS n FROM v a, v b, v c"
)
HOSTILE = [
    ("SELECT count(*) FROM (SELECT unnest(range(1000000000)))", {400}),  # once grew the process to 20.5 GB
    ("SELECT repeat('x', 1e9)", {400}),
    (CROSS_JOIN, {408, 429}),
    (CROSS_JOIN.replace("count(*)", "sum(a.x)"), {408, 429}),
    (HUGE_STRING, {422, 429}),
]


def rss_bytes(process: int) -> int:
    for line in Path(f"/proc/{process}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def dashboard_latency(http: httpx.AsyncClient) -> float:
    started = time.monotonic()
    response = await http.get(f"{ANALYTICS}/api/dashboard")
    assert response.status_code == 200, response.text
    return time.monotonic() - started


async def hostile(http: httpx.AsyncClient, sql: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await http.post(f"{ANALYTICS}/api/query/custom", json={"query": sql})
    return response, time.monotonic() - started


async def test_cinco_consultas_hostiles_a_la_vez_no_tumban_analytics_ni_frenan_el_dashboard() -> None:
    process = pid("analytics")
    assert process, "analytics is not running"
    async with httpx.AsyncClient(auth=Bearer(), timeout=60) as http:
        for _ in range(3):  # warm up: the first answers after a restart include loading the state
            await dashboard_latency(http)
        tasks = [asyncio.create_task(hostile(http, sql)) for sql, _ in HOSTILE]
        latencies: list[float] = []
        peak_rss = rss_bytes(process)
        while not all(t.done() for t in tasks):
            latencies.append(await dashboard_latency(http))
            peak_rss = max(peak_rss, rss_bytes(process))
            await asyncio.sleep(0.25)
        answers = [t.result() for t in tasks]
        after = await http.post(f"{ANALYTICS}/api/query/custom", json={"query": "SELECT count(*) AS n FROM cuentas"})

    report: list[dict[str, Any]] = [
        {"status": r.status_code, "seconds": round(s, 1), "error": r.json().get("error")} for r, s in answers
    ]
    for (response, _), (sql, allowed) in zip(answers, HOSTILE, strict=True):
        assert response.status_code in allowed, (sql[:60], report)
        body = response.json()
        assert body["success"] is False
        assert body["error"]
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
    statuses = [r.status_code for r, _ in answers]
    assert 408 in statuses, report  # two slots, three heavy queries: at least one cross join ran into the limit
    assert all(s <= TIME_LIMIT + 3 for r, s in answers if r.status_code == 408), report  # really interrupted
    assert len(latencies) >= 10, latencies  # the hostile queries lasted the time limit, the dashboard answered
    assert max(latencies) < DASHBOARD_BOUND, (max(latencies), latencies)
    assert peak_rss < RSS_BOUND, peak_rss
    assert after.status_code == 200, after.text  # the slots are free again
    assert pid("analytics") == process  # never restarted (no OOM kill)

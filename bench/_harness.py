"""Tiny benchmark harness shared by bench/*.py: run a coroutine factory N times at a concurrency, report rps and
latency percentiles, save results as JSON under bench/results/ and print a table."""

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (0 when there are no values); the values need not be sorted."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def measure(
    name: str, coro_factory: Callable[[int], Awaitable[Any]], *, requests: int, concurrency: int
) -> dict[str, Any]:
    """Call `coro_factory(i)` for i in range(requests), at most `concurrency` at a time. A call that raises counts
    as an error (its latency is not in the percentiles). Returns name, requests, concurrency, seconds, rps,
    p50_ms, p99_ms, max_ms, errors (and error_samples, the first few, when there were any)."""
    latencies: list[float] = []
    errors = 0
    error_samples: list[str] = []
    next_index = 0

    async def worker() -> None:
        nonlocal errors, next_index
        while next_index < requests:
            i = next_index
            next_index += 1
            start = time.perf_counter()
            try:
                await coro_factory(i)
            except Exception as exc:
                errors += 1
                if len(error_samples) < 3:
                    error_samples.append(repr(exc)[:200])
                continue
            latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "name": name,
        "requests": requests,
        "concurrency": concurrency,
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies, default=0.0), 2),
        "errors": errors,
        **({"error_samples": error_samples} if error_samples else {}),
    }


def save(name: str, results: list[dict[str, Any]], extra: Mapping[str, Any] | None = None) -> Path:
    """Write bench/results/<name>.json (`extra`: more top-level keys) and print the results as a table."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "results": results, **(extra or {})}, indent=2) + "\n")
    columns = ["name", "concurrency", "requests", "rps", "p50_ms", "p99_ms", "max_ms", "errors"]
    if any("machine_ms" in r for r in results):
        columns.append("machine_ms")  # bench/_machine.py: the machine's speed during that measurement
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in results)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in results:
        print("  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)))
    print(f"saved {path.resolve()}")  # resolved: under `make bench` results/ links to the checkout's
    return path


def concurrency_levels(text: str) -> list[int]:
    """argparse type of every benchmark's --concurrency: comma-separated levels, e.g. "1,16,64"."""
    return [int(level) for level in text.split(",")]

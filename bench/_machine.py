"""How fast the machine is at a moment: the CPU time of a fixed pure-Python loop, recorded with each measurement.

Why: this machine's speed drifts by tens of percent over minutes with nothing else running (the same loop took
263-446 ms of CPU five times in a row, and the saga gave 70/s at c=64 in one run and 96-104/s in the next with
the same code). A figure is comparable with another only at a similar `machine_ms`; lower is faster."""

import time

LOOP = 1_000_000


def reference_loop() -> int:
    total = 0
    for i in range(LOOP):
        total += i * i
    return total


def machine_ms(rounds: int = 3) -> float:
    """CPU ms of this thread running the reference loop, the fastest of `rounds` (a round can only be slowed
    down, never sped up)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.thread_time()
        reference_loop()
        best = min(best, time.thread_time() - started)
    return round(best * 1000, 1)

"""Where `bank seed`'s time and CPU go: the demo seed run against the stack, with every process's CPU per stage.

The same Seeder as `bank seed` (20,000 clientes, cuentas and transacciones by default), with the stack's CPU
counters (from /proc, per supervisor program) read as each stage ends and once the stack has gone quiet after the
last one (the consumers' catch-up: perfil, the lake, the replicas). Prints each stage's wall time and records/s, the
CPU ms per record of each process per stage, and saves bench/results/seed.json. Under `make bench` the stack is a
throwaway one: the seed's data never reaches the demo system.

Run: make bench BENCH=seed [BENCH_ARGS="--clientes 20000 --cuentas 20000 --transacciones 20000 --profile"]
--profile: py-spy on every Python process of the stack, one recording per stage, in bench/results/seed-<stage>/
(flame-<program>.svg and .txt), and the top 3 frames per process per stage. The samplers take CPU too: the figures of
a profiled run are marked as such and are not comparable with an unprofiled one.
"""

import argparse
import asyncio
import time
from contextlib import ExitStack
from typing import Any

from bank.seed.loader import Seeder, StageResult
from bank.seed.targets import Targets, Urls
from bench._cpu import RUN, StackCpu, per_unit, print_table, supervisor_programs, this_stack
from bench._harness import RESULTS, save
from bench._profile import Profiler, print_top, python_programs

QUIET_MARGIN = 0.05
"""The stack counts as caught up once it uses no more than at rest plus this share of one core."""
QUIET_WINDOW = 2.0
QUIET_TIMEOUT = 300.0


async def rest_rate(stack: StackCpu) -> float:
    """The stack's CPU ms per second with nothing to do (pollers, Kafka's and Keycloak's own housekeeping)."""
    await asyncio.sleep(QUIET_WINDOW)
    return sum(stack.again().since(stack).values()) / QUIET_WINDOW


async def wait_quiet(stack: StackCpu, rest: float) -> tuple[StackCpu, float]:
    """Poll the stack's CPU until a QUIET_WINDOW in which it used no more than `rest` ms/s plus QUIET_MARGIN of a
    core; the last snapshot and the seconds waited (the quiet window included)."""
    started = time.perf_counter()
    last = stack
    while time.perf_counter() - started < QUIET_TIMEOUT:
        await asyncio.sleep(QUIET_WINDOW)
        now = last.again()
        if sum(now.since(last).values()) <= (rest + QUIET_MARGIN * 1000) * QUIET_WINDOW:
            return now, time.perf_counter() - started
        last = now
    return last.again(), time.perf_counter() - started


class StageProfiles:
    """One py-spy recording per stage: `start(stage)` before it, `stop()` after it (profile=False: does nothing)."""

    STAGES = ("clientes", "cuentas", "transacciones")

    def __init__(self, profile: bool) -> None:
        self.programs = python_programs(supervisor_programs(RUN / "supervisor.sock")) if profile else {}
        self.current: tuple[str, Profiler, ExitStack] | None = None
        self.tops: dict[str, dict[str, dict[str, list[tuple[str, float]]]]] = {}

    def start(self, stage: str) -> None:
        if self.programs:
            recording = ExitStack()
            profiler = recording.enter_context(Profiler(self.programs, RESULTS / f"seed-{stage}"))
            self.current = (stage, profiler, recording)

    def stop(self) -> None:
        """Blocks while py-spy writes its files (seconds): the next stage starts that much later."""
        if self.current is not None:
            stage, profiler, recording = self.current
            recording.close()
            self.tops[stage] = profiler.top()
            self.current = None

    def next(self, done: str) -> None:
        self.stop()
        later = self.STAGES[self.STAGES.index(done) + 1 :]
        if later:
            self.start(later[0])


async def main(targets: Targets, batch: int, concurrency: int, profile: bool) -> None:
    stack = this_stack()
    if stack is None:
        raise SystemExit("no stack of this checkout answers (make apps, or run through make bench)")
    rest = await rest_rate(stack)
    stack = stack.again()
    # (stage, the stack's counters, this process's CPU seconds, wall clock) as each stage ends
    snapshots: list[tuple[StageResult, StackCpu, float, float]] = []

    profiles = StageProfiles(profile)

    def after_stage(result: StageResult) -> None:
        snapshots.append((result, stack.again(), time.process_time(), time.perf_counter()))
        profiles.next(result.name)

    seeder = Seeder(Urls(), batch=batch, concurrency=concurrency, progress=False)
    client_cpu, started = time.process_time(), time.perf_counter()
    profiles.start(StageProfiles.STAGES[0])
    try:
        await seeder.run(targets, after_stage)
    finally:
        profiles.stop()
    seed_seconds = time.perf_counter() - started
    quiet, tail_seconds = await wait_quiet(snapshots[-1][1], rest)

    results: list[dict[str, Any]] = []
    columns: dict[str, dict[str, float]] = {}
    before, before_client, before_wall = stack, client_cpu, started
    for result, cpu, client, wall in snapshots:
        used = cpu.since(before) | {"seed client": round((client - before_client) * 1000, 1)}
        columns[result.name] = per_unit(used, result.created)
        results.append(
            {
                "name": f"stage {result.name}" + (" (py-spy attached)" if profile else ""),
                "requests": result.created,
                "concurrency": concurrency,
                "seconds": round(result.seconds, 1),
                "rps": round(result.rate, 1),
                # the stage's requests plus what it reads first (the clientes or cuentas to pick from) and, for
                # transacciones, the wait for the last saga's end
                "wall_seconds": round(wall - before_wall, 1),
                "errors": result.failed,
                "cpu_ms": used,
                "cpu_ms_per_record": columns[result.name],
            }
        )
        before, before_client, before_wall = cpu, client, wall
    records = sum(r.created for r, *_ in snapshots)
    tail = quiet.since(before)
    total = quiet.since(stack) | {"seed client": round((before_client - client_cpu) * 1000, 1)}
    columns["catch-up"] = per_unit(tail, records)
    columns["whole seed"] = per_unit(total, records)
    results.append(
        {
            "name": "whole seed, until the stack is quiet",
            "requests": records,
            "concurrency": concurrency,
            "seconds": round(seed_seconds, 1),
            "rps": round(records / seed_seconds, 1) if seed_seconds else 0.0,
            "catch_up_seconds": round(tail_seconds, 1),
            "rest_cpu_ms_per_s": round(rest, 1),
            "errors": sum(r.failed for r, *_ in snapshots),
            "cpu_ms": total,
            "cpu_ms_per_record": columns["whole seed"],
        }
    )
    for r in results[:-1]:
        print(f"{r['name']}: {r['requests']} in {r['seconds']} s of requests, {r['wall_seconds']} s in all")
    print(
        f"bank seed: {records} records in {seed_seconds:.1f} s; the stack was back at rest ({rest:.0f} CPU ms/s) "
        f"{tail_seconds:.1f} s later"
    )
    print_table("CPU ms per record created (catch-up and whole seed: per record of all stages)", columns)
    for stage, tops in profiles.tops.items():
        print(f"top frames, stage {stage} (bench/results/seed-{stage}/):")
        print_top(tops)
    save("seed-profiled" if profile else "seed", results, {"top_frames": profiles.tops} if profile else None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clientes", type=int, default=Targets.clientes)
    parser.add_argument("--cuentas", type=int, default=Targets.cuentas)
    parser.add_argument("--transacciones", type=int, default=Targets.transacciones)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="py-spy on every Python process, per stage")
    args = parser.parse_args()
    targets = Targets(args.clientes, args.cuentas, args.transacciones)
    asyncio.run(main(targets, args.batch, args.concurrency, args.profile))

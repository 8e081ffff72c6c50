"""`bank seed`: demo data (20,000 clientes, cuentas and transacciones) through the services' batch endpoints.

Safe to re-run: it only tops up what is missing, so on a seeded system it does nothing. There is no
`--reset`: the events are already in Kafka (infinite retention) and in the lake and the perfil view, so
wiping one service's tables would leave the others inconsistent. To start over: `make down && make clean
&& make up` (deletes .run/: databases, Kafka log, lake), then seed runs on the empty system.
"""

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated

import typer

from bank.seed.targets import Targets, Urls

# The last run's figures, for bench/bench_lake.py (beside the stack's other run-time files).
TIMING_FILE = Path(__file__).resolve().parents[1] / ".run" / "seed-timing.json"


def seed(
    clientes: Annotated[int, typer.Option(min=0, help="how many clientes the system should have")] = 20_000,
    cuentas: Annotated[int, typer.Option(min=0, help="how many cuentas")] = 20_000,
    transacciones: Annotated[int, typer.Option(min=0, help="how many transacciones")] = 20_000,
    batch: Annotated[int, typer.Option(min=1, max=1000, help="records per batch request")] = 500,
    concurrency: Annotated[int, typer.Option(min=1, max=16, help="batch requests in flight")] = 2,
    seed_value: Annotated[int, typer.Option("--seed", help="random seed (same seed, same data)")] = 2024,
    clientes_url: Annotated[str, typer.Option(envvar="SEED_CLIENTES_URL")] = Urls.clientes,
    cuentas_url: Annotated[str, typer.Option(envvar="SEED_CUENTAS_URL")] = Urls.cuentas,
    transacciones_url: Annotated[str, typer.Option(envvar="SEED_TRANSACCIONES_URL")] = Urls.transacciones,
    progress: Annotated[bool, typer.Option(help="show progress bars")] = True,
) -> None:
    """Fill an empty system with demo data through the services' REST APIs (re-running tops up only); waits until
    every saga it started has ended."""
    # Imported here, not at module level: Faker and httpx cost ~0.9 s that every `bank serve` would pay.
    from bank.seed.loader import Seeder

    seeder = Seeder(
        Urls(clientes_url, cuentas_url, transacciones_url),
        batch=batch,
        concurrency=concurrency,
        seed=seed_value,
        progress=progress,
    )
    started = time.perf_counter()
    results = asyncio.run(seeder.run(Targets(clientes, cuentas, transacciones)))
    failed = 0
    for r in results:
        if r.created == r.already == r.failed == 0:
            typer.echo(f"{r.name:>13}: {r.existing} already there, nothing to do")
            continue
        typer.echo(
            f"{r.name:>13}: {r.created} created, {r.already} existed, {r.failed} failed in {r.seconds:.1f} s "
            f"({r.rate:.0f}/s)"
            + (f"; sagas ended after {r.settled_seconds:.1f} s" if r.settled_seconds is not None else "")
            + (f" {dict(r.outcomes)}" if r.outcomes else "")
        )
        for error in r.errors:
            typer.echo(f"{'':>15}e.g. {error}", err=True)
        failed += r.failed
    wall = time.perf_counter() - started
    typer.echo(f"seed done in {wall:.1f} s")
    if any(r.created for r in results):
        TIMING_FILE.parent.mkdir(parents=True, exist_ok=True)
        stages = {
            r.name: {"created": r.created, "seconds": round(r.seconds, 1), "per_s": round(r.rate)}
            | ({"settled_seconds": round(r.settled_seconds, 1)} if r.settled_seconds is not None else {})
            for r in results
        }
        records = sum(r.created for r in results)
        TIMING_FILE.write_text(
            json.dumps({"wall_seconds": round(wall, 1), "records": records, "batch": batch, **stages}, indent=2)
        )
    if failed:
        raise typer.Exit(1)

"""`bank replay perfil`: rebuild the perfil view from offset 0 beside the live one, compare, switch."""

import asyncio
import json
import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from services.perfil.rebuild import RebuildReport

app = typer.Typer(no_args_is_help=True, help="Rebuild read models from the Kafka log.")


async def _replay_perfil(switch: bool, compare: bool, keep: bool, keep_previous: int) -> "RebuildReport":
    # Imported here: every `bank` command loads this module, only this one needs the service's stack.
    from services.perfil.main import open_store
    from services.perfil.rebuild import rebuild
    from services.perfil.settings import PerfilSettings

    settings = PerfilSettings()
    store = await open_store(settings)
    try:
        report = await rebuild(
            store,
            settings.kafka_bootstrap,
            settings.topics,
            switch=switch,
            compare=compare,
            keep_previous=keep_previous,
            say=typer.echo,
        )
        if not switch and not keep:
            await store.drop_view(report.schema)
        return report
    finally:
        await store.pool.close()


@app.command("perfil")
def perfil(
    switch: Annotated[bool, typer.Option(help="make the rebuilt copy the active view")] = True,
    compare: Annotated[bool, typer.Option(help="compare with the live copy at the same offsets")] = True,
    keep: Annotated[bool, typer.Option(help="with --no-switch: keep the rebuilt copy instead of dropping it")] = False,
    keep_previous: Annotated[int, typer.Option(min=1, help="old copies kept after a switch")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Rebuild the perfil view from offset 0 into a new schema while the live view serves, then switch.
    Exits 1 when the rebuilt view differs from the live one (reads PERFIL_* settings)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    report = asyncio.run(_replay_perfil(switch, compare, keep, keep_previous))
    if as_json:
        typer.echo(json.dumps({**asdict(report), "events_per_second": round(report.events_per_second, 1)}))
    else:
        typer.echo(
            f"{report.schema}: {report.documents} documents from {report.events} records in {report.seconds:.1f}s "
            f"({report.events_per_second:.0f} records/s while folding); switched={report.switched} "
            f"compared={report.compared} differences={report.differences}"
        )
    if report.differences:
        raise typer.Exit(1)

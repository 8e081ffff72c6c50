"""`bank events`: export a topic's events in a time range as CloudEvents JSON lines, without a consumer group."""

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer

from consumers.times import TIME_FORMS, parse_time
from contracts.brokers import bootstrap_servers

# Every broker of KAFKA_BROKERS (the local stack's); KAFKA_BOOTSTRAP or --bootstrap point elsewhere.
LOCAL_BOOTSTRAP = bootstrap_servers()


def events(
    topic: Annotated[str, typer.Option(help="e.g. bank.cuentas.v1")],
    since: Annotated[str | None, typer.Option("--from", help=f"event time from: {TIME_FORMS}")] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="event time up to, inclusive (same forms); default: now")
    ] = None,
    key: Annotated[str | None, typer.Option(help="only this aggregate id (the Kafka key / ce subject)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write; default stdout")] = None,
    sort: Annotated[bool, typer.Option(help="order by event time across partitions")] = True,
    bootstrap: Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP")] = LOCAL_BOOTSTRAP,
) -> None:
    """Write every event of TOPIC whose ce_time is in [--from, --to] as one CloudEvents JSON object per line
    (the wire's attributes: correlationid, causationid, dataschema, ...).

    e.g. `bank events --topic bank.cuentas.v1 --from today`, `--from -15m`, `--from 2026-12-01 --to 2026-12-02`."""
    from streams.replay.export import export_events  # lazy: every `bank` command imports this module

    try:
        start = parse_time(since) if since else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--from") from None
    try:
        end = parse_time(until) if until else parse_time("now")
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--to") from None
    if start is not None and end < start:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    sink: TextIO
    with output.open("w", encoding="utf-8") if output else contextlib.nullcontext(sys.stdout) as sink:
        try:
            report = asyncio.run(
                export_events(bootstrap, topic, sink.write, since=start, until=end, key=key, sort=sort)
            )
        except LookupError as exc:
            raise typer.BadParameter(str(exc), param_hint="--topic") from None
    typer.echo(
        f"exported {report.exported} events ({report.scanned} records scanned, "
        f"{report.skipped_not_cloudevents} not CloudEvents)",
        err=True,
    )

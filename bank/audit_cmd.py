"""`bank audit [--from TIME]`: reconcile every account's balance: events vs cuentas.saldo vs the ledger."""

import asyncio
import logging
from typing import Annotated

import typer


def audit(
    since: Annotated[
        str | None,
        typer.Option("--from", help="only events from this time (ISO 8601, 'now' or relative: -2h, -7d); default: all"),
    ] = None,
    bootstrap: Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP")] = "127.0.0.1:9092",
    mysql_url: Annotated[
        str, typer.Option(envvar="AUDIT_MYSQL_URL", help="cuentas database, read only")
    ] = "mysql://bank:bank@127.0.0.1:3306/cuentas",
    grace: Annotated[
        float,
        typer.Option(min=0, help="seconds a movement may wait for its event (outbox relay) before it counts as lost"),
    ] = 30.0,
) -> None:
    """Replay bank.cuentas.v1 and check, for every account, that the balance the events give equals
    cuentas.saldo and the sum of its movimientos, and that every movement has its event.
    Prints a summary and every discrepancy; exits 1 if there is any."""
    from streams.replay.audit import audit as run_audit  # lazy: every `bank` command imports this module
    from streams.replay.reader import parse_time

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        when = parse_time(since) if since else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--from") from None
    report = asyncio.run(run_audit(bootstrap, mysql_url, since=when, grace_seconds=grace))
    for line in report.lines():
        typer.echo(line)
    if report.discrepancies:
        raise typer.Exit(1)

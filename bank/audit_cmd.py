"""`bank audit [--from TIME]`: reconcile every account's balance (events vs cuentas.saldo vs the ledger), check double
entry (per currency customers + the bank's own accounts = 0), and report sagas stuck PENDIENTE and dead-lettered
messages."""

import asyncio
import logging
from datetime import timedelta
from typing import Annotated

import typer

from bank.auth import bearer_auth
from consumers.times import TIME_FORMS, parse_time
from contracts.brokers import bootstrap_servers

# Every broker of KAFKA_BROKERS (the local stack's); KAFKA_BOOTSTRAP or --bootstrap point elsewhere.
LOCAL_BOOTSTRAP = bootstrap_servers()


def audit(
    since: Annotated[
        str | None,
        typer.Option("--from", help=f"only events from this time ({TIME_FORMS}); default: all"),
    ] = None,
    bootstrap: Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP")] = LOCAL_BOOTSTRAP,
    mysql_url: Annotated[
        str, typer.Option(envvar="AUDIT_MYSQL_URL", help="cuentas database, read only")
    ] = "mysql://bank:bank@127.0.0.1:3306/cuentas",
    grace: Annotated[
        float,
        typer.Option(min=0, help="seconds a movement may wait for its event (outbox relay) before it counts as lost"),
    ] = 30.0,
    transacciones_url: Annotated[
        str, typer.Option(envvar="AUDIT_TRANSACCIONES_URL", help="transacciones REST API; '' skips the saga check")
    ] = "http://127.0.0.1:8004",
    stuck_after: Annotated[
        float, typer.Option(min=0, help="seconds after which a PENDIENTE transaction counts as a stuck saga")
    ] = 300.0,
    triaged_until: Annotated[
        str | None,
        typer.Option(help="ignore dead letters and stuck sagas from before this time (already looked at; same forms)"),
    ] = None,
) -> None:
    """Replay bank.cuentas.v1 and check, for every account, that the balance the events give equals
    cuentas.saldo and the sum of its movimientos, and that every movement has its event; and double entry: per
    currency customers + internal accounts = 0, every movement has its legs, no transfer stuck in TRANSITO.
    Also lists transactions still PENDIENTE after --stuck-after and the messages of every <topic>.dlq.
    Prints a summary and every finding; exits 1 if there is any."""
    from streams.replay.audit import audit as run_audit  # lazy: every `bank` command imports this module

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        when = parse_time(since) if since else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--from") from None
    try:
        triaged = parse_time(triaged_until) if triaged_until else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--triaged-until") from None
    report = asyncio.run(
        run_audit(
            bootstrap,
            mysql_url,
            since=when,
            grace_seconds=grace,
            transacciones_url=transacciones_url or None,
            stuck_after=timedelta(seconds=stuck_after),
            triaged_until=triaged,
            # The services require a bearer token: the audit reads as the CLI's service account.
            transacciones_auth=bearer_auth(),
        )
    )
    for line in report.lines():
        typer.echo(line)
    if not report.clean:
        raise typer.Exit(1)

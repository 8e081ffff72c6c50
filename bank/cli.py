"""Entry point of the `bank` console command; each area registers its own sub-commands here."""

import typer

from bank import audit_cmd, events_cmd, lake_cmd, replay_cmd, seed_cmd, serve, topics_cmd, trace_cmd
from bank.errors import EXIT_NOPERM, EXIT_UNAVAILABLE, FriendlyGroup

app = typer.Typer(
    cls=FriendlyGroup,
    no_args_is_help=True,
    help="Cloud Bank operations.",
    epilog=f"Exit codes: 0 done; 1 findings or failures reported; 2 bad arguments; {EXIT_UNAVAILABLE} a component "
    f"(Kafka, a database, Keycloak, a service) not reachable; {EXIT_NOPERM} credentials refused.",
)
app.command("serve")(serve.serve)
app.add_typer(topics_cmd.app, name="topics")
app.add_typer(replay_cmd.app, name="replay")
app.command("audit")(audit_cmd.audit)
app.command("events")(events_cmd.events)
app.add_typer(lake_cmd.app, name="lake")
app.command("seed")(seed_cmd.seed)
app.command("trace")(trace_cmd.trace)

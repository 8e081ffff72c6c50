"""Entry point of the `bank` console command; each area registers its own sub-commands here."""

import typer

from bank import serve, topics_cmd

app = typer.Typer(no_args_is_help=True, help="Cloud Bank operations.")
app.command("serve")(serve.serve)
app.add_typer(topics_cmd.app, name="topics")

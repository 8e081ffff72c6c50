"""`bank lake sink|tables`: run the Kafka -> Parquet lake sink; show what the lake holds."""

import asyncio
import signal

import typer

app = typer.Typer(no_args_is_help=True, help="The Parquet event lake (folder or S3).")


@app.command("sink")
def sink() -> None:
    """Run the lake sink until SIGTERM/SIGINT (settings from LAKE_* variables); a stop flushes and commits."""
    from services.platform import gc_policy
    from services.platform.telemetry import start_process
    from streams.lake.main import run_sink
    from streams.lake.settings import SinkSettings

    start_process("lake")  # JSON logs; spans of the records it takes in
    settings = SinkSettings()
    gc_policy.tune()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_sink(settings, stop)

    asyncio.run(main())


@app.command("tables")
def tables() -> None:
    """Row and file count of every lake table (a local folder lake; use Athena for S3)."""
    from pathlib import Path

    import pyarrow.dataset as ds

    from contracts.lake import TABLES
    from streams.lake.settings import SinkSettings

    root = Path(SinkSettings().root)
    for table in TABLES:
        files = sorted((root / table).glob("dt=*/*.parquet"))
        rows = ds.dataset([str(f) for f in files], format="parquet").count_rows() if files else 0
        typer.echo(f"{table:28} {rows:>10} rows {len(files):>6} files")

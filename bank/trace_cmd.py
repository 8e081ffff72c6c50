"""`bank trace TRANSACCION_ID`: the trace(s) of a transaction from the local span files (.run/traces, written by
services.platform.telemetry), printed as a tree with each hop's service, span, offset from the start and duration."""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

Span = dict[str, Any]


def read_spans(folder: Path) -> Iterator[Span]:
    """Every span line of every process's file (a line being written as we read is skipped)."""
    for path in sorted(folder.glob("*.jsonl")):
        with path.open("rb") as lines:
            for line in lines:
                try:
                    span = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(span, dict) and span.get("trace_id"):
                    yield span


def _names(span: Span, wanted: str) -> bool:
    """The span is about `wanted`: an attribute says it (the message key, the correlation id, ...), or its URL."""
    for key, value in (span.get("attributes") or {}).items():
        if value == wanted or (key in ("url.path", "http.target", "http.url") and wanted in str(value)):
            return True
    return False


def traces_of(spans: Iterable[Span], wanted: str) -> dict[str, list[Span]]:
    """The whole traces (every span, by trace id) that have a span about `wanted`, in order of their start."""
    by_trace: dict[str, list[Span]] = defaultdict(list)
    hits: set[str] = set()
    for span in spans:
        by_trace[span["trace_id"]].append(span)
        if _names(span, wanted):
            hits.add(span["trace_id"])
    found = {t: by_trace[t] for t in hits}
    return dict(sorted(found.items(), key=lambda item: min(s["start"] for s in item[1])))


def render(trace_id: str, spans: list[Span]) -> list[str]:
    """The tree: children under their parent by start; a span whose parent is not in the files (not written yet,
    or of a process that does not trace) at the top level, marked."""
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[Span]] = defaultdict(list)
    for span in spans:
        parent = span.get("parent_id")
        children[parent if parent in ids else None].append(span)
    for group in children.values():
        group.sort(key=lambda s: s["start"])
    origin = min(s["start"] for s in spans)
    end = max(s["end"] or s["start"] for s in spans)
    services = sorted({str(s.get("instance") or s.get("service")) for s in spans})
    lines = [
        f"trace {trace_id}  {len(spans)} spans  {(end - origin) / 1e6:.1f} ms  {', '.join(services)}",
        f"  {'offset':>10} {'duration':>10}  {'service':<18} span",
    ]

    def walk(span: Span, depth: int) -> None:
        orphan = depth == 0 and span.get("parent_id") is not None
        took = ((span["end"] or span["start"]) - span["start"]) / 1e6
        status = "  ERROR" if span.get("status") == "error" else ""
        lines.append(
            f"  {(span['start'] - origin) / 1e6:>8.1f}ms {took:>8.1f}ms  "
            f"{span.get('instance') or span.get('service')!s:<18} {'  ' * depth}{'… ' if orphan else ''}"
            f"{span['name']} [{span.get('kind')}]{status}"
        )
        for child in children.get(span["span_id"], []):
            walk(child, depth + 1)

    for root in children.get(None, []):
        walk(root, 0)
    return lines


def trace(
    transaccion_id: Annotated[str, typer.Argument(help="the transaction's id (transaccionId of its answer)")],
    folder: Annotated[
        Path | None, typer.Option("--dir", help="the span files (default: BANK_TRACE_DIR or .run/traces)")
    ] = None,
) -> None:
    """Print the trace(s) of a transaction: every hop (HTTP, saga steps, cuentas, replies, perfil, lake) with its
    offset from the start and its duration. Reads the local span files; with OTLP export, look in Jaeger."""
    from services.platform.telemetry import trace_dir  # lazy: the OTel SDK is no cost to other commands

    folder = folder or trace_dir()
    if not folder.is_dir():
        typer.echo(f"no span files in {folder}: is the stack up, with tracing on (OTEL_SDK_DISABLED unset)?", err=True)
        raise typer.Exit(2)
    found = traces_of(read_spans(folder), transaccion_id)
    if not found:
        typer.echo(f"no trace of {transaccion_id} in {folder} (spans reach the files about a second after)", err=True)
        raise typer.Exit(1)
    for trace_id, spans in found.items():
        typer.echo("\n".join(render(trace_id, spans)))

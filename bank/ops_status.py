"""`make status`'s operator view in the terminal: lag, outbox backlog, DLQ depth, saga p50/p99 and failures, from
every process's /metrics (services.platform.ops_view). Run as `python -m bank.ops_status`."""

import asyncio
import os
import sys

from contracts.brokers import bootstrap_servers
from contracts.topics import ALL_TOPICS, dlq
from services.platform.ops_view import OpsView, local_targets, ops_view, parse_targets


def render(view: OpsView) -> list[str]:
    """The view as terminal lines (plain text: it goes to logs and CI output too)."""
    down = [t.name for t in view.targets if not t.up]
    up = len(view.targets) - len(down)
    lines = [f"== operations ({view.scraped_at:%H:%M:%S} UTC): /metrics of {up}/{len(view.targets)} processes"]
    if down:
        lines.append(f"   not answering: {', '.join(down)}")
    lines.append("-- consumer lag (records behind, per group)")
    if not view.lag_by_group:
        lines.append("   (no consumer reporting)")
    for group, lag in view.lag_by_group.items():
        worst = max((x for x in view.consumer_lag if x.group == group), key=lambda x: x.lag)
        lines.append(
            f"   {group:<32} {lag:>8}   worst {worst.topic}[{worst.partition}] {worst.lag} on {worst.instance}"
        )
    lines.append("-- outbox backlog (unpublished events)")
    for box in view.outboxes:
        lines.append(f"   {box.outbox:<32} {box.backlog:>8}   oldest {box.oldest_age_seconds:.1f}s")
    lines.append("-- dead-letter topics (records)")
    if view.dlq_depth is None:
        lines.append("   unknown: Kafka does not answer")
    else:
        for topic, depth in view.dlq_depth.items():
            lines.append(f"   {topic:<32} {depth:>8}")
    sagas = view.sagas
    outcomes = ", ".join(f"{k} {v}" for k, v in sagas.by_outcome.items()) or "none finished yet"
    p50 = "-" if sagas.p50_seconds is None else f"{sagas.p50_seconds:.3f}s"
    p99 = "-" if sagas.p99_seconds is None else f"{sagas.p99_seconds:.3f}s"
    lines.append(f"-- sagas: {outcomes}; p50 {p50}, p99 {p99}")
    lines.append(f"-- HTTP: {view.http_requests} requests, {view.http_errors} answered 5xx")
    lines.append("-- failures since each process started")
    if not view.failures:
        lines.append("   none")
    for failure in view.failures[:10]:
        lines.append(f"   {failure.kind:<13} {failure.count:>6}  {failure.where}")
    return lines


def main() -> int:
    given = os.environ.get("CLOUDBANK_METRICS_TARGETS", "")
    targets = parse_targets(given) if given else local_targets()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP") or bootstrap_servers()
    view = asyncio.run(ops_view(targets, bootstrap, [dlq(t) for t in ALL_TOPICS]))
    print("\n".join(render(view)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The operator view's sums: histogram quantiles as PromQL computes them, one database's outbox counted once
across its instances, lag per group, failures named, the targets file filtered by what supervisor runs, and the
terminal rendering of `make status`."""

from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bank.ops_status import render
from services.platform.ops_view import Target, local_targets, quantile, samples, summarize


def test_cuantil_interpola_dentro_del_cubo_como_histogram_quantile() -> None:
    buckets = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, float("inf"): 100.0}
    assert quantile(buckets, 0.5) == 0.1
    assert quantile(buckets, 0.7) == 0.1 + 0.4 * (20 / 40)
    assert quantile(buckets, 0.99) == 0.5 + 0.5 * (9 / 10)
    assert quantile({0.1: 0.0, float("inf"): 0.0}, 0.5) is None
    assert quantile({1.0: 0.0, float("inf"): 10.0}, 0.5) == 1.0  # all past the last bound: its lower edge


def _exposition(instance: str, backlog: int, lag: int, failed: int) -> str:
    reg = CollectorRegistry()
    ids = ["service", "instance"]
    Gauge("cloudbank_outbox_backlog", "", [*ids, "outbox"], registry=reg).labels("cuentas", instance, "cuentas").set(
        backlog
    )
    Gauge("cloudbank_outbox_oldest_age_seconds", "", [*ids, "outbox"], registry=reg).labels(
        "cuentas", instance, "cuentas"
    ).set(backlog * 1.5)
    Gauge("cloudbank_consumer_lag", "", [*ids, "group", "topic", "partition"], registry=reg).labels(
        "cuentas", instance, "cuentas.comandos", "bank.cuentas.comandos.v1", instance[-1]
    ).set(lag)
    sagas = Histogram("cloudbank_saga_duration_seconds", "", [*ids, "outcome"], buckets=(0.5, 2.0), registry=reg)
    for _ in range(failed):
        sagas.labels("transacciones", instance, "FALLIDA").observe(1.0)
    sagas.labels("transacciones", instance, "COMPLETADA").observe(0.1)
    http = Counter("cloudbank_http_requests", "", [*ids, "method", "route", "status"], registry=reg)
    http.labels("cuentas", instance, "POST", "/cuentas", "201").inc(10)
    http.labels("cuentas", instance, "POST", "/cuentas", "503").inc(2)
    return generate_latest(reg).decode()


def test_resumen_de_dos_instancias() -> None:
    found = samples(_exposition("cuentas-1", 7, 5, 1)) + samples(_exposition("cuentas-2", 3, 4, 0))
    view = summarize([Target(name="cuentas-1", url="u", up=True)], found, {"bank.cuentas.v1.dlq": 2})
    assert [(b.outbox, b.backlog, b.oldest_age_seconds) for b in view.outboxes] == [("cuentas", 7, 10.5)]
    assert view.lag_by_group == {"cuentas.comandos": 9}
    assert [(x.partition, x.lag, x.instance) for x in view.consumer_lag] == [(1, 5, "cuentas-1"), (2, 4, "cuentas-2")]
    assert view.sagas.by_outcome == {"COMPLETADA": 2, "FALLIDA": 1}
    assert view.sagas.p50_seconds == 0.375  # 3 sagas: 2 in (0, 0.5], 1 in (0.5, 2]; rank 1.5 of 2 in the first
    assert (view.http_requests, view.http_errors) == (24, 4)
    kinds = {(f.kind, f.where): f.count for f in view.failures}
    assert kinds[("http-5xx", "cuentas POST /cuentas → 503")] == 4
    assert kinds[("saga-fallida", "cuentas-1")] == 1
    text = "\n".join(render(view))
    for expected in ("cuentas.comandos", "9", "oldest 10.5s", "bank.cuentas.v1.dlq", "FALLIDA 1", "p50 0.375s"):
        assert expected in text


def test_los_objetivos_locales_son_los_programas_configurados(tmp_path: Path) -> None:
    listed = tmp_path / "targets.txt"
    listed.write_text("# a comment\nclientes http://a/metrics\nlake-1 http://b/metrics\nlake-sink http://c/metrics\n")
    targets = local_targets(listed, programs={"clientes", "lake-sink"})
    assert [(t.name, t.url) for t in targets] == [("clientes", "http://a/metrics"), ("lake-sink", "http://c/metrics")]


def test_sin_kafka_ni_procesos_lo_dice_en_vez_de_fallar() -> None:
    view = summarize([Target(name="clientes", url="u", up=False, error="ConnectError")], [], None)
    text = "\n".join(render(view))
    assert "not answering: clientes" in text
    assert "unknown: Kafka does not answer" in text

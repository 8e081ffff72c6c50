"""A Jepsen-style bank run to reuse: clients, a kill -9 nemesis over supervisor programs, and the checks afterwards.

Clients move money with retried idempotent POSTs (one Idempotency-Key per request, re-sent until answered) through
the balancers; every attempt the client sees fail (connection error, 5xx) is counted with its time. The nemesis
SIGKILLs supervisor programs on a schedule, resolving each name against the running stack (`transacciones` is the
program of that name or one of `transacciones-1`, `-2`...), and measures per kill how long the program took to run
again and to answer its health URL. The checks: every transaction final and none PENDIENTE, no negative balance,
saldo = Σ movimientos, the bank's total conserved, each transaction's exact effect (so no command applied twice),
perfil equal to the owners, the lake's event ids = Kafka's distinct event ids with none twice, `bank audit` clean.
"""

import asyncio
import os
import re
import signal
import statistics
import subprocess
import time
import uuid
import xmlrpc.client
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

import httpx
import pyarrow.dataset as ds
from aiokafka import TopicPartition
from supervisor.xmlrpc import SupervisorTransport

from consumers.reader import make_reader, read_range, topic_partitions
from contracts import topics
from contracts.lake import TABLE_OF_TYPE
from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import KAFKA, URLS
from tests.integration.stack import ROOT
from tests.integration.transacciones.conftest import FINALES, Banco, registrada

HEALTH_URLS = ROOT / "infra/health-urls.txt"
LAKE_ROOT = ROOT / ".run/lake"
CHECKED_TOPICS = (topics.TRANSACCIONES, topics.CUENTAS)


# -- the stack's programs -----------------------------------------------------------------------------------------


def _processes() -> list[dict[str, Any]]:
    """supervisord's getAllProcessInfo over its socket: milliseconds, where a supervisorctl run costs a second of
    CPU on a loaded box (and the nemesis must kill on time)."""
    proxy = xmlrpc.client.ServerProxy(
        "http://127.0.0.1", transport=SupervisorTransport(None, None, f"unix://{ROOT / '.run/supervisor.sock'}")
    )
    infos: list[dict[str, Any]] = proxy.supervisor.getAllProcessInfo()  # type: ignore[assignment]
    return infos


def _full_name(info: dict[str, Any]) -> str:
    return str(info["name"] if info["group"] == info["name"] else f"{info['group']}:{info['name']}")


def program_states() -> dict[str, str]:
    """`group:program` (or a lone `program`) -> its supervisor state, for every configured program."""
    return {_full_name(i): str(i["statename"]) for i in _processes()}


def instances(name: str, states: dict[str, str] | None = None) -> list[str]:
    """The programs `name` stands for: `cuentas:cuentas-1` or `cuentas-1` itself; a base name like `transacciones`,
    `perfil`, `lake` or `kafka` is the program of that name, every `<name>-<n>` / `<name>-<word>-<n>` program, and
    every program of the group `<name>` — so the same schedule fits one instance or several."""
    states = program_states() if states is None else states
    exact = [p for p in states if p == name or p.split(":")[-1] == name]
    if ":" in name or re.search(r"-\d+$", name):
        return exact
    pattern = re.compile(rf"{re.escape(name)}(-[a-z]+)?-\d+")
    grouped = [p for p in states if p.split(":")[0] == name or pattern.fullmatch(p.split(":")[-1])]
    return sorted(set(exact + grouped))


def health_url(program: str) -> str | None:
    """The program's own health URL (infra/health-urls.txt), None for one without (the lake sink)."""
    short = program.split(":")[-1]
    for line in HEALTH_URLS.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#") and parts[0].split(":")[-1] == short:
            return parts[1]
    return None


def program_pid(program: str) -> int:
    """The pid of a running program (0 when it is not running)."""
    return next((int(i["pid"]) for i in _processes() if _full_name(i) == program and i["pid"]), 0)


# -- clients ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One attempt the client saw fail: when (monotonic), and how (exception name or HTTP status)."""

    at: float
    what: str


@dataclass
class Clients:
    """Posts with an Idempotency-Key and retries the same request until the service answers (it may be dead)."""

    banco: Banco
    deadline: float
    ids: list[str] = field(default_factory=list)
    unanswered: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds from first attempt to the answer
    attempts: int = 0

    async def mover(self, body: dict[str, Any], key: str | None = None) -> str | None:
        key = key or str(uuid.uuid4())
        first = time.monotonic()
        while time.monotonic() < self.deadline:
            self.attempts += 1
            try:
                r = await self.banco.post(body, key)
            except httpx.TransportError as exc:
                self.failures.append(Failure(time.monotonic(), type(exc).__name__))
                await asyncio.sleep(0.2)
                continue
            if r.status_code >= 500:
                self.failures.append(Failure(time.monotonic(), str(r.status_code)))
                await asyncio.sleep(0.2)
                continue
            assert registrada(r), r.text
            self.latencies.append(time.monotonic() - first)
            trx_id = str(r.json()["id"])
            self.ids.append(trx_id)
            return trx_id
        self.unanswered.append((body, key))  # asked again after the chaos: the key makes it the same request
        return None


def pedido(rng: Random, cuentas: list[int]) -> dict[str, Any]:
    monto = f"{rng.randint(1, 6000) / 100:.2f}"
    a, b = rng.sample(cuentas, 2)
    tipo = rng.choices(["TRANSFERENCIA", "DEPOSITO", "RETIRO", "PAGO_SERVICIO"], weights=[5, 2, 2, 1])[0]
    body: dict[str, Any] = {"tipo": tipo, "monto": monto, "moneda": "PEN", "descripcion": "jepsen"}
    if tipo == "DEPOSITO":
        return body | {"cuentaDestinoId": b}
    if tipo == "TRANSFERENCIA":
        return body | {"cuentaOrigenId": a, "cuentaDestinoId": b}
    return body | {"cuentaOrigenId": a}


# -- the nemesis --------------------------------------------------------------------------------------------------


@dataclass
class Kill:
    """One SIGKILL and how long its program was gone: `running_after` until supervisor runs a new process,
    `healthy_after` until its health URL answers 200 (or, without one, until supervisor calls it RUNNING)."""

    program: str
    at: float  # monotonic
    offset: float  # seconds into the run
    pid: int
    running_after: float | None = None
    healthy_after: float | None = None


@dataclass
class Nemesis:
    """kill -9 on a schedule of (seconds into the run, program name); names resolve at kill time (see `instances`),
    a name with several instances kills them in turn, a name the stack does not have is recorded as skipped."""

    schedule: Sequence[tuple[float, str]]
    recover_timeout: float = 180.0
    kills: list[Kill] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    _turns: Counter[str] = field(default_factory=Counter)
    _watchers: list[asyncio.Task[None]] = field(default_factory=list)

    async def run(self, start: float) -> list[Kill]:
        for at, name in self.schedule:
            await asyncio.sleep(max(0.0, start + at - time.monotonic()))
            targets = await asyncio.to_thread(instances, name)
            if not targets:
                self.skipped.append(name)
                continue
            program = targets[self._turns[name] % len(targets)]
            self._turns[name] += 1
            pid = await asyncio.to_thread(program_pid, program)
            if not pid:  # not running right now (still restarting from an earlier kill): nothing to kill
                self.skipped.append(f"{name} (not running)")
                continue
            await asyncio.to_thread(_sigkill, pid)
            kill = Kill(program, time.monotonic(), time.monotonic() - start, pid)
            self.kills.append(kill)
            self._watchers.append(asyncio.create_task(self._watch(kill)))
        await asyncio.gather(*self._watchers)
        return self.kills

    async def _watch(self, kill: Kill) -> None:
        url = health_url(kill.program)
        deadline = kill.at + self.recover_timeout
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                now_pid = await asyncio.to_thread(program_pid, kill.program)
                if kill.running_after is None and now_pid and now_pid != kill.pid:
                    kill.running_after = time.monotonic() - kill.at
                if kill.running_after is not None:
                    if url is None:
                        if (await asyncio.to_thread(program_states)).get(kill.program) == "RUNNING":
                            kill.healthy_after = time.monotonic() - kill.at
                            return
                    else:
                        try:
                            if (await http.get(url)).status_code == 200:
                                kill.healthy_after = time.monotonic() - kill.at
                                return
                        except httpx.TransportError:
                            pass
                await asyncio.sleep(0.2)


def _sigkill(pid: int) -> None:
    """SIGKILL the program's whole process group (supervisord starts each program as a group leader): a launcher
    that waits for its child (kafka.sh's first run) must not leave the real process running behind it."""
    if os.getpgid(pid) == pid:
        os.killpg(pid, signal.SIGKILL)
    else:
        os.kill(pid, signal.SIGKILL)


# -- a run --------------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """What a run did: its accounts, the clients' record, the nemesis' record, and where the topics stood before."""

    cuentas: list[int]
    opening: Decimal
    clients: Clients
    nemesis: Nemesis
    started: float
    started_at: datetime
    load_seconds: float
    offsets_before: dict[TopicPartition, int]
    finales: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def failures(self) -> list[Failure]:
        return self.clients.failures


async def run_bank(
    banco: Banco,
    cuenta: Callable[..., Awaitable[int]],
    *,
    nemesis: Nemesis,
    accounts: int = 10,
    opening: Decimal = Decimal("500.00"),
    workers: int = 6,
    load_seconds: float = 40.0,
    settle_seconds: float = 120.0,
    seed: int | None = None,
) -> Run:
    """Open `accounts` accounts, run `workers` clients for `load_seconds` under `nemesis`, re-ask what was left
    unanswered, then wait until every transaction is final (so the checks see a quiet bank)."""
    rng = Random(seed)
    cuentas = [await cuenta(f"{opening}") for _ in range(accounts)]
    offsets_before = await end_offsets(CHECKED_TOPICS)
    started_at = datetime.now(UTC)
    start = time.monotonic()
    clients = Clients(banco, deadline=start + load_seconds + 30)

    async def worker(worker_seed: int) -> None:
        local = Random(worker_seed)
        while time.monotonic() < start + load_seconds:
            await clients.mover(pedido(local, cuentas))

    chaos = asyncio.create_task(nemesis.run(start))
    await asyncio.gather(*(worker(rng.randrange(2**32)) for _ in range(workers)))
    await chaos
    left, clients.unanswered = clients.unanswered, []
    for body, key in left:
        clients.deadline = time.monotonic() + 60
        assert await clients.mover(body, key), f"request {key} unanswered 60 s after the chaos"
    run = Run(cuentas, opening, clients, nemesis, start, started_at, load_seconds, offsets_before)
    run.finales = await todas_finales(banco, set(clients.ids), settle_seconds)
    return run


async def todas_finales(banco: Banco, ids: set[str], timeout: float) -> dict[str, dict[str, Any]]:
    finales: dict[str, dict[str, Any]] = {}
    pendientes = set(ids)

    async def ninguna_pendiente() -> bool:
        for trx_id in list(pendientes):
            try:
                r = await banco.trx.get(f"/transacciones/{trx_id}")
            except httpx.TransportError:
                return False  # transacciones is restarting: ask again next round
            if r.status_code == 200 and r.json()["estado"] in FINALES:
                finales[trx_id] = r.json()
                pendientes.discard(trx_id)
        return not pendientes

    await eventually(ninguna_pendiente, timeout=timeout, interval=0.5, what=f"all {len(ids)} transactions final")
    return finales


# -- the checks ---------------------------------------------------------------------------------------------------


def _signed(m: dict[str, Any]) -> Decimal:
    monto = Decimal(m["monto"])
    return monto if m["operacion"] == "CREDITO" else -monto


async def check_books(banco: Banco, run: Run) -> dict[int, Decimal]:
    """No PENDIENTE left, no negative balance, saldo = Σ movimientos, the total conserved, and every transaction's
    exact effect on the ledger (COMPLETADA) or none (otherwise) — so no saga command was applied twice."""
    estados = Counter(t["estado"] for t in run.finales.values())
    assert estados["COMPLETADA"] > 0, estados
    for c in run.cuentas:
        r = await banco.trx.get("/transacciones", params={"cuenta_id": c, "estado": "PENDIENTE"})
        assert r.json() == [], f"PENDIENTE left on account {c}"

    saldos = {c: await banco.saldo(c) for c in run.cuentas}
    ledgers = {c: await banco.movimientos(c) for c in run.cuentas}
    assert all(s >= 0 for s in saldos.values()), saldos
    for c in run.cuentas:
        suma = sum((_signed(m) for m in ledgers[c]), Decimal(0))
        assert saldos[c] == suma, f"account {c}: saldo {saldos[c]} != Σ movimientos {suma}"

    esperado = run.opening * len(run.cuentas)
    for t in run.finales.values():
        if t["estado"] == "COMPLETADA" and t["tipo"] == "DEPOSITO":
            esperado += Decimal(t["monto"])
        elif t["estado"] == "COMPLETADA" and t["tipo"] in ("RETIRO", "PAGO_SERVICIO"):
            esperado -= Decimal(t["monto"])
    assert sum(saldos.values(), Decimal(0)) == esperado

    por_trx: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    comandos: Counter[str] = Counter()
    for c, rows in ledgers.items():
        for m in rows:
            if m["transaccion_id"]:
                por_trx[m["transaccion_id"]][c] += _signed(m)
                comandos[m["comando_id"]] += 1
    assert all(n == 1 for n in comandos.values()), "a saga command was applied twice"
    for t in run.finales.values():
        efecto = {k: v for k, v in por_trx.get(t["transaccionId"], {}).items() if v != 0}
        if t["estado"] != "COMPLETADA":
            assert efecto == {}, (t, efecto)
            continue
        monto = Decimal(t["monto"])
        expected = {
            "DEPOSITO": {t["cuentaDestinoId"]: monto},
            "RETIRO": {t["cuentaOrigenId"]: -monto},
            "PAGO_SERVICIO": {t["cuentaOrigenId"]: -monto},
            "TRANSFERENCIA": {t["cuentaOrigenId"]: -monto, t["cuentaDestinoId"]: monto},
        }[t["tipo"]]
        assert efecto == expected, (t, efecto)
    # Double entry: per currency, customers + the bank's own accounts sum to 0 (one snapshot, whatever else runs).
    libros = (await banco.cuentas.get("/cuentas-internas")).json()
    assert all(b["total"] == "0.00" for b in libros), libros
    return saldos


async def check_perfil(cliente_id: int, saldos: dict[int, Decimal], timeout: float = 120.0) -> None:
    """perfil's view of the owner shows every account with the saldo cuentas has (once it has folded the events)."""
    last: dict[int, Decimal | None] = {}
    async with httpx.AsyncClient(auth=Bearer(), base_url=URLS["perfil"], timeout=20) as perfil:

        async def igual() -> bool:
            try:
                r = await perfil.get(f"/api/clientes/{cliente_id}/perfil-completo")
            except httpx.TransportError:
                return False
            if r.status_code != 200:
                return False
            vistas = {c["cuenta_id"]: c.get("saldo") for c in r.json()["cuentas"]}
            last.clear()
            last.update({c: Decimal(vistas[c]) if vistas.get(c) is not None else None for c in saldos})
            return last == saldos

        try:
            await eventually(igual, timeout=timeout, interval=1.0, what=f"perfil of cliente {cliente_id}")
        except AssertionError:
            raise AssertionError(f"perfil {last} != cuentas {saldos}") from None


async def end_offsets(names: Sequence[str]) -> dict[TopicPartition, int]:
    consumer = make_reader(KAFKA, client_id="jepsen")
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(await topic_partitions(consumer, *names)))
    finally:
        await consumer.stop()


@dataclass(frozen=True)
class KafkaEvent:
    event_id: str
    type: str
    key: str


async def kafka_events(since: dict[TopicPartition, int], keys: set[str]) -> list[KafkaEvent]:
    """Every record with one of `keys` from `since` to the current end, one per record (duplicates included)."""
    consumer = make_reader(KAFKA, client_id="jepsen")
    await consumer.start()
    out: list[KafkaEvent] = []
    try:
        until = dict(await consumer.end_offsets(list(since)))
        async for rec in read_range(consumer, dict(since), until):
            key = rec.key.decode() if rec.key else ""
            if key in keys:
                headers = {k: v.decode() for k, v in rec.headers}
                out.append(KafkaEvent(headers.get("ce_id", ""), headers.get("ce_type", ""), key))
    finally:
        await consumer.stop()
    return out


def lake_event_ids(event_ids: set[str], root: Path = LAKE_ROOT) -> Counter[str]:
    """How many rows of every lake table hold each of `event_ids`."""
    found: Counter[str] = Counter()
    for table in sorted(set(TABLE_OF_TYPE.values())):
        files = [str(f) for f in (root / table).glob("dt=*/*.parquet")]
        if not files:
            continue
        column = ds.dataset(files, format="parquet").to_table(columns=["event_id"])["event_id"].to_pylist()
        found.update(i for i in column if i in event_ids)
    return found


@dataclass
class EventsReport:
    records: int
    distinct: int
    lake_rows: int
    finals_missing: list[str]


async def check_events(run: Run, timeout: float = 150.0) -> EventsReport:
    """Kafka has the final event of every final transaction (none lost), and the lake holds exactly Kafka's distinct
    event ids of the run's transactions and accounts, each once — however often the outboxes re-published one."""
    # Kafka keys: a transaction's transaccionId (TRX...), an account's id.
    finales = {t["transaccionId"]: t for t in run.finales.values()}
    events = await kafka_events(run.offsets_before, set(finales) | {str(c) for c in run.cuentas})
    ids = {e.event_id for e in events}
    published = {(e.key, e.type.split(".")[2]) for e in events}
    missing = [
        trx
        for trx, t in finales.items()
        if t["estado"] in ("COMPLETADA", "FALLIDA")
        and (trx, "TransaccionRegistrada" if t["estado"] == "COMPLETADA" else "TransaccionFallida") not in published
    ]
    assert not missing, f"{len(missing)} final transactions have no final event on Kafka: {missing[:5]}"
    seen: Counter[str] = Counter()

    async def all_in_lake() -> bool:
        seen.clear()
        seen.update(await asyncio.to_thread(lake_event_ids, ids))
        return set(seen) == ids

    try:
        await eventually(all_in_lake, timeout=timeout, interval=2.0, what="every event of the run in the lake")
    except AssertionError:
        raise AssertionError(f"{len(ids - set(seen))} of {len(ids)} event ids not in the lake") from None
    twice = {i: n for i, n in seen.items() if n > 1}
    assert not twice, f"{len(twice)} event ids in the lake more than once (Kafka: {len(events)} records): {twice}"
    return EventsReport(len(events), len(ids), sum(seen.values()), missing)


def check_audit(run: Run) -> str:
    """`bank audit` exits 0: every balance reconciles with its events and ledger, no stuck saga, no new dead letter
    (letters from before the run were another test's: --triaged-until the run's start)."""
    out = subprocess.run(
        [str(ROOT / ".venv/bin/bank"), "audit", "--triaged-until", run.started_at.isoformat()],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-4000:]
    return text


# -- what the run saw ---------------------------------------------------------------------------------------------


def report(run: Run, title: str) -> str:
    """Client-visible failures (total, by kind, per kill), each kill's unavailability window, throughput, latency."""
    c = run.clients
    ok = len(c.latencies)
    lines = [
        f"== {title}",
        f"requests answered {ok} in {run.load_seconds:.0f}s of load ({ok / run.load_seconds:.1f}/s), "
        f"attempts {c.attempts}, failed attempts seen by clients {len(c.failures)} "
        f"{dict(Counter(f.what for f in c.failures))}",
    ]
    if c.latencies:
        q = statistics.quantiles(c.latencies, n=100) if len(c.latencies) >= 2 else [c.latencies[0]] * 99
        lines.append(
            f"latency POST->answer incl. retries: p50 {q[49]:.2f}s p99 {q[98]:.2f}s max {max(c.latencies):.2f}s"
        )
    estados = Counter(t["estado"] for t in run.finales.values())
    lines.append(f"transactions {len(run.finales)}: {dict(estados)}")
    kills = run.nemesis.kills
    for n, k in enumerate(kills):
        until = kills[n + 1].at if n + 1 < len(kills) else float("inf")
        mine = [f for f in c.failures if k.at <= f.at < until]
        window = f"{mine[-1].at - mine[0].at + 0.2:.1f}s" if mine else "0s"
        lines.append(
            f"kill -9 {k.program} at +{k.offset:.1f}s (pid {k.pid}): running again after "
            f"{secs(k.running_after)}, healthy after {secs(k.healthy_after)}; client-visible failures "
            f"{len(mine)}, window {window}"
        )
    for name in run.nemesis.skipped:
        lines.append(f"not killed: {name}")
    return "\n".join(lines)


def secs(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}s"

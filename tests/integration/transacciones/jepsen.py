"""A Jepsen-style bank run to reuse: clients, a kill -9 nemesis over supervisor programs, and the checks afterwards.

Clients move money with retried idempotent POSTs (one Idempotency-Key per request, re-sent until answered) through
the balancers; every attempt the client sees fail (connection error, 5xx) is counted with its time. The nemesis
SIGKILLs supervisor programs on a schedule, resolving each name against the running stack (`transacciones` is the
program of that name or one of `transacciones-1`, `-2`...), and measures per kill how long the program took to run
again and to answer its health URL. The checks: every transaction final and none PENDIENTE, no negative balance,
saldo = Σ movimientos, the bank's total conserved, each transaction's exact effect (so no command applied twice),
perfil equal to the owners, the lake's event ids = Kafka's distinct event ids with none twice, `bank audit` clean.

Besides money movements the clients create holds with a short `vence` (some expire by themselves, some are captured
in full or in part, some voided) and ask for reversals of COMPLETADA transfers (some twice, some concurrently); the
checks then count captured holds (CAPTURA movements) and reversal transactions exactly once in the books, want every
hold final with saldo_disponible = saldo - Σ active holds, and every reversal linked both ways, at most one per
transfer. Some clients make FX transfers (a quote, then the transfer naming it) between PEN and USD accounts, and
the books are checked in double entry: per currency, customers' and the bank's own accounts sum to 0.
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
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    """One attempt the client saw fail: when (monotonic), and how (the request's kind, then the exception name or
    HTTP status)."""

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
    answered: Counter[str] = field(default_factory=Counter)  # answers by kind of request
    completadas: list[str] = field(default_factory=list)  # transfers answered COMPLETADA: what reversals pick from

    async def pedir(
        self, kind: str, send: Callable[[], Awaitable[httpx.Response]], deadline: float | None = None
    ) -> httpx.Response | None:
        """`send` (which carries its own fixed Idempotency-Key) again after a transport error or a 5xx, until an
        answer below 500 or the deadline (None then)."""
        first = time.monotonic()
        while time.monotonic() < (self.deadline if deadline is None else deadline):
            self.attempts += 1
            try:
                r = await send()
            except httpx.TransportError as exc:
                self.failures.append(Failure(time.monotonic(), f"{kind} {type(exc).__name__}"))
                await asyncio.sleep(0.2)
                continue
            if r.status_code >= 500:
                self.failures.append(Failure(time.monotonic(), f"{kind} {r.status_code}"))
                await asyncio.sleep(0.2)
                continue
            self.latencies.append(time.monotonic() - first)
            self.answered[kind] += 1
            return r
        return None

    async def mover(self, body: dict[str, Any], key: str | None = None) -> str | None:
        key = key or str(uuid.uuid4())
        r = await self.pedir("transaccion", lambda: self.banco.post(body, key))
        if r is None:
            self.unanswered.append((body, key))  # asked again after the chaos: the key makes it the same request
            return None
        assert registrada(r), r.text
        doc = r.json()
        trx_id = str(doc["id"])
        self.ids.append(trx_id)
        if (doc.get("estado"), doc.get("tipo")) == ("COMPLETADA", "TRANSFERENCIA") and not (
            doc.get("reversionDe")  # reversals are not reversed
        ):
            self.completadas.append(trx_id)
        return trx_id


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


def pedido_fx(rng: Random, pen: list[int], usd: list[int]) -> tuple[int, int, str]:
    """FX: origin, destination (one PEN and one USD account, either way round) and the amount in the origin's."""
    a, b = rng.choice(pen), rng.choice(usd)
    origen, destino = (a, b) if rng.random() < 0.5 else (b, a)
    return origen, destino, f"{rng.randint(100, 4000) / 100:.2f}"


# -- holds and reversals ------------------------------------------------------------------------------------------

# What the client does with a hold it created; a "larga" one (vence in LARGA) is still ACTIVA at the checks, so
# saldo_disponible = saldo - Σ ACTIVA holds is checked with something held.
PLANES = ("expira", "total", "parcial", "libera", "larga")
LARGA = timedelta(minutes=15)


@dataclass
class Retencion:
    """A hold a client created, what it meant to do with it, and what it was told."""

    cuenta: int
    retencion_id: int
    monto: Decimal
    plan: str
    vence: datetime
    capturado: Decimal | None = None  # the capture's 200 answer: monto_capturado
    dicho: str | None = None  # the state the client was told: CAPTURADA/LIBERADA (200), EXPIRADA (a late 409)


@dataclass
class Reversion:
    """One reversal request: its original, the mode it was asked in, and the answer (status, id of the reversal)."""

    original: str
    modo: str  # una | dos | simultaneas
    status: int
    reversion_id: str | None  # 201/202, or the FALLIDA reversal of a 409
    estado: str | None


@dataclass
class Extras:
    """The holds and reversals the clients asked for during a run."""

    retenciones: list[Retencion] = field(default_factory=list)
    retenciones_rechazadas: Counter[str] = field(default_factory=Counter)  # creation refused: motivo
    reversiones: list[Reversion] = field(default_factory=list)
    perdidas: list[str] = field(default_factory=list)  # requests never answered, even long after the chaos


async def retener(clients: Clients, extras: Extras, rng: Random, cuentas: list[int], deadline: float) -> None:
    """Create a hold with a short `vence` and, unless it is left to expire, capture it (fully or in part) or void
    it shortly after; every request re-sent with its one Idempotency-Key until answered."""
    http = clients.banco.cuentas
    cuenta = rng.choice(cuentas)
    plan = rng.choice(PLANES)
    monto = Decimal(rng.randint(100, 3000)) / 100
    vence = datetime.now(UTC) + (LARGA if plan == "larga" else timedelta(seconds=rng.uniform(3.0, 8.0)))
    body = {"monto": f"{monto:.2f}", "vence": vence.isoformat(), "referencia": f"jepsen-{plan}"}
    key = {"Idempotency-Key": f"jepsen-ret-{uuid.uuid4()}"}
    r = await clients.pedir(
        "retencion", lambda: http.post(f"/cuentas/{cuenta}/retenciones", json=body, headers=key), deadline
    )
    if r is None:
        extras.perdidas.append(f"hold on {cuenta}")
        return
    if r.status_code == 409:
        extras.retenciones_rechazadas[str(r.json().get("motivo"))] += 1
        return
    if r.status_code == 422 and "vence" in r.text and datetime.now(UTC) >= vence:
        extras.retenciones_rechazadas["VENCE_PASADO"] += 1  # every attempt failed until vence had passed
        return
    assert r.status_code == 201, r.text
    hold = Retencion(cuenta, int(r.json()["retencion_id"]), monto, plan, vence)
    extras.retenciones.append(hold)
    if plan in ("expira", "larga"):
        return
    await asyncio.sleep(rng.uniform(0.0, 1.5))
    url = f"/cuentas/{cuenta}/retenciones/{hold.retencion_id}"
    key = {"Idempotency-Key": f"jepsen-ret-{uuid.uuid4()}"}
    if plan == "libera":
        r = await clients.pedir("liberacion", lambda: http.post(f"{url}/liberacion", headers=key), deadline)
    else:
        parte = {} if plan == "total" else {"monto": f"{Decimal(rng.randint(1, int(monto * 100) - 1)) / 100:.2f}"}
        r = await clients.pedir("captura", lambda: http.post(f"{url}/captura", json=parte, headers=key), deadline)
    if r is None:
        extras.perdidas.append(f"{plan} of hold {hold.retencion_id}")
        return
    if r.status_code == 409:  # too late: the kills held the request past vence and the hold expired meanwhile
        assert r.json().get("estado") == "EXPIRADA", r.text
        hold.dicho = "EXPIRADA"
        return
    assert r.status_code == 200, r.text
    hold.dicho = r.json()["estado"]
    if plan != "libera":
        hold.capturado = Decimal(r.json()["monto_capturado"])


async def revertir(clients: Clients, extras: Extras, rng: Random, deadline: float) -> None:
    """Ask for the reversal of a random COMPLETADA transfer: once, twice in a row, or twice at the same time (each
    request with its own Idempotency-Key, re-sent with it until answered). 409s are answers: a refusal (already
    reverted, or the destination no longer holds the money: a FALLIDA reversal)."""
    if not clients.completadas:
        await asyncio.sleep(0.3)
        return
    original = rng.choice(clients.completadas)
    modo = rng.choices(["una", "dos", "simultaneas"], weights=[2, 1, 1])[0]

    async def una() -> None:
        key = {"Idempotency-Key": f"jepsen-rev-{uuid.uuid4()}"}
        url = f"/transacciones/{original}/reversion"
        r = await clients.pedir("reversion", lambda: clients.banco.trx.post(url, headers=key), deadline)
        if r is None:
            extras.perdidas.append(f"reversal of {original}")
            return
        assert r.status_code in (201, 202, 409), r.text
        doc = r.json()
        rev_id = str(doc["id"]) if registrada(r) else None  # a plain 409 names no reversal of its own
        if rev_id is not None:
            assert doc["reversionDe"] == original, doc
            clients.ids.append(rev_id)
        extras.reversiones.append(Reversion(original, modo, r.status_code, rev_id, doc.get("estado")))

    if modo == "simultaneas":
        await asyncio.gather(una(), una())
    else:
        for _ in range(1 if modo == "una" else 2):
            await una()


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
    extras: Extras = field(default_factory=Extras)
    monedas: dict[int, str] = field(default_factory=dict)  # account -> its currency (PEN unless FX runs)
    fx: bool = False  # FX transfers were part of the workload
    checks: list[str] = field(default_factory=list)  # which checks ran, for the report

    @property
    def failures(self) -> list[Failure]:
        return self.clients.failures


async def fx_disponible(banco: Banco) -> bool:
    """FX is part of every run: transacciones must serve its exchange rates (GET /tipos-cambio 200)."""
    r = await banco.trx.get("/tipos-cambio")
    assert r.status_code == 200, f"GET /tipos-cambio: {r.status_code} {r.text}"
    return True


async def conocidas_para_cotizar(banco: Banco, pen: list[int], usd: list[int]) -> None:
    """Wait until transacciones can quote for every account of the run. A quote reads the account's currency from
    transacciones' replica of the openings (propietarios, folded from CuentaAbierta), which answers an account it
    has not folded yet as not found (404): the replica's documented lag. Left to the load, that lag meets the
    nemesis' first kill of transacciones, and a just-opened account stays unknown until the replica's consumer is
    back, so the run starts only once every account is known (any answer but 404)."""
    pares = [(c, usd[0]) for c in pen] + [(c, pen[0]) for c in usd]
    for origen, destino in pares:
        body = {"cuentaOrigenId": origen, "cuentaDestinoId": destino, "monto": "1.00"}

        async def conocida(body: dict[str, Any] = body) -> int | None:
            r = await banco.trx.post("/cotizaciones", json=body)
            return r.status_code if r.status_code != 404 else None

        await eventually(conocida, timeout=60, interval=0.2, what=f"transacciones to know accounts {body}")


async def transferir_fx(clients: Clients, rng: Random, pen: list[int], usd: list[int]) -> None:
    """An FX TRANSFERENCIA: a quote (POST /cotizaciones), then the transfer naming it, with the harness' retries.
    A refused quote (409, e.g. no rate) is an answer; the transfer is checked like any other."""
    origen, destino, monto = pedido_fx(rng, pen, usd)
    key = {"Idempotency-Key": f"jepsen-cot-{uuid.uuid4()}"}
    body = {"cuentaOrigenId": origen, "cuentaDestinoId": destino, "monto": monto}
    r = await clients.pedir("cotizacion", lambda: clients.banco.trx.post("/cotizaciones", json=body, headers=key))
    if r is None or r.status_code == 409:
        return
    assert r.status_code == 201, r.text
    cot = r.json()
    await clients.mover(
        {
            "tipo": "TRANSFERENCIA",
            "monto": monto,
            "moneda": cot["monedaOrigen"],
            "cuentaOrigenId": origen,
            "cuentaDestinoId": destino,
            "cotizacionId": cot["cotizacionId"],
            "descripcion": "jepsen fx",
        }
    )


async def run_bank(
    banco: Banco,
    cuenta: Callable[..., Awaitable[int]],
    *,
    nemesis: Nemesis,
    accounts: int = 10,
    opening: Decimal = Decimal("500.00"),
    workers: int = 6,
    hold_workers: int = 2,
    reversal_workers: int = 1,
    load_seconds: float = 40.0,
    settle_seconds: float = 120.0,
    seed: int | None = None,
) -> Run:
    """Open `accounts` accounts, run `workers` clients for `load_seconds` under `nemesis` (plus `hold_workers`
    making holds and `reversal_workers` asking for reversals), re-ask what was left unanswered, then wait until
    every transaction is final (so the checks see a quiet bank)."""
    rng = Random(seed)
    cuentas = [await cuenta(f"{opening}") for _ in range(accounts)]
    monedas = dict.fromkeys(cuentas, "PEN")
    fx = await fx_disponible(banco)
    usd: list[int] = []
    if fx:  # FX plug-in: a few USD accounts, only ever in FX transfers (pedido stays PEN to PEN)
        usd = [await cuenta(f"{opening}", moneda="USD") for _ in range(3)]
        monedas |= dict.fromkeys(usd, "USD")
        await conocidas_para_cotizar(banco, cuentas, usd)
    offsets_before = await end_offsets(CHECKED_TOPICS)
    started_at = datetime.now(UTC)
    start = time.monotonic()
    clients = Clients(banco, deadline=start + load_seconds + 30)
    extras = Extras()
    late = start + load_seconds + 90  # holds and reversals: re-sent with the same key until long after the chaos

    async def worker(worker_seed: int) -> None:
        local = Random(worker_seed)
        while time.monotonic() < start + load_seconds:
            if fx and local.random() < 0.15:
                await transferir_fx(clients, local, cuentas, usd)
            else:
                await clients.mover(pedido(local, cuentas))

    async def hold_worker(worker_seed: int) -> None:
        local = Random(worker_seed)
        while time.monotonic() < start + load_seconds:
            await retener(clients, extras, local, cuentas, late)
            await asyncio.sleep(local.uniform(0.0, 0.3))

    async def reversal_worker(worker_seed: int) -> None:
        local = Random(worker_seed)
        while time.monotonic() < start + load_seconds:
            await revertir(clients, extras, local, late)
            await asyncio.sleep(local.uniform(0.1, 0.5))

    chaos = asyncio.create_task(nemesis.run(start))
    await asyncio.gather(
        *(worker(rng.randrange(2**32)) for _ in range(workers)),
        *(hold_worker(rng.randrange(2**32)) for _ in range(hold_workers)),
        *(reversal_worker(rng.randrange(2**32)) for _ in range(reversal_workers)),
    )
    await chaos
    left, clients.unanswered = clients.unanswered, []
    for body, key in left:
        clients.deadline = time.monotonic() + 60
        assert await clients.mover(body, key), f"request {key} unanswered 60 s after the chaos"
    assert not extras.perdidas, f"unanswered long after the chaos: {extras.perdidas}"
    run = Run(cuentas + usd, opening, clients, nemesis, start, started_at, load_seconds, offsets_before)
    run.extras, run.monedas, run.fx = extras, monedas, fx
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
    # An original is final before its reversal is: its `revertidaPor` appears only once the reversal completes. Now
    # that every transaction is final nothing changes any more, so one more read of each is the books' snapshot.
    for trx_id in ids:
        r = await banco.trx.get(f"/transacciones/{trx_id}")
        assert r.status_code == 200, r.text
        finales[trx_id] = r.json()
    return finales


# -- the checks ---------------------------------------------------------------------------------------------------


def _signed(m: dict[str, Any]) -> Decimal:
    monto = Decimal(m["monto"])
    return monto if m["operacion"] == "CREDITO" else -monto


def efecto_esperado(t: dict[str, Any]) -> dict[int, Decimal]:
    """A COMPLETADA transaction's effect on each account (a reversal is a transaction like any other; an FX
    transfer credits its `montoDestino`, in the destination's currency)."""
    monto = Decimal(t["monto"])
    if t["tipo"] == "DEPOSITO":
        return {t["cuentaDestinoId"]: monto}
    if t["tipo"] in ("RETIRO", "PAGO_SERVICIO"):
        return {t["cuentaOrigenId"]: -monto}
    assert t["tipo"] == "TRANSFERENCIA", t
    credito = Decimal(t["montoDestino"]) if t.get("montoDestino") is not None else monto
    return {t["cuentaOrigenId"]: -monto, t["cuentaDestinoId"]: credito}


def libros_esperados(
    aperturas: dict[int, tuple[str, Decimal]],
    finales: Iterable[dict[str, Any]],
    capturas: Iterable[tuple[int, Decimal]],
) -> dict[str, Decimal]:
    """The bank's total per currency: the opening balances, plus every COMPLETADA transaction's effect (reversals
    included, each its own transaction), minus every captured hold's amount — each counted exactly once."""
    total: dict[str, Decimal] = defaultdict(Decimal)
    for moneda, apertura in aperturas.values():
        total[moneda] += apertura
    for t in finales:
        if t["estado"] == "COMPLETADA":
            for c, v in efecto_esperado(t).items():
                total[aperturas[c][0]] += v
    for c, monto in capturas:
        total[aperturas[c][0]] -= monto
    return dict(total)


def problemas_reversiones(finales: Iterable[dict[str, Any]]) -> list[str]:
    """Every reversal names a COMPLETADA original and mirrors it; every original has at most one COMPLETADA
    reversal, and `revertidaPor` names exactly that one (none: null) — both directions of the link."""
    by_id = {t["id"]: t for t in finales}
    out: list[str] = []
    completadas: dict[str, list[str]] = defaultdict(list)
    for r in by_id.values():
        if not r.get("reversionDe"):
            continue
        o = by_id.get(r["reversionDe"])
        if o is None:
            out.append(f"reversal {r['id']} of unknown {r['reversionDe']}")
            continue
        if o["estado"] != "COMPLETADA" or o.get("reversionDe"):
            out.append(f"reversal {r['id']} of {o['id']} ({o['estado']}, reversionDe {o.get('reversionDe')})")
        # The mirror: b gives back what it was credited (an FX transfer's montoDestino), a gets what it was debited.
        credito_original = o["montoDestino"] if o.get("montoDestino") is not None else o["monto"]
        credito_reversion = r["montoDestino"] if r.get("montoDestino") is not None else r["monto"]
        if (r["tipo"], r["cuentaOrigenId"], r["cuentaDestinoId"], Decimal(r["monto"]), Decimal(credito_reversion)) != (
            "TRANSFERENCIA",
            o["cuentaDestinoId"],
            o["cuentaOrigenId"],
            Decimal(credito_original),
            Decimal(o["monto"]),
        ):
            out.append(f"reversal {r['id']} does not mirror {o['id']}")
        if r["estado"] == "COMPLETADA":
            completadas[o["id"]].append(r["id"])
    for o in by_id.values():
        mine = completadas.get(o["id"], [])
        if len(mine) > 1:
            out.append(f"{o['id']} reverted {len(mine)} times: {mine}")
        if o.get("revertidaPor") != (mine[0] if mine else None):
            out.append(f"{o['id']}: revertidaPor {o.get('revertidaPor')} but COMPLETADA reversals {mine}")
    return out


def neto_revertidas(finales: Iterable[dict[str, Any]], por_trx: dict[str, dict[int, Decimal]]) -> dict[int, Decimal]:
    """Σ of the ledger effects of every reverted transfer and its reversal, per account: all 0 when the money of
    each reverted transfer is back at its origin (the non-zero entries are returned)."""
    by_id = {t["id"]: t for t in finales}
    neto: dict[int, Decimal] = defaultdict(Decimal)
    for o in by_id.values():
        rev = by_id.get(o.get("revertidaPor") or "")
        if rev is None:
            continue
        for trx in (o["transaccionId"], rev["transaccionId"]):
            for c, v in por_trx.get(trx, {}).items():
                neto[c] += v
    return {c: v for c, v in neto.items() if v != 0}


def problemas_retencion(h: dict[str, Any]) -> list[str]:
    """A hold after the run: final, and its amounts adding up (captured + released = held)."""
    rid, monto, estado = h["retencion_id"], Decimal(h["monto"]), h["estado"]
    liberado = Decimal(h["monto_liberado"] or 0)
    if estado == "CAPTURADA":
        capturado = Decimal(h["monto_capturado"] or 0)
        ok = capturado > 0 and capturado + liberado == monto and h["movimiento_id"] is not None
        return [] if ok else [f"hold {rid} CAPTURADA: {capturado} + {liberado} != {monto} or no movement"]
    if estado in ("LIBERADA", "EXPIRADA"):
        ok = liberado == monto and not h.get("monto_capturado") and h.get("movimiento_id") is None
        return [] if ok else [f"hold {rid} {estado}: released {liberado} of {monto}"]
    return [f"hold {rid} still {estado}"]


async def cuentas_internas(banco: Banco) -> list[dict[str, Any]]:
    """The bank's own accounts per currency (GET /cuentas-internas), for the double-entry check."""
    r = await banco.leer("/cuentas-internas")
    assert r.status_code == 200, f"GET /cuentas-internas: {r.status_code} {r.text}"
    return list(r.json())


async def check_books(banco: Banco, run: Run) -> dict[int, Decimal]:
    """No PENDIENTE left, no negative balance, saldo = Σ movimientos, the total per currency conserved (captured
    holds and reversals counted once), every transaction's exact effect on the ledger (COMPLETADA) or none
    (otherwise) — so no saga command was applied twice —, no ledger line of a transaction no client asked for,
    the money of every reverted transfer back at its origin, and double entry's total 0."""
    estados = Counter(t["estado"] for t in run.finales.values())
    assert estados["COMPLETADA"] > 0, estados
    for c in run.cuentas:
        r = await banco.trx.get("/transacciones", params={"cuenta_id": c, "estado": "PENDIENTE"})
        assert r.json() == [], f"PENDIENTE left on account {c}"

    detalles = {c: (await banco.leer(f"/cuentas/{c}")).json() for c in run.cuentas}
    saldos = {c: Decimal(d["saldo"]) for c, d in detalles.items()}
    monedas = {c: str(d["moneda"]) for c, d in detalles.items()}
    assert monedas == (run.monedas or dict.fromkeys(run.cuentas, "PEN")), monedas
    ledgers = {c: await banco.movimientos(c) for c in run.cuentas}
    assert all(s >= 0 for s in saldos.values()), saldos
    for c in run.cuentas:
        suma = sum((_signed(m) for m in ledgers[c]), Decimal(0))
        assert saldos[c] == suma, f"account {c}: saldo {saldos[c]} != Σ movimientos {suma}"
        sueltos = {m["causa"] for m in ledgers[c] if not m["transaccion_id"]}
        assert sueltos <= {"APERTURA", "CAPTURA"}, f"account {c}: movements of no transaction {sueltos}"
    run.checks.append("saldo = Σ movimientos, none negative")

    capturas = [(c, Decimal(m["monto"])) for c, rows in ledgers.items() for m in rows if m["causa"] == "CAPTURA"]
    aperturas = {c: (monedas[c], run.opening) for c in run.cuentas}
    esperado = libros_esperados(aperturas, run.finales.values(), capturas)
    reales: dict[str, Decimal] = defaultdict(Decimal)
    for c, saldo in saldos.items():
        reales[monedas[c]] += saldo
    assert dict(reales) == esperado, f"Σ saldos {dict(reales)} != expected {esperado}"
    run.checks.append(f"total per currency conserved {sorted(esperado)} (with {len(capturas)} captures)")

    por_trx: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    comandos: Counter[str] = Counter()
    for c, rows in ledgers.items():
        for m in rows:
            if m["transaccion_id"]:
                por_trx[m["transaccion_id"]][c] += _signed(m)
                comandos[m["comando_id"]] += 1
    assert all(n == 1 for n in comandos.values()), "a saga command was applied twice"
    conocidas = {t["transaccionId"] for t in run.finales.values()}
    fantasmas = set(por_trx) - conocidas
    assert not fantasmas, f"ledger lines of transactions no client was answered: {sorted(fantasmas)[:5]}"
    for t in run.finales.values():
        efecto = {k: v for k, v in por_trx.get(t["transaccionId"], {}).items() if v != 0}
        if t["estado"] != "COMPLETADA":
            assert efecto == {}, (t, efecto)
            continue
        assert efecto == efecto_esperado(t), (t, efecto)
    run.checks.append(f"each of {len(run.finales)} transactions' exact effect, no command twice, no ghost")

    assert neto_revertidas(run.finales.values(), por_trx) == {}, "a reverted transfer's money not back at origin"
    run.checks.append("reverted transfers' money back at origin (Σ transfer + reversal = 0)")

    totales = {b["moneda"]: Decimal(b["total"]) for b in await cuentas_internas(banco)}
    assert {"PEN", "USD"} <= set(totales), totales
    assert all(v == 0 for v in totales.values()), f"double entry: total per currency {totales}"
    run.checks.append(f"double entry: GET /cuentas-internas total 0 in {sorted(totales)}")
    return saldos


async def check_retenciones(banco: Banco, run: Run, timeout: float = 60.0) -> Counter[str]:
    """Every hold of the run final once its vence passed (the expiry task) and exactly as the client was told;
    each CAPTURADA one's movement a CAPTURA line of its amount, used by no other hold; saldo_disponible = saldo -
    Σ ACTIVA holds (and `retenido` = that Σ where the account shows it). Returns the holds by final state."""
    holds = run.extras.retenciones
    ultimo = max((h.vence for h in holds if h.plan != "larga"), default=datetime.now(UTC))
    await asyncio.sleep(max(0.0, (ultimo - datetime.now(UTC)).total_seconds() + 1.5))
    listed: dict[int, list[dict[str, Any]]] = {}

    async def listar(c: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            r = await banco.leer(f"/cuentas/{c}/retenciones", params={"skip": len(rows), "limit": 500})
            assert r.status_code == 200, r.text
            rows += r.json()
            if len(r.json()) < 500:
                return rows

    async def todas_finales() -> bool:
        for c in run.cuentas:
            listed[c] = await listar(c)
        ahora = datetime.now(UTC)
        return all(h["estado"] != "ACTIVA" or _fecha(h["vence"]) > ahora for rows in listed.values() for h in rows)

    await eventually(todas_finales, timeout=timeout, interval=1.0, what="every hold of the run past vence final")
    by_id = {h["retencion_id"]: h for rows in listed.values() for h in rows}
    assert set(by_id) == {h.retencion_id for h in holds}, "holds the clients did not create (or lost ones)"
    activas = {rid for rid, h in by_id.items() if h["estado"] == "ACTIVA"}
    assert activas == {h.retencion_id for h in holds if h.plan == "larga"}, "ACTIVA holds other than the long ones"
    problemas = [p for rid, h in by_id.items() if rid not in activas for p in problemas_retencion(h)]
    assert not problemas, problemas
    for h in holds:
        got = by_id[h.retencion_id]
        assert (got["cuenta_id"], Decimal(got["monto"])) == (h.cuenta, h.monto), (h, got)
        if h.dicho is not None:
            assert got["estado"] == h.dicho, (h, got)
        if h.capturado is not None:
            assert Decimal(got["monto_capturado"]) == h.capturado, (h, got)
        if h.plan == "larga":
            assert got["estado"] == "ACTIVA", (h, got)
        if h.plan == "expira":
            assert got["estado"] == "EXPIRADA", (h, got)
        if h.plan == "parcial" and got["estado"] == "CAPTURADA":
            assert Decimal(got["monto_capturado"]) < h.monto, (h, got)
    run.checks.append(
        f"{len(holds) - len(activas)} holds past vence final, as each client was told, amounts adding up; "
        f"{len(activas)} long ones still ACTIVA"
    )

    for c in run.cuentas:
        capturas = {
            m["movimiento_id"]: Decimal(m["monto"]) for m in await banco.movimientos(c) if m["causa"] == "CAPTURA"
        }
        mias = {h["movimiento_id"]: Decimal(h["monto_capturado"]) for h in listed[c] if h["estado"] == "CAPTURADA"}
        assert capturas == mias, f"account {c}: CAPTURA lines {capturas} != captured holds {mias}"
        d = (await banco.leer(f"/cuentas/{c}")).json()
        retenido = sum((Decimal(h["monto"]) for h in listed[c] if h["estado"] == "ACTIVA"), Decimal(0))
        assert Decimal(d["saldo_disponible"]) == Decimal(d["saldo"]) - retenido, (c, d, retenido)
        if "retenido" in d:
            assert Decimal(d["retenido"]) == retenido, (c, d)
    held = sum((Decimal(by_id[rid]["monto"]) for rid in activas), Decimal(0))
    run.checks.append(f"CAPTURA lines = captured holds one to one; saldo_disponible = saldo - Σ ACTIVA ({held} held)")
    return Counter(h["estado"] for h in by_id.values())


def _fecha(value: str) -> datetime:
    """An ISO 8601 instant from the API (UTC when it names no offset)."""
    d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def check_reversiones(run: Run) -> Counter[str]:
    """Both links of every reversal and at most one COMPLETADA reversal per transfer, however it was asked (once,
    twice in a row, twice at the same time). Returns the reversal requests by outcome and by mode."""
    problemas = problemas_reversiones(run.finales.values())
    assert not problemas, problemas
    by_id = {t["id"]: t for t in run.finales.values()}
    resultado: Counter[str] = Counter()
    for r in run.extras.reversiones:
        if r.reversion_id is None:
            resultado["refused 409"] += 1
        else:
            resultado[f"reversal {by_id[r.reversion_id]['estado']}"] += 1
    done = [t for t in by_id.values() if t.get("reversionDe") and t["estado"] == "COMPLETADA"]
    resultado["transfers reverted"] = len({t["reversionDe"] for t in done})
    resultado["FX transfers reverted"] = sum(1 for t in done if t.get("cotizacionId"))
    for modo, n in Counter(r.modo for r in run.extras.reversiones).items():
        resultado[f"asked {modo}"] = n
    run.checks.append(f"{len(run.extras.reversiones)} reversal requests: links both ways, at most one per transfer")
    return resultado


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


def report_extras(run: Run, holds: Counter[str], reversiones: Counter[str]) -> str:
    """Holds and reversals of the run, and which checks ran."""
    e = run.extras
    lines = [
        f"answers by request kind: {dict(run.clients.answered)}",
        f"holds created {len(e.retenciones)} by plan {dict(Counter(h.plan for h in e.retenciones))}, "
        f"refused {dict(e.retenciones_rechazadas)}; states at the checks {dict(holds)}; "
        f"client came too late (already EXPIRADA) {sum(1 for h in e.retenciones if h.plan != 'expira' and h.dicho == 'EXPIRADA')}",
        f"reversals: {dict(reversiones)}",
        f"FX transfers in the workload: {'yes' if run.fx else 'no'}",
        "checks run:",
        *(f"  - {c}" for c in run.checks),
    ]
    return "\n".join(lines)


def secs(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}s"

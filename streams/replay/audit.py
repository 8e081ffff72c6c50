"""`bank audit`: replay bank.cuentas.v1 and reconcile every account against the cuentas database.

Three records of one balance must agree:
  events — SaldoActualizado (movimiento_id, saldo) per movement, CuentaAbierta.saldo before any;
           each movement continues the previous balance (saldo = anterior ± monto);
  saldo  — cuentas.saldo in MariaDB, as cuentas exports it (services.cuentas.snapshot: read only, one consistent
           snapshot; the audit has no SQL of its own);
  ledger — the movimientos rows: Σ (CREDITO − DEBITO) and the last saldo_resultante equal saldo, and
           the event of movement m says the saldo_resultante of row m.
Events lag the database by the outbox relay, so movements (and accounts) younger than `grace` that
have no event yet are counted as in flight, not reported; older ones are missing events.
Double entry (streams.replay.partida_doble): per currency Σ customers + Σ the bank's own accounts = 0, every
movement has its legs, and no transfer's money waits in TRANSITO longer than a saga may run.
It also reports what was left undone (streams.replay.outstanding): sagas stuck PENDIENTE and dead letters.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import TopicPartition

from consumers.reader import Record, make_reader, offsets_at, read_range, topic_partitions
from contracts.base import Message
from contracts.cuentas import CuentaAbierta, CuentaEliminada, SaldoActualizado
from contracts.envelope import from_record
from contracts.topics import CUENTAS
from services.cuentas import snapshot as cuentas_snapshot
from services.cuentas.snapshot import PartidaDoble
from streams.replay.outstanding import DlqTopic, SagasPendientes, dead_letters, sagas_pendientes
from streams.replay.partida_doble import Hallazgo, revisar

ZERO = Decimal("0.00")


@dataclass
class CuentaSegunEventos:
    cuenta_id: int
    saldo: Decimal | None = None
    movimiento_id: int | None = None
    abierta: bool = False
    eliminada: bool = False
    movimientos: set[int] = field(default_factory=set)
    cadena: Decimal | None = None  # running balance rebuilt from the movements (only when read from the start)


@dataclass(frozen=True)
class Movimiento:
    movimiento_id: int
    delta: Decimal
    saldo_resultante: Decimal
    fecha: datetime


@dataclass(frozen=True)
class CuentaEnBase:
    cuenta_id: int
    saldo: Decimal
    eliminada: bool
    fecha_apertura: datetime
    movimientos: tuple[Movimiento, ...] = ()  # ascending movimiento_id

    @property
    def suma(self) -> Decimal:
        return sum((m.delta for m in self.movimientos), ZERO)


@dataclass(frozen=True)
class Discrepancia:
    cuenta_id: int
    tipo: str
    detalle: str

    def __str__(self) -> str:
        return f"cuenta {self.cuenta_id}: {self.tipo}: {self.detalle}"


@dataclass
class EventLedger:
    """The accounts as the events tell them (pure fold)."""

    from_start: bool
    cuentas: dict[int, CuentaSegunEventos] = field(default_factory=dict)
    cadena_rota: list[Discrepancia] = field(default_factory=list)
    events: int = 0

    def apply(self, message: Message) -> None:
        if not isinstance(message, CuentaAbierta | SaldoActualizado | CuentaEliminada):
            return
        self.events += 1
        cuenta = self.cuentas.setdefault(message.cuenta_id, CuentaSegunEventos(message.cuenta_id))
        if isinstance(message, CuentaAbierta):
            if self.from_start and not cuenta.abierta:
                cuenta.cadena = ZERO  # the opening balance arrives as its own APERTURA movement
            # A copy of the opening (an outbox relay publishes at least once) must not restart the chain: the
            # movements already counted would be missing from it.
            cuenta.abierta = True
            if cuenta.movimiento_id is None:
                cuenta.saldo = message.saldo
        elif isinstance(message, SaldoActualizado):
            if message.movimiento_id in cuenta.movimientos:
                return  # a duplicate delivery
            cuenta.movimientos.add(message.movimiento_id)
            if cuenta.movimiento_id is not None and message.movimiento_id < cuenta.movimiento_id:
                return  # an older movement arriving late: the balance stays the newer one's
            if cuenta.cadena is not None:
                delta = message.monto if message.operacion == "CREDITO" else -message.monto
                if cuenta.cadena + delta != message.saldo:
                    self.cadena_rota.append(
                        Discrepancia(
                            message.cuenta_id,
                            "CADENA_ROTA",
                            f"movimiento {message.movimiento_id}: {cuenta.cadena} {message.operacion} "
                            f"{message.monto} should give {cuenta.cadena + delta}, the event says {message.saldo}",
                        )
                    )
                cuenta.cadena = message.saldo
            cuenta.saldo = message.saldo
            cuenta.movimiento_id = message.movimiento_id
        else:
            cuenta.eliminada = True


@dataclass
class Reconciliation:
    discrepancias: list[Discrepancia] = field(default_factory=list)
    en_vuelo: set[int] = field(default_factory=set)  # accounts with young movements not yet published
    audited: int = 0


def reconcile(
    eventos: dict[int, CuentaSegunEventos],
    base: dict[int, CuentaEnBase],
    *,
    full: bool,
    cutoff: datetime,
) -> Reconciliation:
    """Every disagreement between the events, the saldo column and the ledger. `full` when the events
    were read from the beginning; what the database did after `cutoff` may still be on its way to Kafka."""
    out = Reconciliation()

    def report(cuenta_id: int, tipo: str, detalle: str) -> None:
        out.discrepancias.append(Discrepancia(cuenta_id, tipo, detalle))

    audited = set(base) if full else set(base) & set(eventos)
    out.audited = len(audited)
    for cuenta_id in sorted(audited):
        row = base[cuenta_id]
        if row.saldo != row.suma:
            report(cuenta_id, "SALDO_VS_LEDGER", f"saldo {row.saldo} but Σ movimientos {row.suma}")
        last = row.movimientos[-1] if row.movimientos else None
        if last is not None and last.saldo_resultante != row.saldo:
            report(
                cuenta_id,
                "SALDO_VS_ULTIMO_MOVIMIENTO",
                f"saldo {row.saldo} but movimiento {last.movimiento_id} left {last.saldo_resultante}",
            )
        ev = eventos.get(cuenta_id)
        if ev is None:
            if row.fecha_apertura <= cutoff:
                report(cuenta_id, "SIN_EVENTOS", "the account has no event in the log (CuentaAbierta lost?)")
            else:
                out.en_vuelo.add(cuenta_id)
            continue
        _compare_with_events(row, ev, full=full, cutoff=cutoff, report=report, en_vuelo=out.en_vuelo)
    for cuenta_id in sorted(set(eventos) - set(base)):
        if full or eventos[cuenta_id].abierta:
            report(cuenta_id, "SIN_CUENTA_EN_BASE", "events name an account the database lacks")
    return out


def _compare_with_events(
    row: CuentaEnBase, ev: CuentaSegunEventos, *, full: bool, cutoff: datetime, report: Any, en_vuelo: set[int]
) -> None:
    by_id = {m.movimiento_id: m for m in row.movimientos}
    seen_upto = ev.movimiento_id or 0
    if ev.movimiento_id is not None:
        mov = by_id.get(ev.movimiento_id)
        if mov is None:
            report(row.cuenta_id, "EVENTO_SIN_MOVIMIENTO", f"movimiento {ev.movimiento_id} is not in the ledger")
        elif mov.saldo_resultante != ev.saldo:
            report(
                row.cuenta_id,
                "EVENTO_VS_LEDGER",
                f"movimiento {ev.movimiento_id}: event saldo {ev.saldo}, ledger {mov.saldo_resultante}",
            )
    if full:
        lost = [
            m.movimiento_id
            for m in row.movimientos
            if m.movimiento_id <= seen_upto and m.movimiento_id not in ev.movimientos
        ]
        if lost:
            report(row.cuenta_id, "EVENTOS_FALTANTES", f"no SaldoActualizado for movimientos {lost[:10]}")
    newer = [m for m in row.movimientos if m.movimiento_id > seen_upto]
    if newer:
        if newer[0].fecha <= cutoff:
            report(
                row.cuenta_id,
                "EVENTOS_NO_PUBLICADOS",
                f"movimientos {[m.movimiento_id for m in newer[:10]]} since {newer[0].fecha.isoformat()} have no event",
            )
        else:
            en_vuelo.add(row.cuenta_id)
    elif ev.saldo is not None and ev.saldo != row.saldo:
        report(row.cuenta_id, "SALDO_VS_EVENTOS", f"saldo {row.saldo} but the events say {ev.saldo}")


@dataclass
class AuditReport:
    since: datetime | None
    records: int = 0
    events: int = 0
    accounts_in_events: int = 0
    accounts_in_database: int = 0
    accounts_audited: int = 0
    in_flight: int = 0
    discrepancies: list[Discrepancia] = field(default_factory=list)
    undecodable: int = 0
    seconds: float = 0.0
    stuck_after: timedelta = timedelta(minutes=5)
    partida_doble: list[Hallazgo] = field(default_factory=list)
    libros: list[str] = field(default_factory=list)  # the internal accounts per currency, for the summary
    sagas: SagasPendientes | None = None  # None: not checked (no transacciones URL)
    dlq: list[DlqTopic] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing to report: balances agree, no saga is stuck and no message was dead-lettered."""
        return (
            not self.discrepancies and not self.partida_doble and not (self.sagas and self.sagas.total) and not self.dlq
        )

    def lines(self) -> list[str]:
        head = [
            f"audit of {CUENTAS} {'since ' + self.since.isoformat() if self.since else 'from the beginning'}",
            f"  records read: {self.records}, account events: {self.events}, undecodable: {self.undecodable}",
            f"  accounts: {self.accounts_in_database} in the database, {self.accounts_in_events} in the events, "
            f"{self.accounts_audited} audited, {self.in_flight} with movements still being published",
            f"  discrepancies: {len(self.discrepancies)}",
        ]
        body = head + [f"  - {d}" for d in self.discrepancies]
        body += ["  double entry (customers + the bank's own accounts, per currency):", *self.libros]
        body.append(f"  double-entry findings: {len(self.partida_doble)}")
        body += [f"  - {h}" for h in self.partida_doble]
        if self.sagas is not None:
            body += self.sagas.lines(self.stuck_after)
        body.append(f"  dead-letter topics with messages: {len(self.dlq)}")
        for topic in self.dlq:
            body += topic.lines()
        return [*body, f"  took {self.seconds:.1f}s"]


async def read_database(
    url: str, only: Iterable[int] | None = None
) -> tuple[dict[int, CuentaEnBase], datetime, PartidaDoble | None]:
    """Accounts and their whole ledger as cuentas exports them (one read-only consistent snapshot), the database's
    UTC time and the bank's own accounts."""
    snapshot = await cuentas_snapshot.leer(url, only)
    base = {
        c.cuenta_id: CuentaEnBase(
            cuenta_id=c.cuenta_id,
            saldo=c.saldo,
            eliminada=c.eliminada,
            fecha_apertura=c.fecha_apertura,
            movimientos=tuple(
                Movimiento(
                    m.movimiento_id,
                    m.monto if m.operacion == "CREDITO" else -m.monto,
                    m.saldo_resultante,
                    m.fecha,
                )
                for m in c.movimientos
            ),
        )
        for c in snapshot.cuentas.values()
    }
    return base, snapshot.ahora, snapshot.partida_doble


def _apply_record(ledger: EventLedger, record: Record, report: AuditReport) -> None:
    report.records += 1
    try:
        message = from_record(record.topic, record.value, list(record.headers)).decode()
    except Exception:
        report.undecodable += 1  # not one of our CloudEvents, or a type this version does not know
        return
    ledger.apply(message)


async def audit(
    bootstrap: str,
    mysql_url: str,
    *,
    since: datetime | None = None,
    topic: str = CUENTAS,
    grace_seconds: float = 30.0,
    transacciones_url: str | None = None,
    stuck_after: timedelta = timedelta(minutes=5),
    triaged_until: datetime | None = None,
    transacciones_auth: httpx.Auth | None = None,
) -> AuditReport:
    started = time.monotonic()
    report = AuditReport(since=since, stuck_after=stuck_after)
    full = since is None
    ledger = EventLedger(from_start=full)
    consumer = make_reader(bootstrap, client_id="bank-audit")
    await consumer.start()
    try:
        tps = await topic_partitions(consumer, topic)
        starts = await offsets_at(consumer, tps, since)
        stops: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        async for record in read_range(consumer, starts, stops):
            _apply_record(ledger, record, report)
    finally:
        await consumer.stop()
    # Read after the events: the database is never behind them, only ahead by what is being relayed.
    base, now, partida_doble = await read_database(mysql_url, None if full else ledger.cuentas)
    if partida_doble is not None:
        revision = revisar(partida_doble, ahora=now, stuck_after=stuck_after, triaged_until=triaged_until)
        report.partida_doble, report.libros = revision.hallazgos, revision.resumen
    result = reconcile(ledger.cuentas, base, full=full, cutoff=now - timedelta(seconds=grace_seconds))
    report.discrepancies = sorted(result.discrepancias + ledger.cadena_rota, key=lambda d: (d.cuenta_id, d.tipo))
    report.events = ledger.events
    report.accounts_in_events = len(ledger.cuentas)
    report.accounts_in_database = len(base)
    report.accounts_audited = result.audited
    report.in_flight = len(result.en_vuelo)
    if transacciones_url:
        report.sagas = await sagas_pendientes(
            transacciones_url, stuck_after=stuck_after, triaged_until=triaged_until, auth=transacciones_auth
        )
    report.dlq = await dead_letters(bootstrap, triaged_until=triaged_until)
    report.seconds = time.monotonic() - started
    return report

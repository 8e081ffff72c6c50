"""CPU time of every process of a supervisord stack, from /proc, summed per program: what a benchmark divides by the
work it completed to print "CPU ms per completed transfer" per process."""

import http.client
import os
import socket
import xmlrpc.client
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")
RUN = Path(__file__).resolve().parents[1] / ".run"


@dataclass(frozen=True)
class Stat:
    """The fields of /proc/<pid>/stat the accounting needs, in clock ticks."""

    ppid: int
    own: int  # utime + stime
    reaped: int  # cutime + cstime: children that exited and were waited for (e.g. PostgreSQL's backends)


def parse_stat(text: str) -> Stat:
    """/proc/<pid>/stat: comm (field 2) may hold spaces and parentheses, so split after its last ')'; the list
    then starts at field 3 (state), so field n is at index n - 3."""
    fields = text.rsplit(")", 1)[1].split()
    return Stat(ppid=int(fields[1]), own=int(fields[11]) + int(fields[12]), reaped=int(fields[13]) + int(fields[14]))


def read_stats(proc: Path = Path("/proc")) -> dict[int, Stat]:
    """Every process on the machine (one that exits while being read is left out)."""
    stats: dict[int, Stat] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = parse_stat((entry / "stat").read_text())
            except (OSError, IndexError, ValueError):
                continue
    return stats


def assign(roots: Mapping[int, str], parents: Mapping[int, int]) -> dict[int, str]:
    """pid -> program for each root and every descendant of one (the program of its nearest root ancestor)."""
    owner: dict[int, str | None] = {pid: name for pid, name in roots.items() if pid in parents}
    for pid in parents:
        path: list[int] = []
        node = pid
        while node not in owner and node in parents and node not in path:  # `path`: a ppid loop never hangs us
            path.append(node)
            node = parents[node]
        name = owner.get(node)
        for p in path:
            owner[p] = name
    return {pid: name for pid, name in owner.items() if name is not None}


def ticks_per_program(roots: Mapping[int, str], stats: Mapping[int, Stat]) -> dict[str, int]:
    """CPU ticks used so far by each program's process tree: every live process's own time plus what its exited
    children used (cutime/cstime, counted once by the parent that reaped them) — so a PostgreSQL backend that
    served one connection and exited is still in its server's total."""
    totals: dict[str, int] = dict.fromkeys(roots.values(), 0)
    for pid, name in assign(roots, {pid: s.ppid for pid, s in stats.items()}).items():
        totals[name] += stats[pid].own + stats[pid].reaped
    return totals


def supervisor_programs(socket_path: Path) -> dict[int, str]:
    """pid -> program name of every running program of the supervisord behind `socket_path` (its XML-RPC API)."""

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(5)
            self.sock.connect(str(socket_path))

    class UnixTransport(xmlrpc.client.Transport):
        def make_connection(self, host: Any) -> http.client.HTTPConnection:
            return UnixConnection("localhost")

    proxy = xmlrpc.client.ServerProxy("http://localhost", transport=UnixTransport())
    infos: Iterable[dict[str, Any]] = proxy.supervisor.getAllProcessInfo()  # type: ignore[assignment]
    return {int(i["pid"]): str(i["name"]) for i in infos if i["pid"]}


@dataclass(frozen=True)
class StackCpu:
    """A snapshot of a stack's CPU ticks per program; `again()` then `since(earlier)` give the CPU ms each program
    used in between. supervisord itself counts only its own time: the CPU of a program that restarted would
    otherwise land in it (a restarted program's new process is not a descendant of the root it had before)."""

    roots: dict[int, str]
    supervisord_pid: int | None
    ticks: dict[str, int]

    @classmethod
    def take(cls, roots: Mapping[int, str], supervisord_pid: int | None = None) -> "StackCpu":
        stats = read_stats()
        ticks = ticks_per_program(roots, stats)
        if supervisord_pid is not None and supervisord_pid in stats:
            ticks["supervisord"] = stats[supervisord_pid].own
        return cls(dict(roots), supervisord_pid, ticks)

    def again(self) -> "StackCpu":
        return StackCpu.take(self.roots, self.supervisord_pid)

    def since(self, earlier: "StackCpu") -> dict[str, float]:
        """CPU ms per program between `earlier` and this snapshot (0 for one whose process went away)."""
        return {
            name: round(max(0, t - earlier.ticks.get(name, 0)) * 1000 / TICKS, 1)
            for name, t in sorted(self.ticks.items())
        }


def this_stack() -> StackCpu | None:
    """A snapshot of this checkout's stack (None when no supervisord of this checkout answers)."""
    try:
        return StackCpu.take(supervisor_programs(RUN / "supervisor.sock"), int((RUN / "supervisord.pid").read_text()))
    except (OSError, ValueError):
        return None


def per_unit(cpu_ms: Mapping[str, float], units: int) -> dict[str, float]:
    """CPU ms per unit of work (e.g. per completed transfer) per program, plus their "total"."""
    if units <= 0:
        return {}
    shares = {name: round(ms / units, 3) for name, ms in cpu_ms.items()}
    shares["total"] = round(sum(cpu_ms.values()) / units, 3)
    return shares


def print_table(title: str, columns: Mapping[str, Mapping[str, float]]) -> None:
    """Rows = programs (busiest first by the last column), one column per measurement (e.g. per concurrency)."""
    names = sorted({n for col in columns.values() for n in col if n != "total"})
    last = list(columns.values())[-1] if columns else {}
    names.sort(key=lambda n: -last.get(n, 0.0))
    rows = [[n, *(f"{col.get(n, 0.0):.2f}" for col in columns.values())] for n in [*names, "total"]]
    header = ["program", *columns]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(title)
    for row in [header, *rows]:
        print(
            "  ".join(
                str(v).rjust(w) if i else str(v).ljust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )

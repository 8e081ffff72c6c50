"""py-spy on the running Python processes of the stack while a measurement runs: per process a flame graph (SVG) and
its collapsed stacks under bench/results/, and the top frames by own samples and by our innermost code."""

import re
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

PY_SPY = Path(sys.executable).parent / "py-spy"
# Frames of this project's own packages (bank/ is only the CLI entry in these processes, under every sample): the
# second ranking names, for each sample, the innermost of them, i.e. our function whose library calls cost.
OWN_CODE = re.compile(r"\((?:.*/)?(?:contracts|producers|consumers|services|streams)/[^)]*\.py")
# A thread blocked in a lock, queue or selector waits without CPU: py-spy does not always tell (--nonblocking), so
# such leaves are left out. A leaf at `Runner.run` is uvloop's C event loop (I/O, callbacks): it is kept.
IDLE = re.compile(r"\((?:.*/)?(?:threading|queue|selectors)\.py")


def python_programs(programs: Mapping[int, str]) -> dict[int, str]:
    """The programs whose main process runs a Python interpreter (the ones py-spy can read)."""
    found: dict[int, str] = {}
    for pid, name in programs.items():
        try:
            exe = Path(f"/proc/{pid}/exe").readlink().name
        except OSError:
            continue
        if exe.startswith("python"):
            found[pid] = name
    return found


def top_frames(collapsed: str, n: int = 3) -> dict[str, list[tuple[str, float]]]:
    """From py-spy's raw output (collapsed stacks: "outer;...;inner count" per line), over the samples that were not
    waiting: the n frames with most samples of their own (the leaf of a stack) and the n frames of this project
    that were most often the innermost of ours (own time plus the library calls they made), each with its share of
    those samples in %."""
    own: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if IDLE.search(frames[-1]):
            continue
        samples = int(count)
        total += samples
        own[frames[-1]] += samples
        innermost = next((f for f in reversed(frames) if OWN_CODE.search(f)), None)
        if innermost is not None:
            ours[innermost] += samples
    if not total:
        return {"own": [], "ours": []}
    return {
        kind: [(frame, round(100 * c / total, 1)) for frame, c in counter.most_common(n)]
        for kind, counter in (("own", own), ("ours", ours))
    }


class Profiler:
    """`with Profiler(programs, out):` records every given process from entry to exit (py-spy stopped with SIGINT,
    which makes it write its output), in two formats: flame-<program>.svg and flame-<program>.txt (raw).
    --nonblocking: py-spy reads the process's memory without pausing it, so the measurement is disturbed less (the
    samplers' own CPU still competes for the cores: a profiled run is marked as such)."""

    def __init__(self, programs: Mapping[int, str], out: Path, rate: int = 100) -> None:
        self.programs = dict(programs)
        self.out = out
        self.rate = rate
        self.running: list[tuple[str, subprocess.Popen[bytes], Any]] = []

    def __enter__(self) -> "Profiler":
        self.out.mkdir(parents=True, exist_ok=True)
        for pid, name in self.programs.items():
            for fmt, suffix in (("flamegraph", "svg"), ("raw", "txt")):
                log = tempfile.TemporaryFile()
                cmd = [str(PY_SPY), "record", "--pid", str(pid), "--format", fmt, "--rate", str(self.rate)]
                cmd += ["--output", str(self.out / f"flame-{name}.{suffix}"), "--nonblocking", "--function"]
                self.running.append((name, subprocess.Popen(cmd, stdout=log, stderr=log), log))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for _, proc, _ in self.running:
            proc.send_signal(signal.SIGINT)
        for name, proc, log in self.running:
            try:
                rc = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            if rc != 0:
                log.seek(0)
                print(f"py-spy on {name} exited {rc}: {log.read().decode(errors='replace').strip()[-300:]}")
            log.close()

    def top(self, n: int = 3) -> dict[str, dict[str, list[tuple[str, float]]]]:
        """Top frames per program from the raw files written at exit (a program py-spy could not read is left out)."""
        found = {}
        for name in sorted(set(self.programs.values())):
            raw = self.out / f"flame-{name}.txt"
            if raw.exists():
                found[name] = top_frames(raw.read_text(), n)
        return found


def print_top(tops: Mapping[str, Mapping[str, list[tuple[str, float]]]]) -> None:
    print("(own: leaf frames; ours: the innermost frame of this project, with the library calls below it)")
    for name, kinds in tops.items():
        print(f"{name}:")
        for kind, frames in kinds.items():
            for frame, share in frames:
                print(f"  {kind:<9} {share:5.1f}%  {frame}")

"""Test-side control of the supervised stack: pids, kill -9, restart (through supervisorctl)."""

import os
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUPERVISORCTL = [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(ROOT / "infra/supervisord.conf")]


def supervisorctl(*args: str) -> str:
    out = subprocess.run([*SUPERVISORCTL, *args], capture_output=True, text=True, timeout=120)
    return out.stdout + out.stderr


def full_name(program: str) -> str:
    """`kafka` -> `infra:kafka`: supervisorctl wants the group prefix for grouped programs."""
    for line in supervisorctl("status").splitlines():
        name = line.split(" ", 1)[0]
        if name == program or name.endswith(f":{program}"):
            return name
    return program


def pid(program: str) -> int:
    """The pid of a running program (name or group:name); 0 when it is not running."""
    text = supervisorctl("pid", full_name(program)).strip()
    return int(text) if text.isdigit() else 0


def kill9(program: str) -> int:
    """SIGKILL a program's process (as a crash would); supervisor's autorestart brings it back."""
    target = pid(program)
    assert target, f"{program} is not running: {supervisorctl('status')}"
    # supervisord starts each program in its own process group. Some programs are a wrapper script with the real
    # server as its child (kafka.sh keeps the JVM as a child to save its CDS archive): killing only the pid would
    # leave the server running as an orphan that still holds its ports, so the "crash" would crash nothing.
    assert os.getpgid(target) == target, f"{program} does not lead its own process group"
    os.killpg(target, signal.SIGKILL)
    return target

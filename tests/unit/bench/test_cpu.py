"""bench/_cpu.py: /proc/<pid>/stat parsing and the grouping of a process tree into programs, on this test's own
processes."""

import os
import subprocess
import sys
import time

from bench._cpu import TICKS, StackCpu, assign, parse_stat, per_unit, read_stats, ticks_per_program

# A child that starts a grandchild burning `BURN` CPU-seconds, reaps it, then starts a second grandchild that
# waits on its stdin: the child's tree then holds one live grandchild and the CPU of one reaped one.
BURN = 0.3
CHILD = f"""
import subprocess, sys
burn = "import time\\nwhile time.process_time() < {BURN}: pass"
subprocess.run([sys.executable, "-c", burn], check=True)
waiter = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
print(waiter.pid, flush=True)
sys.stdin.read()
waiter.communicate()
"""


def test_un_comm_con_espacios_y_parentesis_no_desplaza_los_campos() -> None:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    text = "4242 (a) b (c d)) S 17 4242 4242 0 -1 4194560 10 0 0 0 70 30 5 6 20 0 1 0 100 0 0"
    assert parse_stat(text).ppid == 17
    assert parse_stat(text).own == 100
    assert parse_stat(text).reaped == 11


def test_cada_descendiente_cuenta_para_su_raiz_mas_cercana() -> None:
    parents = {10: 1, 11: 10, 12: 11, 20: 1, 21: 20, 30: 11, 31: 30, 99: 1}
    owners = assign({10: "postgres", 20: "kafka", 30: "nested"}, parents)
    assert owners == {
        10: "postgres",
        11: "postgres",
        12: "postgres",
        20: "kafka",
        21: "kafka",
        30: "nested",
        31: "nested",
    }


def test_una_raiz_que_ya_no_existe_no_reclama_procesos() -> None:
    assert assign({500: "gone"}, {10: 1, 11: 10}) == {}


def test_per_unit_divide_por_el_trabajo_y_suma_el_total() -> None:
    assert per_unit({"a": 30.0, "b": 10.0}, 20) == {"a": 1.5, "b": 0.5, "total": 2.0}
    assert per_unit({"a": 30.0}, 0) == {}


def test_el_arbol_propio_se_agrupa_con_sus_nietos_vivos_y_los_ya_recogidos() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        grandchild = int(child.stdout.readline())
        stats = read_stats()
        owners = assign({child.pid: "child"}, {pid: s.ppid for pid, s in stats.items()})
        assert owners[grandchild] == "child"
        assert owners[child.pid] == "child"
        assert owners.get(1) is None
        # the burner exited and was reaped by the child: its CPU is in the child's cutime/cstime
        assert ticks_per_program({child.pid: "child"}, stats)["child"] >= 0.8 * BURN * TICKS
    finally:
        child.communicate("")


def test_since_da_los_ms_de_cpu_entre_dos_instantaneas() -> None:
    me = {os.getpid(): "me"}
    before = StackCpu.take(me)
    started = time.process_time()
    while time.process_time() - started < 0.2:
        pass
    used = StackCpu.take(me).since(before)
    assert used["me"] >= 150

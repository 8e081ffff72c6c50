"""The batched log handler, over a real pipe: lines come out whole and in order, and a reader that stops reading
never blocks the thread that logs; what had to be dropped is counted in the output."""

import logging
import os
import re
import threading
from collections.abc import Iterator
from typing import BinaryIO, TextIO

import pytest

from services.platform.log_writer import BatchedStreamHandler


@pytest.fixture
def pipe() -> Iterator[tuple[BinaryIO, TextIO]]:
    r, w = os.pipe()
    reader, writer = os.fdopen(r, "rb"), os.fdopen(w, "w")
    yield reader, writer
    for end in (reader, writer):
        if not end.closed:
            end.close()


def _logger(handler: logging.Handler, name: str) -> logging.Logger:
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger(name)
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
    return log


def test_las_lineas_salen_enteras_y_en_orden(pipe: tuple[BinaryIO, TextIO]) -> None:
    reader, writer = pipe
    handler = BatchedStreamHandler(writer, linger=0.01)
    log = _logger(handler, "test.log_writer.orden")
    for i in range(500):
        log.info("linea %d", i)
    handler.close()  # what is still queued is written
    writer.close()
    assert reader.read().decode().splitlines() == [f"linea {i}" for i in range(500)]


def test_un_lector_que_no_lee_no_bloquea_y_lo_perdido_se_cuenta(pipe: tuple[BinaryIO, TextIO]) -> None:
    reader, writer = pipe
    handler = BatchedStreamHandler(writer, linger=0.0, capacity=50)
    log = _logger(handler, "test.log_writer.lleno")
    relleno = "x" * 10_000  # 200 lines of 10 KB: the pipe holds 64 KB, so its writer is stuck while nobody reads

    logging_done = threading.Event()

    def logs() -> None:
        for i in range(200):
            log.info("%d %s", i, relleno)
        logging_done.set()

    threading.Thread(target=logs, daemon=True).start()
    # A StreamHandler would block in write() on the full pipe for as long as nobody reads: this never returns.
    assert logging_done.wait(timeout=10), "logging blocked on a pipe nobody reads"

    drained: list[bytes] = []
    draining = threading.Thread(target=lambda: drained.append(reader.read()))
    draining.start()
    handler.close()
    writer.close()
    draining.join(timeout=10)
    lines = drained[0].decode().splitlines()
    numbers = [int(line.split()[0]) for line in lines if line.endswith(relleno)]
    dropped = [int(m.group(1)) for line in lines if (m := re.match(r"(\d+) log lines dropped", line))]
    assert numbers == sorted(numbers), "lines out of order"
    assert dropped, "the pipe was full: some lines had to be dropped"
    assert len(numbers) + sum(dropped) == 200, "every line either written or counted as dropped"

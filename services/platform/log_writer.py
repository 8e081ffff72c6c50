"""Log lines leave a process from a thread of their own, in batches, so a service never waits for whoever reads
its stdout.

Why: logging.StreamHandler writes and flushes every line in the thread that logs, which in a service is the event
loop. When the reader (supervisord natively, Docker's log driver in compose) falls behind, the pipe fills and that
write blocks the whole process: requests, sagas, consumers. Under load, py-spy found a tenth of a transacciones
instance's request time in that write. Batched, the reader also wakes once per batch instead of once per line
(supervisord spent ~0.1 ms of CPU a line).

Lines are formatted where they are logged (a request's ids and its trace are context variables there) and queued;
the writer thread writes what gathered, in one write, `linger` after the first line. Past `capacity` queued lines
(nobody reads the output) new lines are dropped and counted, and the count is written with the next batch. At exit
logging.shutdown writes what is queued; a kill -9 loses at most the last `linger` of lines.
"""

import logging
import threading
import time
from typing import TextIO

LINGER_SECONDS = 0.02
CAPACITY = 20_000
"""Queued lines at most (~8 MB of JSON lines)."""


class BatchedStreamHandler(logging.Handler):
    def __init__(self, stream: TextIO, *, linger: float = LINGER_SECONDS, capacity: int = CAPACITY) -> None:
        super().__init__()
        self._stream = stream
        self._linger = linger
        self._capacity = capacity
        self._queued: list[str] = []
        self._dropped = 0
        self._closing = False
        self._ready = threading.Condition(threading.Lock())
        # One writer of the stream at a time, taking and writing under it, so batches never overtake each other.
        self._out = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        with self._ready:
            if len(self._queued) >= self._capacity:
                self._dropped += 1
                return
            self._queued.append(line)
            if len(self._queued) == 1:  # the writer sleeps only when nothing is queued
                self._ready.notify()

    def flush(self) -> None:
        """Write what is queued now, from the calling thread (logging.shutdown at exit)."""
        with self._out:
            self._write(self._take())

    def close(self) -> None:
        with self._ready:
            self._closing = True
            self._ready.notify()
        self._thread.join(timeout=1.0)
        self.flush()
        super().close()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queued and not self._closing:
                    self._ready.wait()
                if self._closing:
                    return
            time.sleep(self._linger)  # let the burst gather: one write for all of it
            self.flush()

    def _take(self) -> list[str]:
        with self._ready:
            lines, self._queued = self._queued, []
            dropped, self._dropped = self._dropped, 0
        if dropped:
            lines.append(self.format(_dropped_record(dropped)))
        return lines

    def _write(self, lines: list[str]) -> None:
        if not lines:
            return
        try:
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # the output is gone (a closed pipe at shutdown): nobody to tell
            pass


def _dropped_record(count: int) -> logging.LogRecord:
    return logging.LogRecord(
        "cloudbank.logs",
        logging.WARNING,
        __file__,
        0,
        "%d log lines dropped: the output was not read fast enough",
        (count,),
        None,
    )

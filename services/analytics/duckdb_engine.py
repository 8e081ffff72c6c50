"""DuckDB over the Parquet lake: embedded, the default engine.

A local lake is read with read_parquet globs; an S3 lake through pyarrow's S3 filesystem, whose dataset
listings are registered per query (DuckDB's httpfs would need an extension download at run time).
Tables without files yet are empty tables of the published schema, so an empty lake answers zeros.

The current-state views (clientes, cuentas, transacciones, movimientos) are materialized into tables by
a background thread when the lake changed (listed every `listing_ttl` s; rebuilt at most every `state_ttl` s,
since a rebuild reads the whole lake and this machine's cores are shared): a dashboard reads them
many times, and folding every event per request would cost seconds on a big lake. Requests never wait
for a rebuild (they read the previous tables meanwhile); answers are at most a rebuild staler than the
lake. `state_ttl=0` disables the cache (plain views, always exact, slower).

The database is sandboxed before any query runs: no file access outside the lake folder, and the
configuration is locked, so even SQL that slipped past the parser check could not read or write elsewhere.

Custom (caller-written) queries run in a second, separate DuckDB database (its own threads and memory limit;
the state tables are copied into it after each rebuild), on a few low-priority threads of their own: a heavy
custom query cannot take the memory, the threads or the executor the dashboards use. Each one is watched
while it runs: past its time limit, or when the whole process's RSS passes `rss_limit`, it is interrupted
(DuckDB does not account for every allocation in its memory limit, so the RSS is the real bound).
"""

import asyncio
import functools
import io
import logging
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from contracts.lake import PARTITION_COLUMN, TABLES, arrow_schema
from services.analytics.engine import QueryResult, within_bytes
from services.analytics.errors import LakeUnavailable, QueryRefused, QueryTimeout, QueryTooLarge
from services.analytics.views import VIEWS

log = logging.getLogger(__name__)

_REFUSED = (
    duckdb.ParserException,
    duckdb.BinderException,
    duckdb.CatalogException,
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    duckdb.OutOfRangeException,
    duckdb.NotImplementedException,
    duckdb.PermissionException,
    duckdb.SyntaxException,
    duckdb.TypeMismatchException,
)
_WATCH_INTERVAL = 0.05  # seconds between a custom query's time and memory checks
_FETCH_ROWS = 256
_CUSTOM_NICENESS = 10  # custom-query threads yield the cores to the dashboards' threads


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def process_rss() -> int:
    """Resident memory of this process in bytes (Linux; 0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _files_vanished(exc: duckdb.Error) -> bool:
    """Files compacted or replaced under a view since the last refresh: look again once before giving up."""
    return isinstance(exc, duckdb.IOException) and "No files found" in str(exc)


def _engine_error(exc: duckdb.Error) -> LakeUnavailable | QueryRefused:
    """One translation of DuckDB's errors: storage or engine trouble is ours (503), a bad query the caller's (400)."""
    if isinstance(exc, duckdb.IOException):
        return LakeUnavailable(f"lake storage error: {exc}")
    if isinstance(exc, _REFUSED):
        return QueryRefused(str(exc).splitlines()[0])
    return LakeUnavailable(f"{type(exc).__name__}: {exc}")


def _interrupted(why: str, timeout: float) -> QueryTimeout | QueryTooLarge:
    if why == "memory":
        return QueryTooLarge("query interrupted: it needed more memory than a custom query may use")
    return QueryTimeout(f"query interrupted after {timeout:g} s")


def _lower_priority() -> None:
    try:  # Linux: the niceness of one thread (a task of its own)
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _CUSTOM_NICENESS)
    except OSError:
        log.warning("could not lower the priority of the custom-query threads")


def _empty(schema: pa.Schema) -> pa.Table:
    """An empty table of `schema`; Schema.empty_table() would import pandas (1.5 s of start-up CPU)."""
    return pa.Table.from_batches([], schema=schema)


def _with_partition(table: str) -> pa.Schema:
    return arrow_schema(table).append(pa.field(PARTITION_COLUMN, pa.string()))


@functools.cache
def _stored_schema(table: str) -> pa.Schema:
    """The schema as read back from a Parquet file of the table (Parquet renames list items, etc.)."""
    buffer = io.BytesIO()
    pq.write_table(_empty(arrow_schema(table)), buffer)
    return pq.read_schema(io.BytesIO(buffer.getvalue())).remove_metadata()


class DuckDBEngine:
    dialect = "duckdb"

    def __init__(
        self,
        root: str,
        *,
        threads: int = 2,
        memory_limit: str = "1GB",
        s3_endpoint_url: str | None = None,
        region: str = "us-east-1",
        listing_ttl: float = 3.0,
        state_ttl: float = 10.0,
        custom_threads: int = 1,
        custom_memory_limit: str = "512MB",
        custom_concurrency: int = 2,
        rss_limit: int | None = None,
    ) -> None:
        self._root = root
        self._s3 = root.startswith("s3://")
        self._threads = threads
        self._memory_limit = memory_limit
        self._endpoint = s3_endpoint_url
        self._region = region
        self._listing_ttl = listing_ttl
        self._state_ttl = state_ttl
        self._custom_threads = custom_threads
        self._custom_memory_limit = custom_memory_limit
        self._rss_limit = rss_limit
        self._db: duckdb.DuckDBPyConnection | None = None
        self._sandbox: duckdb.DuckDBPyConnection | None = None  # the custom queries' own database
        self._custom_pool = ThreadPoolExecutor(
            custom_concurrency, thread_name_prefix="custom-query", initializer=_lower_priority
        )
        self._fs: pafs.S3FileSystem | None = None
        self._lock = threading.Lock()  # one refresh (listing, views, state tables) at a time
        self._files: dict[str, tuple[Any, ...]] = {}  # table -> its files (path, mtime, size) as last seen
        self._schema_ok: dict[tuple[Any, ...], bool] = {}  # file (path, mtime, size) -> has the current schema
        self._uniform: dict[str, bool] = {}  # table -> every file has the current schema
        self._sources: dict[str, Any] = {}  # S3 only: table -> dataset or empty table
        self._listed_at = 0.0
        self._state_of: object = None  # the listing the state tables were built from
        self._state_built_at = 0.0
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        await asyncio.to_thread(self._open)
        self._refresher = threading.Thread(target=self._refresh_loop, name="lake-refresh", daemon=True)
        self._refresher.start()

    async def close(self) -> None:
        self._stop.set()
        if self._refresher is not None:
            await asyncio.to_thread(self._refresher.join, 30)
        self._custom_pool.shutdown(wait=False, cancel_futures=True)
        for db in (self._db, self._sandbox):
            if db is not None:
                db.close()
        self._db = self._sandbox = None

    async def ping(self) -> None:
        """The lake answers: its storage can be listed and the engine runs a query."""
        await asyncio.to_thread(self._probe_storage)
        await self.query("SELECT 1", timeout=5.0)

    async def query(self, sql: str, *, timeout: float) -> QueryResult:
        return await asyncio.to_thread(self._run, sql, timeout)

    async def custom_query(self, sql: str, *, timeout: float, max_bytes: int) -> QueryResult:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._custom_pool, self._run_custom, sql, timeout, max_bytes)

    # -- setup -----------------------------------------------------------------------------------
    def _open(self) -> None:
        if self._s3:
            self._fs = self._s3_filesystem()
        else:
            Path(self._root).mkdir(parents=True, exist_ok=True)
        self._db = self._connect(self._threads, self._memory_limit, "main")
        self._sandbox = self._connect(self._custom_threads, self._custom_memory_limit, "custom")
        # The state tables are left to the refresher's first round: on a big lake that fold takes seconds, and the
        # service answers /health within its start-up budget. Until then the state names are plain views (exact).
        self._refresh(force=True, build_state=False)

    def _connect(self, threads: int, memory_limit: str, name: str) -> duckdb.DuckDBPyConnection:
        db = duckdb.connect(":memory:")
        db.execute(f"SET threads = {int(threads)}")
        db.execute(f"SET memory_limit = {_quote(memory_limit)}")
        db.execute("SET TimeZone = 'UTC'")  # dates of events are UTC dates, as in the dt partitions
        spill = Path(tempfile.gettempdir()) / f"cloud-bank-duckdb-{os.getpid()}-{name}"
        spill.mkdir(parents=True, exist_ok=True)
        db.execute(f"SET temp_directory = {_quote(str(spill))}")
        # Lake files never change once written (a redo replaces a file, with a new mtime): cache footers.
        db.execute("SET parquet_metadata_cache = true")
        if not self._s3:
            db.execute(f"SET allowed_directories = [{_quote(str(Path(self._root).resolve()) + '/')}]")
        db.execute("SET enable_external_access = false")
        db.execute("SET lock_configuration = true")
        for table in TABLES:
            db.register("_empty_arrow", _empty(_with_partition(table)))
            db.execute(f"CREATE TABLE _empty_{table} AS SELECT * FROM _empty_arrow")
            db.unregister("_empty_arrow")
        return db

    def _s3_filesystem(self) -> pafs.S3FileSystem:
        kwargs: dict[str, Any] = {"region": self._region}
        if self._endpoint:
            endpoint = urlparse(self._endpoint)
            kwargs |= {"endpoint_override": endpoint.netloc, "scheme": endpoint.scheme or "https"}
        return pafs.S3FileSystem(**kwargs)

    def _folder(self, table: str) -> str:
        if self._s3:
            parsed = urlparse(self._root)
            return f"{parsed.netloc}/{parsed.path.strip('/')}/{table}".replace("//", "/")
        return str(Path(self._root).resolve() / table)

    # -- keeping up with the lake ----------------------------------------------------------------
    def _refresh_loop(self) -> None:
        interval = self._listing_ttl if self._listing_ttl > 0 else 1.0
        first = self._state_ttl > 0  # at once: the state tables _open left out
        while first or not self._stop.wait(interval):
            try:
                self._refresh(force=first)
            except Exception:  # the lake may be briefly unreachable: keep serving the last state
                log.exception("refreshing the lake views failed")
            first = False

    def _refresh(self, force: bool = False, build_state: bool = True) -> None:
        """List the lake; re-point the table views whose files appeared or vanished; rebuild the state
        tables when anything changed (build_state=False: the state names as plain views instead)."""
        with self._lock:
            if not force and time.monotonic() - self._listed_at < self._listing_ttl:
                return
            before = dict(self._files)
            uniform_before = dict(self._uniform)
            sources: dict[str, Any] = {}
            for table in TABLES:
                self._files[table], sources[table] = self._list(table)
                self._uniform[table] = self._s3 or all(self._has_current_schema(table, f) for f in self._files[table])
            self._sources = sources  # swapped whole: queries iterate the previous dict undisturbed
            self._listed_at = time.monotonic()
            assert self._db is not None
            assert self._sandbox is not None
            cursor, sandbox = self._db.cursor(), self._sandbox.cursor()
            try:
                for db in (cursor, sandbox):
                    self._install_sources(db)
                for table in TABLES:
                    changed = bool(before.get(table)) != bool(self._files[table])
                    if force or changed or uniform_before.get(table) != self._uniform[table]:
                        for db in (cursor, sandbox):
                            db.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM {self._source(table)}")
                due = time.monotonic() - self._state_built_at >= self._state_ttl
                if not build_state:
                    self._build_state(cursor, sandbox, cached=False)
                elif force or (self._state_ttl > 0 and due and self._files != self._state_of):
                    self._build_state(cursor, sandbox, cached=self._state_ttl > 0)
                    self._state_of = dict(self._files)
                    self._state_built_at = time.monotonic()
            finally:
                cursor.close()
                sandbox.close()

    def _build_state(
        self, cursor: duckdb.DuckDBPyConnection, sandbox: duckdb.DuckDBPyConnection, *, cached: bool
    ) -> None:
        for name, select in VIEWS.items():
            if cached:
                cursor.execute(f"CREATE OR REPLACE TABLE _state_{name} AS {select}")
                cursor.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _state_{name}")
                # The custom queries' database gets a copy (a few MB) rather than folding the events again.
                sandbox.register("_state_copy", cursor.sql(f"SELECT * FROM _state_{name}").to_arrow_table())
                sandbox.execute(f"CREATE OR REPLACE TABLE _state_{name} AS SELECT * FROM _state_copy")
                sandbox.unregister("_state_copy")
                sandbox.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _state_{name}")
            else:
                for db in (cursor, sandbox):
                    db.execute(f"CREATE OR REPLACE VIEW {name} AS {select}")

    def _list(self, table: str) -> tuple[tuple[Any, ...], Any]:
        """The table's files (path, mtime, size) and, on S3, the dataset to scan them."""
        if self._s3:
            assert self._fs is not None
            selector = pafs.FileSelector(self._folder(table), recursive=True, allow_not_found=True)
            infos = [
                f
                for f in self._fs.get_file_info(selector)
                if f.path.endswith(".parquet") and not f.base_name.startswith((".", "_"))
            ]
            files = tuple(sorted((f.path, f.mtime_ns, f.size) for f in infos))
            return files, self._s3_source(table, [f[0] for f in files])
        found = []
        for path in Path(self._folder(table)).glob(f"{PARTITION_COLUMN}=*/*.parquet"):
            try:
                info = path.stat()
            except FileNotFoundError:  # replaced or removed while listing
                continue
            found.append((str(path), info.st_mtime_ns, info.st_size))
        return tuple(sorted(found)), None

    def _has_current_schema(self, table: str, file: tuple[Any, ...]) -> bool:
        """Read once per file: a lake written by one sink version has one schema per table, and then the
        costly union_by_name (every footer read on every query) is not needed."""
        if file not in self._schema_ok:
            try:
                found = pq.read_schema(file[0]).remove_metadata()
            except (OSError, pa.ArrowInvalid):
                return False
            self._schema_ok[file] = found.equals(_stored_schema(table))
        return self._schema_ok[file]

    def _s3_source(self, table: str, files: list[str]) -> Any:
        if not files:
            return _empty(_with_partition(table))
        # Imported here: pyarrow.dataset loads pandas (1.5 s of CPU), and only an S3 lake needs it.
        import pyarrow.dataset as ds

        return ds.dataset(
            files,
            schema=_with_partition(table),
            format="parquet",
            filesystem=self._fs,
            partitioning=ds.partitioning(pa.schema([(PARTITION_COLUMN, pa.string())]), flavor="hive"),
            partition_base_dir=self._folder(table),
        )

    def _source(self, table: str) -> str:
        if self._s3:
            return f"_src_{table}"
        if not self._files[table]:
            return f"_empty_{table}"
        glob = f"{self._folder(table)}/{PARTITION_COLUMN}=*/*.parquet"
        union = "false" if self._uniform.get(table) else "true"  # older files with fewer columns: by name
        return (
            f"read_parquet({_quote(glob)}, hive_partitioning = true, hive_types_autocast = false, "
            f"union_by_name = {union})"
        )

    def _install_sources(self, cursor: duckdb.DuckDBPyConnection) -> None:
        if self._s3:
            for table, source in self._sources.items():
                cursor.register(f"_src_{table}", source)

    def _probe_storage(self) -> None:
        if self._s3:
            assert self._fs is not None
            self._fs.get_file_info(pafs.FileSelector(self._folder(""), allow_not_found=True))
        else:
            with os.scandir(self._root):
                pass

    # -- queries ---------------------------------------------------------------------------------
    def _run_custom(self, sql: str, timeout: float, max_bytes: int, retry: bool = True) -> QueryResult:
        """A caller's query in the sandbox database, watched for time and memory, its answer cut at max_bytes."""
        if self._sandbox is None:
            raise LakeUnavailable("engine not started")
        started = time.perf_counter()
        cursor = self._sandbox.cursor()
        done = threading.Event()
        why: list[str] = []  # set by the watchdog before it interrupts

        def watch() -> None:
            deadline = time.monotonic() + timeout
            while not done.wait(_WATCH_INTERVAL):
                if time.monotonic() >= deadline:
                    why.append("time")
                elif self._rss_limit and process_rss() > self._rss_limit:
                    why.append("memory")
                else:
                    continue
                cursor.interrupt()
                return

        watchdog = threading.Thread(target=watch, name="custom-query-watchdog", daemon=True)
        try:
            self._install_sources(cursor)
            watchdog.start()
            cursor.execute(sql)
            columns = [d[0] for d in cursor.description or []]
            rows: list[tuple[Any, ...]] = []
            used, truncated = 0, False
            while not truncated and not why:  # fetched in slices: a huge answer is cut, never built whole
                batch = cursor.fetchmany(_FETCH_ROWS)
                if not batch:
                    break
                kept, used, truncated = within_bytes(batch, max_bytes, used)
                rows += kept
            if why:
                raise _interrupted(why[0], timeout)
            if truncated and not rows:
                raise QueryTooLarge(f"the first row alone is over the answer's limit of {max_bytes} bytes")
        except duckdb.InterruptException:
            raise _interrupted(why[0] if why else "time", timeout) from None
        except duckdb.OutOfMemoryException:
            raise _interrupted("memory", timeout) from None
        except duckdb.Error as exc:
            if retry and _files_vanished(exc):
                self._refresh(force=True)
                return self._run_custom(sql, timeout, max_bytes, retry=False)
            raise _engine_error(exc) from None
        finally:
            done.set()
            cursor.close()
        return QueryResult(columns, rows, int((time.perf_counter() - started) * 1000), truncated)

    def _run(self, sql: str, timeout: float, retry: bool = True) -> QueryResult:
        if self._db is None:
            raise LakeUnavailable("engine not started")
        started = time.perf_counter()
        cursor = self._db.cursor()
        timer = threading.Timer(timeout, cursor.interrupt)
        timer.daemon = True
        try:
            self._install_sources(cursor)
            timer.start()
            cursor.execute(sql)
            rows = cursor.fetchall()
            columns = [d[0] for d in cursor.description or []]
        except duckdb.InterruptException:
            raise QueryTimeout(f"query interrupted after {timeout:g} s") from None
        except duckdb.Error as exc:
            if retry and _files_vanished(exc):
                self._refresh(force=True)
                return self._run(sql, timeout, retry=False)
            raise _engine_error(exc) from None
        finally:
            timer.cancel()
            cursor.close()
        return QueryResult(columns, rows, int((time.perf_counter() - started) * 1000))

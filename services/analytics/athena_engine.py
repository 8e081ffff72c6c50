"""Athena over the Glue catalog the sink maintains, through awswrangler.

On start it makes sure every lake table exists (CREATE EXTERNAL TABLE IF NOT EXISTS, same columns as the
sink registers, so an empty lake answers zeros) and (re)creates the current-state views from the same
definitions DuckDB uses, transpiled to Athena's dialect. Each query is started, polled, stopped at the
time limit, and its result read back as a DataFrame.
"""

import asyncio
import time
from typing import Any

from contracts.lake import PARTITION_COLUMN, TABLES, hive_columns
from services.analytics.engine import QueryResult, within_bytes
from services.analytics.errors import LakeUnavailable, QueryRefused, QueryTimeout, QueryTooLarge
from services.analytics.service import transpile
from services.analytics.settings import AnalyticsSettings
from services.analytics.views import VIEWS

DIALECT = "athena"
_DONE = {"SUCCEEDED", "FAILED", "CANCELLED"}


def table_ddl(table: str, lake_root: str) -> str:
    columns = ", ".join(f"`{name}` {kind}" for name, kind in hive_columns(table))
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{table}` ({columns}) "
        f"PARTITIONED BY (`{PARTITION_COLUMN}` string) STORED AS PARQUET "
        f"LOCATION '{lake_root.rstrip('/')}/{table}/'"
    )


def view_ddl(name: str) -> str:
    return f"CREATE OR REPLACE VIEW {name} AS {transpile(VIEWS[name], DIALECT)}"


class AthenaEngine:
    dialect = DIALECT

    def __init__(
        self,
        *,
        lake_root: str,
        database: str,
        workgroup: str = "primary",
        s3_output: str | None = None,
        boto3_session: Any = None,
        wr: Any = None,
        poll_seconds: float = 0.25,
    ) -> None:
        if wr is None:
            import awswrangler

            wr = awswrangler
        self._wr = wr
        self._root = lake_root
        self._database = database
        self._workgroup = workgroup
        self._output = s3_output
        self._session = boto3_session
        self._poll = poll_seconds

    @classmethod
    def from_settings(cls, settings: AnalyticsSettings) -> "AthenaEngine":
        import boto3

        return cls(
            lake_root=settings.lake_root,
            database=settings.athena_database,
            workgroup=settings.athena_workgroup,
            s3_output=settings.athena_output,
            boto3_session=boto3.Session(region_name=settings.aws_region),
        )

    async def start(self) -> None:
        await asyncio.to_thread(self._prepare)

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        await self.query("SELECT 1", timeout=10.0)

    async def query(self, sql: str, *, timeout: float) -> QueryResult:
        return await asyncio.to_thread(self._run, sql, timeout)

    async def custom_query(self, sql: str, *, timeout: float, max_bytes: int) -> QueryResult:
        """Athena bounds memory and threads itself (per workgroup); the answer is cut at max_bytes here."""
        result = await self.query(sql, timeout=timeout)
        rows, _, truncated = within_bytes(result.rows, max_bytes)
        if truncated and not rows:
            raise QueryTooLarge(f"the first row alone is over the answer's limit of {max_bytes} bytes")
        return QueryResult(result.columns, rows, result.elapsed_ms, truncated)

    def _prepare(self) -> None:
        for table in TABLES:
            self._execute(table_ddl(table, self._root), timeout=60.0)
        for name in VIEWS:
            self._execute(view_ddl(name), timeout=60.0)

    def _start(self, sql: str) -> str:
        query_id: str = self._wr.athena.start_query_execution(
            sql=sql,
            database=self._database,
            workgroup=self._workgroup,
            s3_output=self._output,
            boto3_session=self._session,
        )
        return query_id

    def _execute(self, sql: str, *, timeout: float) -> str:
        """Start `sql` and wait for it; returns the execution id. Raises on failure or timeout."""
        try:
            query_id = self._start(sql)
        except Exception as exc:
            raise LakeUnavailable(f"athena: {exc}") from None
        deadline = time.monotonic() + timeout
        while True:
            status = self._wr.athena.get_query_execution(query_id, boto3_session=self._session)["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return query_id
            if state in _DONE:
                # Athena reports bad SQL as FAILED with the parser's reason: the caller's problem.
                raise QueryRefused(f"athena {state.lower()}: {status.get('StateChangeReason', '')}")
            if time.monotonic() >= deadline:
                self._wr.athena.stop_query_execution(query_id, boto3_session=self._session)
                raise QueryTimeout(f"query stopped after {timeout:g} s")
            time.sleep(self._poll)

    def _run(self, sql: str, timeout: float) -> QueryResult:
        started = time.perf_counter()
        query_id = self._execute(sql, timeout=timeout)
        frame = self._wr.athena.get_query_results(query_id, boto3_session=self._session)
        frame = frame.astype(object).where(frame.notna(), None)
        rows = [tuple(row) for row in frame.itertuples(index=False, name=None)]
        return QueryResult([str(c) for c in frame.columns], rows, int((time.perf_counter() - started) * 1000))

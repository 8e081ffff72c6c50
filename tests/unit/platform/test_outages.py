"""The one classification of driver exceptions: a dependency away (503, retry) versus a bug (500)."""

import asyncpg
import duckdb
import pymongo.errors
import pymysql
import pytest
from aiokafka.errors import KafkaTimeoutError

from services.platform.outages import BROKER, DATABASE, LAKE, NETWORK, dependency_down


def caused_by(exc: BaseException, cause: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("exc", "what"),
    [
        (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"), DATABASE),
        (asyncpg.exceptions.DeadlockDetectedError("deadlock detected"), DATABASE),
        (asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"), DATABASE),
        (asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"), DATABASE),
        (pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"), DATABASE),
        (pymysql.err.InterfaceError(0, ""), DATABASE),
        (pymongo.errors.AutoReconnect("connection closed"), DATABASE),
        (pymongo.errors.OperationFailure("x", 91, {"errorLabels": ["RetryableWriteError"]}), DATABASE),
        (KafkaTimeoutError(), BROKER),
        (duckdb.IOException("IO Error: No files found that match the pattern"), LAKE),
        (TimeoutError(), NETWORK),
        (ConnectionRefusedError(111, "Connection refused"), NETWORK),
        (caused_by(RuntimeError("step failed"), ConnectionResetError()), NETWORK),
        (ExceptionGroup("g", [ValueError("x"), asyncpg.exceptions.AdminShutdownError("shutdown")]), DATABASE),
    ],
)
def test_los_fallos_de_dependencias_se_reconocen(exc: BaseException, what: str) -> None:
    assert dependency_down(exc) == what


@pytest.mark.parametrize(
    "exc",
    [
        ZeroDivisionError(),
        KeyError("x"),
        FileNotFoundError("/nada"),
        asyncpg.exceptions.UndefinedColumnError("column x does not exist"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        pymysql.err.ProgrammingError(1064, "You have an error in your SQL syntax"),
        pymysql.err.IntegrityError(1062, "Duplicate entry"),
        pymongo.errors.DuplicateKeyError("E11000"),
        duckdb.BinderException("Referenced column x not found"),
    ],
)
def test_los_errores_de_programa_no_se_disfrazan_de_503(exc: BaseException) -> None:
    assert dependency_down(exc) is None


async def test_el_lago_caido_es_503_con_retry_after_y_el_sobre_de_analytics() -> None:
    from services.analytics.engine import QueryResult
    from services.analytics.errors import LakeUnavailable
    from services.analytics.main import Resources, create_app
    from services.analytics.settings import AnalyticsSettings
    from tests.asgi import in_process
    from tests.signing import admin_headers, authorized
    from tests.unit.analytics.fakes import FakeEngine

    def down(sql: str) -> QueryResult:
        raise LakeUnavailable("lake storage error")

    fake = FakeEngine()
    fake.answer = down
    async with in_process(
        authorized(create_app(AnalyticsSettings(), Resources(fake))), headers=admin_headers()
    ) as client:
        r = await client.get("/api/dashboard")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "2"
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert (body["success"], body["data"], body["error"], body["detail"]) == (False, [], *(["lake storage error"] * 2))
    assert body["message"] == "Lake storage error."

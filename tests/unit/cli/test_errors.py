"""The bank CLI answers an unreachable component or a refused password in one line with the fix and an exit code."""

import socket

import asyncpg
import httpx
import pymysql
import pytest
from typer.testing import CliRunner

from bank.auth import CredentialsRefused, KeycloakUnreachable
from bank.cli import app
from bank.errors import EXIT_NOPERM, EXIT_UNAVAILABLE, explain


@pytest.fixture
def dead_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_kafka_caido_es_una_linea_con_el_arreglo_y_codigo_69(dead_port: int) -> None:
    result = CliRunner().invoke(app, ["events", "--topic", "bank.cuentas.v1", "--bootstrap", f"127.0.0.1:{dead_port}"])
    assert result.exit_code == EXIT_UNAVAILABLE, result.output
    assert f"error: Kafka at 127.0.0.1:{dead_port} not reachable — is the stack up? `make status`" in result.output
    assert "Traceback" not in result.output


def test_seed_contra_una_url_muerta_falla_enseguida(dead_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_TOKEN_URL", f"http://127.0.0.1:{dead_port}/token")
    result = CliRunner().invoke(app, ["seed", "--clientes-url", f"http://127.0.0.1:{dead_port}", "--no-progress"])
    assert result.exit_code == EXIT_UNAVAILABLE, result.output
    assert "not reachable" in result.output
    assert "Traceback" not in result.output


def test_un_tiempo_invalido_nombra_las_formas_aceptadas() -> None:
    result = CliRunner().invoke(app, ["events", "--topic", "t", "--from", "ayer-ish"])
    assert result.exit_code == 2
    assert "today" in result.output
    assert "-15m" in result.output


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (asyncpg.InvalidPasswordError("password authentication failed"), EXIT_NOPERM, "PostgreSQL refused"),
        (pymysql.err.OperationalError(1045, "Access denied for user 'bank'"), EXIT_NOPERM, "MariaDB refused"),
        (ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"), EXIT_UNAVAILABLE, "PostgreSQL at"),
        (CredentialsRefused("Keycloak refused client credentials"), EXIT_NOPERM, "refused client credentials"),
        (KeycloakUnreachable("http://127.0.0.1:8180/t", OSError()), EXIT_UNAVAILABLE, "Keycloak at http://127.0.0.1"),
        (
            httpx.ConnectError("refused", request=httpx.Request("GET", "http://127.0.0.1:8004/x")),
            EXIT_UNAVAILABLE,
            "http://127.0.0.1:8004 not reachable",
        ),
    ],
)
def test_cada_falla_conocida_tiene_su_linea(error: Exception, code: int, words: str) -> None:
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = error  # found through the chain of causes too
    failure = explain(wrapped)
    assert failure is not None
    assert (failure.exit_code, words in failure.message) == (code, True), failure.message


def test_un_error_desconocido_conserva_su_traceback() -> None:
    assert explain(KeyError("x")) is None

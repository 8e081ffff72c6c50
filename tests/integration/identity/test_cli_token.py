"""The bank CLI's HTTP calls (seed, the audit's reads) carry a live token of the cloudbank-cli service account."""

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from bank.auth import bearer_auth
from bank.seed.loader import Seeder
from bank.seed.targets import Targets, Urls
from streams.replay.outstanding import sagas_pendientes
from tests.integration.identity.keycloak import CLI, TOKEN_URL


class Recorder(BaseHTTPRequestHandler):
    """Stands in for a service (the token is what is under test): records Authorization, answers an empty list."""

    seen: list[str] = []

    def _answer(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Total-Count", "0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


def introspect(authorization: str) -> dict[str, object]:
    assert authorization.startswith("Bearer ")
    resp = httpx.post(f"{TOKEN_URL}/introspect", data={"token": authorization[7:]} | CLI, timeout=60)
    resp.raise_for_status()
    return dict(json.loads(resp.text))


def test_audit_reads_transacciones_with_the_service_account_token(recorder: tuple[str, list[str]]) -> None:
    url, seen = recorder
    result = asyncio.run(sagas_pendientes(url, stuck_after=timedelta(seconds=60), auth=bearer_auth()))
    assert result.total == 0
    assert len(seen) == 1
    info = introspect(seen[0])
    assert info["active"] is True
    assert info["username"] == "service-account-cloudbank-cli"


def test_seed_sends_the_token_on_every_call(recorder: tuple[str, list[str]]) -> None:
    url, seen = recorder
    seeder = Seeder(Urls(url, url, url), progress=False, settle_timeout=5)
    # Nothing to create: the seed still asks each service how much it holds (and how many sagas run).
    asyncio.run(seeder.run(Targets(0, 0, 0)))
    assert seen
    assert len(set(seen)) == 1, "one token for the whole run"
    assert introspect(seen[0])["active"] is True

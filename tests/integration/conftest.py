"""Integration fixtures: addresses of the real stack that `make test` started (infra/stack.sh)."""

import os
import uuid

import pytest

from contracts.brokers import bootstrap_servers

# Every broker the stack runs (KAFKA_BROKERS, contracts/brokers.py), so a test outlives one broker being down.
KAFKA = os.environ.get("TEST_KAFKA_BOOTSTRAP") or bootstrap_servers()
# A header on records a test writes as deliberate junk into a shared topic (to prove a consumer survives them):
# the contract test, which wants every other record of every topic valid, skips them whatever ran before it.
POISON_MARK = ("test_poison", b"1")
PG_DSN = os.environ.get("TEST_PG_DSN", "postgresql://bank:bank@127.0.0.1:5432/clientes")
MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "bank", "password": "bank"}
MONGO_URL = os.environ.get("TEST_MONGO_URL", "mongodb://127.0.0.1:27017/")
URLS = {
    "clientes": "http://127.0.0.1:8001",
    "cuentas": "http://127.0.0.1:8002",
    "perfil": "http://127.0.0.1:6000",
    "transacciones": "http://127.0.0.1:8004",
    "analytics": "http://127.0.0.1:8000",
}
GATEWAY = "http://127.0.0.1:8080"  # the console's origin: nginx in front of every service (not one itself)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def unique() -> str:
    """A short unique suffix for names (topics, databases, emails) so tests never share state."""
    return uuid.uuid4().hex[:10]

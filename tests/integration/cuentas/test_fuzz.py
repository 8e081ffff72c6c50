"""Property-based fuzzing of the published OpenAPI document (schemathesis): no input, valid or not, gets a 5xx.

Writes are confined to an account and a cliente of this test, so the fuzzer never blocks, drains or deletes
somebody else's account (ids like 1 or 2 are the most likely to be generated)."""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err

from tests.integration.cuentas.conftest import CUENTAS

EXAMPLES_PER_OPERATION = 10


def _confine(case: Any, cuenta_id: int, cliente_id: int) -> None:
    if case.method.upper() != "GET" and isinstance((case.path_parameters or {}).get("cuenta_id"), int):
        case.path_parameters["cuenta_id"] = cuenta_id
    if case.method.upper() == "POST" and isinstance(case.body, dict) and isinstance(case.body.get("cliente_id"), int):
        case.body["cliente_id"] = cliente_id


def _fuzz(mode: GenerationMode, cuenta_id: int, cliente_id: int) -> list[str]:
    schema = schemathesis.openapi.from_url(f"{CUENTAS}/openapi.json")
    failures: list[str] = []
    session = requests.Session()
    calls = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"invalid operation in the schema: {result.err()}")
            continue
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            _confine(case, cuenta_id, cliente_id)
            nonlocal calls
            calls += 1
            response = case.call(base_url=CUENTAS, session=session, timeout=15)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} {case.body!r} -> {response.status_code}"
                )

        with contextlib.suppress(Unsatisfiable):  # e.g. no invalid input exists for an operation without parameters
            check()
    print(f"fuzz {mode}: {calls} requests")
    return failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
async def test_ninguna_entrada_produce_un_5xx(
    mode: GenerationMode, cuenta_factory: Callable[..., Any], cliente: int, http: httpx.AsyncClient
) -> None:
    cuenta = await cuenta_factory(saldo="100.00")
    failures = await asyncio.to_thread(_fuzz, mode, cuenta["cuenta_id"], cliente)
    assert not failures, "\n".join(failures[:20])
    assert (await http.get("/health")).status_code == 200

"""Property-based fuzzing of MS4's published OpenAPI document (schemathesis): no input, valid or not, gets a 5xx.

Money only moves between two accounts of this test (any generated account id is replaced by one of them), so
the fuzzer never touches somebody else's balance; bounded to a few examples per operation."""

import asyncio
import contextlib
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err

from tests.integration.conftest import URLS
from tests.integration.transacciones.conftest import Banco, CuentaFactory

BASE = URLS["transacciones"]
EXAMPLES_PER_OPERATION = 5


def _confine(case: Any, cuentas: tuple[int, int]) -> None:
    if case.method.upper() == "POST" and isinstance(case.body, dict):
        for field, cuenta in zip(("cuentaOrigenId", "cuentaDestinoId"), cuentas, strict=True):
            if isinstance(case.body.get(field), int) and case.body[field] > 0:
                case.body[field] = cuenta


def _fuzz(mode: GenerationMode, cuentas: tuple[int, int]) -> tuple[int, list[str]]:
    schema = schemathesis.openapi.from_url(f"{BASE}/openapi.json")
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
            nonlocal calls
            _confine(case, cuentas)
            try:
                response = case.call(base_url=BASE, session=session, timeout=20)
            except (requests.exceptions.InvalidHeader, UnicodeEncodeError, ValueError):
                return  # the HTTP client refused to send it (e.g. a header value it cannot encode)
            calls += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} {case.headers} {case.body!r} "
                    f"-> {response.status_code} {response.text[:200]}"
                )

        with contextlib.suppress(Unsatisfiable):
            check()
    return calls, failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
async def test_ninguna_entrada_produce_un_5xx(mode: GenerationMode, banco: Banco, cuenta: CuentaFactory) -> None:
    cuentas = (await cuenta("1000.00"), await cuenta("1000.00"))
    calls, failures = await asyncio.to_thread(_fuzz, mode, cuentas)
    assert calls > 20
    assert not failures, "\n".join(failures[:20])
    assert (await banco.trx.get("/health")).status_code == 200

"""Property-based fuzzing of the published OpenAPI document (schemathesis): no input, valid or not, gets a 5xx.

Writes are confined to an account and a cliente of this test, so the fuzzer never blocks, drains or deletes
somebody else's account (ids like 1 or 2 are the most likely to be generated), nor opens one for another cliente."""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from schemathesis import GenerationMode

from tests.integration.cuentas.conftest import CUENTAS
from tests.integration.fuzzing import fuzz, post_items

EXAMPLES_PER_OPERATION = 10


def _confine(case: Any, cuenta_id: int, cliente_id: int) -> None:
    if case.method.upper() != "GET" and isinstance((case.path_parameters or {}).get("cuenta_id"), int):
        case.path_parameters["cuenta_id"] = cuenta_id
    for body in post_items(case, "cuentas"):
        if isinstance(body.get("cliente_id"), int):
            body["cliente_id"] = cliente_id


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
async def test_ninguna_entrada_produce_un_5xx(
    mode: GenerationMode, cuenta_factory: Callable[..., Any], cliente: int, http: httpx.AsyncClient
) -> None:
    cuenta = await cuenta_factory(saldo="100.00")
    calls, failures = await asyncio.to_thread(
        fuzz, CUENTAS, mode, lambda case: _confine(case, cuenta["cuenta_id"], cliente), examples=EXAMPLES_PER_OPERATION
    )
    assert calls > 20
    assert not failures, "\n".join(failures[:20])
    assert (await http.get("/health")).status_code == 200

"""Property-based fuzzing of MS4's published OpenAPI document (schemathesis): no input, valid or not, gets a 5xx.

Money only moves between two accounts of this test (any generated account id is replaced by one of them, in single
and batch requests alike), so the fuzzer never touches somebody else's balance; bounded to a few examples per
operation."""

import asyncio
from typing import Any

import pytest
from schemathesis import GenerationMode

from tests.integration.conftest import URLS
from tests.integration.fuzzing import fuzz, post_items
from tests.integration.transacciones.conftest import Banco, CuentaFactory

BASE = URLS["transacciones"]
EXAMPLES_PER_OPERATION = 5


def _confine(case: Any, cuentas: tuple[int, int]) -> None:
    for body in post_items(case, "transacciones"):
        for field, cuenta in zip(("cuentaOrigenId", "cuentaDestinoId"), cuentas, strict=True):
            if isinstance(body.get(field), int) and body[field] > 0:
                body[field] = cuenta


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
async def test_ninguna_entrada_produce_un_5xx(mode: GenerationMode, banco: Banco, cuenta: CuentaFactory) -> None:
    cuentas = (await cuenta("1000.00"), await cuenta("1000.00"))
    calls, failures = await asyncio.to_thread(
        fuzz, BASE, mode, lambda case: _confine(case, cuentas), examples=EXAMPLES_PER_OPERATION
    )
    assert calls > 20
    assert not failures, "\n".join(failures[:20])
    assert (await banco.trx.get("/health")).status_code == 200

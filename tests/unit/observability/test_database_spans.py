"""Database spans are opt-in (BANK_TRACE_DB=1): off, neither asyncpg nor pymongo is instrumented."""

import pytest
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

from services.platform import telemetry


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ["httpx"]), ("0", ["httpx"]), ("1", ["httpx", "asyncpg", "pymongo"])],
)
def test_los_spans_de_base_de_datos_solo_si_se_piden(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: list[str]
) -> None:
    instrumented: list[str] = []
    # The instrumentors are process-wide singletons: record the calls instead of patching the real libraries.
    for cls, name in (
        (HTTPXClientInstrumentor, "httpx"),
        (AsyncPGInstrumentor, "asyncpg"),
        (PymongoInstrumentor, "pymongo"),
    ):
        monkeypatch.setattr(cls, "instrument", lambda self, _name=name, **kw: instrumented.append(_name))
    if value is None:
        monkeypatch.delenv("BANK_TRACE_DB", raising=False)
    else:
        monkeypatch.setenv("BANK_TRACE_DB", value)
    telemetry._instrument_libraries()
    assert instrumented == expected

"""The schemathesis driver the services' fuzz tests share: every operation of a running service's published
OpenAPI document, a few generated cases each (sent with an admin token), every case first passed to the test's
`confine` (which points writes at the test's own records), and every 5xx collected."""

import contextlib
from collections.abc import Callable
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err

from tests.integration.auth import auth_headers


def fuzz(
    base_url: str,
    mode: GenerationMode,
    confine: Callable[[Any], None],
    *,
    examples: int,
    timeout: float = 20,
) -> tuple[int, list[str]]:
    """(requests sent, failures): runs in a thread of its own (hypothesis drives `requests` synchronously)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    session = requests.Session()
    calls = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"invalid operation in the schema: {result.err()}")
            continue
        operation = result.ok()

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            nonlocal calls
            confine(case)
            try:
                # Authenticated as admin (every operation allowed), so the cases reach the routes, not the guard.
                response = case.call(base_url=base_url, session=session, timeout=timeout, headers=auth_headers())
            except (requests.exceptions.InvalidHeader, UnicodeEncodeError, ValueError):
                return  # the HTTP client refused to send it (e.g. a header value it cannot encode)
            calls += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} {case.headers} {case.body!r} "
                    f"-> {response.status_code} {response.text[:200]}"
                )

        with contextlib.suppress(Unsatisfiable):  # e.g. no invalid input exists for an operation without parameters
            check()
    return calls, failures


def post_items(case: Any, collection: str) -> list[dict[str, Any]]:
    """The request bodies a POST case carries: the body itself, or each item of a batch body (`/lote`)."""
    if case.method.upper() != "POST" or not isinstance(case.body, dict):
        return []
    items = case.body.get(collection)
    if isinstance(items, list):
        return [item for item in items if isinstance(item, dict)]
    return [case.body]

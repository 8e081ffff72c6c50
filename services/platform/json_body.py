"""ExactNumbersRoute: request bodies parsed so that a JSON number keeps the text it was written as.

A float cannot tell 1e-400 from 0, or 1.0E+2 from 100.0; the money grammar (contracts.money) must refuse the
first of each pair, so the JSON parser hands it a float that remembers its source text.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class JsonFloat(float):
    """A float as parsed from JSON, with the exact text of the number (`raw`)."""

    raw: str

    def __new__(cls, raw: str) -> "JsonFloat":
        value = super().__new__(cls, raw)
        value.raw = raw
        return value


class _ExactNumbersRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_float=JsonFloat)
        return self._json


class ExactNumbersRoute(APIRoute):
    """`APIRouter(route_class=ExactNumbersRoute)`: its routes read JSON bodies with JsonFloat numbers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact(request: Request) -> Response:
            return await handler(_ExactNumbersRequest(request.scope, request.receive))

        return exact

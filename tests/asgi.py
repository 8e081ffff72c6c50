"""Run a FastAPI app in-process with its lifespan, as a server would (httpx's ASGITransport sends no lifespan events)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI


@asynccontextmanager
async def in_process(app: FastAPI, base_url: str = "http://test", **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client on `app` while its lifespan runs; every request sees the lifespan's State as request.state.
    `options`: more httpx.AsyncClient options (the tests' `auth` or `headers` that carry a token)."""
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            # What uvicorn does with the lifespan's state: each request sees a shallow copy.
            await app({**scope, "state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url=base_url, **options) as client:
            yield client

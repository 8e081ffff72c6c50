"""Run a FastAPI app in-process with its lifespan (httpx's ASGITransport does not send lifespan events)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from tests.signing import admin_headers, authorized


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    authorized(app)
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                scope["state"] = dict(state or {})  # what a server does with the lifespan's state
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://analytics", headers=admin_headers()
        ) as client:
            yield client
